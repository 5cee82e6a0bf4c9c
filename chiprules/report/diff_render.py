"""Diff reports as text for a terminal, Markdown for a memo, JSON for tools.

All three lead with the memo by cause: one section per change to the rules (or per set of
changes that only act together), saying what changed in the rules' own words and
citations, what it does to shipments in plain words, with witness records, then an appendix
of the exact regions and of every structural change.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import attrs

from chiprules import model as M
from chiprules.model.walk import atoms, expand, fields_of
from chiprules.model.walk import render as render_cond
from chiprules.report.diff import (
    ITEM_FIELDS,
    SUBJECT_WORDS,
    DiffReport,
    Region,
    _cond_changes,
    _jsonable,
)
from chiprules.report.words import (
    POLICY,
    axis_words,
    names,
    outcome_words,
    parse_summary,
    without_classes,
)
from chiprules.report.words import number as number_words

KIND_MARK = {"rule-added": "+", "rule-removed": "-", "rule-changed": "~", "group-added": "+",
             "group-removed": "-", "group-changed": "~", "list-changed": "~", "header": "~"}
KIND_WORD = {"rule-added": "rule", "rule-removed": "rule", "rule-changed": "rule", "group-added": "group",
             "group-removed": "group", "group-changed": "group", "list-changed": "list", "header": "header"}
RULE_KIND = {"classify": "classification", "require": "licence requirement", "exception": "licence exception"}
FACET_WORD = {"when": "when it applies", "items": "the items it covers", "excepts": "its carve-outs",
              "review": "its review policy", "allows": "the licence exceptions it allows",
              "notify": "its notification duties", "dates": "its dates", "text": "its title or citation"}
MAX_WHERE = 3  # plain-language cases shown per effect before "and N more"
MAX_EXAMPLES = 3  # witnesses shown per section
MAX_EFFECTS = 5  # effects shown per section before "and N more"


# ---- the memo's content, shared by the three formats -------------------------------------------


@attrs.frozen
class Effect:
    old: str  # outcome without classification
    new: str
    items: tuple[str, ...]
    where: tuple[str, ...]  # distinct cases in words
    regions: tuple[int, ...]  # indexes into report.regions


@attrs.frozen
class Section:
    number: int
    causes: tuple[str, ...]
    title: str
    what: tuple[tuple[str, str | None], ...]  # (a change in words, its citation)
    effects: tuple[Effect, ...]
    examples: tuple[int, ...]  # region indexes whose witnesses are shown


@attrs.frozen
class Memo:
    sections: tuple[Section, ...]
    quiet: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...]  # causes with no effect


def _rules(model: M.CheckedRuleset) -> dict:
    return {r.id: r for r in model.rules}


def _rule_name(r: M.Rule) -> str:
    return f"{RULE_KIND.get(str(r.kind), str(r.kind))} `{r.id}`" + (f" ({r.title})" if r.title else "")


def _review_words(r: M.Rule) -> str:
    if r.review is None:
        return "none"
    arms = [f"{POLICY.get(str(a.policy), str(a.policy))} if `{render_cond(expand(a.condition))}`"
            for a in r.review.arms]
    return ", ".join([*arms, ("otherwise " if arms else "") + POLICY.get(str(r.review.otherwise),
                                                                        str(r.review.otherwise))])


def _notify_words(r: M.Rule) -> list[str]:
    return [f"\"{n.text}\"" + (f" if `{render_cond(expand(n.condition))}`" if n.condition is not None else "")
            for n in r.notify]


def cause_text(cause, old: M.CheckedRuleset, new: M.CheckedRuleset) -> tuple[str, list[tuple[str, str | None]]]:
    """A cause's title and what it changes, each line with its citation."""
    if cause.kind == "group":
        joins = [g for g, sign in cause.signature if sign == "+"]
        leaves = [g for g, sign in cause.signature if sign == "-"]
        who = names(cause.countries)
        titles = {**old.group_titles, **new.group_titles}
        parts = []
        if joins:
            parts.append("joins " + ", ".join(f"`{g}`" + (f" ({titles[g]})" if g in titles else "") for g in joins))
        if leaves:
            parts.append("leaves " + ", ".join(f"`{g}`" + (f" ({titles[g]})" if g in titles else "")
                                               for g in leaves))
        title = f"{who} " + " and ".join(
            f"{w} {_short_groups(gs, titles)}" for w, gs in (("joins", joins), ("leaves", leaves)) if gs)
        return title, [(f"{who} " + " and ".join(parts) + ".", new.source)]
    if cause.kind == "list":
        (name,) = cause.lists
        return f"List `{name}` changes", [(f"the entries or screening scores of list `{name}` change.",
                                           (new.lists.get(name) or old.lists.get(name)).cite)]
    ro, rn = _rules(old), _rules(new)
    lines: list[tuple[str, str | None]] = []
    heads = []
    if cause.conditions:
        users = [rid for rid, _ in cause.parts]
        first = rn.get(users[0])
        for name in cause.conditions:
            a, b = old.conditions[name], new.conditions[name]
            change = "; ".join(_cond_changes(a, b)) or "it is rewritten"
            lines.append((f"condition `{name}`: {change}; it decides {', '.join(f'`{u}`' for u in users)}.",
                          first.cite if first is not None else None))
        title = "Condition " + ", ".join(f"`{n}`" for n in cause.conditions) + " changes (" + \
            ", ".join(users) + ")"
        return title, lines
    for rid, facet in cause.parts:
        a, b = ro.get(rid), rn.get(rid)
        if facet == "added":
            heads.append(f"new {RULE_KIND.get(str(b.kind), str(b.kind))} `{rid}`")
            bits = []
            if b.items:
                bits.append(f"for {', '.join(b.items)}")
            bits.append(f"when `{render_cond(expand(b.when))}`")
            if str(b.kind) == "require":
                bits.append(f"review {_review_words(b)}")
                bits.append("allows " + (", ".join(sorted(b.allows)) or "no licence exception"))
            for n in _notify_words(b):
                bits.append(f"notification {n}")
            lines.append((f"New {_rule_name(b)}: " + "; ".join(bits) + ".", b.cite))
        elif facet == "removed":
            heads.append(f"{RULE_KIND.get(str(a.kind), str(a.kind))} `{rid}` removed")
            lines.append((f"{_rule_name(a)} removed.", a.cite))
        else:
            heads.append(f"`{rid}`: {FACET_WORD[facet]}")
            for text in _facet_lines(a, b, facet):
                lines.append((f"{_rule_name(b)}: {text}.", b.cite))
    title = "; ".join(dict.fromkeys(heads))
    return title[:1].upper() + title[1:], lines


def _facet_lines(a: M.Rule, b: M.Rule, facet: str) -> list[str]:
    if facet == "when":
        return _cond_changes(a.when, b.when) or ["its condition is rewritten"]
    if facet == "review":
        return [f"review {_review_words(a)} becomes {_review_words(b)}"]
    if facet == "allows":
        return [f"allows {', '.join(sorted(a.allows)) or 'none'} becomes {', '.join(sorted(b.allows)) or 'none'}"]
    if facet == "notify":
        na, nb = _notify_words(a), _notify_words(b)
        out = [f"notification {x} removed" for x in na if x not in nb]
        out += [f"notification {x} added" for x in nb if x not in na]
        if len(out) == 2 and len(na) == len(nb) == 1:
            return [f"notification {na[0]} becomes {nb[0]}"]
        return out or ["notification duties reordered"]
    if facet == "items":
        return [f"items {', '.join(a.items or ('any item',))} become {', '.join(b.items or ('any item',))}"]
    if facet == "excepts":
        ea = {render_cond(expand(e.expr)) for e in a.excepts}
        eb = {render_cond(expand(e.expr)) for e in b.excepts}
        return [f"carve-out `{x}` removed" for x in sorted(ea - eb)] + \
               [f"carve-out `{x}` added" for x in sorted(eb - ea)]
    if facet == "dates":
        out = []
        if a.effective != b.effective:
            out.append(f"in force from {a.effective or 'the version date'} becomes {b.effective or 'the version date'}")
        if a.until != b.until:
            out.append(f"in force until {a.until or 'no end'} becomes {b.until or 'no end'}")
        return out
    out = []
    if a.title != b.title:
        out.append(f"title \"{a.title}\" becomes \"{b.title}\"")
    if a.cite != b.cite:
        out.append(f"citation \"{a.cite}\" becomes \"{b.cite}\"")
    return out


def _short_groups(groups: list[str], titles: dict) -> str:
    """`Country Groups D:1 and D:5` for the EAR's own groups among ``groups`` (the others are
    built from them), else the names."""
    own = [g for g in groups if re.fullmatch(r"[A-E][0-9]", g)]
    if not own:
        return ", ".join(f"`{g}`" for g in groups)
    labels = [f"{g[0]}:{g[1]}" for g in own]
    if len(labels) == 1:
        return f"Country Group {labels[0]}"
    return "Country Groups " + ", ".join(labels[:-1]) + " and " + labels[-1]


def _cause_fields(cause, old, new) -> set[str]:
    """The fields a cause's changed conditions read: the region words keep them."""
    ro, rn = _rules(old), _rules(new)
    out: set[str] = set()
    for rid, facet in cause.parts:
        a, b = ro.get(rid), rn.get(rid)
        if facet in ("added", "removed"):
            r = b if facet == "added" else a
            out |= fields_of(r.when)
            for arm in r.review.arms if r.review is not None else ():
                out |= fields_of(arm.condition)
        elif facet == "when":
            aa = {render_cond(x): x for x in atoms(a.when)}
            ab = {render_cond(x): x for x in atoms(b.when)}
            for k in set(aa) ^ set(ab):
                out |= fields_of((aa | ab)[k])
        elif facet == "review":
            for r in (a, b):
                for arm in r.review.arms if r.review is not None else ():
                    out |= fields_of(arm.condition)
    return out


def _where_words(report: DiffReport, region: Region, keep: set[str], *, everything: bool = False) -> str:
    old, new = report.models
    titles = {**old.group_titles, **new.group_titles}
    fields = {**old.fields, **new.fields}
    if _moves(region):  # described over the axes of its own analysis
        return "; ".join(region.description)
    words = []
    for i, idxs in region.box:
        axis = report.axes[i]
        if not everything and axis.name in ITEM_FIELDS and axis.name not in keep:
            continue
        if not everything and axis.name == "item_kind":
            continue
        text = axis_words(axis, list(idxs), titles, fields)
        if text is None or (axis.kind == "party" and text.endswith("on no list")):
            continue
        words.append(text)
    return "; ".join(words) if words else "any shipment"


def _moves(region: Region) -> bool:
    """A region that moves into or out of the EAR (its box is not over the report's axes)."""
    return bool(SUBJECT_WORDS & {region.old, region.new})


def _kept(axis, keep: set[str]) -> bool:
    if axis.name == "item_kind":
        return False
    return axis.name not in ITEM_FIELDS or axis.name in keep


def _project(report: DiffReport, ks: list[int], keep: set[str]) -> list[dict]:
    """The regions ``ks`` on the axes a reader needs, merged where they differ in one axis."""
    boxes = []
    for k in ks:
        box = {i: frozenset(idxs) for i, idxs in report.regions[k].box if _kept(report.axes[i], keep)}
        if box not in boxes:
            boxes.append(box)
    merged = True
    while merged:
        merged = False
        for x in range(len(boxes)):
            for y in range(x + 1, len(boxes)):
                a, b = boxes[x], boxes[y]
                full = {i: frozenset(range(len(report.axes[i].values))) for i in set(a) | set(b)}
                a2 = {i: a.get(i, full[i]) for i in full}
                b2 = {i: b.get(i, full[i]) for i in full}
                differ = [i for i in full if a2[i] != b2[i]]
                if len(differ) <= 1:
                    union = {i: (a2[i] | b2[i]) for i in full}
                    boxes[x] = {i: v for i, v in union.items() if v != full[i]}
                    del boxes[y]
                    merged = True
                    break
            if merged:
                break
    return boxes


def _box_words(report: DiffReport, box: dict) -> str:
    old, new = report.models
    titles = {**old.group_titles, **new.group_titles}
    fields = {**old.fields, **new.fields}
    words = []
    for i in sorted(box):
        text = axis_words(report.axes[i], sorted(box[i]), titles, fields)
        if text is not None and not (report.axes[i].kind == "party" and text.endswith("on no list")):
            words.append(text)
    return "; ".join(words) if words else "wherever shipped and whoever buys"


def _real(region: Region) -> bool:
    """A witness naming a catalog chip by its figures alone."""
    return "chip" in region.witness and "tpp" not in region.witness


def _items(regions) -> tuple[str, ...]:
    classes = set()
    for r in regions:
        classes |= set(parse_summary(r.old)[1]) | set(parse_summary(r.new)[1])
    return tuple(sorted(classes))


def build_memo(report: DiffReport) -> Memo:
    old, new = report.models
    causes = {c.id: c for c in report.causes}
    # sections: causes joined when a region needs two of them together; a region that needs
    # more than two (every change at once) gets a section of its own
    parent = {c: c for c in causes}

    def find(c):
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    # a cause that changes nothing alone joins the causes it acts with (a rule split in two);
    # causes that also act alone keep their own sections, and what they do together has its own
    alone = {r.causes[0] for r in report.regions if len(r.causes) == 1}
    for r in report.regions:
        if len(r.causes) == 2 and any(c not in alone for c in r.causes):
            first = find(r.causes[0])
            for c in r.causes[1:]:
                parent[find(c)] = first
    groups: dict[tuple, list[int]] = {}
    for k, r in enumerate(report.regions):
        key = tuple(sorted({find(c) for c in r.causes}, key=lambda c: int(c[1:])))
        groups.setdefault(key, []).append(k)
    order = {c.id: n for n, c in enumerate(report.causes)}
    sections = []
    used: set[str] = set()
    numbered: dict[tuple, int] = {}
    for number, key in enumerate(sorted(groups, key=lambda k: (len(k) > 1, [order[c] for c in k])), 1):
        numbered[key] = number
        members = [c for c in report.causes if find(c.id) in key]
        titles, what, keep = [], [], set()
        for c in members:
            title, lines = cause_text(c, old, new)
            titles.append(title)
            keep |= _cause_fields(c, old, new)
            if len(key) == 1:
                what += lines
        if len(key) == 1:
            used.update(c.id for c in members)
            title = "; ".join(titles)
        else:
            parts = [f"{numbered[(k,)]}" for k in key if (k,) in numbered]
            title = ("Changes " + " and ".join(parts) + " together") if len(parts) == len(key) else \
                "Several changes together"
            together = (" and ".join(parts) if len(parts) == len(key)
                        else "these changes: " + "; ".join(titles) + ",")
            what = [(f"the regions below change only when {together} apply together; each alone leaves "
                     "them as they were.", None)]
        idxs = groups[key]
        by_effect: dict[tuple, list[int]] = {}
        for k in idxs:
            r = report.regions[k]
            o, n = without_classes(r.old), without_classes(r.new)
            by_effect.setdefault((o, n) if o != n else ("", ""), []).append(k)
        effects = []
        for (o, n), ks in sorted(by_effect.items(), key=lambda kv: (kv[0] == ("", ""),
                                                                     not _real(report.regions[kv[1][0]]),
                                                                     -len(kv[1]), kv[0])):
            if (o, n) == ("", ""):
                effects.append(Effect("", "", _items(report.regions[k] for k in ks), (), tuple(ks)))
                continue
            if _moves(report.regions[ks[0]]):
                where = tuple(dict.fromkeys("; ".join(report.regions[k].description) for k in ks))
            else:
                where = tuple(dict.fromkeys(_box_words(report, box) for box in _project(report, ks, keep)))
            effects.append(Effect(o, n, _items(report.regions[k] for k in ks), where, tuple(ks)))
        examples = tuple(e.regions[0] for e in effects[:MAX_EXAMPLES] if e.old)
        sections.append(Section(number, tuple(c.id for c in members), title, tuple(what), tuple(effects),
                                examples))
    quiet = []
    for c in report.causes:
        if c.id not in used:
            title, lines = cause_text(c, old, new)
            quiet.append((title, tuple(lines)))
    return Memo(tuple(sections), tuple(quiet))


# ---- witnesses in words -------------------------------------------------------------------------


_PLACES_AND_PARTIES = frozenset({"destination", "exported_from", "end_user", "end_user_hq", "consignee",
                                 "end_user_parent", "end_use_country", "made_in", "export_date", "quantity",
                                 "us_content", "id", "transaction", "item_kind"})


def _is_number(v) -> bool:
    try:
        Decimal(str(v))
    except ArithmeticError:
        return False
    return True


def witness_words(w: dict) -> str:
    """A witness record as a shipment: `NVIDIA H100 SXM exported to Nicaragua (NI), for Example
    Cloud Co., headquartered in Nicaragua (NI)`."""
    w = _jsonable(w)
    kind = w.get("item_kind", "ic")
    if "chip" in w and not any(k in w for k in ("tpp", "performance_density", "memory_bw_density")):
        item = w["chip"]
    else:
        figures = [f"{label} {w[k]}" for k, label in (("tpp", "TPP"), ("performance_density", "performance density"),
                                                      ("memory_bw_density", "memory bandwidth density"),
                                                      ("dram_bw", "DRAM bandwidth")) if k in w]
        # no chip and no chip figures, but figures of its own (a ruleset of other items, as the
        # weights of AI models): the item with those figures
        facts = [] if "chip" in w or figures or kind != "ic" else [
            f"{k} {number_words(Decimal(str(v)))}" for k, v in sorted(w.items())
            if k not in _PLACES_AND_PARTIES and k not in ITEM_FIELDS and not isinstance(v, bool) and _is_number(v)]
        if facts:
            item = "an item with " + ", ".join(facts)
        else:
            item = (f"{w['chip']} " if "chip" in w else "a chip ") + ("with " + ", ".join(figures) if figures else "")
            item = item.strip()
    if "datacenter" in w:
        item += ", for datacenters," if w["datacenter"] in (True, "True") else ", not for datacenters,"
    if kind == "computer":
        item = f"a computer holding {item}"
    elif kind == "hbm":
        item = f"an HBM stack ({item})" if "chip" in w else "an HBM stack" + item.removeprefix("a chip")
    verb = {"reexport": "reexported", "transfer": "transferred within"}.get(w.get("transaction"), "exported")
    text = item
    if "destination" in w:
        text += f" {verb}{' to' if verb != 'transferred within' else ''} {names([w['destination']])}"
    if w.get("exported_from") not in (None, "US"):
        text += f" from {names([w['exported_from']])}"
    if "end_user" in w:
        text += f", for {w['end_user']}"
        if "end_user_hq" in w:
            text += f", headquartered in {names([w['end_user_hq']])}"
    elif "end_user_hq" in w:
        text += f", for a buyer headquartered in {names([w['end_user_hq']])}"
    if "end_user_parent" in w and w["end_user_parent"] != "Example Holdings Ltd.":
        text += f" (parent {w['end_user_parent']})"
    if "export_date" in w:
        text += f", on {w['export_date']}"
    return text


def _witness_text(w: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in _jsonable(w).items())


def _head(report: DiffReport) -> tuple[str, str]:
    o, n = report.old, report.new
    title = f"{o.name} {o.version} -> {n.name} {n.version}"
    on = (f"compared on {report.compared_on[0]} and {report.compared_on[1]} "
          "(each version with all of its rules in force)")
    return title, on


def _summary_line(report: DiffReport, memo: Memo) -> str:
    if report.equivalent:
        return (f"The two versions decide every shipment the same way (proved over {report.cells:,} classes "
                "of records, not sampled).")
    exact = "exact" if not report.truncated else "INCOMPLETE: the analysis was cut short"
    own = [s for s in memo.sections if not s.title.startswith(("Changes ", "Several changes"))]
    n, k = sum(len(s.causes) for s in own), len(own)
    head = f"{n} change{'s' if n != 1 else ''} to the rules alter{'s' if n == 1 else ''} decisions"
    if k != n:
        head += f" (those that act only together share a section: {k} section{'s' if k != 1 else ''})"
    return (f"{head}, in {len(report.regions)} regions of shipments ({exact}; {report.cells:,} classes of records). "
            "Each region is attributed to the change that causes it: the old version with only that change "
            "applied decides it as the new version does. Every example below was decided under both versions.")


def _effect_line(e: Effect) -> tuple[str, str]:
    items = (", ".join(e.items) + " items") if e.items else "items the rules do not classify"
    if not e.old:
        return ("same outcome, another classification",
                f"{items} in {len(e.regions)} region{'s' if len(e.regions) != 1 else ''} (see the appendix)")
    shown = list(e.where[:MAX_WHERE])
    more = len(e.where) - len(shown)
    where = "; or ".join(shown) + (f"; and {more} more cases (see the appendix)" if more > 0 else "")
    return f"{outcome_words(e.old)} → {outcome_words(e.new)}", f"{items}: {where}"


def _shown(s: Section) -> list[Effect]:
    """The effects a section shows in its main part; a change of classification alone is
    always shown (last), as one line."""
    main = [e for e in s.effects if e.old]
    same = [e for e in s.effects if not e.old]
    if len(s.effects) <= MAX_EFFECTS:
        return main + same
    return main[: MAX_EFFECTS - 1] + same[:1] if same else main[:MAX_EFFECTS]


def _more(s: Section) -> str:
    rest = [e for e in s.effects if e not in _shown(s)]
    regions = sum(len(e.regions) for e in rest)
    return f"and {len(rest)} more outcome changes in {regions} regions (see the appendix)"


# ---- text -----------------------------------------------------------------------------------------


def render_text(report: DiffReport) -> str:
    memo = build_memo(report)
    title, on = _head(report)
    lines = [f"diff {title}", on, "", _summary_line(report, memo)]
    for c in report.caveats:
        lines.append(f"Caveat: {c}.")
    for s in memo.sections:
        lines += ["", f"{s.number}. {s.title}  [{', '.join(s.causes)}]", "  What changed:"]
        lines += [f"    - {text}" + (f" ({cite})" if cite else "") for text, cite in s.what]
        lines.append("  Effect on shipments:")
        for e in _shown(s):
            head, body = _effect_line(e)
            lines += [f"    - {head}", f"        {body}"]
        if len(s.effects) > MAX_EFFECTS:
            lines.append(f"    - {_more(s)}")
        lines.append("  Examples (decided under both versions):")
        for k in s.examples:
            r = report.regions[k]
            lines.append(f"    - {witness_words(r.witness)}: {outcome_words(r.old)} → {outcome_words(r.new)}")
    if memo.quiet:
        lines += ["", "Changes that alter no decision:"]
        for _, what in memo.quiet:
            lines += [f"  - {text}" + (f" ({cite})" if cite else "") for text, cite in what]
    lines += ["", "Appendix A: exact regions, by cause"]
    for s in memo.sections:
        lines += ["", f"  {s.number}. {s.title}"]
        for e in s.effects:
            for k in e.regions:
                r = report.regions[k]
                mark = "verified under both versions" if r.verified else "NOT CONFIRMED by evaluation"
                lines.append(f"    {r.transition}")
                lines.append("      where " + "; ".join(r.description))
                lines.append(f"      witness ({mark}): {_witness_text(r.witness)}")
    lines += ["", f"Appendix B: structural changes: {len(report.changes) or 'none'}"]
    for c in report.changes:
        cite = f"  ({c.cite})" if c.cite else ""
        lines.append(f"  {KIND_MARK[c.kind]} {KIND_WORD[c.kind]} {c.subject}{cite}")
        lines += [f"      {d}" for d in c.details]
    if report.replay is not None:
        lines += ["", *_replay_text(report)]
    return "\n".join(lines) + "\n"


def _replay_text(report: DiffReport) -> list[str]:
    rp = report.replay
    lines = [f"Replay: {len(rp.flips)} of {rp.total} records change"]
    for name, rows in (("by transition", rp.by_transition), ("by destination", rp.by_destination),
                       ("by chip", rp.by_chip)):
        if rows:
            lines.append(f"  {name}:")
            lines += [f"    {count:>5}  {key}" for key, count in rows]
    if rp.flips:
        lines.append("  records:")
        for f in rp.flips:
            where = f" ({f.location})" if f.location else ""
            lines.append(f"    {f.id}{where}: {f.old} -> {f.new}")
    return lines


# ---- Markdown -------------------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(report: DiffReport) -> str:
    memo = build_memo(report)
    title, on = _head(report)
    out = [f"# What changes from {report.old.version} to {report.new.version}", "",
           f"*{title}; {on}.*", "", _summary_line(report, memo)]
    out += [f"\n**Caveat:** {c}." for c in report.caveats]
    for s in memo.sections:
        out += ["", f"## {s.number}. {s.title}", "", "**What changed.**", ""]
        out += [f"- {text}" + (f" *{cite}*" if cite else "") for text, cite in s.what]
        out += ["", "**Effect on shipments.**", ""]
        for e in _shown(s):
            head, body = _effect_line(e)
            out.append(f"- **{head}** for {body}.")
        if len(s.effects) > MAX_EFFECTS:
            out.append(f"- {_more(s)}")
        out += ["", "**Examples**, each decided under both versions:", ""]
        for k in s.examples:
            r = report.regions[k]
            out.append(f"- {witness_words(r.witness)}: {outcome_words(r.old)} → {outcome_words(r.new)}.")
    if memo.quiet:
        out += ["", "## Changes that alter no decision", ""]
        for _, what in memo.quiet:
            out += [f"- {text}" + (f" *{cite}*" if cite else "") for text, cite in what]
    if report.regions:
        out += ["", "## Appendix A: the exact regions", "",
                "Every region of shipments whose decision changes, under the change that causes it; "
                "the parties are on no list unless said. The witness is a record in the region, decided "
                "under both versions."]
        for s in memo.sections:
            out += ["", f"### {s.number}. {s.title}", "", "| before | after | where | witness |",
                    "|---|---|---|---|"]
            for e in s.effects:
                for k in e.regions:
                    r = report.regions[k]
                    where = _md(_where_words(report, r, set(), everything=True))
                    out.append(f"| {r.old} | {r.new} | {where} | `{_md(_witness_text(r.witness))}` |")
    out += ["", "## Appendix B: every change to the rules", ""]
    if not report.changes:
        out.append("None.")
    else:
        out += ["| | what | details | citation |", "|---|---|---|---|"]
        for c in report.changes:
            details = "<br>".join(_md(d) for d in c.details)
            out.append(f"| {KIND_MARK[c.kind]} | {KIND_WORD[c.kind]} `{c.subject}` | {details} | {_md(c.cite or '')} |")
    if report.replay is not None:
        out += ["", "## Replay of shipments", "", "```", *_replay_text(report), "```"]
    return "\n".join(out).rstrip() + "\n"


# ---- JSON ------------------------------------------------------------------------------------------


def render_json(report: DiffReport) -> str:
    data = report.to_json()
    memo = build_memo(report)
    old, new = report.models
    causes = []
    for c in report.causes:
        title, lines = cause_text(c, old, new)
        causes.append({**c.to_json(), "title": title,
                       "what": [{"text": t, "cite": cite} for t, cite in lines]})
    data["causes"] = causes
    data["sections"] = [
        {"number": s.number, "causes": list(s.causes), "title": s.title,
         "effects": [{"old": e.old, "new": e.new, "old_words": outcome_words(e.old),
                      "new_words": outcome_words(e.new), "items": list(e.items), "where": list(e.where),
                      "regions": list(e.regions)} for e in s.effects],
         "examples": [{"region": k, "words": witness_words(report.regions[k].witness)} for k in s.examples]}
        for s in memo.sections]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render(report: DiffReport, fmt: str = "text") -> str:
    return {"text": render_text, "md": render_markdown, "json": render_json}[fmt](report)


__all__ = ["Memo", "build_memo", "render", "witness_words"]
