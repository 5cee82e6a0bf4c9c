"""Maps of the TPP x performance-density plane: what the rules decide where.

:func:`regions` partitions the plane (total processing performance on x,
performance density on y) into rectangles, each labelled with what the rules
decide for a chip with those figures: its classification (``3A090.a``,
``3A090.b``, ``not controlled``), or, for a destination, the outcome and review
policy (``license_required (presumption_of_denial)``).

The map is exact, not sampled. Every condition of the rules that reads ``tpp``
or ``performance_density`` compares it with a constant, so the constants cut
each axis into classes: the threshold values themselves, and the open intervals
between them. Every comparison has the same truth value across a class, so one
record per pair of classes, decided by :meth:`chiprules.Rules.evaluate`, stands
for the whole pair. Cells are half-open boxes ``[lo, hi)`` on each axis; the
values on a cell's lower and left edges are decided too, and an edge that
decides differently from the cell's inside (a rule written with ``>`` or ``<=``)
is kept in :attr:`RegionMap.edges`, so that :meth:`RegionMap.label_at` is exact
everywhere. Comparisons of these two fields with other fields, or tests on
``die_area`` (the plane gives the density directly), would break this; such
rules are reported in :attr:`RegionMap.notes`.

The other facts of the record are held fixed: ``datacenter``, the
``destination`` (``US`` when only the classification is asked for), an end user
on no list, a chip named by no rule, an interconnect of 600 GB/s (so the 2022
interconnect test does not hide the plane) and a DRAM bandwidth of 1,000 GB/s (below the
H20 letter's reach, so its unsettled zone does not cover the plane), and whatever the
caller passes in ``fixed``.

:func:`changes` compares two versions on the union of their thresholds, and
:func:`draw` renders a map with matplotlib (the ``plot`` extra). :func:`describe`
and :func:`figure_summary` give the structure of a map and of a figure, for
tests that should not depend on pixels.
"""

from __future__ import annotations

import datetime as dt
import textwrap
import zlib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path

import attrs

from chiprules import model as M
from chiprules.core.dates import as_date
from chiprules.core.errors import ChiprulesError
from chiprules.engine import Rules
from chiprules.model.classes import interval_index, interval_values
from chiprules.model.walk import all_conditions, atoms, fields_read

X_FIELD = "tpp"
Y_FIELD = "performance_density"
INF = Decimal("Infinity")
NOT_CONTROLLED = "not controlled"
PLACEHOLDER_DESTINATION = "US"
UNLISTED_END_USER = "Unlisted Example Ltd."
UNNAMED_CHIP = "Example chip (named by no rule)"
DEFAULT_FACTS: dict = {
    # GB/s: meets the 2022 interconnect test (600 or more) and stays below the H20 letter's
    # reach (900 interconnect; memory bandwidth clear below the lowest reported 1,700)
    "interconnect_bw": Decimal(600),
    "dram_bw": Decimal(1000),
    "end_user": UNLISTED_END_USER,
    "end_user_parent": UNLISTED_END_USER,
    "chip": UNNAMED_CHIP,
}
#: the planes a map can be drawn on: (x field, y field)
TPP_PLANE = (X_FIELD, Y_FIELD)
BANDWIDTH_PLANE = ("dram_bw", "interconnect_bw")
PLANES = {",".join(TPP_PLANE): TPP_PLANE, ",".join(BANDWIDTH_PLANE): BANDWIDTH_PLANE}
#: facts held on a plane whose axes are default facts: TPP 2368 at 2.9 TPP/mm2, about the
#: H20's own compute (catalog), below every 3A090 test, so the plane shows the H20 letter alone
PLANE_FACTS = {BANDWIDTH_PLANE: {"tpp": Decimal(2368), "performance_density": Decimal("2.9")}}
AXIS_WORDS = {"tpp": "total processing performance", "performance_density": "performance density",
              "dram_bw": "total DRAM bandwidth", "interconnect_bw": "interconnect bandwidth"}
#: the start of the label of a region where the law does not decide (`unsettled` conditions)
UNSETTLED = "unsettled"
FORMATS = (".png", ".svg")
PLOT_EXTRA = "install the plot extra: pip install 'chiprules[plot]'"


# ---- the map --------------------------------------------------------------------------


@attrs.frozen
class Rect:
    """A rectangle of the plane, half-open: ``x0 <= tpp < x1`` and ``y0 <= density < y1``."""

    x0: Decimal
    x1: Decimal
    y0: Decimal
    y1: Decimal
    label: str

    def contains(self, x, y) -> bool:
        return self.x0 <= Decimal(x) < self.x1 and self.y0 <= Decimal(y) < self.y1


@attrs.frozen
class Edge:
    """A segment (or a corner point) on a cell's lower or left edge decided unlike the cell."""

    x0: Decimal
    x1: Decimal  # == x0 for a vertical segment or a point
    y0: Decimal
    y1: Decimal  # == y0 for a horizontal segment or a point
    label: str


@attrs.frozen
class Threshold:
    value: Decimal
    shown: str  # "TPP 4800", "5.92 TPP/mm2"


@attrs.frozen
class Axis:
    field: str
    unit: str | None
    thresholds: tuple[Threshold, ...]  # every constant the rules compare the field with
    lines: tuple[Threshold, ...]  # those across which some decision changes

    @property
    def values(self) -> tuple[Decimal, ...]:
        return tuple(t.value for t in self.thresholds)


@attrs.frozen
class RegionMap:
    """The plane as decided by one ruleset version, with the facts held fixed."""

    ruleset: str
    version: str
    effective: dt.date | None
    as_of: dt.date
    timeline: str
    destination: str | None
    datacenter: bool
    fixed: dict = attrs.field(eq=False)
    x: Axis
    y: Axis
    rects: tuple[Rect, ...]
    edges: tuple[Edge, ...]
    labels: tuple[str, ...]  # in legend order
    notes: tuple[str, ...]
    held: tuple[str, ...]  # default facts the rules read, as "interconnect_bw 900 GB/s"
    grid: tuple[tuple[str, ...], ...] = attrs.field(eq=False, repr=False)  # [x class][y class]

    @property
    def mode(self) -> str:
        return "classification" if self.destination is None else "outcome"

    @property
    def lines(self) -> dict[str, tuple[Threshold, ...]]:
        return {self.x.field: self.x.lines, self.y.field: self.y.lines}

    def label_at(self, tpp, performance_density) -> str:
        """What the rules decide at a point of the plane (exact, edges included)."""
        i = _class_index(self.x.values, Decimal(tpp))
        j = _class_index(self.y.values, Decimal(performance_density))
        return self.grid[i][j]


def _class_index(points: tuple[Decimal, ...], v: Decimal) -> int:
    """Classes of an axis: open interval below points[0], points[0], the next interval, ..."""
    if v < 0:
        raise ChiprulesError(f"{v} is negative; the plane starts at 0")
    return interval_index(points, v)


# ---- thresholds ---------------------------------------------------------------------------


def thresholds(model: M.CheckedRuleset, plane: tuple[str, str] = TPP_PLANE) -> tuple[dict[str, list[Decimal]], list[str]]:
    """The constants the rules compare the plane's fields (``tpp`` and ``performance_density``
    unless said) with, and notes."""
    found: dict[str, set] = {plane[0]: set(), plane[1]: set()}
    notes = []
    plane_inputs = set(plane) | ({"die_area"} if plane == TPP_PLANE else set())
    for cond in all_conditions(model):
        for a in atoms(cond):
            if not isinstance(a, M.Cmp):
                continue
            sides = (a.left, a.right)
            fields = [s.name for s in sides if isinstance(s, M.FieldRef)]
            consts = [s.value for s in sides if isinstance(s, M.Const)]
            touched = {f for f in fields if f in plane_inputs}
            for f in fields:
                d = model.derived.get(f)
                if d is not None and f not in plane and plane_inputs & set(d.inputs):
                    touched.add(f)
            if not touched:
                continue
            if len(fields) == 1 and len(consts) == 1 and fields[0] in found \
                    and isinstance(consts[0], (Decimal, int)):
                if consts[0] >= 0:  # a negative constant does not cut the plane
                    found[fields[0]].add(Decimal(consts[0]))
            else:
                notes.append(f"`{a.text}` is not a comparison of {plane[0]} or {plane[1]} "
                             "with a constant; the map may not be exact there")
    return {k: sorted(v) for k, v in found.items()}, notes


def _number(v: Decimal) -> str:
    if v == INF:
        return "inf"
    v = v.normalize()
    text = format(v, "f")
    return text


def _shown(field: str, unit: str | None, v: Decimal) -> str:
    if field == X_FIELD:
        return f"TPP {_number(v)}"
    return f"{_number(v)} {unit}" if unit else _number(v)


# ---- evaluation -------------------------------------------------------------------------


class _Context:
    """How to decide one point of the plane under one version."""

    def __init__(self, model: M.CheckedRuleset, rules, *, destination, datacenter, fixed, as_of, timeline,
                 plane: tuple[str, str] = TPP_PLANE):
        self.model = model
        self.plane = plane
        self.timeline = model.timeline or timeline or (rules.timeline if rules is not None else "enforced")
        self.rules = Rules([model], None, self.timeline, model.path or "")
        if destination is not None:
            prepared = self.rules.prepare({"destination": destination})
            if prepared.problems:
                raise ChiprulesError("; ".join(p.message for p in prepared.problems))
            destination = prepared.record["destination"]
        self.destination = destination
        self.datacenter = bool(datacenter)
        if as_of is None and model.effective is None:
            raise ChiprulesError(f"version `{model.version}` has no effective date: give the date to map it on")
        self.as_of = _date(as_of) if as_of is not None else model.effective
        base = {k: v for k, v in DEFAULT_FACTS.items() if k not in plane}
        base.update(PLANE_FACTS.get(plane, {}))
        base["destination"] = destination or PLACEHOLDER_DESTINATION
        base["end_user_hq"] = destination or PLACEHOLDER_DESTINATION
        base["datacenter"] = self.datacenter
        user = dict(fixed or {})
        for name in (*plane, *(("die_area",) if plane == TPP_PLANE else ())):
            if name in user:
                raise ChiprulesError(f"`{name}` is an axis of the plane; it cannot be held fixed")
        base.update(user)
        self.fixed = user
        self.base = base
        self.notes: set[str] = set()

    def label(self, tpp: Decimal, density: Decimal) -> str:
        record = dict(self.base)
        record[self.plane[0]] = tpp
        record[self.plane[1]] = density
        d = self.rules.evaluate(record, as_of=self.as_of)
        if d.outcome == "error":
            raise ChiprulesError("cannot decide the plane with these facts: " + "; ".join(d.errors))
        for w in d.warnings:
            if w.startswith("details depend on missing"):
                self.notes.add(w.split(":")[0] + " (not held fixed)")
        if d.outcome == "indeterminate" and d.unsettled:  # the law does not decide here
            return f"{UNSETTLED}: " + "; ".join(f"{u.condition} ({u.cite})" for u in d.unsettled)
        if d.outcome == "indeterminate":
            return "indeterminate (missing " + ", ".join(d.missing) + ")"
        if self.destination is None:
            return ", ".join(d.classification) or NOT_CONTROLLED
        text = d.outcome
        if d.license_exceptions:
            text += " " + "+".join(g.name for g in d.license_exceptions)
        if d.review_policy:
            text += f" ({d.review_policy})"
        return text

    def grid(self, xs: list[Decimal], ys: list[Decimal]) -> list[list[str]]:
        xv, yv = interval_values(tuple(xs)), interval_values(tuple(ys))
        out = []
        for x in xv:
            row = []
            for y in yv:
                row.append(self.label(x, y) if x >= 0 and y >= 0 else "")
            out.append(row)
        return out


def _date(value) -> dt.date:
    return as_date(value)


def _pick(rules_model_or_version, rules, as_of) -> tuple[M.CheckedRuleset, object]:
    obj = rules_model_or_version
    if isinstance(obj, Rules):
        rules = obj
        if as_of is not None:
            model = obj.in_force(_date(as_of))
            if model is None:
                raise ChiprulesError(f"no version of `{obj.source}` is in force on {_date(as_of)}")
        else:
            model = obj.latest
        return model, rules
    if isinstance(obj, M.CheckedRuleset):
        return obj, rules
    if isinstance(obj, str | dt.date):
        if rules is None:
            raise ChiprulesError("a version given by name needs `rules=` to find it in")
        return rules.version(str(obj)), rules
    raise ChiprulesError(f"cannot map {type(obj).__name__}: give a Rules, a checked ruleset or a version")


def _axis_bounds(points: list[Decimal]) -> list[Decimal]:
    """Cell boundaries: 0, the thresholds (a threshold at 0 adds nothing), infinity."""
    return [Decimal(0)] + [p for p in points if p > 0] + [INF]


def _cell_classes(points: list[Decimal]) -> list[tuple[int | None, int]]:
    """For each half-open cell of an axis: (class of its lower edge or None, its open class)."""
    out = []
    if not points or points[0] > 0:
        out.append((None, 0))  # [0, p0): 0 is no threshold, so it decides as the inside
    for k in range(len(points)):
        out.append((2 * k + 1, 2 * k + 2))
    return out


def _merge(cells: list[list[str]], xb: list[Decimal], yb: list[Decimal]) -> list[Rect]:
    """Merge equal neighbouring cells: runs along x, then equal runs stacked along y."""
    nx, ny = len(cells), len(cells[0]) if cells else 0
    open_runs: dict[tuple, Rect] = {}
    done: list[Rect] = []
    for j in range(ny):
        runs = []
        i = 0
        while i < nx:
            k = i
            while k + 1 < nx and cells[k + 1][j] == cells[i][j]:
                k += 1
            runs.append((xb[i], xb[k + 1], cells[i][j]))
            i = k + 1
        nxt: dict[tuple, Rect] = {}
        for x0, x1, label in runs:
            prev = open_runs.pop((x0, x1, label), None)
            if prev is not None:
                nxt[(x0, x1, label)] = attrs.evolve(prev, y1=yb[j + 1])
            else:
                nxt[(x0, x1, label)] = Rect(x0, x1, yb[j], yb[j + 1], label)
        done.extend(open_runs.values())
        open_runs = nxt
    done.extend(open_runs.values())
    return sorted((r for r in done if r.label != ""), key=lambda r: (r.y0, r.x0))


def _label_order(label: str) -> tuple:
    policy_rank = {p: i for i, p in enumerate(M.POLICIES)}
    if label == NOT_CONTROLLED:
        return (0, "", label)
    if label.startswith("no_license_required"):
        return (1, "", label)
    if label.startswith("license_exception"):
        pol = label.rsplit("(", 1)[-1].rstrip(")")
        return (2, policy_rank.get(pol, 9), label)
    if label.startswith("license_required"):
        pol = label.rsplit("(", 1)[-1].rstrip(")")
        return (3, policy_rank.get(pol, 9), label)
    if label.startswith("indeterminate"):
        return (5, "", label)
    if label.startswith(UNSETTLED):
        return (6, "", label)
    return (4, "", label)  # classifications, in ECCN order


def _build(ctx: _Context, xs: list[Decimal], ys: list[Decimal]):
    grid = ctx.grid(xs, ys)
    xcells, ycells = _cell_classes(xs), _cell_classes(ys)
    xb, yb = _axis_bounds(xs), _axis_bounds(ys)
    cells = [[grid[xo][yo] for _, yo in ycells] for _, xo in xcells]
    edges = []
    for i, (xe, xo) in enumerate(xcells):
        for j, (ye, yo) in enumerate(ycells):
            inside = grid[xo][yo]
            probes = []
            if xe is not None:
                probes.append((grid[xe][yo], xb[i], xb[i], yb[j], yb[j + 1]))
            if ye is not None:
                probes.append((grid[xo][ye], xb[i], xb[i + 1], yb[j], yb[j]))
            if xe is not None and ye is not None:
                probes.append((grid[xe][ye], xb[i], xb[i], yb[j], yb[j]))
            for label, x0, x1, y0, y1 in probes:
                if label != inside:
                    edges.append(Edge(x0, x1, y0, y1, label))
    return grid, cells, _merge_edges(edges), xb, yb


def _merge_edges(edges: list[Edge]) -> list[Edge]:
    """Join touching collinear edges with the same label; corners join the segments they end."""
    vertical: dict[tuple, list[list]] = {}
    horizontal: dict[tuple, list[list]] = {}
    points = []
    for e in edges:
        if e.x0 == e.x1 and e.y0 != e.y1:
            vertical.setdefault((e.x0, e.label), []).append([e.y0, e.y1])
        elif e.y0 == e.y1 and e.x0 != e.x1:
            horizontal.setdefault((e.y0, e.label), []).append([e.x0, e.x1])
        else:
            points.append(e)

    def absorbed(p: Edge) -> bool:
        for (x, label), spans in vertical.items():
            if x == p.x0 and label == p.label and any(a <= p.y0 <= b for a, b in spans):
                return True
        for (y, label), spans in horizontal.items():
            if y == p.y0 and label == p.label and any(a <= p.x0 <= b for a, b in spans):
                return True
        return False

    def joined(spans):
        out = []
        for a, b in sorted(spans):
            if out and out[-1][1] >= a:
                out[-1][1] = max(out[-1][1], b)
            else:
                out.append([a, b])
        return out

    merged = [p for p in points if not absorbed(p)]
    for (x, label), spans in vertical.items():
        merged.extend(Edge(x, x, a, b, label) for a, b in joined(spans))
    for (y, label), spans in horizontal.items():
        merged.extend(Edge(a, b, y, y, label) for a, b in joined(spans))
    return sorted(merged, key=lambda e: (e.x0, e.y0, e.x1, e.y1, e.label))


def _lines(grid, points: list[Decimal], axis: int) -> list[int]:
    """Indexes of thresholds across which some decision changes."""
    out = []
    n_other = len(grid[0]) if axis == 0 else len(grid)
    for k in range(len(points)):
        below, at, above = 2 * k, 2 * k + 1, 2 * k + 2
        for o in range(n_other):
            if axis == 0:
                vals = {grid[c][o] for c in (below, at, above)} - {""}
            else:
                vals = {grid[o][c] for c in (below, at, above)} - {""}
            if len(vals) > 1:
                out.append(k)
                break
    return out


def regions(rules_model_or_version, *, destination: str | None = None, datacenter: bool = True,
            fixed: Mapping | None = None, rules=None, as_of=None, timeline: str | None = None,
            extra_thresholds: Mapping[str, Iterable] | None = None,
            plane: tuple[str, str] = TPP_PLANE) -> RegionMap:
    """Partition a plane exactly, by what one version decides: TPP x performance density,
    or ``plane`` (``BANDWIDTH_PLANE``: DRAM x interconnect bandwidth, where the H20
    letter's zone of unsettled law lies).

    ``rules_model_or_version`` is a :class:`~chiprules.Rules` (the version in
    force on ``as_of``, else the latest), a checked ruleset (``Rules.models``),
    or a version id or date with ``rules=``. Without ``destination`` each region
    is labelled by its classification; with one, by outcome and review policy.
    ``fixed`` holds other facts fixed (values as in a record). Records are
    decided as of ``as_of`` (default: the version's effective date).
    """
    model, rules = _pick(rules_model_or_version, rules, as_of)
    plane = tuple(plane)
    if plane not in PLANES.values():
        raise ChiprulesError(f"cannot map the plane `{','.join(plane)}`: the planes are "
                             + ", ".join(f"`{k}`" for k in PLANES))
    ctx = _Context(model, rules, destination=destination, datacenter=datacenter, fixed=fixed,
                   as_of=as_of, timeline=timeline, plane=plane)
    points, notes = thresholds(model, plane)
    for field, extra in (extra_thresholds or {}).items():
        points[field] = sorted(set(points.get(field, [])) | {Decimal(v) for v in extra})
    xf, yf = plane
    xs, ys = points[xf], points[yf]
    grid, cells, edges, xb, yb = _build(ctx, xs, ys)
    rects = _merge(cells, xb, yb)
    x_unit = _unit(model, xf)
    y_unit = _unit(model, yf)
    x_thr = tuple(Threshold(v, _shown(xf, x_unit, v)) for v in xs)
    y_thr = tuple(Threshold(v, _shown(yf, y_unit, v)) for v in ys)
    x_axis = Axis(xf, x_unit, x_thr, tuple(x_thr[k] for k in _lines(grid, xs, 0)))
    y_axis = Axis(yf, y_unit, y_thr, tuple(y_thr[k] for k in _lines(grid, ys, 1)))
    labels = sorted({r.label for r in rects} | {e.label for e in edges}, key=_label_order)
    return RegionMap(
        model.name, model.version, model.effective, ctx.as_of, ctx.timeline, destination,
        bool(datacenter), dict(ctx.fixed), x_axis, y_axis, tuple(rects), tuple(edges),
        tuple(labels), tuple(sorted(set(notes) | ctx.notes)), _held(model, ctx),
        tuple(tuple(col) for col in grid),
    )


def _held(model: M.CheckedRuleset, ctx: _Context) -> tuple[str, ...]:
    read = fields_read(model)
    out = []
    for name, value in ctx.base.items():
        if name in read and name not in ctx.fixed and isinstance(value, Decimal):
            unit = _unit(model, name)
            out.append(f"{name} {_number(value)}" + (f" {unit}" if unit else ""))
    return tuple(out)


def held_facts(region_map: RegionMap) -> tuple[str, ...]:
    """The numeric facts held at a default value that the mapped version reads."""
    return region_map.held


def _unit(model: M.CheckedRuleset, name: str) -> str | None:
    f = model.fields.get(name)
    if f is not None and f.unit:
        return f.unit
    d = model.derived.get(name)
    return d.unit if d is not None else None


def changes(old_model, new_model, *, destination: str | None = None, datacenter: bool = True,
            fixed: Mapping | None = None, rules=None, as_of=None, old_as_of=None,
            timeline: str | None = None, plane: tuple[str, str] = TPP_PLANE) -> list[Rect]:
    """Rectangles where two versions decide differently, labelled ``"old -> new"``.

    Both versions are mapped on the union of their thresholds; ``as_of`` and
    ``old_as_of`` default to each version's effective date. A cell counts as
    changed when any of its classes (inside, lower edge, left edge, corner)
    changes; it is labelled by its inside, or by the first edge that changed.
    """
    old, rules_old = _pick(old_model, rules, old_as_of)
    new, rules_new = _pick(new_model, rules, as_of)
    p_old, _ = thresholds(old, plane)
    p_new, _ = thresholds(new, plane)
    union = {f: sorted(set(p_old[f]) | set(p_new[f])) for f in plane}
    kw = dict(destination=destination, datacenter=datacenter, fixed=fixed, extra_thresholds=union,
              timeline=timeline, plane=plane)
    a = regions(old, rules=rules_old, as_of=old_as_of, **kw)
    b = regions(new, rules=rules_new, as_of=as_of, **kw)
    return diff_maps(a, b)


def diff_maps(a: RegionMap, b: RegionMap) -> list[Rect]:
    """The changed rectangles between two maps built on the same thresholds."""
    if a.x.values != b.x.values or a.y.values != b.y.values:
        raise ChiprulesError("the two maps do not share their thresholds; use changes()")
    xs, ys = list(a.x.values), list(a.y.values)
    xcells, ycells = _cell_classes(xs), _cell_classes(ys)
    cells = []
    for xe, xo in xcells:
        col = []
        for ye, yo in ycells:
            classes = [(xo, yo)]
            if xe is not None:
                classes.append((xe, yo))
            if ye is not None:
                classes.append((xo, ye))
            if xe is not None and ye is not None:
                classes.append((xe, ye))
            label = ""
            for ci, cj in classes:
                la, lb = a.grid[ci][cj], b.grid[ci][cj]
                if la != lb:
                    label = f"{la} -> {lb}"
                    break
            col.append(label)
        cells.append(col)
    return _merge(cells, _axis_bounds(xs), _axis_bounds(ys))


# ---- structure for tests ------------------------------------------------------------


def _json_number(v: Decimal):
    if v == INF:
        return "inf"
    f = float(v)
    return int(f) if f == int(f) else round(f, 4)


def describe(region_map: RegionMap, changed: Iterable[Rect] | None = None) -> dict:
    """The map as plain data: labels, rounded rectangles, threshold lines, edges, notes."""
    def rect(r):
        return [_json_number(r.x0), _json_number(r.x1), _json_number(r.y0), _json_number(r.y1), r.label]

    out = {
        "ruleset": region_map.ruleset,
        "version": region_map.version,
        "effective": region_map.effective.isoformat() if region_map.effective else None,
        "as_of": region_map.as_of.isoformat(),
        "mode": region_map.mode,
        "destination": region_map.destination,
        "datacenter": region_map.datacenter,
        "labels": list(region_map.labels),
        "rects": [rect(r) for r in region_map.rects],
        "edges": [rect(e) for e in region_map.edges],
        "thresholds": {ax.field: [t.shown for t in ax.thresholds] for ax in (region_map.x, region_map.y)},
        "lines": {ax.field: [t.shown for t in ax.lines] for ax in (region_map.x, region_map.y)},
        "notes": list(region_map.notes),
    }
    if (region_map.x.field, region_map.y.field) != TPP_PLANE:
        out["plane"] = [region_map.x.field, region_map.y.field]
        out["held"] = list(region_map.held)
    unsettled = [rect(r) for r in region_map.rects if r.label.startswith(UNSETTLED)]
    if unsettled:
        out["unsettled"] = unsettled
    if changed is not None:
        out["changes"] = [rect(r) for r in changed]
    return out


# ---- chips as points ----------------------------------------------------------------------


@attrs.frozen
class ChipPoint:
    name: str
    tpp: Decimal
    performance_density: Decimal
    datacenter: bool | None = None

    @property
    def x(self) -> Decimal:
        return self.tpp

    @property
    def y(self) -> Decimal:
        return self.performance_density


@attrs.frozen
class PlanePoint:
    """A chip on another plane than TPP x density: its figures for the plane's two fields."""

    name: str
    x: Decimal
    y: Decimal
    datacenter: bool | None = None


def plane_points(items, plane: tuple[str, str]) -> list:
    """Points on ``plane``: `chip_points` for TPP x density; else the items (catalog specs or
    records) that give both of the plane's figures."""
    if tuple(plane) == TPP_PLANE:
        return chip_points(items)
    out = []
    for n, item in enumerate(items or (), 1):
        if isinstance(item, PlanePoint):
            out.append(item)
            continue
        if isinstance(item, Mapping):
            x, y = item.get(plane[0]), item.get(plane[1])
            ident, chip = item.get("id"), item.get("chip")
            name = f"{ident}: {chip}" if ident and chip else str(chip or ident or n)
            dc = item.get("datacenter")
        else:
            x, y = getattr(item, plane[0], None), getattr(item, plane[1], None)
            name, dc = item.name, item.datacenter
        if x is None or y is None:
            continue
        out.append(PlanePoint(name, Decimal(x), Decimal(y), dc if isinstance(dc, bool) else None))
    return out


def chip_points(items) -> list[ChipPoint]:
    """Points for a catalog, chip specs, prepared records (dicts) or ChipPoints.

    Only items with a TPP and either a density or a die area are kept.
    """
    out = []
    for n, item in enumerate(items or (), 1):
        if isinstance(item, ChipPoint):
            out.append(item)
            continue
        if isinstance(item, Mapping):
            tpp, area = item.get("tpp"), item.get("die_area")
            dens = item.get("performance_density")
            ident, chip = item.get("id"), item.get("chip")
            name = f"{ident}: {chip}" if ident and chip else str(chip or ident or n)
            dc = item.get("datacenter")
        else:
            tpp, area, dens = item.tpp, item.die_area, None
            name, dc = item.name, item.datacenter
        if tpp is None or (dens is None and not area):
            continue
        tpp = Decimal(tpp)
        dens = Decimal(dens) if dens is not None else tpp / Decimal(area)
        out.append(ChipPoint(name, tpp, dens, dc if isinstance(dc, bool) else None))
    return out


def _group_points(points: list) -> list[tuple[str, float, float, bool | None]]:
    """Chips at the same spot share one point and one label."""
    groups: dict[tuple, list] = {}
    for p in points:
        groups.setdefault((round(float(p.x), 3), round(float(p.y), 3)), []).append(p)
    out = []
    for (x, y), ps in groups.items():
        names = [p.name for p in ps]
        vendor = names[0].split(" ", 1)[0]
        if len(names) > 1 and all(n.startswith(vendor + " ") for n in names):
            text = names[0] + "".join(" / " + n[len(vendor) + 1:] for n in names[1:])
        else:
            text = " / ".join(names)
        dcs = {p.datacenter for p in ps}
        out.append((text, x, y, dcs.pop() if len(dcs) == 1 else None))
    return sorted(out, key=lambda t: (t[1], t[2], t[0]))


# ---- colours ------------------------------------------------------------------------------

_FIXED_COLOURS = {
    NOT_CONTROLLED: "#ececec",
    "3A090.a": "#d9534f",
    "3A090.b": "#f0ad4e",
    "4A090.a": "#a93226",
    "4A090.b": "#f8c471",
    "3A090.c": "#8e44ad",
    "no_license_required": "#dcefd6",
}
_POLICY_COLOURS = {
    ("license_required", "policy_of_denial"): "#7b1f1f",
    ("license_required", "presumption_of_denial"): "#c0392b",
    ("license_required", "case_by_case"): "#e67e22",
    ("license_required", "presumption_of_approval"): "#f4d03f",
    ("license_required", None): "#c0392b",
    ("license_exception", "policy_of_denial"): "#1f4e79",
    ("license_exception", "presumption_of_denial"): "#4a7fc1",
    ("license_exception", "case_by_case"): "#7fb3e0",
    ("license_exception", "presumption_of_approval"): "#b9daf2",
    ("license_exception", None): "#7fb3e0",
}
_PALETTE = ("#8dd3c7", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#bc80bd",
            "#ccebc5", "#ffed6f", "#a6cee3", "#b2df8a")
_HATCHES = ("///", "xxx", "\\\\\\", "...", "+++", "oo", "|||", "---")


def colour(label: str) -> str:
    """The fill colour of a label: fixed for known labels, a stable hash for others."""
    if label in _FIXED_COLOURS:
        return _FIXED_COLOURS[label]
    if label.startswith("indeterminate"):
        return "#b0b0b0"
    if label.startswith(UNSETTLED):
        return "#e3e3e3"  # drawn hatched as well: the law does not decide here
    outcome = label.split(" ", 1)[0]
    if outcome in ("license_required", "license_exception"):
        policy = label.rsplit("(", 1)[-1].rstrip(")") if label.endswith(")") else None
        return _POLICY_COLOURS.get((outcome, policy), _POLICY_COLOURS[(outcome, None)])
    if label.split(",")[0] in _FIXED_COLOURS:
        return _FIXED_COLOURS[label.split(",")[0]]
    return _PALETTE[zlib.crc32(label.encode()) % len(_PALETTE)]


# ---- drawing ------------------------------------------------------------------------------


def _require_matplotlib():
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ChiprulesError(f"plots need matplotlib; {PLOT_EXTRA}") from None
    return Figure, FigureCanvasAgg


def default_title(region_map: RegionMap) -> str:
    eff = region_map.effective.isoformat() if region_map.effective else "undated"
    return f"{region_map.ruleset} version {region_map.version} (effective {eff})"


def subtitle(region_map: RegionMap, changed=None, against: str | None = None) -> str:
    parts = []
    if region_map.destination:
        parts.append(f"destination {region_map.destination}")
    else:
        parts.append("classification")
    parts.append(f"datacenter {'yes' if region_map.datacenter else 'no'}")
    if region_map.as_of != region_map.effective:
        parts.append(f"as of {region_map.as_of.isoformat()}")
    if region_map.timeline != "enforced":
        parts.append(f"{region_map.timeline} timeline")
    for k, v in sorted(region_map.fixed.items()):
        parts.append(f"{k} {v}")
    text = ", ".join(parts)
    if changed:
        text += f"; hatched: changed since {against}" if against else "; hatched: changed"
    return text


def _wrap(label: str, width: int = 46) -> str:
    """Legend text: long labels on two lines, a change after its arrow."""
    if len(label) <= width:
        return label
    if " -> " in label:
        old, new = label.split(" -> ", 1)
        return f"{old} ->\n    {new}"

    return textwrap.fill(label, width, subsequent_indent="    ")


def _ticks(lo: float, hi: float) -> list[float]:
    out = []
    k = 10 ** int(f"{lo:e}".split("e")[1])
    while k <= hi:
        for m in (1, 2, 5):
            if lo <= m * k <= hi:
                out.append(float(m * k))
        k *= 10
    return out


def _fmt_tick(v, _pos=None) -> str:
    if v >= 1000:
        return f"{v / 1000:g}k"
    return f"{v:g}"


def draw(region_map: RegionMap, path: str | Path | None = None, *, chips=None, changes=None,
         title: str | None = None, against: str | None = None, ylim: float | None = None,
         notes: Iterable[str] | None = None, dpi: int = 110):
    """Draw a map (PNG or SVG by the extension of ``path``) and return the figure.

    ``chips`` is a catalog, chip specs, prepared records or :class:`ChipPoint`\\ s;
    ``changes`` the rectangles from :func:`changes`, drawn hatched; ``against``
    names the older version in the subtitle. With ``path=None`` nothing is written.
    """
    if path is not None:
        suffix = Path(path).suffix.lower()
        if suffix not in FORMATS:
            raise ChiprulesError(f"cannot write `{path}`: the picture must be "
                                 + " or ".join(f"`{f}`" for f in FORMATS))
    Figure, FigureCanvasAgg = _require_matplotlib()
    import matplotlib.ticker as ticker
    from matplotlib.patches import Patch, Rectangle

    plane = (region_map.x.field, region_map.y.field)
    tpp_plane = plane == TPP_PLANE
    points = _group_points(plane_points(chips, plane))
    changes = list(changes or ())

    # ranges: the thresholds, with room, and every chip
    xs = [float(t.value) for t in region_map.x.thresholds if t.value > 0]
    ys = [float(t.value) for t in region_map.y.thresholds]
    px = [p[1] for p in points if p[1] > 0]
    py = [p[2] for p in points]
    if tpp_plane:
        xmin = min([*xs, *px, 1000.0]) / 2.5
        xmax = max([*xs, *px, 1000.0]) * 2.5
        ymax = ylim or max([12.0, *(y * 1.25 for y in ys), *(y * 1.08 for y in py)])
    else:  # linear axes from 0, with room above the highest threshold and chip
        xmin, xmax = 0.0, max([*xs, *px, 1.0]) * 1.3
        ymax = ylim or max([*ys, *py, 1.0]) * 1.3

    fig = Figure(figsize=(13, 7.6), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.065, 0.13, 0.57, 0.75))
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(0, ymax)
    if tpp_plane:
        ax.set_xscale("log")
        ax.set_xlim(xmin, xmax)
        ax.xaxis.set_major_locator(ticker.FixedLocator(_ticks(xmin, xmax)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(_fmt_tick))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlabel(f"total processing performance ({region_map.x.unit or 'TPP'}, log scale)")
        ax.set_ylabel(f"performance density ({region_map.y.unit or 'TPP/mm2'})")
    else:
        ax.set_xlabel(f"{AXIS_WORDS.get(plane[0], plane[0])} ({region_map.x.unit or ''})")
        ax.set_ylabel(f"{AXIS_WORDS.get(plane[1], plane[1])} ({region_map.y.unit or ''})")

    def clip_x(v):
        f = float(v)
        return min(max(f, xmin), xmax)

    def clip_y(v):
        f = float(v)
        return min(max(f, 0.0), ymax)

    handles = []
    for r in region_map.rects:
        x0, x1, y0, y1 = clip_x(r.x0), clip_x(r.x1), clip_y(r.y0), clip_y(r.y1)
        if x1 <= x0 or y1 <= y0:
            continue
        unsettled = r.label.startswith(UNSETTLED)
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=colour(r.label),
                               edgecolor="#555555" if unsettled else "none", hatch="xx" if unsettled else None,
                               linewidth=0, zorder=1, gid=f"region:{r.label}"))
    for label in region_map.labels:
        unsettled = label.startswith(UNSETTLED)
        handles.append(Patch(facecolor=colour(label), edgecolor="#555555" if unsettled else "#888888",
                             hatch="xx" if unsettled else None, linewidth=0.5,
                             label=_wrap(label.replace(f"{UNSETTLED}: ", "unsettled law: ", 1))))
    for e in region_map.edges:  # boundaries decided unlike their cell: drawn as thick segments
        ax.plot([clip_x(e.x0), clip_x(e.x1)], [clip_y(e.y0), clip_y(e.y1)], color=colour(e.label),
                linewidth=3, zorder=2, gid=f"edge:{e.label}")

    transitions = sorted({r.label for r in changes})
    hatch_of = {t: _HATCHES[i % len(_HATCHES)] for i, t in enumerate(transitions)}
    for r in changes:
        x0, x1, y0, y1 = clip_x(r.x0), clip_x(r.x1), clip_y(r.y0), clip_y(r.y1)
        if x1 <= x0 or y1 <= y0:
            continue
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="none", edgecolor="#222222",
                               hatch=hatch_of[r.label], linewidth=0.8, zorder=3,
                               gid=f"change:{r.label}"))
    for t in transitions:
        handles.append(Patch(facecolor="white", edgecolor="#222222", hatch=hatch_of[t],
                             label=_wrap(f"changed: {t}")))

    # threshold lines, labelled with value and unit
    obstacles = []
    fig.canvas.draw()  # fixes the layout, so display coordinates below are final
    renderer = fig.canvas.get_renderer()
    for t in region_map.x.lines:
        v = float(t.value)
        if not xmin < v < xmax:
            continue
        ax.axvline(v, color="#333333", linestyle="--", linewidth=0.9, zorder=4, gid=f"line:{t.shown}")
        txt = ax.text(v, ymax * 0.985, f" {t.shown} ", rotation=90, ha="right", va="top", fontsize=8.5,
                      color="#222222", zorder=6, gid=f"threshold:{t.shown}",
                      bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.8))
        obstacles.append(txt.get_window_extent(renderer))
    for t in region_map.y.lines:
        v = float(t.value)
        if not 0 < v < ymax:
            continue
        ax.axhline(v, color="#333333", linestyle="--", linewidth=0.9, zorder=4, gid=f"line:{t.shown}")
        txt = ax.text(xmin * 1.04 if tpp_plane else xmax * 0.005, v, f"{t.shown}", ha="left", va="bottom",
                      fontsize=8.5,
                      color="#222222", zorder=6, gid=f"threshold:{t.shown}",
                      bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.8))
        obstacles.append(txt.get_window_extent(renderer))

    # chips
    if points:
        marker_of = {True: "o", None: "s", False: "^"}
        seen_markers = set()
        for text, x, y, dc in points:
            m = marker_of[dc]
            seen_markers.add(dc)
            ax.plot([x], [y], linestyle="none", marker=m, markersize=6.5, markerfacecolor="white",
                    markeredgecolor="black", markeredgewidth=1.3, zorder=7, gid=f"point:{text}")
        for dc, label in ((True, "chip for datacenters"), (False, "chip not for datacenters"),
                          (None, "chip, datacenter use not given")):
            if dc in seen_markers:
                handles.append(_marker_handle(marker_of[dc], label))
        _place_labels(ax, renderer, points, obstacles)

    ax.set_title(title or default_title(region_map), fontsize=12.5, loc="left", pad=22)
    ax.text(0, 1.012, subtitle(region_map, changes, against), transform=ax.transAxes, fontsize=9.5,
            ha="left", va="bottom", color="#333333", gid="subtitle")
    legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.65, 0.885), fontsize=8.5,
                        frameon=False, title="decision" if region_map.destination else "classification",
                        title_fontsize=9.5, alignment="left", handlelength=2.6, handleheight=1.5)
    legend.set_gid("legend")
    notes = list(region_map.notes) + list(notes or ())
    held = ", ".join(held_facts(region_map))
    if held:
        notes.insert(0, f"held fixed: {held}")
    if not tpp_plane:
        notes.append("regions are decided for a chip with the figures held fixed; a chip's point "
                     "shows its own bandwidths only")
    if region_map.destination is None:
        notes.append(f"classification decided for an export to {PLACEHOLDER_DESTINATION}; "
                     "it does not depend on the destination")
    if any(p[3] is False for p in points) and region_map.datacenter:
        notes.append("regions assume chips for datacenters; Note 2 may exclude the others")
    if any(p[3] is True for p in points) and not region_map.datacenter:
        notes.append("regions assume chips not for datacenters")
    if notes:
        fig.text(0.065, 0.012, "\n".join(notes), fontsize=8, color="#444444", ha="left", va="bottom",
                 gid="notes")
    if path is not None:
        import matplotlib

        with matplotlib.rc_context({"svg.hashsalt": "chiprules"}):  # stable ids in SVG files
            fig.savefig(path, dpi=dpi, metadata=_metadata(path))
    return fig


def _metadata(path) -> dict:
    """No timestamps in the files, so that pictures are reproducible."""
    suffix = Path(path).suffix.lower()
    if suffix == ".svg":
        return {"Date": None}
    return {"Software": None}


def _marker_handle(marker, label):
    from matplotlib.lines import Line2D

    return Line2D([], [], linestyle="none", marker=marker, markersize=6.5, markerfacecolor="white",
                  markeredgecolor="black", markeredgewidth=1.3, label=label)


def _overlap(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _place_labels(ax, renderer, points, obstacles) -> None:
    """Greedy placement: try offsets around each point, keep the first free spot.

    Boxes are compared in display space against labels already placed, every
    marker, and the threshold labels; a label that finds no free spot goes
    where it overlaps least, with a leader line.
    """
    fig = ax.figure
    scale = fig.dpi / 72.0
    frame = ax.get_window_extent(renderer)
    frame = (frame.x0 + 2, frame.y0 + 2, frame.x1 - 2, frame.y1 - 2)
    taken = [(b.x0, b.y0, b.x1, b.y1) for b in obstacles]
    screen = [tuple(ax.transData.transform((x, y))) for _, x, y, _ in points]
    r = 5 * scale
    for sx, sy in screen:
        taken.append((sx - r, sy - r, sx + r, sy + r))
    # place the crowded points first, so that they get the closest spots
    order = sorted(range(len(points)), key=lambda i: -sum(
        1 for j in range(len(points)) if abs(screen[i][0] - screen[j][0]) + abs(screen[i][1] - screen[j][1])
        < 80 * scale))
    for i in order:
        text, x, y, _ = points[i]
        sx, sy = screen[i]
        probe = ax.annotate(text, xy=(x, y), xytext=(0, 0), textcoords="offset pixels", fontsize=8)
        bb = probe.get_window_extent(renderer)
        probe.remove()
        w, h = bb.width, bb.height
        best = None
        for dist in (1.0, 2.2, 3.6, 5.2):
            d = 8 * scale * dist
            cands = [
                (d, -h / 2), (d, d * 0.5), (d, -h - d * 0.5), (-w / 2, d * 0.6), (-w / 2, -h - d * 0.6),
                (-w - d, -h / 2), (-w - d, d * 0.5), (-w - d, -h - d * 0.5),
            ]
            for dx, dy in cands:
                box = (sx + dx, sy + dy, sx + dx + w, sy + dy + h)
                outside = box[0] < frame[0] or box[1] < frame[1] or box[2] > frame[2] or box[3] > frame[3]
                cost = sum(_overlap(box, o) for o in taken) + (1e9 if outside else 0)
                if best is None or cost < best[0]:
                    best = (cost, dx, dy, box, dist)
                if cost == 0:
                    break
            if best[0] == 0:
                break
        _cost, dx, dy, box, dist = best
        far = dist > 1.0
        ann = ax.annotate(
            text, xy=(x, y), xytext=(dx, dy), textcoords="offset pixels", ha="left", va="bottom",
            fontsize=8, zorder=8, gid=f"label:{text}",
            bbox=dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none", alpha=0.75),
            arrowprops=dict(arrowstyle="-", color="#555555", linewidth=0.6, shrinkA=0, shrinkB=4)
            if far else None)
        ann.set_clip_on(False)
        taken.append(box)


def figure_summary(fig) -> dict:
    """The structure of a figure from :func:`draw`: what a reader sees, without pixels."""
    ax = fig.axes[0]
    regions_, changes_, lines, points, labels = set(), set(), [], [], []
    hatched = set()
    for p in ax.patches:
        gid = p.get_gid() or ""
        if gid.startswith("region:"):
            regions_.add(gid[7:])
            if p.get_hatch():
                hatched.add(gid[7:])
        elif gid.startswith("change:"):
            changes_.add(gid[7:])
    subtitle_text, notes = None, None
    for t in ax.texts:
        gid = t.get_gid() or ""
        if gid.startswith("threshold:"):
            lines.append(gid[10:])
        elif gid.startswith("label:"):
            labels.append(t)
        elif gid == "subtitle":
            subtitle_text = t.get_text()
    for ln in ax.lines:
        gid = ln.get_gid() or ""
        if gid.startswith("point:"):
            points.append(gid[6:])
    for t in fig.texts:
        if t.get_gid() == "notes":
            notes = t.get_text().split("\n")
    legend = fig.legends[0] if fig.legends else None
    from matplotlib.text import Text

    fig.canvas.draw()  # lays out the annotations, so their boxes are where a reader sees them
    renderer = fig.canvas.get_renderer()

    boxes = [Text.get_window_extent(t, renderer) for t in labels]  # the text, not its leader line
    overlaps = sum(1 for i in range(len(boxes)) for j in range(i + 1, len(boxes))
                   if _overlap((boxes[i].x0, boxes[i].y0, boxes[i].x1, boxes[i].y1),
                               (boxes[j].x0, boxes[j].y0, boxes[j].x1, boxes[j].y1)) > 0)
    out = {
        "title": ax.get_title(loc="left"),
        "subtitle": subtitle_text,
        "regions": sorted(regions_, key=_label_order),
        "changes": sorted(changes_),
        "legend": [" ".join(t.get_text().split()) for t in legend.get_texts()] if legend else [],
        "legend_title": legend.get_title().get_text() if legend else None,
        "threshold_lines": lines,
        "points": sorted(points),
        "point_labels": sorted(t.get_text() for t in labels),
        "edges": sorted({(ln.get_gid() or "")[5:] for ln in ax.lines
                         if (ln.get_gid() or "").startswith("edge:")}),
        "label_overlaps": overlaps,
        "notes": notes or [],
        "xscale": ax.get_xscale(),
        "yscale": ax.get_yscale(),
    }
    if hatched:  # regions drawn hatched: the law does not decide there
        out["hatched_regions"] = sorted(hatched)
        out["axes"] = [ax.get_xlabel(), ax.get_ylabel()]
    return out
