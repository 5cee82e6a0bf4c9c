"""Decisions in plain words, for terminals and audit files."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from chiprules.core.escape import printable

if TYPE_CHECKING:  # the decision holds its explanation: a type for reading, no import at run time
    from chiprules.eval.decision import Decision, ListMatch



def plain(value):
    """A value as text shows it: numbers without trailing zeros, dates in ISO form."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    return value


OUTCOME_WORDS = {
    "license_required": "licence required",
    "license_exception": "licence exception available",
    "no_license_required": "no licence required",
    "not_subject": "not subject to the EAR",
    "indeterminate": "indeterminate",
    "error": "error",
}


def words(policy: str | None) -> str:
    """A policy or outcome name in words: ``case_by_case`` -> ``case by case``."""
    return policy.replace("_", " ") if policy else ""


def screening_sentences(found) -> tuple[str, ...]:
    """One sentence per distinct screening: a consignee that is the end user is said once."""
    groups: dict = {}
    for m in found:
        groups.setdefault(attrs.evolve(m, field=""), []).append(m.field)
    return tuple(screening_words(attrs.evolve(m, field=" and ".join(fields))) for m, fields in groups.items())


def screening_words(m: ListMatch) -> str:
    """One sentence on a screening, for explanations."""
    who = f"{m.field} `{m.name}`" if m.field else f"`{m.name}`"
    if m.status == "none":
        text = f"no listed party found for {who} on {m.list}"
        if m.entry is not None:
            text += f" (nearest: `{m.entry}`, score {m.score:g}, below the possible-match score)"
        return text
    how = "its name" if m.form_kind == "name" else f"{m.form_kind} `{m.form}`"
    listed = []
    if m.added:
        listed.append(f"added {m.added.isoformat()}")
    listed.append(m.cite or "no citation given")
    verb = "matches" if m.status == "match" else "is a possible match for"
    text = (f"{who} {verb} `{m.entry}` on {m.list} by {how}, score {m.score:g} ({m.why}); "
            f"{', '.join(listed)}; review {words(m.review_policy)}")
    if m.status == "possible":
        text += "; a reviewer must confirm or rule out the match"
    elif m.requirement:
        text += f"; listed licence requirement: {m.requirement}"
    return text



SHOWN_FIELDS = (
    "export_date", "transaction", "exported_from", "destination", "end_user", "end_user_address",
    "end_user_hq", "end_user_parent", "end_user_parent_address", "consignee", "consignee_address", "chip", "item_kind", "tpp", "die_area", "performance_density",
    "datacenter", "interconnect_bw", "dram_bw", "memory_bw_density", "quantity",
)


JURISDICTION_FIELDS = ("made_in", "us_content", "us_direct_product")


def _value(v) -> str:
    v = plain(v)
    if v is True:
        return "yes"
    if v is False:
        return "no"
    return str(v)


def _settled(d: Decision) -> str:
    """The parts of an undecided record's decision that every way of completing it shares."""
    parts = [f"classified {', '.join(d.classification)}" if d.classification else "no classification settled"]
    if d.settled_fired:
        parts.append("licence required by " + ", ".join(f"`{r}`" for r in d.settled_fired))
    if d.review_policy:
        parts.append(f"review {words(d.review_policy)}")
    if d.license_exceptions:
        parts.append("licence exception " + ", ".join(g.name for g in d.license_exceptions) + " available")
    return "; ".join(parts)


def explain_decision(d: Decision) -> str:
    head = f"{d.id}: {OUTCOME_WORDS.get(d.outcome, d.outcome)}"
    if d.review_policy and d.outcome != "indeterminate":
        # the requirements that give the strictest review, which is the one that holds
        strictest = [r.rule for r in d.reasons if r.kind == "require" and r.detail == f"review {d.review_policy}"]
        under = f", under {', '.join(f'`{r}`' for r in strictest)}" if strictest else ""
        head += f" (review: {words(d.review_policy)}{under})"
    if d.licence is not None:
        head += f"; covered by licence {d.licence}"
    lines = [head]
    if d.location:
        lines.append(f"  input: {d.location}")
    if d.ruleset is not None:
        r = d.ruleset
        lines.append(f"  rules: {r.name} version {r.version}, {r.timeline} timeline (hash {r.content_hash})")
    facts = [f"{k} {_value(d.record[k])}" for k in SHOWN_FIELDS if d.record.get(k) is not None]
    # the jurisdiction facts, where the record gives more than the default (made in the US)
    facts += [f"{k} {_value(d.record[k])}" for k in JURISDICTION_FIELDS
              if d.record.get(k) is not None and (k != "made_in" or d.record[k] != "US")]
    if facts:
        lines.append("  facts: " + ", ".join(facts))
    if d.outcome == "error":
        for e in d.errors:
            lines.append(f"  error: {e}")
    if d.outcome == "indeterminate" and (d.missing or not (d.possible_matches or d.unsettled)):
        lines.append("  cannot decide: " + ", ".join(f"`{m}`" for m in d.missing)
                     + (" is" if len(d.missing) == 1 else " are") + " missing and could change the outcome")
    if d.outcome == "indeterminate" and (d.classification or d.review_policy or d.license_exceptions
                                         or d.settled_fired):
        lines.append("  settled whatever the missing facts are: " + _settled(d))
    if d.outcome == "indeterminate" and d.unsettled:
        lines.append("  cannot decide: the public law does not settle "
                     + ("this case" if len(d.unsettled) == 1 else f"{len(d.unsettled)} points of this case"))
    if d.outcome == "indeterminate" and d.possible_matches:
        n = len(d.possible_matches)
        lines.append(f"  cannot decide: {'a possible match' if n == 1 else f'{n} possible matches'} on a party "
                     "list could change the outcome")
    for reason in d.reasons:
        verb = {
            "classify": f"classified {reason.rule}",
            "jurisdiction": f"subject to the EAR by `{reason.rule}`",
            "not-jurisdiction": f"not reached by `{reason.rule}`",
            "require": f"licence required by `{reason.rule}`",
            "exception": f"licence exception {reason.rule} available",
            "not-classified": f"not {reason.rule}",
            "excluded": f"not {reason.rule}, excluded by {reason.detail or 'a note'}",
            "screened": f"screened against `{reason.rule}`",
            "possible-match": f"possible match on `{reason.rule}`",
            "unsettled": f"unsettled law in `{reason.rule}`",
            "missing": f"`{reason.rule}` is missing",
            "not-available": f"licence exception {reason.rule} not available",
        }.get(reason.kind, reason.rule)
        if reason.kind == "missing":
            lines.append(f"  {verb}:")
            lines += [f"    {c}" for c in reason.conditions]
            continue
        if reason.kind == "not-available":
            lines.append(f"  {verb}" + (f" ({reason.title})" if reason.title else ""))
            lines += [f"    because {c}" for c in reason.conditions]
            continue
        if reason.kind in ("screened", "possible-match"):
            lines.append(f"  {verb}{f': {reason.title}' if reason.title else ''}")
            lines += [f"    {c}" for c in reason.conditions]
            if reason.detail:
                lines.append(f"    {reason.detail}")
            continue
        if reason.kind == "not-jurisdiction":
            lines.append(f"  {verb}" + (f": {reason.title}" if reason.title else ""))
            if reason.cite:
                lines.append(f"    cite: {reason.cite}")
            lines += [f"    because {c}" for c in reason.conditions]
            continue
        if reason.kind == "excluded":
            lines.append(f"  {verb}")
            lines += [f"    because {c}" for c in reason.conditions]
            continue
        title = f": {reason.title}" if reason.title else ""
        lines.append(f"  {verb}{title}")
        if reason.cite:
            lines.append(f"    cite: {reason.cite}")
        for c in reason.conditions:
            lines.append(f"    because {c}")
        if reason.detail:
            lines.append(f"    {words(reason.detail)}")
    for g in d.license_exceptions:
        for duty in g.notify:
            lines.append(f"  {g.name} notification: {duty}")
    if d.outcome == "not_subject":
        lines.append("  so the item is not subject to the EAR, and none of these licence requirements applies")
    if d.outcome == "no_license_required":
        if not d.classification:
            lines.append("  so not classified under any rule, and no licence requirement applies")
        else:
            lines.append("  no licence requirement applies to this destination and these parties")
    for u in d.quota_uses:
        if u.status == "unknown" and u.kind == "quota":
            continue  # said by its warning below
        lines.append(f"  {u.words()}")
        if u.cite:
            lines.append(f"    cite: {u.cite}")
        if u.kind == "licence" and u.status == "drawn" and u.effect:
            lines.append(f"    {u.effect}")
    for w in d.warnings:
        lines.append(f"  warning: {w}")
    # one line each: a value cannot break a line, move the cursor or retitle a terminal
    return "\n".join(printable(line) for line in lines)


def decision_json(d: Decision, explain: bool = False) -> dict:
    """A decision as one line of `chiprules eval --format jsonl` shows it, and the decision
    service returns it: the fields of the decision, where its record was read, and its
    explanation when asked."""
    obj = d.to_json()
    if d.location:
        obj["location"] = d.location
    if explain:
        obj["explanation"] = explain_decision(d)
    return obj


def screening_json(m: ListMatch) -> dict:
    """A name screened on its own, as `chiprules screen --format jsonl` shows it."""
    obj = m.to_json()
    del obj["field"]
    obj["explanation"] = screening_words(m)
    return obj
