"""Outcomes, value classes and changes of a diff in words a policymaker reads."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from chiprules.data.countries import all_country_codes, country_name
from chiprules.model.classes import UNLISTED

POLICY = {
    "presumption_of_denial": "presumption of denial",
    "policy_of_denial": "policy of denial",
    "case_by_case": "case-by-case review",
    "presumption_of_approval": "presumption of approval",
    "listed": "the policy of the list entry",
}

# the largest markets for chips first: a witness names one of these when it can
MARKETS = ("CN", "US", "DE", "JP", "IN", "GB", "FR", "KR", "TW", "SG", "VN", "AE", "SA", "MY", "TH", "NL",
           "CA", "IL", "BR", "RU", "MO", "HK", "IR", "KP", "MX", "AU", "IT", "ES", "TR", "ID")

_SUMMARY = re.compile(r"^(?P<outcome>\w+)(?: \[(?P<classes>[^\]]*)\])?(?: \((?P<policy>\w+)\))?"
                      r"(?: \{(?P<exceptions>[^}]*)\})?$")

FIELD_WORDS = {
    "tpp": "TPP",
    "performance_density": "performance density",
    "die_area": "die area",
    "dram_bw": "DRAM bandwidth",
    "interconnect_bw": "interconnect bandwidth",
    "memory_bw_density": "memory bandwidth density",
    "export_date": "export date",
    "item_kind": "item",
}
# (a country is named, the country is anywhere outside): how a country field reads
ROLE = {
    "destination": ("shipped to", "shipped"),
    "end_user_hq": ("buyer headquartered in", "buyer headquartered"),
    "exported_from": ("shipped from", "shipped from"),
}
ITEM_KIND = {"ic": "chips", "computer": "computers holding them", "hbm": "HBM stacks"}
TRANSACTION = {"export": "exports", "reexport": "reexports", "transfer": "in-country transfers"}


def parse_summary(text: str) -> tuple[str, tuple[str, ...], str | None, tuple[str, ...]]:
    """`license_exception [3A090.a] (presumption_of_denial) {NAC}` -> its four parts."""
    m = _SUMMARY.match(text)
    if m is None:
        return text, (), None, ()
    classes = tuple(c for c in (m["classes"] or "").split(", ") if c)
    exceptions = tuple(e for e in (m["exceptions"] or "").split(", ") if e)
    return m["outcome"], classes, m["policy"], exceptions


def without_classes(text: str) -> str:
    outcome, _, policy, exceptions = parse_summary(text)
    out = outcome
    if policy:
        out += f" ({policy})"
    if exceptions:
        out += " {" + ", ".join(exceptions) + "}"
    return out


def outcome_words(text: str) -> str:
    """An outcome as a sentence fragment: `licence required, presumption of denial`."""
    outcome, _, policy, exceptions = parse_summary(text)
    review = f", {POLICY.get(policy, policy)}" if policy else ""
    if outcome == "no_license_required":
        return "no licence needed"
    if outcome == "license_required":
        return f"licence required{review}"
    if outcome == "license_exception":
        names = " or ".join(f"License Exception {e}" for e in exceptions) or "a licence exception"
        return f"{names} (otherwise a licence{review})"
    if outcome == "indeterminate":
        return "undecided: a fact the rules need is missing"
    if outcome == "not_subject":
        return "not subject to the EAR"
    if outcome == "subject":
        return "subject to the EAR (its licence requirements then apply)"
    return outcome.replace("_", " ")


def names(codes, limit: int = 6, conj: str = "and") -> str:
    """`Malaysia (MY) and Thailand (TH)`; past ``limit`` countries, the first ones and a count."""
    codes = sorted(codes, key=_market_rank)
    shown = [_name(c) for c in codes[:limit]]
    if len(codes) > limit:
        return ", ".join(shown) + f" and {len(codes) - limit} more"
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + f" {conj} " + shown[-1]


def _name(code: str) -> str:
    try:
        return f"{country_name(code)} ({code})"
    except ValueError:
        return code


def _market_rank(code: str) -> tuple:
    return (MARKETS.index(code) if code in MARKETS else len(MARKETS), code)


def number(v, unit: str = "") -> str:
    """A value in words: a date as ISO, a number in full, or with an exponent from 10^15 up
    (`2.5e25 ops`, the training of an AI model, not 25 digits)."""
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        n = v.normalize()
        if n and n.adjusted() >= 15:
            text = f"{format(n.scaleb(-n.adjusted()).normalize(), 'f')}e{n.adjusted()}"
        else:
            text = format(n, "f")
    else:
        text = str(v)
    return f"{text} {unit}".strip()


def interval_words(axis, run: list[int]) -> str:
    """The values of a run of classes of a number or date axis, in words."""
    pts = list(axis.points)
    lo_v, hi_v = axis.values[run[0]], axis.values[run[-1]]
    lower = (lo_v, True) if lo_v in pts else ((max(p for p in pts if p < lo_v), False)
                                               if any(p < lo_v for p in pts) else None)
    upper = (hi_v, True) if hi_v in pts else ((min(p for p in pts if p > hi_v), False)
                                               if any(p > hi_v for p in pts) else None)
    name = FIELD_WORDS.get(axis.name, axis.name.replace("_", " "))
    unit = axis.unit
    if axis.kind == "date":
        if lower and upper and lower[0] == upper[0]:
            return f"{name} {number(lower[0])}"
        parts = []
        if lower:
            parts.append(("on or after " if lower[1] else "after ") + number(lower[0]))
        if upper:
            parts.append(("on or before " if upper[1] else "before ") + number(upper[0]))
        return f"{name} " + " and ".join(parts) if parts else f"any {name}"
    if lower and upper and lower[0] == upper[0]:
        return f"{name} of exactly {number(lower[0], unit)}"
    if lower and upper:
        lo = number(lower[0]) if lower[1] else f"above {number(lower[0])}"
        hi = f"{number(upper[0], unit)}" if upper[1] else f"under {number(upper[0], unit)}"
        return f"{name} from {lo} to {hi}"
    if lower:
        return f"{name} of {'at least' if lower[1] else 'more than'} {number(lower[0], unit)}"
    if upper:
        return f"{name} {'up to' if upper[1] else 'under'} {number(upper[0], unit)}"
    return f"any {name}"


def country_words(axis, idxs, titles: dict) -> str:
    """The countries of some classes of a country axis: named when few, `any country except`
    when nearly all, by the groups that hold them otherwise."""
    codes = sorted({c for i in idxs for c in axis.members[i]})
    name = axis.name.replace("_", " ")
    role_in, role_out = ROLE.get(axis.name, (f"{name} in", name))
    universe = all_country_codes() | {c for m in axis.members for c in m}
    rest = sorted(universe - set(codes))
    if len(codes) <= 6:
        return f"{role_in} {names(codes, conj='or')}"
    if len(rest) <= 6:
        return f"{role_out} anywhere except {names(rest)}"
    inside, outside = [], []
    for text, members in axis.sets:
        flags = {c in members for c in codes}
        if flags == {True}:
            inside.append(text)
        elif flags == {False}:
            outside.append(text)
    inside = _smallest(inside, axis)
    outside = _largest(outside, axis)
    if inside:
        within = _members(inside[0], axis)
        outside = [t for t in outside if _members(t, axis) & within]  # only the exclusions that cut
        text = f"{role_in} a country in {_group(inside[0], titles, axis)}"
        if outside:
            text += " but outside " + " and ".join(_group(t, titles, axis) for t in outside)
        return text + f" ({len(codes)} countries, e.g. {names(codes, 3)})"
    if outside:
        return f"{role_out} anywhere outside " + " and ".join(_group(t, titles, axis) for t in outside)
    return f"{role_in} one of {len(codes)} countries, e.g. {names(codes, 3)}"


def _members(text, axis):
    for t, m in axis.sets:
        if t == text:
            return m
    return frozenset()


def _smallest(texts, axis):
    """Of the sets that hold every country, the smallest one (it says the most)."""
    texts = _distinct(texts, axis)
    return sorted(texts, key=lambda t: len(_members(t, axis)))[:1]


def _largest(texts, axis):
    """Of the sets that hold none of them, those not inside another one."""
    texts = _distinct(texts, axis)
    out = []
    for t in sorted(texts, key=lambda t: -len(_members(t, axis))):
        m = _members(t, axis)
        if not any(m <= _members(o, axis) for o in out):
            out.append(t)
    return out[:3]


def _distinct(texts, axis):
    seen, out = set(), []
    for t in texts:
        m = _members(t, axis)
        if m not in seen:
            seen.add(m)
            out.append(t)
    return out


def _group(text: str, titles: dict, axis) -> str:
    """A set as the rules name it, in words: its title, or its members when few."""
    base = text.removesuffix(" (old)").removesuffix(" (new)")
    members = _members(text, axis)
    if base.startswith("{") and base.endswith("}"):
        return names(members)
    title = titles.get(base)
    label = f"{title} (`{base}`)" if title else f"`{base}`"
    texts = {t for t, _ in axis.sets}
    if text.endswith(" (new)"):
        label += " as it is now"
    elif f"{base} (new)" in texts:
        label += " as it was before"
    if 0 < len(members) <= 4:
        return f"{label}: {names(members)}"
    return label


def axis_words(axis, idxs, titles: dict, fields: dict) -> str | None:
    """One axis of a region in words, or None when it holds every value."""
    idxs = sorted(set(idxs))
    if len(idxs) == len(axis.values):
        return None
    if axis.kind in ("number", "date"):
        runs, run = [], [idxs[0]]
        for i in idxs[1:]:
            if i == run[-1] + 1:
                run.append(i)
            else:
                runs.append(run)
                run = [i]
        runs.append(run)
        return " or ".join(interval_words(axis, r) for r in runs)
    if axis.kind == "country":
        return country_words(axis, idxs, titles)
    if axis.kind == "bool":
        (only,) = {axis.values[i] for i in idxs}
        f = fields.get(axis.name)
        doc = f.doc if f is not None and f.doc else axis.name.replace("_", " ")
        return doc if only else f"not {doc}"
    if axis.kind == "party":
        listed = [axis.values[i] for i in idxs]
        who = axis.name.replace("_", " ")
        if listed == [UNLISTED]:
            return f"{who} on no list"
        if UNLISTED not in listed:
            return f"{who} on a list"
        return None
    vals = [v for i in idxs for v in axis.members[i]] if axis.kind == "enum" else [axis.values[i] for i in idxs]
    if axis.name == "transaction":
        return " and ".join(TRANSACTION.get(v, v) for v in vals)
    if axis.name == "item_kind":
        return " and ".join(ITEM_KIND.get(v, v) for v in vals)
    if axis.name == "chip":
        return "chip named " + " or ".join(f"{v}" for v in vals)
    return f"{axis.name.replace('_', ' ')}: " + ", ".join(str(v) for v in vals)


__all__ = ["POLICY", "MARKETS", "axis_words", "country_words", "names", "outcome_words", "parse_summary",
           "without_classes"]
