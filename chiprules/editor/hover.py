"""What hovering over a name shows, in Markdown.

A field: its type, unit and dimension. A group: its members with their country names,
and how they changed across the group files of the workspace. A rule: its title,
citation, dates and the examples that exercise it. A list entry: its name, aliases and
dates. A quantity: its value in the canonical unit. A country code: its name and the
groups holding it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from chiprules.core.errors import ChiprulesError
from chiprules.data.countries import country_name
from chiprules.editor import index as I
from chiprules.editor.service import (
    Hover,
    Workspace,
    declarations,
    field_type_text,
    occurrence_at,
    resolve,
)
from chiprules.lang import ast as A
from chiprules.lang.checker import Analysis, display_name
from chiprules.lang.formatter import flat
from chiprules.lang.units import UNITS
from chiprules.report.examples import run_model_examples

MAX_MEMBERS_SHOWN = 60


def hover(ws: Workspace, path: Path, offset: int) -> Hover | None:
    path = path.resolve()
    a, m, occ = occurrence_at(ws, path, offset)
    if occ is None:
        return None
    if occ.role == I.QUANTITY:
        text = _quantity(occ.node)
    elif occ.role == I.PRODUCT:
        text = _product(a, occ.text)
    elif occ.role == I.COUNTRY:
        text = _country(a, occ.text)
    else:
        found = resolve(ws, declarations(ws, a.loaded.modules), occ, path)
        if not found and occ.role == I.NAME:
            text = _country(a, occ.text) if _is_code(occ.text) else None
        else:
            parts = [_declaration(ws, a, f) for f in found]
            text = "\n\n---\n\n".join(p for p in parts if p) or None
    if not text:
        return None
    return Hover(text, occ.start, occ.end)


def _product(a: Analysis, name: str) -> str | None:
    """A product of the chip catalog: its name, aliases and the figures `chip is` compares."""
    catalog = getattr(a.checker, "_catalog", None) if a.checker is not None else None
    spec = catalog.lookup(name) if catalog is not None else None
    if spec is None:
        return None
    lines = [f"**{spec.name}** ({spec.vendor}), in the chip catalog"]
    if spec.aliases:
        lines.append("also named " + ", ".join(f"`{x}`" for x in spec.aliases))
    figures = ", ".join(f"{k} {_plain(v) if isinstance(v, Decimal) else v}" for k, v in spec.fields().items())
    lines.append(f"figures: {figures}")
    lines.append("a record that names no chip is not this product when a figure it gives differs")
    return "\n\n".join(lines)


def _is_code(text: str) -> bool:
    return len(text) == 2 and text.isupper() and country_name(text) != text


def _country(a: Analysis, code: str) -> str | None:
    name = country_name(code)
    if name == code:
        return None
    lines = [f"**{code}**: {name}"]
    c = a.checker
    if c is not None:
        held = sorted(g for g, members in c.groups.items() if members and code in members)
        if held:
            lines.append("in " + ", ".join(f"`{g}`" for g in held))
        if code in c.treat:
            lines.append(f"treated as `{c.treat[code]}`")
    return "\n\n".join(lines)


def _quantity(q: A.Quantity) -> str:
    if q.unit is None:
        return f"`{q.number}`: a plain number (read as TPP, or a count)"
    u = UNITS.get(q.unit)
    if u is None:
        return f"`{q.number} {q.unit}`"
    value = Decimal(q.number) * u.scale
    text = f"`{q.number} {q.unit}`"
    if u.scale != 1 or q.unit != u.name:
        text += f" = `{_plain(value)} {u.name}`"
    return text + f" ({_dimension(u.dims)}; canonical unit `{u.name}`)"


_BASE_WORDS = {"TOPS": "TOPS", "bits": "bit length", "mm2": "area", "GBps": "bandwidth",
               "transistors": "transistors"}


def _dimension(dims) -> str:
    """A dimension in words: `TOPS × bit length / area` for TPP/mm2."""
    if not dims:
        return "a plain number"
    up = [_BASE_WORDS.get(k, k) + (f"^{v}" if v > 1 else "") for k, v in dims if v > 0]
    down = [_BASE_WORDS.get(k, k) + (f"^{-v}" if v < -1 else "") for k, v in dims if v < 0]
    return " × ".join(up or ["1"]) + "".join(f" / {d}" for d in down)


def _plain(value) -> str:
    text = format(value.normalize(), "f")
    return text


def _declaration(ws: Workspace, a: Analysis, f) -> str | None:
    o = f.occ
    node = o.node
    where = f"*{display_name(f.path)}*"
    if o.kind == "file":
        return f"include **{o.text}**\n\n{display_name(f.path)}"
    if o.kind == "field":
        return _field(a, node, where)
    if o.kind == "enum value":
        return f"`{o.text}`: a value of field `{node.name.text}` ({field_type_text(node.type)})\n\n{where}"
    if o.kind == "derived quantity":
        return _derived(a, node, where)
    if o.kind == "group":
        return _group(ws, a, node, f.path, where)
    if o.kind == "list":
        return _list(a, node, where)
    if o.kind == "entry":
        return _entry(node, where)
    if o.kind == "condition":
        lines = [f"condition **{node.name.text}**"]
        if node.doc:
            lines.append(node.doc.value)
        lines.append(f"```rules\n{flat(node.expr)}\n```")
        lines.append(where)
        return "\n\n".join(lines)
    if o.kind in I.RULE_KIND.values():
        return _rule(ws, a, node, where)
    if o.kind == "example":
        return _example(ws, a, node, where)
    return None


def _field(a: Analysis, d: A.FieldDecl, where: str) -> str:
    t = d.type
    lines = [f"field **{d.name.text}**: `{field_type_text(t)}`"]
    if d.doc:
        lines.append(d.doc.value)
    facts = []
    if t.kind == "number" and t.unit in UNITS:
        u = UNITS[t.unit]
        facts.append(f"unit `{t.unit}` ({_dimension(u.dims)})")
        others = sorted(n for n, v in UNITS.items() if v.dims == u.dims and n != t.unit)
        if others:
            facts.append("conditions may also use " + ", ".join(f"`{n}`" for n in others))
    if t.kind == "integer":
        facts.append("a whole count, no unit")
    if d.default is not None:
        facts.append(f"default `{flat(d.default)}`")
    c = a.checker
    if c is not None and d.name.text in c.derived_ast:
        facts.append(f"computed as `{flat(c.derived_ast[d.name.text].expr)}` when a record does not give it")
    if facts:
        lines.append("; ".join(facts))
    lines.append(where)
    return "\n\n".join(lines)


def _derived(a: Analysis, d: A.DeriveDecl, where: str) -> str:
    lines = [f"derived quantity **{d.name.text}**", f"```rules\n{d.name.text} = {flat(d.expr)}\n```"]
    c = a.checker
    unit = d.unit
    if c is not None and d.name.text in c.derived:
        unit = c.derived[d.name.text].unit
    if unit:
        lines.append(f"unit `{unit}`")
    if d.doc:
        lines.append(d.doc.value)
    lines.append(where)
    return "\n\n".join(lines)


def _codes(codes) -> str:
    codes = sorted(codes)
    shown = [f"`{c}` {country_name(c)}" for c in codes[:MAX_MEMBERS_SHOWN]]
    more = f", and {len(codes) - MAX_MEMBERS_SHOWN} more" if len(codes) > MAX_MEMBERS_SHOWN else ""
    return ", ".join(shown) + more


def _group(ws: Workspace, a: Analysis, g: A.GroupDecl, path: Path, where: str) -> str:
    name = g.name.text
    lines = [f"group **{name}**" + (f": {g.title.value}" if g.title else "")]
    if g.cite:
        lines.append(f"cite: {g.cite.value}")
    lines.append(f"```rules\n{name} = {flat(g.expr)}\n```")
    members = a.checker.groups.get(name) if a.checker is not None else None
    if members is not None:
        lines.append(f"{len(members)} member{'s' if len(members) != 1 else ''}: {_codes(members)}")
    history = group_history(ws, path, name)
    if len(history) > 1:
        steps = [f"- {history[0][0]}: {len(history[0][1])} members"]
        for (_, before), (label, after) in zip(history, history[1:], strict=False):
            added, removed = sorted(after - before), sorted(before - after)
            change = []
            if added:
                change.append("added " + ", ".join(f"`{c}` {country_name(c)}" for c in added))
            if removed:
                change.append("removed " + ", ".join(f"`{c}` {country_name(c)}" for c in removed))
            steps.append(f"- {label}: " + ("; ".join(change) or "unchanged"))
        lines.append("by group file:\n" + "\n".join(steps))
    lines.append(where)
    return "\n\n".join(lines)


def group_history(ws: Workspace, path: Path, name: str) -> list[tuple[str, frozenset]]:
    """The members of a group in each workspace file that declares it, in file order."""
    out = []
    for f in ws.workspace_files(path):
        text = ws.text_of(f)
        if text is None or f"group {name}" not in text:
            continue
        modules = ws.closure(f)
        if not modules or not any(isinstance(i, A.GroupDecl) and i.name.text == name
                                  for i in modules[0].items):
            continue
        other = ws.analysis(f)
        if other.checker is None or name not in other.checker.groups:
            continue
        members = other.checker.groups[name]
        if members is not None:
            out.append((f.stem, members))
    return out


def _list(a: Analysis, d: A.PartyListDecl, where: str) -> str:
    lines = [f"party list **{d.name.text}**" + (f": {d.title.value}" if d.title else "")]
    if d.cite:
        lines.append(f"cite: {d.cite.value}")
    c = a.checker
    pl = c.lists.get(d.name.text) if c is not None else None
    if pl is not None:
        lines.append(f"{len(pl.entries)} entries; match at {pl.match_score:g} or more, possible from "
                     f"{pl.possible_score:g}")
        for e in pl.entries[:5]:
            lines.append(f"- {e.name}")
    for s in d.sources:
        lines.append(f"from {'csl ' if s.csl else ''}`{s.path.value}`")
    lines.append(where)
    return "\n\n".join(lines)


def _entry(e: A.Entry, where: str) -> str:
    lines = [f"list entry **{e.name.value}**"]
    if e.aliases:
        lines.append("also known as " + ", ".join(a.value for a in e.aliases))
    facts = []
    if e.country:
        facts.append(f"country `{e.country.text}` {country_name(e.country.text)}")
    facts.append(f"review {e.review or 'presumption_of_denial'}")
    if e.added:
        facts.append(f"added {e.added.text}")
    if e.removed:
        facts.append(f"removed {e.removed.text}")
    lines.append("; ".join(facts))
    if e.cite:
        lines.append(f"cite: {e.cite.value}")
    if e.requirement:
        lines.append(f"requirement: {e.requirement.value}")
    lines.append(where)
    return "\n\n".join(lines)


def _rule(ws: Workspace, a: Analysis, r: A.Rule, where: str) -> str:
    head = I.RULE_KIND[r.kind]
    lines = [f"{head} **{r.id.text}**" + (f": {r.title.value}" if r.title else "")]
    if r.cite:
        lines.append(f"cite: {r.cite.value}")
    h = a.checker.header if a.checker is not None else None
    eff = r.effective.text if r.effective else (h.effective.text + " (the ruleset's)" if h and h.effective else None)
    until = r.until.text if r.until else (h.until.text + " (the ruleset's)" if h and h.until else None)
    if eff or until:
        lines.append("in force " + (f"from {eff}" if eff else "") + (f" until {until}" if until else ""))
    if r.items:
        lines.append("for " + ", ".join(i.text for i in r.items))
    if r.review:
        arms = [f"{arm.policy} if …" for arm in r.review.arms]
        if r.review.otherwise:
            arms.append(f"otherwise {r.review.otherwise}" if arms else r.review.otherwise)
        lines.append("review " + (", " if len(r.review.arms) > 1 else " ").join(arms))
    if r.allows is not None:
        lines.append("allows " + (", ".join(i.text for i in r.allows) or "none"))
    used = examples_for(ws, a).get(r.id.text)
    if used:
        shown = [f"- {'✓' if ok else '✗'} {name}" for name, ok in used[:10]]
        if len(used) > 10:
            shown.append(f"- and {len(used) - 10} more")
        lines.append("examples that exercise it:\n" + "\n".join(shown))
    lines.append(where)
    return "\n\n".join(lines)


def example_results(ws: Workspace, a: Analysis) -> dict:
    """The inline examples of a checked ruleset, run once per content: name -> result."""
    model = a.ruleset
    if model is None:
        return {}
    key = (model.path, model.content_hash)
    hit = ws._examples.get(key)
    if hit is None:
        try:
            results = run_model_examples(model)
        except (ChiprulesError, RecursionError, ValueError, OSError):
            results = []
        hit = ws._examples.remember(key, {r.name: r for r in results})
    return hit


def examples_for(ws: Workspace, a: Analysis) -> dict[str, list[tuple[str, bool]]]:
    """Rule id -> the examples whose decision it takes part in, and whether each passes.

    With errors in the rules the examples cannot run; then an example counts for the
    rules its expectation names."""
    out: dict[str, list[tuple[str, bool]]] = {}
    if a.ruleset is None:
        for ex in (a.checker.examples_ast if a.checker is not None else ()):
            names = [i.text for i in (ex.expect.classified or ()) + (ex.expect.exceptions or ())]
            for n in names:
                out.setdefault(n, []).append((ex.name.value, True))
        return out
    for res in example_results(ws, a).values():
        d = res.decision
        if d is None:
            continue
        ids = set(d.classification) | {g.name for g in d.license_exceptions}
        try:
            ids |= {r.rule for r in d.reasons}
        except (ChiprulesError, RecursionError, ValueError):
            pass
        for rid in sorted(ids):
            out.setdefault(rid, []).append((res.name, res.ok))
    return out


def _example(ws: Workspace, a: Analysis, ex: A.Example, where: str) -> str:
    lines = [f"example **{ex.name.value}**", f"```rules\n{_expect_text(ex.expect)}\n```"]
    res = example_results(ws, a).get(ex.name.value)
    if res is not None:
        lines.append(("passes: " if res.ok else "**fails**: the rules decide ") + res.actual)
    elif a.ruleset is None:
        lines.append("not run: the rules have errors")
    lines.append(where)
    return "\n\n".join(lines)


def _expect_text(e: A.Expect) -> str:
    parts = [f"expect {e.outcome}"]
    if e.classified is not None:
        parts.append("classified " + (", ".join(i.text for i in e.classified) or "none"))
    if e.review:
        parts.append(f"review {e.review}")
    if e.exceptions:
        parts.append("exceptions " + ", ".join(i.text for i in e.exceptions))
    if e.missing:
        parts.append("missing " + ", ".join(i.text for i in e.missing))
    if e.possible:
        parts.append("possible " + ", ".join(i.text for i in e.possible))
    return " ".join(parts)


__all__ = ["hover", "example_results", "examples_for", "group_history"]
