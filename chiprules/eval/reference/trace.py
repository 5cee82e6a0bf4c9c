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
from chiprules.model.classes import VariableTable, field_tests, possible_var
from chiprules.model.walk import list_atoms
from chiprules.model.walk import render as render_cond


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
        if isinstance(inner, M.IsProduct):
            return [product_words(inner, env)]
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
    if t is M.IsProduct:
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


def product_words(node: M.IsProduct, env: Env) -> str:
    """Why a record is not the catalog's product: the name it gives, or a figure that differs."""
    name = env.value(node.field)
    if name is not None:
        return f"not {node.text} ({node.field} = {show(name)})"
    for field, figure in node.figures:
        v = env.value(field)
        if v is not None and v != figure:
            return f"not {node.text} ({field} = {show(v)}, the product's is {show(figure)})"
    return f"not {node.text}"


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
    for rule in rs.jurisdiction:
        if rule.id in verdict.jurisdiction:
            out.append(Reason(rule.id, "jurisdiction", rule.title, rule.cite, tuple(held(rule.when, env))))
    if verdict.outcome == "not_subject":
        # what each way of coming under the EAR lacks; no licence requirement is looked at
        for rule in rs.jurisdiction:
            if not in_force(rule, on):
                continue
            if evaluate(rule.when, env) is False:
                why = tuple(failed(rule.when, env))
            else:
                why = tuple(f"excluded: {e.label or render_cond(e.expr)}" for e in rule.excepts
                            if evaluate(e.expr, env) is True)
            out.append(Reason(rule.id, "not-jurisdiction", rule.title, rule.cite, why))
        return out
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
    allowed = {x for rule in rs.requirements if rule.id in verdict.fired for x in rule.allows}
    for rule in rs.exceptions:
        if rule.id in granted or rule.id not in allowed or not in_force(rule, on):
            continue
        if not covers_any(rule.items, verdict.classification):
            why = (f"it is not for {', '.join(verdict.classification) or 'unclassified items'}",)
        elif evaluate(rule.when, env) is False:
            why = tuple(_why_not(rule.when, env))
        else:
            why = tuple(f"excluded: {e.label or render_cond(e.expr)}" for e in rule.excepts
                        if evaluate(e.expr, env) is True)
        out.append(Reason(rule.id, "not-available", rule.title, rule.cite, why))
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


def missing_reasons(rs: M.CheckedRuleset, record: dict, on: dt.date, screen: Screens,
                    missing: tuple[str, ...]) -> list[Reason]:
    """For each missing fact, what each answer would mean: the record decided again with the
    fact set to one value of each class the rules tell apart, classes with the same outcome
    said together."""
    table, tests = _tables(rs, on)
    out = []
    for name in missing:
        var = table.variables.get(name)
        if var is None:
            if name in rs.derived:
                continue  # said through the fields it is computed from
            var = None
        reps = var.representatives if var is not None else ()
        f = rs.fields.get(name)
        if f is not None and f.kind == "bool":
            reps = (True, False)
        if not reps:
            continue
        outcomes = []
        for value in reps:
            verdict = partial_verdict(Env(rs, {**record, name: value}, on, screen))
            text = ("still undecided (other facts are missing)" if verdict is None
                    else OUTCOME_WORDS.get(verdict.outcome, verdict.outcome))
            if verdict is not None and verdict.review_policy:
                text += f" ({words(verdict.review_policy)})"
            if verdict is not None and verdict.exceptions:
                text += " with " + ", ".join(n for n, _ in verdict.exceptions)
            outcomes.append((value, text))
        if len({t for _, t in outcomes}) < 2:
            continue
        kind = var.kind if var is not None else (f.kind if f is not None else "")
        ft = tests.get(name)
        points = ft.constants if ft is not None else ()
        parts = [f"if {_answer(name, kind, outcomes, i, points)}: {t}" for i, t in _runs_by_outcome(outcomes, kind)]
        out.append(Reason(name, "missing", None, None, tuple(parts)))
    return out


_TABLES: dict = {}


def _tables(rs: M.CheckedRuleset, on: dt.date):
    """The value classes of a version (built once per version and day: explaining many
    undecided records of one run reads them many times)."""
    key = (id(rs), on)
    hit = _TABLES.get(key)
    if hit is None or hit[0] is not rs:
        if len(_TABLES) > 64:
            _TABLES.clear()
        hit = _TABLES[key] = (rs, VariableTable.build(rs, on), field_tests(rs))
    return hit[1], hit[2]


def _runs_by_outcome(outcomes, kind):
    """Indexes of the classes grouped by outcome: for numbers and dates, runs of neighbours."""
    groups: list[tuple[list[int], str]] = []
    for i, (_, text) in enumerate(outcomes):
        if kind in ("number", "date") and groups and groups[-1][1] == text:
            groups[-1][0].append(i)
        elif kind not in ("number", "date") and any(g[1] == text for g in groups):
            next(g for g in groups if g[1] == text)[0].append(i)
        else:
            groups.append(([i], text))
    return groups


def _answer(name: str, kind: str, outcomes, idxs: list[int], points=()) -> str:
    values = [outcomes[i][0] for i in idxs]
    if kind in ("number", "date"):
        lo_v, hi_v = values[0], values[-1]
        pts = sorted(p for p in points if type(p) is type(lo_v) or kind == "number")
        bounds = []
        if lo_v in pts:
            bounds.append(f">= {show(lo_v)}")
        elif any(p < lo_v for p in pts):
            bounds.append(f"> {show(max(p for p in pts if p < lo_v))}")
        if hi_v in pts and not (lo_v == hi_v):
            bounds.append(f"<= {show(hi_v)}")
        elif hi_v in pts:
            return f"`{name}` = {show(hi_v)}"
        elif any(p > hi_v for p in pts):
            bounds.append(f"< {show(min(p for p in pts if p > hi_v))}")
        return f"`{name}` " + " and ".join(bounds) if bounds else f"`{name}` is any value"
    if kind == "bool":
        return f"`{name}` is " + " or ".join(show(v) for v in values)
    shown = [show(v) for v in values if not str(v).startswith("(")]
    other = len(shown) < len(values)
    if not shown:
        return f"`{name}` is another value"
    text = f"`{name}` is " + ", ".join(shown[:6]) + (f" or one of {len(shown) - 6} more" if len(shown) > 6 else "")
    return text + (" or another value" if other else "")


def _why_not(node, env: Env) -> list[str]:
    """Why a condition did not hold, in words for an exception that was not available."""
    t = type(node)
    if t is M.And:
        for i in node.items:
            if evaluate(i, env) is False:
                return _why_not(i, env)
        return []
    if t is M.Or:
        out = []
        for i in node.items:
            out.extend(_why_not(i, env))
        return out
    if t is M.CondRef:
        return _why_not(node.expr, env)
    if t is M.InSet:
        v = env.value(node.field)
        return [f"`{node.field}` is {v}, {'in' if node.negated else 'not in'} {node.set_text}"]
    if t is M.Cmp and node.op in ("==", "!=") and isinstance(node.left, M.FieldRef):
        return [f"`{node.left.name}` is {show(env.value(node.left.name))}"]
    if t is M.IsTrue or (t is M.Not and type(node.operand) is M.IsTrue):
        name = node.field if t is M.IsTrue else node.operand.field
        return [f"`{name}` is {show(env.value(name))}"]
    if t is M.Classified:
        return [f"the item is classified {', '.join(env.classes) or 'under no ECCN'}, not {node.eccn}"]
    return failed(node, env)


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



__all__ = ["held", "failed", "list_match", "missing_reasons", "possible_reasons", "screening_notes", "screening_words", "show", "trace"]
