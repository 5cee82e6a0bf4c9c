"""The reference case split: deciding a record some of whose facts are missing.

The interpreter's own split, kept apart from the engine's (`chiprules.eval.split`)
so that each checks the other. It tries one representative value per class of
each missing field, one field at a time (a field that left an undecided rule
unknown, the first in the analyses' order), and stops in each branch as soon as
the verdict is known. One outcome in every branch decides the record;
otherwise it is indeterminate, naming the fields on which branches part ways.
"""

from __future__ import annotations

import datetime as dt

import attrs

from chiprules import model as M
from chiprules.eval.decision import Verdict
from chiprules.eval.reference.kleene import Env, partial_verdict, strictest
from chiprules.eval.screens import PARTY_ORDER, Screens
from chiprules.model.classes import VariableTable, missing_inputs, on_date, split_possible
from chiprules.model.walk import FIELD_ORDER


@attrs.frozen
class Outcome:
    verdict: Verdict | None  # None: indeterminate
    missing: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: (field, list) of the possible matches on which the outcome turns
    possible: tuple[tuple[str, str], ...] = ()
    #: indeterminate: the parts every completion tried agrees on
    settled: Verdict | None = None
    #: the zones of unsettled law that leave a branch unknown
    unsettled: tuple[str, ...] = ()


MAX_NODES = 5000


class _TooMany(Exception):
    pass


def decide(rs: M.CheckedRuleset, record: dict, on: dt.date, screen: Screens,
           table: VariableTable | None = None) -> Outcome:
    """Decide a record; where missing facts leave rules undecided, split the cases.

    The split goes one missing field at a time, on a field that left an
    undecided rule unknown, trying one value from each class the rules tell
    apart, and stops in every branch as soon as the verdict is decided. If all
    branches agree the record is decided; otherwise it is indeterminate, and
    the fields on which branches part ways are the ones reported missing.
    """
    env = Env(rs, record, on, screen)
    v = partial_verdict(env)
    if v is not None:
        return Outcome(v)
    table = table or VariableTable.build(rs, on)
    reps = {name: on_date(var, rs, on).representatives for name, var in table.variables.items()}
    rank = {name: i for i, name in enumerate(FIELD_ORDER)}
    leaves: list = []
    mixed: set = set()
    seen: set = set()
    budget = [MAX_NODES]

    def explore(overrides: dict) -> set:
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooMany
        e = Env(rs, record, on, screen, overrides)
        e.unknowns = set()
        verdict = partial_verdict(e)
        if verdict is not None:
            leaves.append(verdict)
            return {verdict.outcome}
        for u in e.unknowns:
            if u not in reps and (split_possible(u) or u.startswith("?")):
                reps[u] = (True, False)  # a possible match: real or not; unsettled law: either reading
        candidates = [u for u in e.unknowns if u in reps and u not in overrides]
        seen.update(candidates)
        if not candidates:  # unknown for a reason no split can settle
            leaves.append(None)
            return {"indeterminate"}
        name = min(candidates, key=lambda n: (rank.get(n, len(rank)), n))
        per_value = [frozenset(explore({**overrides, name: value})) for value in reps[name]]
        if len(set(per_value)) > 1:  # which outcomes are possible depends on this unknown
            mixed.add(name)
        return set().union(*per_value)

    def inputs(names) -> tuple[list[str], tuple[tuple[str, str], ...]]:
        """The record fields to supply, and the possible matches to settle, behind ``names``."""
        fields = sorted({m for n in names if not split_possible(n) and not n.startswith("?")
                         for m in missing_inputs(rs, record, n)})
        found = {p for n in names if (p := split_possible(n))}
        return fields, tuple(sorted(found, key=lambda p: (PARTY_ORDER.get(p[0], len(PARTY_ORDER)), p)))

    def readings(names) -> tuple[str, ...]:
        """The zones of unsettled law among ``names``."""
        return tuple(sorted(n.removeprefix("?") for n in names if n.startswith("?")))

    try:
        outcomes = explore({})
    except _TooMany:
        missing, possible = inputs(seen)
        return Outcome(None, tuple(missing), possible=possible, unsettled=readings(seen))
    if len(outcomes) == 1 and "indeterminate" not in outcomes:
        first = leaves[0]
        if all(r == first for r in leaves):
            return Outcome(first)
        if all((r.classification, r.review_policy, r.exceptions, r.jurisdiction)
               == (first.classification, first.review_policy, first.exceptions, first.jurisdiction)
               for r in leaves):
            # only which requirements fired differs: the decision does not
            fired = tuple(f for f in first.fired if all(f in r.fired for r in leaves))
            return Outcome(attrs.evolve(first, fired=fired))
        common = set(first.classification)
        granted = set(first.exceptions)
        for r in leaves[1:]:
            common &= set(r.classification)
            granted &= set(r.exceptions)
        reviews = {r.review_policy for r in leaves}
        unsure, open_ = inputs(seen)
        what = [f"missing {', '.join(f'`{m}`' for m in unsure)}"] if unsure else []
        what += [f"whether `{f}` is really on `{lname}` (a possible match)" for f, lname in open_]
        what += [f"how the unsettled `{z}` is read" for z in readings(seen)]
        warn = (f"details depend on {' and '.join(what)}: the outcome does not, "
                "but the classification, review policy or exceptions may",)
        merged = Verdict(first.outcome, tuple(c for c in first.classification if c in common),
                         strictest(reviews) if len(reviews) > 1 else first.review_policy,
                         tuple(g for g in first.exceptions if g in granted),
                         tuple(f for f in first.fired if all(f in r.fired for r in leaves)),
                         tuple(j for j in first.jurisdiction if all(j in r.jurisdiction for r in leaves)))
        return Outcome(merged, (), warn)
    missing, possible = inputs(mixed or seen)
    return Outcome(None, tuple(missing), possible=possible, settled=_common(leaves),
                   unsettled=readings(mixed or seen))


def _common(leaves: list) -> Verdict | None:
    """The parts of the verdict every leaf shares (none if a leaf is unknown)."""
    if not leaves or None in leaves:
        return None
    classes = set.intersection(*(set(v.classification) for v in leaves))
    granted = set.intersection(*(set(v.exceptions) for v in leaves))
    fired = set.intersection(*(set(v.fired) for v in leaves))
    reviews = {v.review_policy for v in leaves}
    first = leaves[0]
    common = Verdict("indeterminate", tuple(c for c in first.classification if c in classes),
                     reviews.pop() if len(reviews) == 1 else None,
                     tuple(g for g in first.exceptions if g in granted),
                     tuple(f for f in first.fired if f in fired))
    if common.classification or common.review_policy or common.exceptions or common.fired:
        return common
    return None


# ---- explanations ------------------------------------------------------------------------





@attrs.frozen
class Judgement:
    """The reference's whole decision for a record: what a `Decision` must agree with."""

    outcome: str
    classification: tuple[str, ...] = ()
    review_policy: str | None = None
    exceptions: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, notification duties)
    missing: tuple[str, ...] = ()
    possible: tuple[tuple[str, str], ...] = ()  # (field, list) of the possible matches it turns on
    warnings: tuple[str, ...] = ()
    unsettled: tuple[str, ...] = ()  # keys of the zones of unsettled law it turns on
    #: what brings the item under the EAR: the jurisdiction rules that hold, or `not_subject`
    jurisdiction: tuple[str, ...] = ()


def judge(rs: M.CheckedRuleset, record: dict, on: dt.date, screen: Screens) -> Judgement:
    """Decide a prepared record on a day, whole: outcome, settled parts, what it turns on."""
    out = decide(rs, record, on, screen)
    v = out.verdict
    if v is None:
        s = out.settled
        if s is None:
            return Judgement(M.Outcome.INDETERMINATE, missing=out.missing, possible=out.possible,
                             warnings=out.warnings, unsettled=out.unsettled)
        return Judgement(M.Outcome.INDETERMINATE, s.classification, s.review_policy, s.exceptions,
                         out.missing, out.possible, out.warnings, out.unsettled)
    juris = ("not_subject",) if v.outcome == "not_subject" else v.jurisdiction
    return Judgement(v.outcome, v.classification, v.review_policy, v.exceptions, out.missing, (), out.warnings,
                     jurisdiction=juris)


__all__ = ["MAX_NODES", "Judgement", "Outcome", "decide", "judge"]
