"""The case split of undecided records, and its memo by class signature.

When an unknown fact leaves a rule undecided, the record may still be decided:
if every way the missing facts could be gives the same outcome, that is the
outcome. The split tries one representative value per class of each missing
field (`chiprules.model.classes`), one field at a time, always a field that left
the undecided rule unknown (the first in `FIELD_ORDER`), and stops in each
branch as soon as the compiled function decides it. A possible list match is an
unknown of its own (``field~list``), tried as real and as not.

One outcome across all branches decides the record. Otherwise it is
indeterminate, naming the fields on which branches part ways, and the possible
matches it turns on.

The answer depends only on which class each of the record's values falls in
(and on which fields are given), so it is remembered by that *signature*: a
file of a million records with a few thousand kinds of gaps splits a few
thousand times. `Signer` makes the signature; where a ruleset compares two
fields with each other, classes do not decide the answer and nothing is
remembered.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from chiprules import model as M
from chiprules.core.memo import Memo
from chiprules.eval.decision import Verdict
from chiprules.eval.python import PythonProgram, Undecided, _arith
from chiprules.eval.screens import PARTY_ORDER, Screens
from chiprules.ir import nodes as I
from chiprules.ir.lower import program_rules, rule_exprs, walk
from chiprules.model.classes import (
    VariableTable,
    field_tests,
    interval_index,
    missing_inputs,
    on_date,
    split_possible,
)
from chiprules.model.walk import FIELD_ORDER, all_conditions, atoms

#: The most branches one record may take before it is called indeterminate.
MAX_NODES = 5000
_MEMO_LIMIT = 200_000


@attrs.frozen
class CaseSplit:
    """What the split found: a verdict, or (None) indeterminate with what it turns on."""

    verdict: Verdict | None
    missing: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: (field, list) of the possible matches on which the outcome turns
    possible: tuple[tuple[str, str], ...] = ()
    #: for an indeterminate record: what every branch agrees on (outcome `indeterminate`)
    settled: Verdict | None = None
    #: keys of the zones where the law is unsettled that leave some branch unknown
    unsettled: tuple[str, ...] = ()


class _TooMany(Exception):
    pass


_RANK = {name: i for i, name in enumerate(FIELD_ORDER)}


def _rank(name: str):
    return _RANK.get(name, len(_RANK)), name


def _strictness(policy) -> int:
    return M.STRICTNESS[policy]


class Splitter:
    """The case split for one version, over its compiled function, remembered by signature."""

    def __init__(self, model: M.CheckedRuleset, program: PythonProgram, screens: Screens):
        self.model = model
        self.decide = program.decide
        self.table = VariableTable.build(model)
        self.signer = Signer(model, program.program, screens, self.table)
        self.memo = Memo(_MEMO_LIMIT)
        self._reps = Memo(10_000)

    def representatives(self, on: dt.date) -> dict:
        reps = self._reps.get(on)
        if reps is None:
            reps = self._reps.remember(on, {name: on_date(var, self.model, on).representatives
                                            for name, var in self.table.variables.items()})
        return reps

    def split(self, record: dict, on: dt.date) -> CaseSplit:
        """Decide an undecided record by splitting the cases (remembered by signature)."""
        key = self.signer.key(record, on) if self.signer.usable else None
        if key is not None:
            hit = self.memo.get(key)
            if hit is not None:
                return hit
        result = self._split(record, on)
        if key is not None:
            self.memo.remember(key, result)
        return result

    def _split(self, record: dict, on: dt.date) -> CaseSplit:
        rs, decide = self.model, self.decide
        reps = dict(self.representatives(on))
        leaves: list = []
        mixed: set = set()
        seen: set = set()
        budget = [MAX_NODES]

        def explore(values: dict, assumed: dict) -> set:
            budget[0] -= 1
            if budget[0] < 0:
                raise _TooMany
            unknowns: set = set()
            verdict = decide({**record, **values} if values else record, on, assumed, unknowns)
            if type(verdict) is not Undecided:
                leaves.append(verdict)
                return {verdict.outcome}
            for u in unknowns:
                if u not in reps and (split_possible(u) or u[:1] == "?"):
                    reps[u] = (True, False)  # a possible match: real, or not; unsettled law: either reading
            candidates = [u for u in unknowns if u in reps and u not in values and u not in assumed]
            seen.update(candidates)
            if not candidates:  # unknown for a reason no split can settle
                leaves.append(None)
                return {M.Outcome.INDETERMINATE}
            name = min(candidates, key=_rank)
            target = assumed if split_possible(name) or name[:1] == "?" else values
            branches = []
            for value in reps[name]:
                target[name] = value
                branches.append(frozenset(explore(values, assumed)))
            del target[name]
            if len(set(branches)) > 1:  # the value of this unknown changes what can come out
                mixed.add(name)
            return set().union(*branches)

        def inputs(names):
            fields = sorted({m for n in names if not split_possible(n) and n[:1] != "?"
                             for m in missing_inputs(rs, record, n)})
            found = {p for n in names if (p := split_possible(n))}
            return tuple(fields), tuple(sorted(found, key=lambda p: (PARTY_ORDER.get(p[0], len(PARTY_ORDER)), p)))

        def zones(names) -> tuple[str, ...]:
            return tuple(sorted(n[1:] for n in names if n[:1] == "?"))

        try:
            outcomes = explore({}, {})
        except _TooMany:
            missing, possible = inputs(seen)
            return CaseSplit(None, missing, possible=possible, unsettled=zones(seen))
        if len(outcomes) == 1 and M.Outcome.INDETERMINATE not in outcomes:
            return self.agreed(leaves, inputs(seen), zones(seen))
        missing, possible = inputs(mixed or seen)
        return CaseSplit(None, missing, possible=possible, settled=self._settled(leaves),
                         unsettled=zones(mixed or seen))

    @staticmethod
    def _settled(leaves: list) -> Verdict | None:
        """What holds in every branch of an indeterminate record: the classifications,
        the review policy (when every branch has the same one), the exceptions and the
        requirements that fire. None when a branch stayed unknown."""
        if not leaves or any(v is None for v in leaves):
            return None
        first, rest = leaves[0], leaves[1:]
        reviews = {v.review_policy for v in leaves}
        settled = Verdict(M.Outcome.INDETERMINATE,
                          tuple(c for c in first.classification if all(c in v.classification for v in rest)),
                          first.review_policy if len(reviews) == 1 else None,
                          tuple(g for g in first.exceptions if all(g in v.exceptions for v in rest)),
                          tuple(f for f in first.fired if all(f in v.fired for v in rest)))
        if not (settled.classification or settled.review_policy or settled.exceptions or settled.fired):
            return None
        return settled

    @staticmethod
    def agreed(leaves: list, unsure, unsettled: tuple[str, ...] = ()) -> CaseSplit:
        """Every branch has one outcome: the parts all branches agree on, and a warning for the rest."""
        first = leaves[0]
        if all(v == first for v in leaves):
            return CaseSplit(first)
        common_fired = tuple(f for f in first.fired if all(f in v.fired for v in leaves))
        if all((v.classification, v.review_policy, v.exceptions, v.jurisdiction)
               == (first.classification, first.review_policy, first.exceptions, first.jurisdiction)
               for v in leaves):
            # only which requirements fired differs: the decision does not
            return CaseSplit(attrs.evolve(first, fired=common_fired))
        classes = set(first.classification)
        granted = set(first.exceptions)
        for v in leaves[1:]:
            classes &= set(v.classification)
            granted &= set(v.exceptions)
        reviews = {v.review_policy for v in leaves}
        fields, open_ = unsure
        what = [f"missing {', '.join(f'`{m}`' for m in fields)}"] if fields else []
        what += [f"whether `{f}` is really on `{lname}` (a possible match)" for f, lname in open_]
        what += [f"how the unsettled `{z}` is read" for z in unsettled]
        warning = (f"details depend on {' and '.join(what)}: the outcome does not, "
                   "but the classification, review policy or exceptions may",)
        review = first.review_policy
        if len(reviews) > 1:
            review = max((p for p in reviews if p is not None), key=_strictness, default=None)
        merged = Verdict(first.outcome, tuple(c for c in first.classification if c in classes), review,
                         tuple(g for g in first.exceptions if g in granted), common_fired,
                         tuple(j for j in first.jurisdiction if all(j in v.jurisdiction for v in leaves)))
        return CaseSplit(merged, (), warning)


class Signer:
    """The class signature of a record on a day: everything the split's answer depends on.

    For each field the rules read: the class of its value (or that it is
    missing); for a party: its screening status and the matched entry's review
    policy (the name itself when its evidence is missing, since the split may try
    other evidence); which inputs of a derived quantity and which default
    sources are given (they name the missing fields); and, for the day, which
    rules are in force and which list entries stand for a listed party.
    """

    def __init__(self, model: M.CheckedRuleset, program: I.Program, screens: Screens, table: VariableTable):
        self.model = model
        self.screens = screens
        tests = field_tests(model)
        self.usable = not any(
            type(a) is M.Cmp and type(a.left) is M.FieldRef and type(a.right) is M.FieldRef
            for c in all_conditions(model) for a in atoms(c))
        derived = {node.name: node for rule in program_rules(program) for expr in rule_exprs(rule)
                   for node in walk(expr) if type(node) is I.Var and node.derived is not None}
        self.parts = []
        for name, var in table.variables.items():
            ft = tests.get(name)
            kind = var.kind
            if kind in ("number", "date"):
                points = tuple(sorted({p for p in ft.constants if isinstance(p, (Decimal, int, dt.date))}))
                self.parts.append((name, "interval", points, derived.get(name)))
            elif kind == "country":
                self.parts.append((name, "country", (ft.sets, ft.constants), {}))
            elif kind == "party":
                self.parts.append((name, "party", ft.lists, screens.evidence_fields(name)))
            elif kind == "bool":
                self.parts.append((name, "value", (), None))
            else:  # enum, text: the value when the rules name it, else "another"
                named = frozenset(c for c in ft.constants if isinstance(c, str)) | frozenset(
                    v for s in ft.sets for v in s)
                self.parts.append((name, "named", named, None))
        given = set()
        for d in model.derived.values():
            given.update(d.inputs)
        for f in model.fields.values():
            if isinstance(f.default, M.FieldRef):
                given.add(f.default.name)
        self.given = tuple(sorted(given))
        self.rules = model.rules
        self.party_vars = tuple(v for v in table.variables.values() if v.kind == "party")
        self._days = Memo(10_000)

    def day(self, on: dt.date) -> tuple:
        key = self._days.get(on)
        if key is None:
            in_force = tuple((r.effective is None or on >= r.effective) and (r.until is None or on <= r.until)
                             for r in self.rules)
            parties = tuple(on_date(v, self.model, on).representatives for v in self.party_vars)
            key = self._days.remember(on, (in_force, parties))
        return key

    def key(self, record: dict, on: dt.date) -> tuple:
        out = [self.day(on)]
        get = record.get
        for name, how, data, extra in self.parts:
            v = get(name)
            if how == "interval":
                if v is None and extra is not None:
                    v = _value(extra.derived, get)
                if v is None:
                    out.append(None)
                    continue
                out.append(interval_index(data, v))
            elif how == "country":
                if v is None:
                    out.append(None)
                    continue
                cls = extra.get(v)
                if cls is None:
                    sets, consts = data
                    cls = extra[v] = (tuple(v in s for s in sets), tuple(v == c for c in consts))
                out.append(cls)
            elif how == "party":
                out.append(self._party(name, v, data, extra, get, on))
            elif how == "value":
                out.append(v)
            else:
                out.append(None if v is None else v if v in data else "")
        out.append(tuple(get(g) is None for g in self.given))
        return tuple(out)

    def _party(self, name, value, lists, evidence, get, on) -> tuple:
        country_field, address_field = evidence
        country = get(country_field) if country_field else None
        address = get(address_field) if address_field else None
        if value is None:  # the split screens listed names with this party's own evidence
            return ("missing", country, address)
        if country_field is not None and country is None:  # the split may try other evidence
            return ("exact", value, address)
        out = []
        for list_name in lists:
            res = self.screens.of_field(list_name, name, value, on, get)
            policy = res.best.entry.review_policy if res.best is not None and res.status != "none" else None
            out.append((res.status, policy))
        return tuple(out)


def _value(node, get):
    """The exact value of an IR value expression over a record (None when unknown)."""
    t = type(node)
    if t is I.Const:
        return node.value
    if t is I.Var:
        v = get(node.name)
        return v if v is not None or node.derived is None else _value(node.derived, get)
    if t is I.Arith:
        return _arith(node.op, _value(node.left, get), _value(node.right, get))
    return None


__all__ = ["MAX_NODES", "CaseSplit", "Signer", "Splitter"]
