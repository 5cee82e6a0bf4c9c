"""The causes of a diff: the structural changes, cut into pieces that can be applied one at a
time, and the hybrid versions that apply them.

A cause is one of:

- a **group** cause: countries whose memberships of the country groups changed the same way
  (Nicaragua joining D:1 and D:5, and so every group built from them);
- a **rule** cause: one facet of one rule (its condition, items, exceptions carved out, review
  policy, allowed licence exceptions, notification duties, dates), a rule added or a rule
  removed. A licence exception added together with the `allows` that names it is one cause;
  so are condition changes that read the same in several rules (a named condition edited
  once);
- a **list** cause: the entries or scores of one party list.

``hybrid(old, new, causes)`` is the old version with only those causes applied: re-deciding a
record with it says whether those changes alone explain the record's new outcome.
"""

from __future__ import annotations

import datetime as dt
import re

import attrs

from chiprules import model as M
from chiprules.model.walk import conjuncts, expand, render

# the attributes of a rule each facet replaces
FACETS = {
    "items": ("items",),
    "when": ("when",),
    "excepts": ("excepts",),
    "review": ("review",),
    "allows": ("allows",),
    "notify": ("notify",),
    "dates": ("effective", "until"),
    "text": ("title", "cite"),
}


@attrs.frozen
class Cause:
    id: str  # c1, c2, ... in the order of the memo
    kind: str  # group, rule, list, text
    subjects: tuple[str, ...]  # rule ids, group names or list names it touches
    countries: frozenset = frozenset()  # group causes: the countries whose memberships change
    parts: tuple = ()  # rule causes: ((rule id, facet), ...); facet also `added`, `removed`
    lists: tuple[str, ...] = ()  # list causes
    signature: tuple = ()  # group causes: ((group, "+" or "-"), ...)
    conditions: tuple[str, ...] = ()  # rule causes: the named conditions whose edit it is

    def to_json(self) -> dict:
        out = {"id": self.id, "kind": self.kind, "subjects": list(self.subjects)}
        if self.countries:
            out["countries"] = sorted(self.countries)
        if self.parts:
            out["parts"] = [list(p) for p in self.parts]
        return out


def _cond_text(node) -> str:
    return render(expand(node)) if node is not None else ""


def _facet_changed(a: M.Rule, b: M.Rule, facet: str) -> bool:
    if facet == "when":
        return _cond_text(a.when) != _cond_text(b.when)
    if facet == "excepts":
        return sorted(_cond_text(e.expr) for e in a.excepts) != sorted(_cond_text(e.expr) for e in b.excepts)
    if facet == "review":
        return _review_key(a) != _review_key(b)
    if facet == "notify":
        return [(n.text, _cond_text(n.condition)) for n in a.notify] != \
               [(n.text, _cond_text(n.condition)) for n in b.notify]
    if facet == "allows":
        return a.kind == "require" and a.allows != b.allows
    return any(getattr(a, x) != getattr(b, x) for x in FACETS[facet])


def _review_key(r: M.Rule):
    if r.review is None:
        return None
    return (tuple((str(a.policy), _cond_text(a.condition)) for a in r.review.arms), str(r.review.otherwise))


def find_causes(old: M.CheckedRuleset, new: M.CheckedRuleset) -> list[Cause]:
    """Every cause of the differences between two versions, those that can change decisions
    first (groups, then rules in the new version's order, then lists), then text-only ones."""
    causes: list[Cause] = []
    # ---- groups: countries clustered by how their memberships change
    shared = sorted(set(old.groups) & set(new.groups))
    signatures: dict[tuple, set] = {}
    everyone = set().union(*(old.groups[g] | new.groups[g] for g in shared)) if shared else set()
    for c in sorted(everyone):
        sig = tuple((g, "+" if c in new.groups[g] else "-") for g in shared
                    if (c in old.groups[g]) != (c in new.groups[g]))
        if sig:
            signatures.setdefault(sig, set()).add(c)
    for sig, countries in sorted(signatures.items(), key=lambda kv: (sorted(kv[1]), kv[0])):
        causes.append(Cause("", "group", tuple(g for g, _ in sig), frozenset(countries), signature=sig))
    # ---- rules
    old_rules, new_rules = {r.id: r for r in old.rules}, {r.id: r for r in new.rules}
    rule_causes: list[list] = []  # [subjects, parts, named conditions]
    when_by_text: dict[tuple, int] = {}
    added_exceptions = {r.id for r in new.exceptions if r.id not in old_rules}
    exception_cause: dict[str, int] = {}
    for r in new.rules:
        if r.id not in old_rules:
            rule_causes.append([[r.id], [(r.id, "added")], ()])
            if r.id in added_exceptions:
                exception_cause[r.id] = len(rule_causes) - 1
    for r in old.rules:
        if r.id not in new_rules:
            rule_causes.append([[r.id], [(r.id, "removed")], ()])
    edited = {name for name in set(old.conditions) & set(new.conditions)
              if _cond_text(old.conditions[name]) != _cond_text(new.conditions[name])}
    text_parts = []
    for r in new.rules:
        a = old_rules.get(r.id)
        if a is None:
            continue
        for facet in FACETS:
            if not _facet_changed(a, r, facet):
                continue
            if facet == "text":
                text_parts.append((r.id, facet))
                continue
            if facet == "allows":
                gained = set(r.allows) - set(a.allows)
                hosts = [exception_cause[x] for x in sorted(gained) if x in exception_cause]
                if hosts:  # the `allows` that opens a new exception belongs to that exception
                    rule_causes[hosts[0]][0].append(r.id)
                    rule_causes[hosts[0]][1].append((r.id, facet))
                    continue
            if facet == "when":
                named = _named(a.when) & _named(r.when) & edited
                shape = ("named", tuple(sorted(named))) if named else _when_shape(a, r)
                if shape in when_by_text:
                    host = rule_causes[when_by_text[shape]]
                    host[0].append(r.id)
                    host[1].append((r.id, facet))
                    continue
                when_by_text[shape] = len(rule_causes)
                rule_causes.append([[r.id], [(r.id, facet)], tuple(sorted(named))])
                continue
            rule_causes.append([[r.id], [(r.id, facet)], ()])
    for subjects, parts, named in rule_causes:
        causes.append(Cause("", "rule", tuple(dict.fromkeys(subjects)), parts=tuple(parts), conditions=named))
    # ---- lists
    for name in sorted(set(old.lists) | set(new.lists)):
        a, b = old.lists.get(name), new.lists.get(name)
        if a is None or b is None or _list_key(a) != _list_key(b):
            causes.append(Cause("", "list", (name,), lists=(name,)))
    if text_parts:
        causes.append(Cause("", "text", tuple(dict.fromkeys(rid for rid, _ in text_parts)),
                            parts=tuple(text_parts)))
    return [attrs.evolve(c, id=f"c{i}") for i, c in enumerate(causes, 1)]


def _named(node) -> set[str]:
    """The named conditions a condition refers to, at any depth."""
    t = type(node)
    if t is M.CondRef:
        return {node.name} | _named(node.expr)
    if t in (M.And, M.Or):
        return set().union(*(_named(i) for i in node.items))
    if t is M.Not:
        return _named(node.operand)
    return set()


def _when_shape(a: M.Rule, b: M.Rule) -> tuple:
    """What a condition change says, whichever rule it is in: the conjuncts removed and added."""
    ca = {render(x) for x in conjuncts(a.when)}
    cb = {render(x) for x in conjuncts(b.when)}
    return (tuple(sorted(ca - cb)), tuple(sorted(cb - ca)))


def _list_key(pl: M.PartyList):
    return (tuple(sorted((e.name, tuple(e.aliases), e.country, str(e.review_policy), e.added, e.removed)
                         for e in pl.entries)), pl.match_score, pl.possible_score)


# ---- hybrid versions ----------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|[{}(),|&-])")


def eval_set(text: str, groups: dict) -> frozenset | None:
    """The members of a set expression as written (`RS_SCOPE | {AE} - MACAU_D5`), or None."""
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != re.sub(r"\s+", "", text):
        return None
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def atom():
        t = take()
        if t == "(":
            v = expr()
            if take() != ")":
                raise ValueError
            return v
        if t == "{":
            out = set()
            while peek() != "}":
                name = take()
                if name == ",":
                    continue
                out.add(name)
            take()
            return frozenset(out)
        if t in groups:
            return groups[t]
        raise ValueError(t)

    def term():
        v = atom()
        while peek() == "&":
            take()
            v = v & atom()
        return v

    def expr():
        v = term()
        while peek() in ("|", "-"):
            op = take()
            w = term()
            v = v | w if op == "|" else v - w
        return v

    try:
        value = expr()
    except (ValueError, IndexError):
        return None
    return value if pos == len(tokens) else None


def _map_cond(node, fix):
    """``node`` with every set membership test passed through ``fix``."""
    t = type(node)
    if t is M.InSet:
        return fix(node)
    if t in (M.And, M.Or):
        return attrs.evolve(node, items=tuple(_map_cond(i, fix) for i in node.items))
    if t is M.Not:
        return attrs.evolve(node, operand=_map_cond(node.operand, fix))
    if t is M.CondRef:
        return attrs.evolve(node, expr=_map_cond(node.expr, fix))
    return node


def _in_force(rule: M.Rule, on: dt.date) -> bool:
    return (rule.effective is None or rule.effective <= on) and (rule.until is None or on <= rule.until)


def hybrid(old: M.CheckedRuleset, new: M.CheckedRuleset, causes, on_old: dt.date, on_new: dt.date,
           all_countries: frozenset = frozenset()) -> M.CheckedRuleset:
    """The old version with only ``causes`` applied, every rule in it in force (each rule as of
    the day its own version is compared on). ``all_countries``: the countries of every group
    cause, whose memberships follow the old groups unless one of ``causes`` moves them."""
    moved = frozenset().union(*(c.countries for c in causes)) if causes else frozenset()
    if not all_countries:
        all_countries = moved
    groups = dict(old.groups)
    for g, members in new.groups.items():
        if g not in old.groups:
            groups[g] = members
        else:
            groups[g] = (old.groups[g] - moved) | (members & moved)
    parts = {p for c in causes for p in c.parts}
    facets: dict[str, set] = {}
    for rid, facet in parts:
        facets.setdefault(rid, set()).add(facet)
    new_by_id = {r.id: r for r in new.rules}

    def fix(atom: M.InSet) -> M.InSet:
        if not all_countries:
            return atom
        members = eval_set(atom.set_text, groups)
        if members is None:
            return atom
        keep = atom.members - all_countries
        return attrs.evolve(atom, members=frozenset(keep | (members & all_countries)))

    def build(old_tuple, new_tuple):
        out = []
        for r in old_tuple:
            mine = facets.get(r.id, set())
            if "removed" in mine:
                continue
            n = new_by_id.get(r.id)
            on = on_old
            if n is not None and mine:
                changes = {x: getattr(n, x) for f in mine if f in FACETS for x in FACETS[f]}
                r = attrs.evolve(r, **changes)
                if "dates" in mine:
                    on = on_new
            if not _in_force(r, on):
                continue
            out.append(r)
        out += [r for r in new_tuple if "added" in facets.get(r.id, set()) and _in_force(r, on_new)]
        return tuple(_settle(r, fix) for r in out)

    lists = dict(old.lists)
    for c in causes:
        for name in c.lists:
            if name in new.lists:
                lists[name] = new.lists[name]
            else:
                lists.pop(name, None)
    ids = "+".join(c.id for c in causes)
    return attrs.evolve(
        old, groups=groups, lists=lists, effective=None, until=None,
        # fields, derived quantities and named conditions the new rules read come along with them
        fields={**new.fields, **old.fields}, derived={**new.derived, **old.derived},
        conditions={**new.conditions, **old.conditions},
        classify=build(old.classify, new.classify),
        jurisdiction=build(old.jurisdiction, new.jurisdiction),
        requirements=build(old.requirements, new.requirements),
        exceptions=build(old.exceptions, new.exceptions),
        content_hash=f"{old.content_hash}:{new.content_hash}:{ids}",
        version=f"{old.version} with {ids or 'nothing'} of {new.version}",
    )


def _settle(rule: M.Rule, fix) -> M.Rule:
    """A rule in force whatever the day, its set tests following the hybrid's groups."""
    review = rule.review
    if review is not None and review.arms:
        review = attrs.evolve(review, arms=tuple(attrs.evolve(a, condition=_map_cond(a.condition, fix))
                                                 for a in review.arms))
    return attrs.evolve(
        rule, effective=None, until=None, when=_map_cond(rule.when, fix),
        excepts=tuple(attrs.evolve(e, expr=_map_cond(e.expr, fix)) for e in rule.excepts),
        review=review,
        notify=tuple(attrs.evolve(n, condition=_map_cond(n.condition, fix)) if n.condition is not None else n
                     for n in rule.notify),
    )


__all__ = ["Cause", "eval_set", "find_causes", "hybrid"]
