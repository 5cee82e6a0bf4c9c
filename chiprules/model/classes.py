"""Classes of values: what the rules of a version can tell apart, field by field.

Every condition is a combination of comparisons with constants, set and list
membership tests and yes/no facts. So the values of a field fall into finitely
many classes that no condition can tell apart: the thresholds themselves and
the intervals between them, the countries with the same memberships in every
set the rules name, each enum value, yes and no, a listed and an unlisted
name. One representative per class stands for the whole class.

The case split of undecided records, the semantic diff and the plots all cut
their axes here.
"""

from __future__ import annotations

import bisect
import datetime as dt
import weakref
from decimal import Decimal

import attrs

from chiprules.data.countries import all_country_codes
from chiprules.model.checked import (
    CheckedRuleset,
    Cmp,
    Const,
    FieldKind,
    FieldRef,
    InList,
    InSet,
    IsProduct,
    IsTrue,
)
from chiprules.model.walk import all_conditions, atoms

#: The name that stands for "a party on no list".
UNLISTED = "Unlisted Example Trading Ltd."
#: The value that stands for "any other text" than the constants the rules compare with.
OTHER_TEXT = "(another value)"


def numeric_representatives(points) -> tuple:
    """One number per class: each threshold, the midpoints between them, one below and one above."""
    pts = sorted(set(points))
    if not pts:
        return (Decimal(1),)
    reps = list(pts)
    for a, b in zip(pts, pts[1:], strict=False):
        reps.append((a + b) / 2)
    lo, hi = pts[0], pts[-1]
    reps.append(lo / 2 if lo > 0 else lo - 1)
    reps.append(hi * 2 if hi > 0 else hi + 1)
    return tuple(sorted(set(reps)))


def interval_values(points) -> list:
    """One value per class of an axis cut at sorted, distinct ``points``: below the first, the
    first, between the first two, ..., above the last (2n + 1 classes for n points)."""
    out = []
    prev = None
    for k, p in enumerate(points):
        if k == 0:
            out.append(p / 2 if p > 0 else p - 1)
        else:
            out.append((prev + p) / 2)
        out.append(p)
        prev = p
    out.append(Decimal(1) if prev is None else prev * 2 if prev > 0 else prev + 1)
    return out


def interval_index(points, value) -> int:
    """The class of ``value`` among `interval_values(points)`: 2k for the interval below
    points[k] (above the last: 2n), 2k + 1 for points[k] itself."""
    k = bisect.bisect_left(points, value)
    return 2 * k + 1 if k < len(points) and points[k] == value else 2 * k


def date_representatives(points) -> tuple:
    """One date per class: each date compared with, and the days either side of it."""
    pts = sorted(set(points))
    reps = set(pts)
    for p in pts:
        reps.add(p - dt.timedelta(days=1))
        reps.add(p + dt.timedelta(days=1))
    return tuple(sorted(reps)) or (dt.date(2024, 1, 1),)


def country_classes(sets) -> dict[tuple, list[str]]:
    """Countries grouped by their membership in each of ``sets``: pattern -> codes (sorted)."""
    sets = list(sets)
    classes: dict[tuple, list[str]] = {}
    for code in sorted(all_country_codes()):
        sig = tuple(code in s for s in sets)
        classes.setdefault(sig, []).append(code)
    return classes


def kind_of(rs: CheckedRuleset, name: str) -> str:
    """How a field's values are classed: number (integers too), date, country, enum, bool, text, party."""
    f = rs.fields.get(name)
    if f is not None:
        return "number" if f.kind in (FieldKind.NUMBER, FieldKind.INTEGER) else str(f.kind)
    return "number" if name in rs.derived else "text"


@attrs.frozen
class Variable:
    """A field the rules read, with one representative value per class."""

    name: str
    kind: str
    representatives: tuple


@attrs.frozen
class FieldTests:
    """What the rules of a version test a field with."""

    constants: tuple = ()  # compared with (thresholds, dates, names, codes)
    sets: tuple = ()  # member sets of `in` tests
    lists: tuple = ()  # party lists it is screened against
    truth: bool = False  # tested as a yes/no fact
    compared: bool = False  # one side of a comparison


def field_tests(rs: CheckedRuleset) -> dict[str, FieldTests]:
    """Every field the rules read, with what they test it with (in the order met)."""
    consts: dict[str, list] = {}
    sets: dict[str, list] = {}
    lists: dict[str, list] = {}
    truths: set = set()
    compared: set = set()
    order: dict[str, None] = {}
    for cond in all_conditions(rs):
        for a in atoms(cond):
            t = type(a)
            if t is Cmp:
                for side, other in ((a.left, a.right), (a.right, a.left)):
                    if type(side) is FieldRef:
                        order.setdefault(side.name)
                        compared.add(side.name)
                        bucket = consts.setdefault(side.name, [])
                        if type(other) is Const and other.value not in bucket:
                            bucket.append(other.value)
            elif t is InSet:
                order.setdefault(a.field)
                if a.members not in sets.setdefault(a.field, []):
                    sets[a.field].append(a.members)
            elif t is InList:
                order.setdefault(a.field)
                if a.list not in lists.setdefault(a.field, []):
                    lists[a.field].append(a.list)
            elif t is IsTrue:
                order.setdefault(a.field)
                truths.add(a.field)
            elif t is IsProduct:
                # the product's name, and each of its figures: equal to the catalog's or not
                for name, value in ((a.field, a.product), *a.figures):
                    order.setdefault(name)
                    if isinstance(value, bool):
                        truths.add(name)
                        continue
                    compared.add(name)
                    bucket = consts.setdefault(name, [])
                    if value not in bucket:
                        bucket.append(value)
    return {name: FieldTests(tuple(consts.get(name, ())), tuple(sets.get(name, ())), tuple(lists.get(name, ())),
                             name in truths, name in compared) for name in order}


@attrs.define
class VariableTable:
    """For one version: every field the rules read, with one value per class."""

    variables: dict[str, Variable]

    @classmethod
    def build(cls, rs: CheckedRuleset, on: dt.date | None = None) -> VariableTable:
        variables: dict[str, Variable] = {}
        tests = field_tests(rs)
        for name, ft in tests.items():
            if not ft.compared:
                continue
            kind = kind_of(rs, name)
            pts = ft.constants
            if kind == "number":
                reps = numeric_representatives([p for p in pts if isinstance(p, (Decimal, int))])
                reps = tuple(r for r in reps if r >= 0) or (Decimal(0),)
            elif kind == "date":
                reps = date_representatives([p for p in pts if isinstance(p, dt.date)])
            elif kind in ("country", "enum", "text", "party"):
                values = {p for p in pts if isinstance(p, str)}
                values.add(_other(kind, rs, name, values))
                reps = tuple(sorted(values))
            else:
                continue
            variables[name] = Variable(name, kind, reps)
        for name, ft in tests.items():
            if not ft.sets:
                continue
            kind = kind_of(rs, name)
            prior = set(variables[name].representatives) if name in variables else set()
            if kind == "country":
                for members in country_classes(ft.sets).values():
                    prior.add(members[0])
            else:
                field = rs.fields.get(name)
                prior.update(field.values if field is not None else ())
                for m in ft.sets:
                    prior.update(m)
            variables[name] = Variable(name, kind, tuple(sorted(prior)))
        for name, ft in tests.items():
            if ft.lists:
                variables[name] = party_variable(rs, name, ft.lists, on)
        for name, ft in tests.items():
            if ft.truth:
                variables[name] = Variable(name, "bool", (False, True))
        return cls(variables)


def party_variable(rs: CheckedRuleset, name: str, lists, on: dt.date | None) -> Variable:
    """A party field: an unlisted name, and one entry of each list (in force on ``on``, if given)."""
    reps = {UNLISTED}
    for lname in sorted(lists):
        for entry in rs.lists[lname].entries:
            if on is None or entry.in_force(on):
                reps.add(entry.name)
                break
    return Variable(name, "party", tuple(sorted(reps)))


def on_date(var: Variable, rs: CheckedRuleset, on: dt.date) -> Variable:
    """A variable as of a day: a party field's listed representative must be in force then."""
    if var.kind != "party":
        return var
    return party_variable(rs, var.name, _lists_read(rs, var.name), on)


#: per ruleset (by id, while it lives): the lists each party field is tested against
_LISTS_READ: dict[int, dict[str, frozenset[str]]] = {}


def _lists_read(rs: CheckedRuleset, field: str) -> frozenset[str]:
    """The lists the rules test ``field`` against, worked out once per ruleset (the walk
    over every condition was most of the time of a case split on a new day)."""
    known = _LISTS_READ.get(id(rs))
    if known is None:
        known = _LISTS_READ[id(rs)] = {}
        weakref.finalize(rs, _LISTS_READ.pop, id(rs), None)
    lists = known.get(field)
    if lists is None:
        lists = known[field] = frozenset(a.list for cond in all_conditions(rs) for a in atoms(cond)
                                         if type(a) is InList and a.field == field)
    return lists


def _other(kind, rs, name, values) -> str:
    if kind == "enum":
        f = rs.fields.get(name)
        rest = [v for v in (f.values if f else ()) if v not in values]
        return rest[0] if rest else next(iter(values), "")
    if kind == "country":
        return next(c for c in sorted(all_country_codes()) if c not in values)
    return OTHER_TEXT


def missing_inputs(rs: CheckedRuleset, record: dict, name: str) -> list[str]:
    """The record fields to supply so that ``name`` becomes known (a consignee: the end user it
    defaults to; a derived quantity: its missing inputs)."""
    f = rs.fields.get(name)
    if f is not None and isinstance(f.default, FieldRef) and record.get(f.default.name) is None:
        return missing_inputs(rs, record, f.default.name)
    d = rs.derived.get(name)
    if d is None or name in record and record[name] is not None:
        return [name]
    return [i for i in d.inputs if record.get(i) is None] or [name]


def possible_var(field: str, list_name: str) -> str:
    """The split's name for "the possible match of `field` on `list` is real"."""
    return f"{field}~{list_name}"


def split_possible(name: str) -> tuple[str, str] | None:
    """(field, list) of a name made by `possible_var`, else None."""
    field, sep, list_name = name.partition("~")
    return (field, list_name) if sep else None


__all__ = [
    "OTHER_TEXT", "UNLISTED", "FieldTests", "Variable", "VariableTable", "country_classes", "date_representatives",
    "field_tests", "interval_index", "interval_values", "kind_of", "missing_inputs", "numeric_representatives", "on_date", "party_variable",
    "possible_var", "split_possible",
]
