"""Diff reports as text for a terminal, Markdown for a memo, JSON for tools."""

from __future__ import annotations

import json

from chiprules.report.diff import DiffReport, _jsonable

KIND_MARK = {"rule-added": "+", "rule-removed": "-", "rule-changed": "~", "group-added": "+",
             "group-removed": "-", "group-changed": "~", "list-changed": "~", "header": "~"}
KIND_WORD = {"rule-added": "rule", "rule-removed": "rule", "rule-changed": "rule", "group-added": "group",
             "group-removed": "group", "group-changed": "group", "list-changed": "list", "header": "header"}


def _witness_text(w: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in _jsonable(w).items())


def _by_transition(report: DiffReport) -> dict:
    out: dict = {}
    for r in report.regions:
        out.setdefault(r.transition, []).append(r)
    return out


def _head(report: DiffReport) -> tuple[str, str]:
    o, n = report.old, report.new
    title = f"{o.name} {o.version} -> {n.name} {n.version}"
    on = (f"compared on {report.compared_on[0]} and {report.compared_on[1]} "
          "(each version with all of its rules in force)")
    return title, on


def render_text(report: DiffReport) -> str:
    title, on = _head(report)
    lines = [f"diff {title}", on, ""]
    lines.append(f"Structural changes: {len(report.changes) or 'none'}")
    for c in report.changes:
        cite = f"  ({c.cite})" if c.cite else ""
        lines.append(f"  {KIND_MARK[c.kind]} {KIND_WORD[c.kind]} {c.subject}{cite}")
        lines += [f"      {d}" for d in c.details]
    lines.append("")
    if report.equivalent:
        lines.append(f"Outcomes: the two versions decide every record the same way (proved over "
                     f"{report.cells:,} classes of records).")
    else:
        groups = _by_transition(report)
        exact = "exact" if not report.truncated else "INCOMPLETE: the analysis was cut short"
        lines.append(f"Outcome changes: {len(report.regions)} regions in {len(groups)} transitions "
                     f"({exact}; {report.cells:,} classes of records)")
        for transition, regions in groups.items():
            lines += ["", f"  {transition}"]
            for r in regions:
                lines.append("    where " + "; ".join(r.description))
                mark = "verified under both versions" if r.verified else "NOT CONFIRMED by evaluation"
                lines.append(f"      witness ({mark}): {_witness_text(r.witness)}")
    lines += [f"Caveat: {c}." for c in report.caveats]
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


def render_markdown(report: DiffReport) -> str:
    title, on = _head(report)
    out = [f"# What changes from {report.old.version} to {report.new.version}", "",
           f"*{title}; {on}.*", "", "## Summary", ""]
    if report.equivalent:
        out.append("The two versions decide every shipment the same way; this was proved over "
                   f"{report.cells:,} classes of records, not sampled.")
    else:
        out.append(f"{len(report.regions)} regions of the input space change outcome, in "
                   f"{len(_by_transition(report))} kinds of transition. Each comes with a witness record "
                   "that was evaluated under both versions.")
    out += [f"\n**Caveat:** {c}." for c in report.caveats]
    out += ["", "## Changes to the rules", ""]
    if not report.changes:
        out.append("None.")
    else:
        out += ["| | what | details | citation |", "|---|---|---|---|"]
        for c in report.changes:
            details = "<br>".join(d.replace("|", "\\|") for d in c.details)
            out.append(f"| {KIND_MARK[c.kind]} | {KIND_WORD[c.kind]} `{c.subject}` | {details} | {c.cite or ''} |")
    if report.regions:
        out += ["", "## Outcome changes", ""]
        for transition, regions in _by_transition(report).items():
            old, new = transition.split(" -> ")
            out += [f"### {old} → {new}", "", "| where | witness |", "|---|---|"]
            for r in regions:
                where = "; ".join(r.description).replace("|", "\\|")
                out.append(f"| {where} | `{_witness_text(r.witness)}` |")
            out.append("")
    if report.replay is not None:
        out += ["", "## Replay of shipments", "", "```", *_replay_text(report), "```"]
    return "\n".join(out).rstrip() + "\n"


def render_json(report: DiffReport) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def render(report: DiffReport, fmt: str = "text") -> str:
    return {"text": render_text, "md": render_markdown, "json": render_json}[fmt](report)
