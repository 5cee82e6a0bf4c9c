"""Explanations: why the rules decided what they did, in the rules' own words.

`trace` re-evaluates the rules that fired for a verdict and reports which parts
of each condition held, with the values used, and how each party was screened;
`possible_reasons` says what an undecided record turns on.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from chiprules import model as M
from chiprules.eval.decision import ListMatch, Reason, Verdict
from chiprules.eval.explain import OUTCOME_WORDS, plain, screening_sentences, screening_words, words
from chiprules.eval.reference.kleene import (
    Env,
    covers_any,
    evaluate,
    in_force,
    partial_verdict,
    review_of,
)
from chiprules.eval.screens import Screens
from chiprules.model.classes import possible_var
from chiprules.model.walk import list_atoms


def show(value) -> str:
    v = plain(value)
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        return f"{float(value):.4g}"
    if v is True:
        return "yes"
    if v is False:
        return "no"
    return str(v)


def held(node, env: Env) -> list[str]:
    """The parts of a condition that held, with the values that made them hold."""
    t = type(node)
    if t is M.Or:
        out = []
        for i in node.items:
            if evaluate(i, env) is True:
                out.extend(held(i, env))
                break
        return out
    if t is M.And:
        out = []
        for i in node.items:
            out.extend(held(i, env))
        return out
    if t is M.CondRef:
        inner = held(node.expr, env)
        return [f"{node.name}: " + "; ".join(inner)] if inner else [node.name]
    if t is M.Not:
        inner = node.operand
        if isinstance(inner, M.IsTrue):
            return [f"{node.text} ({inner.field} = {show(env.value(inner.field))})"]
        if isinstance(inner, M.CondRef):
            return [f"not {inner.name}"]
        return [node.text]
    if t is M.Cmp:
        vals = []
        for side in (node.left, node.right):
            if isinstance(side, M.FieldRef):
                vals.append(value_text(side.name, env))
        return [f"{node.text} ({', '.join(vals)})" if vals else node.text]
    if t is M.InSet:
        v = env.value(node.field)
        extra = ""
        target = env.rs.treat.get(v)
        if target is not None:
            extra = f", treated as {target}"
        return [f"{node.text} ({node.field} = {v}{extra})"]
    if t is M.IsTrue:
        return [f"{node.text} ({node.field} = {show(env.value(node.field))})"]
    if t is M.InList:
        v = env.value(node.field)
        if v is None:
            return [f"{node.text} ({node.field} not given)"]
        res = env.screened.get((node.field, node.list)) or env.screen_field(node.list, node.field, v)
        return [f"{node.text}: {screening_words(list_match(node.field, v, node.list, res))}"]
    if t is M.Classified:
        return [f"{node.text} (classified {', '.join(env.classes)})"]
    if t is M.TrueCond:
        return []
    return [getattr(node, "text", "?")]


def list_match(field: str, name, list_name: str, res) -> ListMatch:
    """A ``ListMatch`` from a ``ScreenResult`` (the best candidate, or the nearest miss)."""
    return ListMatch.of_result(field, name, list_name, res)


def value_text(name: str, env: Env) -> str:
    v = env.value(name)
    d = env.rs.derived.get(name)
    if d is not None and env.record.get(name) is None and env.overrides.get(name) is None:
        parts = " / ".join(f"{i} {show(env.value(i))}" for i in d.inputs)
        return f"{name} = {show(v)} from {parts}"
    return f"{name} = {show(v)}"


def trace(rs: M.CheckedRuleset, record: dict, on: dt.date, screen: Screens,
          verdict: Verdict) -> list[Reason]:
    """Reasons for a verdict: every rule that fired, with what held."""
    env = Env(rs, record, on, screen)
    env.classes = verdict.classification
    out = []
    for rule in rs.classify:
        if rule.id in verdict.classification:
            out.append(Reason(rule.id, "classify", rule.title, rule.cite, tuple(held(rule.when, env))))
    explained: set = set()
    for rule in rs.requirements:
        if rule.id in verdict.fired:
            evaluate(rule.when, env)  # screens the parties the rule names
            policy = review_of(rule, env)
            detail = f"review {policy}" if isinstance(policy, str) else None
            found = _screenings(rule, env, ("match", "possible"))
            explained.update((m.field, m.list) for m in found)
            out.append(Reason(rule.id, "require", rule.title, rule.cite, tuple(held(rule.when, env)), detail,
                              found))
    granted = {name for name, _ in verdict.exceptions}
    for rule in rs.exceptions:
        if rule.id in granted:
            out.append(Reason(rule.id, "exception", rule.title, rule.cite, tuple(held(rule.when, env))))
    out += screening_notes(rs, env, explained)
    if not verdict.classification:
        # why no classification applied: the tests that failed, or the note that excluded the item
        for rule in rs.classify:
            if not in_force(rule, on):
                continue
            if evaluate(rule.when, env) is False:
                out.append(Reason(rule.id, "not-classified", rule.title, rule.cite, tuple(failed(rule.when, env))))
            else:
                for e in rule.excepts:
                    if evaluate(e.expr, env) is True:
                        why = tuple(held(e.expr, env))
                        out.append(Reason(rule.id, "excluded", rule.title, rule.cite, why, e.label))
                        break
    return out


def _screenings(rule: M.Rule, env: Env, statuses) -> tuple[ListMatch, ...]:
    out = []
    for node in list_atoms(rule.when):
        res = env.screened.get((node.field, node.list))
        if res is not None and res.status in statuses:
            m = list_match(node.field, env.value(node.field), node.list, res)
            if m not in out:
                out.append(m)
    return tuple(out)


def screening_notes(rs: M.CheckedRuleset, env: Env, explained=frozenset()) -> list[Reason]:
    """Every party screened by a rule in force and not already explained by a requirement,
    as one reason per list.

    No match is said as "no listed party found", which is what screening can say;
    it is not a clearance of the party.
    """
    seen = set(explained)
    by_list: dict[str, list[ListMatch]] = {}
    for rule in rs.requirements:
        if not in_force(rule, env.on) or not covers_any(rule.items, env.classes):
            continue
        for node in list_atoms(rule.when):
            key = (node.field, node.list)
            v = env.value(node.field)
            if key in seen or v is None:
                continue
            seen.add(key)
            res = env.screened.get(key) or env.screen_field(node.list, node.field, v)
            by_list.setdefault(node.list, []).append(list_match(node.field, v, node.list, res))
    out = []
    for list_name, found in by_list.items():
        lst = rs.lists[list_name]
        possible = any(m.status == "possible" for m in found)
        # a decided record: its possible matches did not change the outcome
        detail = "the outcome is the same whether or not the match is real" if possible else None
        sentences = screening_sentences(found) + _out_of_force(env, list_name, found)
        out.append(Reason(list_name, "possible-match" if possible else "screened", lst.title, lst.cite,
                          sentences, detail, tuple(found)))
    return out


def _out_of_force(env: Env, list_name: str, found) -> tuple[str, ...]:
    """For names with no listed party on the day: an entry they match on other days."""
    out = []
    for name in dict.fromkeys(m.name for m in found if m.status == "none"):
        best = env.screen.result(list_name, name, None).best
        if best is None or best.score < env.screen.lists[list_name].match_score:
            continue
        e = best.entry
        when = (f"is listed only from {e.added.isoformat()}" if e.added and env.on < e.added
                else f"was removed on {e.removed.isoformat()}" if e.removed else None)
        if when:
            out.append(f"`{name}` matches `{e.name}`, which {when}: not in force on {env.on.isoformat()}")
    return tuple(out)


def possible_reasons(rs: M.CheckedRuleset, record: dict, on: dt.date, screen: Screens,
                     possible: tuple[tuple[str, str], ...]) -> list[Reason]:
    """Reasons for an indeterminate outcome that turns on possible list matches: the
    candidates, and the outcome if they are real and if they are not."""
    env = Env(rs, record, on, screen)
    by_list: dict[str, list[ListMatch]] = {}
    for field, list_name in possible:
        v = env.value(field)
        res = env.screen_field(list_name, field, v)
        by_list.setdefault(list_name, []).append(list_match(field, v, list_name, res))
    branches = []
    for real in (True, False):
        overrides = {possible_var(f, lname): real for f, lname in possible}
        verdict = partial_verdict(Env(rs, record, on, screen, overrides))
        outcome = ("undecided (other facts are missing)" if verdict is None
                   else OUTCOME_WORDS.get(verdict.outcome, verdict.outcome))
        if verdict is not None and verdict.review_policy:
            outcome += f" ({words(verdict.review_policy)})"
        branches.append(outcome)
    detail = f"if the match is real: {branches[0]}; if not: {branches[1]}"
    out = []
    for list_name, found in by_list.items():
        lst = rs.lists[list_name]
        out.append(Reason(list_name, "possible-match", lst.title, lst.cite,
                          screening_sentences(found), detail, tuple(found)))
    return out


def failed(node, env: Env) -> list[str]:
    """The parts of a condition that did not hold, with the values that failed them."""
    t = type(node)
    if t is M.And:
        for i in node.items:
            if evaluate(i, env) is False:
                return failed(i, env)
        return []
    if t is M.Or:
        out = []
        for i in node.items:
            out.extend(failed(i, env))
        return out
    if t is M.CondRef:
        inner = failed(node.expr, env)
        return [f"{node.name}: " + "; ".join(inner)] if inner else [node.name]
    if t is M.Not:
        return [f"{node.text}: " + "; ".join(held(node.operand, env))]
    return [f"not {h}" for h in held(node, env)]



__all__ = ["held", "failed", "list_match", "possible_reasons", "screening_notes", "screening_words", "show", "trace"]
