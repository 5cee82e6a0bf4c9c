"""What changed between two versions of the rules.

Three parts:

- **structural**: rules matched by id, then an edit script per rule (thresholds,
  conditions added or removed, items, review policy, citation, dates), country
  groups gaining or losing members, list entries added or removed. Formatting
  and order are not changes: both sides are compared in a canonical rendering
  of the checked model.
- **semantic**: an exact partition of the input space. Every rule is a boolean
  combination of threshold tests on numbers, membership tests on sets and list
  matches, so the values of each field fall into finitely many classes the
  rules cannot tell apart (threshold intervals, set-membership signatures,
  list match or not). The analysis splits on one field's classes at a time and
  stops as soon as both versions are decided (three-valued evaluation), so
  the regions it reports are exact, not sampled. Every region whose outcome
  differs comes with a witness record that is evaluated under both versions,
  every time, to prove the transition.
- **replay** (optional): every record of a file whose decision differs.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
from collections import Counter
from decimal import Decimal

import attrs

from chiprules import model as M
from chiprules.data.countries import country_name
from chiprules.engine import Rules
from chiprules.eval.python import SINK, PythonProgram, Undecided
from chiprules.eval.screens import Screens
from chiprules.eval.split import Splitter
from chiprules.ir.lower import lower
from chiprules.model.classes import (
    UNLISTED,
    VariableTable,
    country_classes,
    date_representatives,
    numeric_representatives,
)
from chiprules.model.walk import (
    atoms,
    conjuncts,
    expand,
    field_rank,
    fields_of,
    render,
    rule_fields,
)
from chiprules.report.causes import Cause, find_causes, hybrid
from chiprules.report.words import MARKETS, number

# ---- structural diff ------------------------------------------------------------------------


@attrs.frozen
class Change:
    kind: str  # rule-added, rule-removed, rule-changed, group-changed, group-added, group-removed,
    #            list-added, list-removed, header
    subject: str  # rule id, group or list name
    details: tuple[str, ...] = ()
    cite: str | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "subject": self.subject, "details": list(self.details), "cite": self.cite}


def _cond_changes(old, new) -> list[str]:
    if render(expand(old)) == render(expand(new)):
        return []
    a, b = conjuncts(old), conjuncts(new)
    ra, rb = {render(x): x for x in a}, {render(x): x for x in b}
    removed = [k for k in ra if k not in rb]
    added = [k for k in rb if k not in ra]
    out = []
    # pair a removed and an added conjunct that test the same fields: a threshold change
    for r in list(removed):
        fr = fields_of(ra[r])
        match = next((x for x in added if fields_of(rb[x]) & fr), None)
        if match is not None:
            out.append(f"`{r}` became `{match}`")
            removed.remove(r)
            added.remove(match)
    out += [f"condition removed: `{r}`" for r in removed]
    out += [f"condition added: `{x}`" for x in added]
    return out


def _rule_changes(a: M.Rule, b: M.Rule) -> list[str]:
    out = []
    if a.title != b.title:
        out.append(f"title: \"{a.title}\" became \"{b.title}\"")
    if a.cite != b.cite:
        out.append(f"citation: \"{a.cite}\" became \"{b.cite}\"")
    if a.effective != b.effective:
        out.append(f"effective: {a.effective} became {b.effective}")
    if a.until != b.until:
        out.append(f"until: {a.until} became {b.until}")
    if a.items != b.items:
        old, new = set(a.items or ()), set(b.items or ())
        if a.items is None or b.items is None:
            out.append(f"items: {', '.join(a.items or ('any item',))} became {', '.join(b.items or ('any item',))}")
        else:
            out += [f"no longer for {i}" for i in sorted(old - new)]
            out += [f"now also for {i}" for i in sorted(new - old)]
    out += _cond_changes(a.when, b.when)
    ea = {render(expand(e.expr)): e for e in a.excepts}
    eb = {render(expand(e.expr)): e for e in b.excepts}
    out += [f"exception removed: `{k}`" + (f" ({ea[k].label})" if ea[k].label else "") for k in ea if k not in eb]
    out += [f"exception added: `{k}`" + (f" ({eb[k].label})" if eb[k].label else "") for k in eb if k not in ea]
    if _review(a) != _review(b):
        out.append(f"review: {_review(a)} became {_review(b)}")
    if a.allows != b.allows and a.kind == "require":
        out.append(f"allows: {', '.join(sorted(a.allows)) or 'none'} became {', '.join(sorted(b.allows)) or 'none'}")
    na = [(n.text, render(expand(n.condition)) if n.condition else "") for n in a.notify]
    nb = [(n.text, render(expand(n.condition)) if n.condition else "") for n in b.notify]
    if na != nb:
        out += [f"notification removed: \"{t}\"" + (f" if {c}" if c else "") for t, c in na if (t, c) not in nb]
        out += [f"notification added: \"{t}\"" + (f" if {c}" if c else "") for t, c in nb if (t, c) not in na]
    return out


def _review(r: M.Rule) -> str:
    if r.review is None:
        return "none"
    arms = [f"{a.policy} if {render(expand(a.condition))}" for a in r.review.arms]
    if not arms:
        return str(r.review.otherwise)
    return (", " if len(arms) > 1 else " ").join([*arms, f"otherwise {r.review.otherwise}"])


def _names(codes) -> str:
    out = []
    for c in sorted(codes):
        try:
            out.append(f"{country_name(c)} ({c})")
        except ValueError:
            out.append(c)
    return ", ".join(out)


def structural(old: M.CheckedRuleset, new: M.CheckedRuleset) -> list[Change]:
    out: list[Change] = []
    for attr, label in (("source", "source"), ("effective", "effective"), ("title", "title")):
        if attr != "effective" and getattr(old, attr) != getattr(new, attr):
            out.append(Change("header", label, (f"{getattr(old, attr)} became {getattr(new, attr)}",)))
    old_rules, new_rules = {r.id: r for r in old.rules}, {r.id: r for r in new.rules}
    for rid, r in new_rules.items():
        if rid not in old_rules:
            details = [f"{r.kind} rule" + (f": {r.title}" if r.title else "")]
            if r.items:
                details.append(f"for {', '.join(r.items)}")
            details.append(f"when `{render(expand(r.when))}`")
            if r.review:
                details.append(f"review {_review(r)}")
            if r.kind == "require":
                details.append(f"allows {', '.join(sorted(r.allows)) or 'none'}")
            details += [f"notification: \"{n.text}\"" + (f" if {render(expand(n.condition))}" if n.condition else "")
                        for n in r.notify]
            out.append(Change("rule-added", rid, tuple(details), r.cite))
    for rid, r in old_rules.items():
        if rid not in new_rules:
            out.append(Change("rule-removed", rid, (f"{r.kind} rule" + (f": {r.title}" if r.title else ""),), r.cite))
    for rid, r in new_rules.items():
        if rid in old_rules:
            ch = _rule_changes(old_rules[rid], r)
            if ch:
                out.append(Change("rule-changed", rid, tuple(ch), r.cite))
    for name in sorted(set(old.groups) | set(new.groups)):
        a, b = old.groups.get(name), new.groups.get(name)
        if a is None:
            out.append(Change("group-added", name, (f"members: {_names(b)}",)))
        elif b is None:
            out.append(Change("group-removed", name, ()))
        elif a != b:
            details = []
            if b - a:
                details.append(f"gains {_names(b - a)}")
            if a - b:
                details.append(f"loses {_names(a - b)}")
            out.append(Change("group-changed", name, tuple(details)))
    for name in sorted(set(old.lists) | set(new.lists)):
        a = {e.name: e for e in old.lists[name].entries} if name in old.lists else {}
        b = {e.name: e for e in new.lists[name].entries} if name in new.lists else {}
        added, removed = sorted(set(b) - set(a)), sorted(set(a) - set(b))
        details = [f"entry added: {n}" for n in added] + [f"entry removed: {n}" for n in removed]
        for n in sorted(set(a) & set(b)):
            what = _entry_changes(a[n], b[n])
            if what:
                details.append(f"entry changed: {n} ({'; '.join(what)})")
        if name in old.lists and name in new.lists:
            details += screening_changes(old.lists[name], new.lists[name])
        if details:
            out.append(Change("list-changed", name, tuple(details)))
    return out


def _entry_changes(a, b) -> list[str]:
    out = []
    for attr, word in (("aliases", "aliases"), ("country", "country"), ("review_policy", "review policy"),
                       ("added", "added"), ("removed", "removed"), ("citation", "citation")):
        x, y = getattr(a, attr), getattr(b, attr)
        if x != y:
            show = (lambda v: ", ".join(v) or "none") if attr == "aliases" else (lambda v: str(v or "none"))
            out.append(f"{word} {show(x)} -> {show(y)}")
    return out


def screening_changes(a: M.PartyList, b: M.PartyList) -> list[str]:
    """The screening scores of a list that changed, in words."""
    out = []
    for attr, word in (("match_score", "match"), ("possible_score", "possible")):
        x, y = getattr(a, attr), getattr(b, attr)
        if x != y:
            out.append(f"{word} score {x:g} -> {y:g}: names scoring from {min(x, y):g} to {max(x, y):g} "
                       "screen differently")
    return out


# ---- semantic diff ------------------------------------------------------------------------------


@attrs.frozen
class Axis:
    """One field and the classes of values the two versions tell apart."""

    name: str
    kind: str  # number, date, country, enum, bool, party, text
    values: tuple  # one representative per class, in order for numbers and dates
    points: tuple = ()  # thresholds, for numbers and dates
    sets: tuple = ()  # (set_text, members) for countries
    members: tuple = ()  # for countries: the member codes of each class
    unit: str = ""  # for numbers: the unit its values are written in


def compare_date(model: M.CheckedRuleset) -> dt.date:
    """The day a version is compared on: once every one of its rules is in force."""
    dates = [model.effective or dt.date(2000, 1, 1)]
    dates += [r.effective for r in model.rules if r.effective is not None
              and (model.until is None or r.effective <= model.until)]
    return max(dates)


def _axes(old: M.CheckedRuleset, new: M.CheckedRuleset) -> list[Axis]:
    to, tn = VariableTable.build(old), VariableTable.build(new)
    names = set(to.variables) | set(tn.variables)
    sets: dict[str, dict] = {}
    points: dict[str, set] = {}
    for model in (old, new):
        for rule in model.rules:
            conds = [rule.when] + [e.expr for e in rule.excepts]
            conds += [a.condition for a in rule.review.arms] if rule.review else []
            conds += [n.condition for n in rule.notify if n.condition is not None]
            for cond in conds:
                for a in atoms(cond):
                    if isinstance(a, M.InSet):
                        named = sets.setdefault(a.field, {})
                        if a.members not in named:
                            text = a.set_text
                            if text in named.values():  # same name, other members: say whose
                                text = f"{text} ({'old' if model is old else 'new'})"
                            named[a.members] = text
                    elif isinstance(a, M.Cmp):
                        for side, other in ((a.left, a.right), (a.right, a.left)):
                            if isinstance(side, M.FieldRef) and isinstance(other, M.Const):
                                points.setdefault(side.name, set()).add(other.value)
                                f = model.fields.get(side.name)
                                if f is not None and f.kind == "country" and isinstance(other.value, str):
                                    named = sets.setdefault(side.name, {})
                                    named.setdefault(frozenset({other.value}), "{" + other.value + "}")
    axes = []
    for name in sorted(names, key=field_rank):
        va, vb = to.variables.get(name), tn.variables.get(name)
        kind = (va or vb).kind
        if kind == "country":
            named = sets.get(name, {})
            classes = country_classes(list(named)) if named else {(): ["ZZ"]}
            reps = tuple(members[0] for members in classes.values())
            axes.append(Axis(name, kind, reps, sets=tuple((text, m) for m, text in named.items()),
                             members=tuple(tuple(m) for m in classes.values())))
        elif kind in ("number", "date"):
            # one value per class of the UNION of both versions' thresholds
            pts = sorted(points.get(name, ()))
            if kind == "number":
                reps = tuple(r for r in numeric_representatives(pts) if r >= 0) or (Decimal(0),)
            else:
                reps = date_representatives(pts)
            axes.append(Axis(name, kind, reps, points=tuple(pts), unit=_unit(new, name) or _unit(old, name)))
        elif kind == "enum":
            # values grouped by what the rules can tell about them: equal to each constant, in each set
            f = new.fields.get(name) or old.fields.get(name)
            tests = [frozenset({c}) for c in points.get(name, ()) if isinstance(c, str)]
            tests += list(sets.get(name, {}))
            classes: dict[tuple, list[str]] = {}
            for value in f.values:
                classes.setdefault(tuple(value in t for t in tests), []).append(value)
            members = tuple(tuple(v) for v in classes.values())
            axes.append(Axis(name, kind, tuple(m[0] for m in members), members=members))
        else:
            reps = tuple(sorted(set((va.representatives if va else ()) + (vb.representatives if vb else ())),
                                key=str))
            axes.append(Axis(name, kind, reps))
    return axes


@attrs.frozen
class Leaf:
    assignment: tuple  # ((axis index, value index), ...)
    old: object  # Verdict
    new: object


@attrs.frozen
class Region:
    """A region of records whose decision changes, with a verified witness."""

    transition: str
    old: str
    new: str
    description: tuple[str, ...]
    witness: dict = attrs.field(eq=False)
    verified: bool = True
    box: tuple = attrs.field(default=(), eq=False, repr=False)  # ((axis index, class indexes), ...)
    #: the causes (ids) that together, applied alone to the old version, give the new outcome
    causes: tuple[str, ...] = ()
    #: the value classes the region covers, per axis (the box); cells: how many leaves
    cells: int = attrs.field(default=1, eq=False)

    def to_json(self) -> dict:
        return {"transition": self.transition, "old": self.old, "new": self.new,
                "where": list(self.description), "witness": _jsonable(self.witness), "verified": self.verified,
                "causes": list(self.causes)}


def _jsonable(record: dict) -> dict:
    out = {}
    for k, v in record.items():
        if isinstance(v, Decimal):
            out[k] = str(v)
        elif isinstance(v, dt.date):
            out[k] = v.isoformat()
        else:
            out[k] = v
    return out


def _summary_text(outcome: str, classification, review_policy, exceptions) -> str:
    """An outcome in one line: `license_exception [3A090.a] (presumption_of_denial) {NAC}`."""
    text = outcome
    if classification:
        text += f" [{', '.join(classification)}]"
    if review_policy:
        text += f" ({review_policy})"
    if exceptions:
        text += f" {{{', '.join(exceptions)}}}"
    return text


@attrs.frozen
class Unsettled:
    """A leaf where the law is unsettled: indeterminate whatever the record says."""

    zones: tuple[str, ...]


def _indeterminate_text(zones) -> str:
    """`indeterminate`, or `indeterminate (unsettled: KEY)` where the law does not decide:
    a class of its own in the diff."""
    return f"indeterminate (unsettled: {', '.join(zones)})" if zones else "indeterminate"


def _summary(v) -> str:
    if v is None:
        return "indeterminate"
    if type(v) is Unsettled:
        return _indeterminate_text(v.zones)
    return _summary_text(v.outcome, v.classification, v.review_policy, [name for name, _ in v.exceptions])


class _Explorer:
    def __init__(self, old, new, axes, max_leaves=400_000, base=None):
        self.old, self.new, self.axes = old, new, axes
        #: facts every leaf takes as given (the jurisdiction facts of a US-origin item)
        self.base = dict(base or {})
        self.on_old, self.on_new = compare_date(old), compare_date(new)
        # records here are classes of values, not prepared records: no field is known by default
        self.fast_old = PythonProgram(lower(old), Screens(old, evidence=False), evidence=False,
                                      prepared=False).decide
        self.fast_new = PythonProgram(lower(new), Screens(new, evidence=False), evidence=False,
                                      prepared=False).decide
        self.leaves: list[Leaf] = []
        self.max_leaves = max_leaves
        self.truncated = False
        self.used = {a.name for a in axes}

    def verdicts(self, overrides):
        """Each version's verdict on the classes chosen so far (None while undecided), and
        every field of the rules left undecided: the next split is among them."""
        vo = self.fast_old(overrides, self.on_old, {}, SINK)
        vn = self.fast_new(overrides, self.on_new, {}, SINK)
        unknowns: set = set()
        if type(vo) is Undecided:
            unknowns.update(vo.fields)
            vo = None
        if type(vn) is Undecided:
            unknowns.update(vn.fields)
            vn = None
        return vo, vn, unknowns

    @staticmethod
    def zoned(readings):
        """For an undecided leaf, from its ``_readings``: its verdict if every reading of the
        zones of unsettled law it meets gives the same outcome (as the engine's split merges
        it), else the zones whose reading changes the outcome; None when something else is unknown."""
        zones, verdicts, fields = readings
        if not zones or fields or any(type(v) is Undecided for v in verdicts.values()):
            return None
        leaves = list(verdicts.values())
        if len({v.outcome for v in leaves}) == 1:
            return Splitter.agreed(leaves, ((), ()), tuple(z[1:] for z in zones)).verdict
        turning = [z[1:] for i, z in enumerate(zones)
                   if any(v.outcome != verdicts[r[:i] + (not r[i],) + r[i + 1:]].outcome
                          for r, v in verdicts.items())]
        return Unsettled(tuple(turning))

    def run(self):
        self.position = {a.name: i for i, a in enumerate(self.axes)}
        self.explore(dict(self.base), ())

    def explore(self, overrides, assignment):
        if len(self.leaves) >= self.max_leaves:
            self.truncated = True
            return
        vo, vn, unknowns = self.verdicts(overrides)
        if vo is not None and vn is not None:
            self.leaves.append(Leaf(assignment, vo, vn))
            return
        # split on the first field (in axis order) that left an undecided rule unknown
        pending = sorted(self.position[u] for u in unknowns if u in self.position and u not in overrides)
        if not pending:  # under some reading of unsettled law, other fields may still be open
            # (a decided side has no reading to try: its verdict stands)
            ro = _readings(self.fast_old, overrides, self.on_old) if vo is None else None
            rn = _readings(self.fast_new, overrides, self.on_new) if vn is None else None
            read = (ro[2] if ro else set()) | (rn[2] if rn else set())
            pending = sorted(self.position[u] for u in read if u in self.position and u not in overrides)
            if not pending:  # the rules read something no axis covers, or the law is unsettled here
                self.leaves.append(Leaf(assignment, vo or self.zoned(ro), vn or self.zoned(rn)))
                return
        i = pending[0]
        axis = self.axes[i]
        for j, value in enumerate(axis.values):
            overrides[axis.name] = value
            self.explore(overrides, assignment + ((i, j),))
        del overrides[axis.name]


def _readings(decide, overrides, on, most: int = 8):
    """Decide under every reading of the zones of unsettled law met, found one after another
    (a reading may reach rules with zones of their own): (the zones, the verdict per reading,
    the fields still undecided under some reading)."""
    zones: list[str] = []
    while True:
        verdicts, fields, found = {}, set(), set()
        for reading in itertools.product((True, False), repeat=len(zones)):
            unknowns: set = set()
            v = decide(overrides, on, dict(zip(zones, reading, strict=True)), unknowns)
            verdicts[reading] = v
            if type(v) is Undecided:
                more = {u for u in unknowns if u[:1] == "?"} - set(zones)
                if more:
                    found |= more
                else:
                    fields.update(v.fields)
        if found and len(zones) + len(found) <= most:
            zones += sorted(found)
            continue
        return zones, verdicts, fields


def _describe_axis(axis: Axis, idxs: list[int]) -> str | None:
    """Words for a set of value classes of one axis, or None when it is all of them."""
    idxs = sorted(set(idxs))
    if len(idxs) == len(axis.values):
        return None
    if axis.kind in ("number", "date"):
        return " or ".join(_interval_text(axis, run) for run in _runs(idxs))
    if axis.kind == "country":
        return _country_text(axis, idxs)
    if axis.kind == "bool":
        (only,) = {axis.values[i] for i in idxs}
        return axis.name if only else f"not {axis.name}"
    if axis.kind == "party":
        listed = [axis.values[i] for i in idxs]
        if listed == [UNLISTED]:
            return f"{axis.name} matches no listed party"
        if UNLISTED not in listed:
            return f"{axis.name} matches a listed party"
        return None
    vals = [axis.values[i] for i in idxs]
    if axis.kind == "enum":
        vals = [v for i in idxs for v in axis.members[i]]
    if len(vals) == 1:
        return f"{axis.name} == {_show(vals[0])}"
    return f"{axis.name} in {{{', '.join(_show(v) for v in vals)}}}"


def _show(v) -> str:
    return f'"{v}"' if isinstance(v, str) and not v.isidentifier() else str(v)


def _runs(idxs):
    run = [idxs[0]]
    for i in idxs[1:]:
        if i == run[-1] + 1:
            run.append(i)
        else:
            yield run
            run = [i]
    yield run


def _interval_text(axis: Axis, run: list[int]) -> str:
    """Representatives run[0]..run[-1] cover an interval bounded by thresholds."""
    pts = list(axis.points)
    lo_v, hi_v = axis.values[run[0]], axis.values[run[-1]]
    unit = axis.unit
    # lower bound
    lower = None
    if lo_v in pts:
        lower = (lo_v, ">=")
    else:
        below = [p for p in pts if p < lo_v]
        if below:
            lower = (max(below), ">")
    upper = None
    if hi_v in pts:
        upper = (hi_v, "<=")
    else:
        above = [p for p in pts if p > hi_v]
        if above:
            upper = (min(above), "<")
    name = axis.name
    if lower and upper and lower[0] == upper[0]:
        return f"{name} == {_num(lower[0], unit)}"
    if lower and upper:
        lo_op = "<=" if lower[1] == ">=" else "<"
        return f"{_num(lower[0], unit)} {lo_op} {name} {upper[1]} {_num(upper[0], unit)}"
    if lower:
        return f"{name} {lower[1]} {_num(lower[0], unit)}"
    if upper:
        return f"{name} {upper[1]} {_num(upper[0], unit)}"
    return f"any {name}"


def _unit(model: M.CheckedRuleset, name: str) -> str:
    """A field's unit as a threshold is written, from the rules' own declarations; TPP is
    written bare, as the regulation itself writes it."""
    f = model.fields.get(name)
    d = model.derived.get(name)
    unit = f.unit if f is not None and f.unit else d.unit if d is not None else None
    return "" if unit in (None, "TPP") else unit


_num = number  # a value and its unit in words


def _country_text(axis: Axis, idxs: list[int]) -> str:
    codes = sorted({c for i in idxs for c in axis.members[i]})
    # describe by the named sets: those every chosen country is in, and those none is in
    inside, outside = [], []
    for text, members in axis.sets:
        flags = {c in members for c in codes}
        if flags == {True}:
            inside.append(text)
        elif flags == {False}:
            outside.append(text)
    inside, outside = _collapse(inside), _collapse(outside)
    parts = []
    if len(codes) <= 6:
        return f"{axis.name} in {{{', '.join(codes)}}}"
    if inside:
        parts.append(f"{axis.name} in " + " and ".join(_wrap(t) for t in inside))
    if outside:
        parts.append(f"{axis.name} not in " + " or ".join(_wrap(t) for t in outside))
    return ", ".join(parts) if parts else f"{axis.name} in one of {len(codes)} countries"


def _collapse(texts: list[str]) -> list[str]:
    """`RS_SCOPE` and `RS_SCOPE (new)` both hold: say `RS_SCOPE` once."""
    out = []
    for t in texts:
        for suffix in (" (new)", " (old)"):
            if t.endswith(suffix) and t[: -len(suffix)] in texts:
                break
        else:
            out.append(t)
    return out


def _wrap(text: str) -> str:
    return f"({text})" if " " in text else text


def _witness(axes: list[Axis], assignment: dict) -> dict:
    rec = {}
    for i, j in assignment.items():
        axis = axes[i]
        rec[axis.name] = axis.values[j]
    if "transaction" not in rec:
        rec.setdefault("transaction", "export")
    return rec


@attrs.frozen
class Flip:
    id: str
    old: str
    new: str
    destination: str | None
    chip: str | None
    location: str | None

    def to_json(self) -> dict:
        return attrs.asdict(self)


@attrs.frozen
class Replay:
    total: int
    flips: tuple[Flip, ...]
    by_transition: tuple
    by_destination: tuple
    by_chip: tuple

    def to_json(self) -> dict:
        return {"total": self.total, "flipped": len(self.flips), "flips": [f.to_json() for f in self.flips],
                "by_transition": [list(x) for x in self.by_transition],
                "by_destination": [list(x) for x in self.by_destination],
                "by_chip": [list(x) for x in self.by_chip]}


@attrs.frozen
class DiffReport:
    old: object  # RulesetInfo-like: name, version, effective
    new: object
    changes: tuple[Change, ...]
    regions: tuple[Region, ...]
    equivalent: bool
    cells: int
    seconds: float
    truncated: bool = False
    replay: Replay | None = None
    compared_on: tuple = ()
    axes: tuple = attrs.field(default=(), eq=False, repr=False)
    models: tuple = attrs.field(default=(), eq=False, repr=False)
    #: limits of the semantic analysis the reader must know (screening scores that changed)
    caveats: tuple[str, ...] = ()
    #: the structural changes cut into causes a region is attributed to (report.causes)
    causes: tuple[Cause, ...] = ()

    def region_of(self, record: dict) -> Region | None:
        """The reported region holding a (typed) record, if any."""
        screens = []
        for model, on in zip(self.models, self.compared_on, strict=True):
            scr = Screens(model, evidence=False)
            screens += [(scr, name, on) for name in model.lists]
        classes = {i: class_of(axis, record.get(axis.name), screens) for i, axis in enumerate(self.axes)}
        for region in self.regions:
            if all(classes.get(i) in idxs for i, idxs in region.box):
                return region
        return None

    @property
    def empty(self) -> bool:
        return not self.changes and not self.regions

    def to_json(self) -> dict:
        return {
            "old": {"name": self.old.name, "version": self.old.version, "compared_on": self.compared_on[0].isoformat()},
            "new": {"name": self.new.name, "version": self.new.version, "compared_on": self.compared_on[1].isoformat()},
            "equivalent": self.equivalent,
            "caveats": list(self.caveats),
            "changes": [c.to_json() for c in self.changes],
            "regions": [r.to_json() for r in self.regions],
            "cells": self.cells,
            "exact": not self.truncated,
            "replay": self.replay.to_json() if self.replay else None,
        }


def class_of(axis: Axis, value, screens=()) -> int | None:
    """The index of the value class of ``value`` on an axis (None: not on the axis)."""
    if value is None:
        return None
    if axis.kind in ("number", "date"):
        pts = list(axis.points)
        for i, rep in enumerate(axis.values):
            if rep == value:
                return i
        # the class is the representative lying in the same open interval between thresholds
        for i, rep in enumerate(axis.values):
            if rep in pts:
                continue
            lo = max((p for p in pts if p < rep), default=None)
            hi = min((p for p in pts if p > rep), default=None)
            if (lo is None or value > lo) and (hi is None or value < hi) and value not in pts:
                return i
        return None
    if axis.kind in ("country", "enum"):
        for i, members in enumerate(axis.members):
            if value in members:
                return i
        return None
    if axis.kind == "party":
        listed = any(s.matches(lname, value, on) for s, lname, on in screens)
        for i, rep in enumerate(axis.values):
            if (rep != UNLISTED) == listed:
                return i
        return None
    if value in axis.values:
        return axis.values.index(value)
    if axis.kind == "text" and "(another value)" in axis.values:
        return axis.values.index("(another value)")
    return None


class _Attribution:
    """Which causes explain a changed leaf: the old version with only those causes applied
    decides the leaf as the new version does (every class of the fields it still reads)."""

    def __init__(self, old, new, axes, causes, base=None, summary=None):
        self.old, self.new, self.axes = old, new, axes
        self.base = dict(base or {})
        self.summary = summary or _summary
        self.on_old, self.on_new = compare_date(old), compare_date(new)
        self.on = max(self.on_old, self.on_new)
        self.causes = [c for c in causes if c.kind != "text"]
        self.countries = frozenset().union(*(c.countries for c in self.causes)) if self.causes else frozenset()
        self.position = {a.name: i for i, a in enumerate(axes)}
        self.programs: dict = {}

    def program(self, ids: tuple):
        prog = self.programs.get(ids)
        if prog is None:
            chosen = [c for c in self.causes if c.id in ids]
            model = hybrid(self.old, self.new, chosen, self.on_old, self.on_new, self.countries)
            prog = PythonProgram(lower(model), Screens(model, evidence=False), evidence=False,
                                 prepared=False).decide
            self.programs[ids] = prog
        return prog

    def reproduces(self, ids: tuple, overrides: dict, target: str, depth: int = 0) -> bool:
        v = self.program(ids)(overrides, self.on, {}, SINK)
        if type(v) is Undecided:
            pending = sorted(self.position[u] for u in v.fields if u in self.position and u not in overrides)
            if not pending or depth > 12:
                return False
            axis = self.axes[pending[0]]
            return all(self.reproduces(ids, {**overrides, axis.name: value}, target, depth + 1)
                       for value in axis.values)
        return self.summary(v) == target

    def causes_of(self, leaf: Leaf) -> tuple[str, ...]:
        try:
            return self._causes_of(leaf)
        except Exception:  # noqa: BLE001 - a hybrid that cannot be built: every cause together
            return tuple(c.id for c in self.causes)

    def _causes_of(self, leaf: Leaf) -> tuple[str, ...]:
        overrides = {**self.base, **{self.axes[i].name: self.axes[i].values[j] for i, j in leaf.assignment}}
        target = self.summary(leaf.new)
        ids = [c.id for c in self.causes]
        for one in ids:
            if self.reproduces((one,), overrides, target):
                return (one,)
        for k, a in enumerate(ids):
            for b in ids[k + 1:]:
                if self.reproduces((a, b), overrides, target):
                    return (a, b)
        return tuple(ids)


def held_facts(old: M.CheckedRuleset, new: M.CheckedRuleset) -> dict:
    """The facts the licence comparison holds at their defaults, with those defaults.

    Two kinds: the fields only jurisdiction rules read (then an item subject to the EAR under
    both versions is decided as the US-origin item with its other facts), and the end-use
    facts (`end_use_facts`). Each field is held only when no other rule reads it; the regions
    are explored for that item alone."""
    free, other = set(), set()
    for model in (old, new):
        for rule in model.rules:
            scoped = rule.kind is M.RuleKind.CLASSIFY or rule.kind is M.RuleKind.EXCEPTION or (
                rule.kind is M.RuleKind.REQUIRE and rule.items is not None)
            (other if scoped else free).update(rule_fields(rule))
    out = {}
    for name in sorted(free - other):
        f = new.fields.get(name) or old.fields.get(name)
        if f is None or f.default is None or isinstance(f.default, M.FieldRef):
            continue
        readers = [r for model in (old, new) for r in model.rules if name in rule_fields(r)]
        if any(r.kind is M.RuleKind.REQUIRE for r in readers) and not all(
                _off_at(r, name, f.default) for r in readers):
            continue  # read by a requirement that applies at the default: explored
        out[name] = f.default
    return out


def end_use_facts(old: M.CheckedRuleset, new: M.CheckedRuleset, held: dict) -> dict:
    """The held facts a licence requirement reads: facts with a default that only rules scoped to
    no classification read, and whose default keeps every rule reading them off (an end use a
    record declares, 15 CFR 744.23, held at `other`). Both analyses hold them, and
    `held_rule_changes` names the changed rules the comparison therefore does not explore."""
    reads = {f for model in (old, new) for r in model.requirements for f in rule_fields(r)}
    return {k: v for k, v in held.items() if k in reads}


def _off_at(rule: M.Rule, name: str, value) -> bool:
    """Whether the rule cannot apply when field ``name`` has ``value``: one of its `and` parts
    is `name == V` with V another value, or `name in S` with the value outside S."""
    for part in conjuncts(rule.when):
        if (type(part) is M.Cmp and part.op == "==" and type(part.left) is M.FieldRef
                and part.left.name == name and type(part.right) is M.Const and part.right.value != value):
            return True
        if type(part) is M.InSet and part.field == name and (value in part.members) == part.negated:
            return True
    return False


def _without_readers(rules: tuple, held: dict) -> tuple:
    """The rules that read no held fact (the others are off at the held defaults)."""
    return tuple(r for r in rules if not set(rule_fields(r)) & set(held))


def _licence_part(model: M.CheckedRuleset, held: dict) -> M.CheckedRuleset:
    """A version's licence rules as the comparison explores them: without its jurisdiction
    rules, and without the requirements that read a held fact (off at its default)."""
    return attrs.evolve(model, jurisdiction=(), requirements=_without_readers(model.requirements, held))


def _held_off(old: M.CheckedRuleset, new: M.CheckedRuleset, ends: dict) -> set[str]:
    """The ids of the requirements and jurisdiction rules that read an end-use fact: off at its
    held default, so neither analysis explores them."""
    return {r.id for model in (old, new) for r in (*model.requirements, *model.jurisdiction)
            if set(rule_fields(r)) & set(ends)}


def held_rule_changes(changes, old: M.CheckedRuleset, new: M.CheckedRuleset, held: dict) -> list[str]:
    """The rules that read an end-use fact and changed between the versions, in the order of
    ``changes``."""
    reads = _held_off(old, new, held)
    out: list[str] = []
    for c in changes:
        if c.subject in reads and c.subject not in out:
            out.append(c.subject)
    return out


def _subject(v) -> str:
    """A verdict of a version without its licence rules, as subject to the EAR or not."""
    if v is None or type(v) is Unsettled:
        return "indeterminate"
    return "not_subject" if v.outcome == M.Outcome.NOT_SUBJECT else "subject"


def semantic(old: M.CheckedRuleset, new: M.CheckedRuleset, *, verify=None, causes=None, verify_subject=None):
    held = held_facts(old, new)
    ends = end_use_facts(old, new, held)
    base = held
    if base and base.get("made_in", "US") == "US":
        # the licence regions, for a US-origin item (its jurisdiction is settled by its origin,
        # and no other rule reads the facts only jurisdiction rules read): over the fields the
        # other rules read (a requirement a held fact keeps off is left out)
        axes = _axes(_licence_part(old, base), _licence_part(new, base))
    else:
        base, axes = {}, _axes(old, new)
    ex = _Explorer(old, new, axes, base=base)
    ex.run()
    if causes is None:
        causes = find_causes(old, new)
    # a change to a rule the held facts keep off explains no region: not a candidate
    off = _held_off(old, new, ends)
    live = [c for c in causes if not (c.kind == "rule" and set(c.subjects) <= off)]
    attribution = _Attribution(old, new, axes, live, base)
    order = {c.id: k for k, c in enumerate(causes)}
    changed: dict[tuple, list[Leaf]] = {}
    for leaf in ex.leaves:
        so, sn = _summary(leaf.old), _summary(leaf.new)
        if so != sn:
            changed.setdefault((attribution.causes_of(leaf), f"{so} -> {sn}"), []).append(leaf)
    cells = len(ex.leaves)
    truncated = ex.truncated
    if old.jurisdiction or new.jurisdiction:
        # where an item moves into or out of the EAR: the versions without their licence
        # rules, over every jurisdiction fact, compared on subject or not
        ro = attrs.evolve(old, requirements=(), exceptions=())
        rn = attrs.evolve(new, requirements=(), exceptions=())
        # the end-use facts held here too: the rules reading them are off at their defaults
        jaxes = _axes(attrs.evolve(ro, jurisdiction=_without_readers(ro.jurisdiction, ends)),
                      attrs.evolve(rn, jurisdiction=_without_readers(rn.jurisdiction, ends)))
        jex = _Explorer(ro, rn, jaxes, base=ends)
        jex.run()
        jattr = _Attribution(ro, rn, jaxes, live, base=ends, summary=_subject)
        cells += len(jex.leaves)
        truncated = truncated or jex.truncated
        moved: dict[tuple, list[Leaf]] = {}
        for leaf in jex.leaves:
            so, sn = _subject(leaf.old), _subject(leaf.new)
            if so != sn:
                moved.setdefault((jattr.causes_of(leaf), f"{so} -> {sn}"), []).append(leaf)
    regions = _regions(changed, axes, verify, verify_subject)
    if old.jurisdiction or new.jurisdiction:
        # described over their own axes; a box no record falls in (`DiffReport.region_of` is for
        # the licence regions)
        regions += [attrs.evolve(r, box=((-1, ()),)) for r in _regions(moved, jaxes, verify, verify_subject)]
    regions.sort(key=lambda r: ([order[c] for c in r.causes], r.transition, r.description))
    return regions, cells, truncated, axes


def _regions(changed: dict, axes, verify, verify_subject) -> list[Region]:
    regions = []
    for (ids, transition), leaves in changed.items():
        for group in _merge(leaves, axes):
            desc = []
            for i, axis in enumerate(axes):
                idxs = group.get(i)
                if idxs is None:
                    continue
                text = _describe_axis(axis, idxs)
                if text:
                    desc.append(text)
            first = leaves_first(group)
            witness = _witness(axes, first)
            old_s, new_s = transition.split(" -> ")
            check = verify_subject if SUBJECT_WORDS & {old_s, new_s} else verify
            ok = check(witness, old_s, new_s) if check else True
            box = tuple((i, tuple(v)) for i, v in sorted(group.items()))
            regions.append(Region(transition, old_s, new_s, tuple(desc) or ("everywhere",), witness, ok, box,
                                  ids))
    return regions


#: the two states of a region that moves into or out of the EAR (see `semantic`)
SUBJECT_WORDS = frozenset({"subject", "not_subject"})


def leaves_first(group) -> dict:
    return {i: idxs[0] for i, idxs in group.items()}


def _merge(leaves: list[Leaf], axes: list[Axis]) -> list[dict]:
    """Group leaves of one transition into boxes: per axis a set of value classes.

    Leaves are merged greedily when they differ in exactly one axis; what is
    left is a list of boxes whose union is exactly the leaves.
    """
    boxes = []
    full = {i: list(range(len(a.values))) for i, a in enumerate(axes)}
    for leaf in leaves:
        box = dict(full)
        box.update({i: [j] for i, j in leaf.assignment})
        boxes.append(box)
    changed = True
    while changed and len(boxes) > 1:
        changed = False
        index: dict = {}
        merged = []
        used = set()
        for n, box in enumerate(boxes):
            for axis_i in list(box):
                key = (axis_i, tuple(sorted((k, tuple(sorted(v))) for k, v in box.items() if k != axis_i)))
                other = index.get(key)
                if other is not None and other not in used and n not in used:
                    ob = boxes[other]
                    new = dict(box)
                    new[axis_i] = sorted(set(box[axis_i]) | set(ob[axis_i]))
                    merged.append(new)
                    used.update((n, other))
                    changed = True
                    break
                index[key] = n
        boxes = merged + [b for k, b in enumerate(boxes) if k not in used]
    # an axis whose classes are all present says nothing: drop it
    out = []
    for box in boxes:
        out.append({i: v for i, v in box.items() if len(set(v)) < len(axes[i].values)})
    return out


# ---- witnesses from the real world ---------------------------------------------------------------

ITEM_FIELDS = frozenset({"tpp", "performance_density", "die_area", "datacenter", "interconnect_bw", "dram_bw",
                         "memory_bw_density", "chip"})
READABLE = {"end_user": "Example Cloud Co.", "end_user_parent": "Example Holdings Ltd."}
OTHER_TEXT = "(another value)"


def _derived_value(model: M.CheckedRuleset, name: str, record: dict):
    d = model.derived.get(name)
    if d is None:
        return record.get(name)

    def ev(node):
        if isinstance(node, M.AField):
            v = record.get(node.name)
            return v if v is not None else _derived_value(model, node.name, record) \
                if node.name in model.derived else None
        if isinstance(node, M.AConst):
            return node.value
        a, b = ev(node.left), ev(node.right)
        if a is None or b is None:
            return None
        if node.op == "/":
            return a / b if b else None
        return {"+": a + b, "-": a - b, "*": a * b}[node.op]

    return ev(d.expr)


def favoured_countries(old: M.CheckedRuleset, new: M.CheckedRuleset, causes) -> dict[str, list[str]]:
    """Per cause, the countries it names: those moved between groups, or written as literals in
    the conditions it changes."""
    out = {}
    rules = {**{r.id: r for r in old.rules}, **{r.id: r for r in new.rules}}
    for c in causes:
        found = set(c.countries)
        for rid, _ in c.parts:
            r = rules.get(rid)
            if r is None:
                continue
            conds = [r.when] + [e.expr for e in r.excepts]
            conds += [a.condition for a in r.review.arms] if r.review else []
            for cond in conds:
                for a in atoms(cond):
                    if isinstance(a, M.InSet) and "{" in a.set_text:
                        for lit in re.findall(r"\{([^}]*)\}", a.set_text):
                            found.update(x.strip() for x in lit.split(",") if x.strip())
        out[c.id] = sorted(found, key=lambda code: (MARKETS.index(code) if code in MARKETS else 99, code))
    return out


def real_witness(region: Region, axes, rules: Rules, model: M.CheckedRuleset, verify,
                 favoured: list[str]) -> dict | None:
    """A witness of ``region`` made of real things: a catalog chip whose figures fall in the
    region, the countries the change names (else the largest markets), a readable unlisted
    buyer; None when no such record is decided as the region says under both versions."""
    box = dict(region.box)
    base: dict = {}
    for i, axis in enumerate(axes):
        idxs = box.get(i)
        allowed = range(len(axis.values)) if idxs is None else idxs
        if axis.name in ITEM_FIELDS:
            continue
        if axis.kind == "country":
            codes = [c for k in allowed for c in axis.members[k]]
            if axis.name == "end_user_hq" and base.get("destination") in codes:
                base[axis.name] = base["destination"]
                continue
            pick = "US" if axis.name == "exported_from" and "US" in codes else None
            if pick is None and axis.name in ("destination", "end_user_hq"):
                pick = next((c for c in favoured if c in codes), None)
            if pick is None:  # the largest market; not the US as a destination when another will do
                pick = min(codes, key=lambda code: (axis.name == "destination" and code == "US",
                                                    MARKETS.index(code) if code in MARKETS else 99, code))
            base[axis.name] = pick
        elif axis.kind == "party":
            values = [axis.values[k] for k in allowed]
            if UNLISTED in values:
                if axis.name in READABLE:
                    base[axis.name] = READABLE[axis.name]
            else:
                base[axis.name] = values[0]
        elif idxs is not None:
            base[axis.name] = axis.values[idxs[0]]
    item_axes = [(i, axes[i]) for i in box if axes[i].name in ITEM_FIELDS and axes[i].name != "chip"]
    chip_axis = next(((i, a) for i, a in enumerate(axes) if a.name == "chip"), None)
    named = None  # chip names the region allows (None: any)
    if chip_axis is not None and chip_axis[0] in box:
        i, axis = chip_axis
        named = {axis.values[k] for k in box[i]}
    other = chip_axis is not None and (named is None or OTHER_TEXT in named)
    listed_names = set(chip_axis[1].values) if chip_axis is not None else set()
    candidates = []
    # a catalog chip is a witness only where the rules read an item's figures
    catalog = rules.catalog if any(a.name in ITEM_FIELDS for a in axes) else ()
    for spec in catalog or ():
        spellings = {spec.name, *spec.aliases}
        if named is not None and not (spellings & named) and not (other and not spellings & listed_names):
            continue
        name = spec.name if named is None or spec.name in named else min(spellings & named) \
            if spellings & named else spec.name
        rec = {**base, "chip": name}
        try:
            typed = rules.prepare(rec).record
        except Exception:  # noqa: BLE001 - a catalog entry that does not prepare is no witness
            continue
        fits = True
        for i, axis in item_axes:
            value = typed.get(axis.name)
            if value is None and axis.name in model.derived:
                value = _derived_value(model, axis.name, typed)
            if class_of(axis, value) not in box[i]:
                fits = False
                break
        if fits:
            candidates.append(rec)
    plain = {**base, **{axis.name: region.witness[axis.name] for _, axis in item_axes
                        if axis.name in region.witness}}
    if named is not None:
        plain["chip"] = next((n for n in sorted(named) if n != OTHER_TEXT), "Example Accelerator")
    candidates.append(plain)
    for rec in candidates[:12]:
        if verify(rec, region.old, region.new):
            return rec
    return None


def replay(old_rules, new_rules, old: M.CheckedRuleset, new: M.CheckedRuleset, records) -> Replay:
    on_old, on_new = compare_date(old), compare_date(new)
    flips = []
    total = 0
    for raw in records:
        total += 1
        data = raw.data if hasattr(raw, "data") else raw
        a = old_rules.evaluate(data, as_of=on_old, id=str(data.get("id") or total))
        b = new_rules.evaluate(data, as_of=on_new, id=str(data.get("id") or total))
        sa, sb = _decision_summary(a), _decision_summary(b)
        if sa != sb:
            flips.append(Flip(a.id, sa, sb, a.record.get("destination"), a.record.get("chip"),
                              getattr(raw, "location", None)))
    by_t = Counter(f"{f.old} -> {f.new}" for f in flips).most_common()
    by_d = Counter(f.destination or "?" for f in flips).most_common()
    by_c = Counter(f.chip or "(specs given)" for f in flips).most_common()
    return Replay(total, tuple(flips), tuple(by_t), tuple(by_d), tuple(by_c))


def _outcome_subject(d) -> str:
    if d.outcome == "indeterminate":
        return "indeterminate"
    return "not_subject" if d.outcome == "not_subject" else "subject"


def _decision_summary(d) -> str:
    if d.outcome == "indeterminate":  # settled parts aside: the diff compares outcomes
        return _indeterminate_text([u.condition for u in d.unsettled])
    return _summary_text(d.outcome, d.classification, d.review_policy, [g.name for g in d.license_exceptions])


def diff(old, new, records=None) -> DiffReport:
    """Compare two versions: ``old``/``new`` are `Rules` (one version each) or checked models."""
    old_rules = old if isinstance(old, Rules) else Rules([old])
    new_rules = new if isinstance(new, Rules) else Rules([new])
    om, nm = old_rules.latest, new_rules.latest
    om_rules = Rules([om], old_rules.catalog, om.timeline or old_rules.timeline)
    nm_rules = Rules([nm], new_rules.catalog, nm.timeline or new_rules.timeline)
    on_old, on_new = compare_date(om), compare_date(nm)

    def verify(witness, old_s, new_s) -> bool:
        a = om_rules.evaluate(witness, as_of=on_old)
        b = nm_rules.evaluate(witness, as_of=on_new)
        return _decision_summary(a) == old_s and _decision_summary(b) == new_s

    # whether an item is subject to the EAR: each version without its licence rules
    om_subject = Rules([attrs.evolve(om, requirements=(), exceptions=())], old_rules.catalog,
                       om.timeline or old_rules.timeline)
    nm_subject = Rules([attrs.evolve(nm, requirements=(), exceptions=())], new_rules.catalog,
                       nm.timeline or new_rules.timeline)

    def verify_subject(witness, old_s, new_s) -> bool:
        a = om_subject.evaluate(witness, as_of=on_old)
        b = nm_subject.evaluate(witness, as_of=on_new)
        return _outcome_subject(a) == old_s and _outcome_subject(b) == new_s

    start = time.perf_counter()
    changes = structural(om, nm)
    causes = find_causes(om, nm)
    regions, cells, truncated, axes = semantic(om, nm, verify=verify, causes=causes,
                                               verify_subject=verify_subject)
    favoured = favoured_countries(om, nm, causes)
    better = []
    for region in regions:
        if {region.old, region.new} & SUBJECT_WORDS:  # its own witness, checked for subject or not
            better.append(region)
            continue
        names = [c for cid in region.causes for c in favoured.get(cid, [])]
        w = real_witness(region, axes, nm_rules, nm, verify, names)
        better.append(attrs.evolve(region, witness=w, verified=True) if w is not None else region)
    regions = better
    elapsed = time.perf_counter() - start
    rep = None
    if records is not None:
        rep = replay(om_rules, nm_rules, om, nm, records)
    info_o = om_rules.compiled(om).info
    info_n = nm_rules.compiled(nm).info
    caveats = tuple(
        f"the screening scores of list `{name}` changed; the regions compare names that are listed or "
        "unlisted, so a name scoring between the old and new scores can change outcome outside them"
        for name in sorted(set(om.lists) & set(nm.lists)) if screening_changes(om.lists[name], nm.lists[name]))
    held = end_use_facts(om, nm, held_facts(om, nm))
    unexplored = held_rule_changes(changes, om, nm, held)
    if unexplored:
        facts = ", ".join(f"`{k}` {v}" for k, v in held.items())
        rules = ", ".join(f"`{r}`" for r in unexplored)
        caveats += (
            f"the regions are for records that take the default of {facts}, where {rules} "
            f"{'does' if len(unexplored) == 1 else 'do'} not apply; {'its' if len(unexplored) == 1 else 'their'} "
            "change is listed but not compared on records: decide a record that declares another value "
            "under each version",)
    return DiffReport(info_o, info_n, tuple(changes), tuple(regions), not regions and not truncated, cells,
                      elapsed, truncated, rep, (on_old, on_new), tuple(axes), (om, nm), caveats, tuple(causes))


__all__ = ["Change", "DiffReport", "Region", "diff", "render", "semantic", "structural"]


