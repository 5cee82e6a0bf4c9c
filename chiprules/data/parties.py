"""Restricted-party list entries and their loaders.

Two formats are read:

* the project's own CSV (``rules/lists/entity_list_sample.csv``), with one
  checked, canonical row per entry; and
* the public Consolidated Screening List (CSL) export of the International Trade
  Administration, as CSV (28 or 29 columns), TSV or JSON (``{"results": [...]}``).

Both give ``PartyEntry`` values. Every malformed row becomes a diagnostic located
at ``file:line``; all of them are raised together in one ``DataError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import attrs
import pycountry

from chiprules.core.diagnostics import Diagnostic, did_you_mean, error
from chiprules.core.errors import DataError
from chiprules.data.csvtext import csv_records

REVIEW_POLICIES: tuple[str, ...] = (
    "policy_of_denial",
    "presumption_of_denial",
    "case_by_case",
    "presumption_of_approval",
)

#: Returned by ``review_policy_from_text`` when the text names no review policy.
UNKNOWN_POLICY = "unknown"

PARTY_COLUMNS: tuple[str, ...] = (
    "name",
    "aliases",
    "country",
    "addresses",
    "license_requirement",
    "license_policy",
    "review_policy",
    "citation",
    "added",
    "removed",
    "footnotes",
    "notes",
)


@attrs.frozen
class PartyEntry:
    """One entry of a restricted-party list."""

    name: str
    aliases: tuple[str, ...] = ()
    country: str = ""
    addresses: tuple[str, ...] = ()
    license_requirement: str = ""
    license_policy: str = ""
    review_policy: str = UNKNOWN_POLICY
    citation: str = ""
    added: date | None = None
    removed: date | None = None
    footnotes: tuple[str, ...] = ()
    list_name: str = ""
    line: int | None = None
    notes: str = ""

    def in_force(self, on: date) -> bool:
        """Listed on ``on``: added on or before it (unknown counts as listed), not yet removed."""
        if self.added is not None and on < self.added:
            return False
        if self.removed is not None and on >= self.removed:
            return False
        return True


# ---------------------------------------------------------------------------
# Text helpers shared by both loaders

_POLICY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("policy_of_denial", re.compile(r"\bpolicy\s+of\s+denial\b")),
    ("presumption_of_denial", re.compile(r"\bpresumption\s+(?:of|for)\s+denial\b")),
    ("case_by_case", re.compile(r"\bcase[\s-]*by[\s-]*case\b")),
    ("presumption_of_approval", re.compile(r"\bpresumption\s+(?:of|for)\s+approval\b")),
)
# "See §§744.11 and 744.23(d) of the EAR": no policy words, only the sections that set one.
_SECTION_ONLY = re.compile(r"\b744\.(?:11|23)\b")


def review_policy_from_text(text: str) -> str:
    """The canonical review policy of a "License review policy" text.

    When the text names several policies (for example "case-by-case for ECCN ...;
    presumption of denial for all other items"), the strictest one is returned:
    policy of denial, then presumption of denial, case-by-case, presumption of
    approval. "Presumption for denial" (a spelling in the list) counts as
    presumption of denial. A text that only points to §§ 744.11 and 744.23(d)
    is read as presumption of denial: that is our reading of those sections, not
    words of the list. Anything else gives ``"unknown"``.
    """
    folded = " ".join(text.casefold().replace("\u2011", "-").split())
    for policy, pattern in _POLICY_PATTERNS:
        if pattern.search(folded):
            return policy
    if _SECTION_ONLY.search(folded):
        return "presumption_of_denial"
    return UNKNOWN_POLICY


# Footnote numbers are printed as bare digits in the license-requirement text:
#   "...734.9(e)1 and 744.11 of the EAR2", "...of the EAR)4", "...of the EAR) 4",
#   "...734.9(g),3 746.8(a)(3)...", "(See §734.9(g), 3 §744.21(b), ...".
_FOOTNOTE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\)(\d)(?=[\s,.;)]|$)"),
    re.compile(r"\bEAR\)?\s?(\d)\b"),
    re.compile(r"\),\s?(\d)(?=\s+(?:§|\d{3}\.\d))"),
)


def footnotes_from_text(text: str) -> tuple[str, ...]:
    """Footnote numbers embedded in a license-requirement text, in ascending order."""
    found: set[str] = set()
    for pattern in _FOOTNOTE_PATTERNS:
        found.update(m.group(1) for m in pattern.finditer(text))
    return tuple(sorted(found, key=int))


def without_footnotes(text: str) -> str:
    """A license-requirement text without its footnote digits (kept apart, in `footnotes`),
    with single spaces: `...734.9(e)1 and 744.11 of the EAR2` -> `...734.9(e) and 744.11 of the EAR`."""
    spans = sorted(m.span(1) for pattern in _FOOTNOTE_PATTERNS for m in pattern.finditer(text))
    out, last = [], 0
    for start, end in spans:
        if start >= last:
            out.append(text[last:start])
            last = end
    out.append(text[last:])
    return tidy_spaces("".join(out))


def tidy_spaces(text: str) -> str:
    """Runs of white space as one space, none before a comma, none at the ends."""
    return re.sub(r"\s+,", ",", re.sub(r"\s+", " ", text)).strip()


def split_list(cell: str) -> tuple[str, ...]:
    """Split a "; "-separated cell, dropping the FR "and " before the last item."""
    out = []
    for part in cell.split(";"):
        part = part.strip()
        if part[:4].casefold() == "and ":
            part = part[4:].strip()
        if part:
            out.append(part)
    return tuple(out)


def _iso_country(code: str) -> str | None:
    code = code.strip()
    if len(code) == 2 and code.isalpha() and code.isupper():
        if pycountry.countries.get(alpha_2=code) is not None:
            return code
    return None


def split_addresses(cell: str) -> tuple[tuple[str, ...], str]:
    """Addresses of a CSL CSV cell, and the country of the first one.

    Items are separated by "; ". Several street lines may share one trailing
    "city, state, country" (the CETC 13 row), so parts are joined until a part
    ends in an ISO 3166 alpha-2 code.
    """
    parts = [p.strip() for p in cell.split(";")]
    parts = [p[4:].strip() if p[:4].casefold() == "and " else p for p in parts]
    parts = [p for p in parts if p]
    addresses: list[str] = []
    pending: list[str] = []
    country = ""
    for part in parts:
        pending.append(part)
        code = _iso_country(part.rsplit(",", 1)[-1])
        if code:
            addresses.append("; ".join(pending))
            pending = []
            country = country or code
    if pending:
        addresses.append("; ".join(pending))
    return tuple(addresses), country


def _parse_date(text: str) -> date:
    text = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(text)
    return date.fromisoformat(text)


def _bad_date(column: str, value: str, where: str) -> Diagnostic:
    return error(
        "party-date",
        f"column '{column}' holds {value!r}, which is not a date",
        location=where,
        help="write the date as YYYY-MM-DD, or leave the cell empty when it is not known",
    )


def _raise(path: str, diags: list[Diagnostic]) -> None:
    if diags:
        count = len(diags)
        raise DataError(f"{path}: {count} malformed row{'s' if count != 1 else ''}", diags)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DataError(
            f"cannot read {path}: {reason}",
            [error("party-file", f"cannot read party list: {reason}", location=str(path))],
        ) from exc
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path} is not UTF-8 text",
            [
                error(
                    "party-file",
                    f"not UTF-8 text (byte {exc.start})",
                    location=str(path),
                    help="save the file as UTF-8",
                )
            ],
        ) from exc


_records = csv_records


def _data_rows(records, header, where, diags, code, noun, help_text):
    """The non-blank data rows with their location; a row of the wrong width becomes a diagnostic."""
    for line, row in records[1:]:
        if not any(cell.strip() for cell in row):
            continue
        loc = f"{where}:{line}"
        if len(row) != len(header):
            diags.append(error(code, f"row has {len(row)} {noun}; the header has {len(header)}",
                               location=loc, help=help_text))
            continue
        yield line, loc, row


# ---------------------------------------------------------------------------
# The project's own CSV


def load_party_csv(path: str | Path, list_name: str) -> tuple[PartyEntry, ...]:
    """Load the project's party-list CSV (columns ``PARTY_COLUMNS``)."""
    path = Path(path)
    where = str(path)
    records = list(_records(_read_text(path)))
    if not records:
        raise DataError(
            f"{where}: empty party list",
            [
                error(
                    "party-header",
                    "the party list is empty",
                    location=f"{where}:1",
                    help="the first line must be the header: " + ",".join(PARTY_COLUMNS),
                )
            ],
        )
    header_line, header = records[0]
    header = [h.strip() for h in header]
    missing = [c for c in PARTY_COLUMNS if c not in header]
    unknown = [c for c in header if c not in PARTY_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        bits = []
        if missing:
            bits.append("missing " + ", ".join(missing))
        if unknown:
            bits.append("unknown " + ", ".join(unknown))
        if not bits:
            bits.append("a column appears twice")
        raise DataError(
            f"{where}: bad party-list header",
            [
                error(
                    "party-header",
                    "bad party-list header: " + "; ".join(bits),
                    location=f"{where}:{header_line}",
                    help="the header must name these columns: " + ",".join(PARTY_COLUMNS),
                )
            ],
        )

    diags: list[Diagnostic] = []
    entries: list[PartyEntry] = []
    for line, loc, row in _data_rows(
        records, header, where, diags, "party-row", "cells",
        "quote cells that contain commas, and keep one cell per column",
    ):
        cells = {k: v.strip() for k, v in zip(header, row, strict=True)}
        before = len(diags)
        if not cells["name"]:
            diags.append(
                error(
                    "party-name",
                    "column 'name' is empty",
                    location=loc,
                    help="give the entity name as listed",
                )
            )
        country = cells["country"]
        if not _iso_country(country):
            diags.append(
                error(
                    "party-country",
                    f"column 'country' holds {country!r}; expected an ISO 3166-1 alpha-2 code"
                    if country
                    else "column 'country' is empty",
                    location=loc,
                    help="write the two capital letters of the destination, e.g. CN, RU, SG",
                )
            )
        policy = cells["review_policy"]
        if policy not in REVIEW_POLICIES:
            hint = did_you_mean(policy, REVIEW_POLICIES) if policy else None
            diags.append(
                error(
                    "party-policy",
                    f"column 'review_policy' holds {policy!r}, which is not a review policy"
                    if policy
                    else "column 'review_policy' is empty",
                    location=loc,
                    help=(f"did you mean {hint}? " if hint else "")
                    + "use one of: "
                    + ", ".join(REVIEW_POLICIES),
                )
            )
        dates: dict[str, date | None] = {"added": None, "removed": None}
        for column in dates:
            if cells[column]:
                try:
                    dates[column] = _parse_date(cells[column])
                except ValueError:
                    diags.append(_bad_date(column, cells[column], loc))
        if dates["added"] and dates["removed"] and dates["removed"] <= dates["added"]:
            diags.append(
                error(
                    "party-date",
                    f"'removed' ({dates['removed']}) is not after 'added' ({dates['added']})",
                    location=loc,
                    help="an entry is in force from 'added' up to, not including, 'removed'",
                )
            )
        footnotes = split_list(cells["footnotes"])
        bad = [f for f in footnotes if not f.isdigit()]
        if bad:
            diags.append(
                error(
                    "party-footnote",
                    f"column 'footnotes' holds {', '.join(map(repr, bad))}; footnotes are numbers",
                    location=loc,
                    help="write the Supp. No. 4 footnote numbers separated by '; ', e.g. 1; 2",
                )
            )
        if len(diags) != before:
            continue
        entries.append(
            PartyEntry(
                name=cells["name"],
                aliases=split_list(cells["aliases"]),
                country=country,
                addresses=split_list(cells["addresses"]),
                license_requirement=without_footnotes(cells["license_requirement"]),
                license_policy=cells["license_policy"],
                review_policy=policy,
                citation=tidy_spaces(cells["citation"]),
                added=dates["added"],
                removed=dates["removed"],
                footnotes=footnotes,
                list_name=list_name,
                line=line,
                notes=cells["notes"],
            )
        )
    _raise(where, diags)
    return tuple(entries)


# ---------------------------------------------------------------------------
# The Consolidated Screening List


def _detect_format(path: Path, text: str) -> str:
    suffix = path.suffix.casefold()
    if suffix == ".json":
        return "json"
    if suffix == ".tsv":
        return "tsv"
    if suffix == ".csv":
        return "csv"
    stripped = text.lstrip()
    if stripped[:1] in "{[":
        return "json"
    first = stripped.split("\n", 1)[0]
    return "tsv" if "\t" in first else "csv"


def _wanted(source: str, sources: Sequence[str]) -> bool:
    folded = source.casefold()
    return any(s.casefold() in folded for s in sources)


def _csl_entry(
    record: dict, line: int | None, loc: str, diags: list[Diagnostic]
) -> PartyEntry | None:
    before = len(diags)
    name = str(record.get("name") or "").strip()
    if not name:
        diags.append(
            error(
                "csl-name",
                "record has no name",
                location=loc,
                help="every CSL record needs a 'name'",
            )
        )
    added = None
    start = str(record.get("start_date") or "").strip()
    if start:
        try:
            added = _parse_date(start)
        except ValueError:
            diags.append(_bad_date("start_date", start, loc))
    alt = record.get("alt_names")
    if isinstance(alt, list):
        aliases = split_list(";".join(str(a) for a in alt if a))
    else:
        aliases = split_list(str(alt or ""))
    raw_addresses = record.get("addresses")
    if isinstance(raw_addresses, list):
        addresses_list: list[str] = []
        country = ""
        for item in raw_addresses:
            if isinstance(item, dict):
                keys = ("address", "city", "state", "postal_code", "country")
                parts = [str(item.get(k) or "").strip() for k in keys]
                text = ", ".join(p for p in parts if p)
                code = _iso_country(str(item.get("country") or ""))
            else:
                text = str(item).strip()
                code = _iso_country(text.rsplit(",", 1)[-1])
            if text:
                addresses_list.append(text)
            country = country or (code or "")
        addresses = tuple(addresses_list)
    else:
        addresses, country = split_addresses(str(raw_addresses or ""))
    if len(diags) != before:
        return None
    requirement = str(record.get("license_requirement") or "").strip()
    policy_text = str(record.get("license_policy") or "").strip()
    return PartyEntry(
        name=name,
        aliases=aliases,
        country=country,
        addresses=addresses,
        license_requirement=without_footnotes(requirement),
        license_policy=policy_text,
        review_policy=review_policy_from_text(policy_text),
        citation=tidy_spaces(str(record.get("federal_register_notice") or "")),
        added=added,
        removed=None,
        footnotes=footnotes_from_text(requirement),
        list_name=str(record.get("source") or "").strip(),
        line=line,
    )


def _load_csl_delimited(
    where: str, text: str, delimiter: str, sources: Sequence[str]
) -> tuple[PartyEntry, ...]:
    records = list(_records(text, delimiter))
    if not records:
        return ()
    header_line, header = records[0]
    header = [h.strip().lstrip("\ufeff") for h in header]
    if "source" not in header or "name" not in header:
        need = [c for c in ("source", "name") if c not in header]
        raise DataError(
            f"{where}: not a Consolidated Screening List export",
            [
                error(
                    "csl-header",
                    "the header has no " + " or ".join(repr(c) for c in need) + " column",
                    location=f"{where}:{header_line}",
                    help="use the CSL export with its header line "
                    "(_id,source,entity_number,type,programs,name,...)",
                )
            ],
        )
    diags: list[Diagnostic] = []
    entries: list[PartyEntry] = []
    for line, loc, row in _data_rows(
        records, header, where, diags, "csl-row", "fields",
        "the file may be cut short or have an unquoted delimiter in a field",
    ):
        record = dict(zip(header, row, strict=True))
        if not _wanted(record.get("source", ""), sources):
            continue
        entry = _csl_entry(record, line, loc, diags)
        if entry is not None:
            entries.append(entry)
    _raise(where, diags)
    return tuple(entries)


def _load_csl_json(where: str, text: str, sources: Sequence[str]) -> tuple[PartyEntry, ...]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{where}: not valid JSON",
            [
                error(
                    "csl-json",
                    f"not valid JSON: {exc.msg}",
                    location=f"{where}:{exc.lineno}",
                    help="the CSL JSON is an object with a 'results' array",
                )
            ],
        ) from exc
    results = data.get("results") if isinstance(data, dict) else data
    if not isinstance(results, list):
        raise DataError(
            f"{where}: no 'results' array",
            [
                error(
                    "csl-json",
                    "the JSON has no 'results' array",
                    location=f"{where}:1",
                    help="the CSL JSON is an object with a 'results' array of records",
                )
            ],
        )
    diags: list[Diagnostic] = []
    entries: list[PartyEntry] = []
    for index, record in enumerate(results):
        loc = f"{where}:results[{index}]"
        if not isinstance(record, dict):
            diags.append(
                error("csl-row", "record is not a JSON object", location=loc, help="drop it")
            )
            continue
        if not _wanted(str(record.get("source") or ""), sources):
            continue
        entry = _csl_entry(record, None, loc, diags)
        if entry is not None:
            entries.append(entry)
    _raise(where, diags)
    return tuple(entries)


def load_csl(path: str | Path, sources: Iterable[str] = ("Entity List",)) -> tuple[PartyEntry, ...]:
    """Load the CSL export (CSV, TSV or JSON), keeping records from the named lists.

    A record is kept when its ``source`` contains one of ``sources`` (case is
    ignored). Columns are read by header name, so the 28-column layout without
    ``_id`` and the 29-column one both work. The CSL carries no removal dates.
    """
    path = Path(path)
    wanted = tuple(sources)
    text = _read_text(path)
    fmt = _detect_format(path, text)
    if fmt == "json":
        return _load_csl_json(str(path), text, wanted)
    return _load_csl_delimited(str(path), text, "\t" if fmt == "tsv" else ",", wanted)


__all__ = [
    "PARTY_COLUMNS",
    "REVIEW_POLICIES",
    "UNKNOWN_POLICY",
    "PartyEntry",
    "footnotes_from_text",
    "tidy_spaces",
    "without_footnotes",
    "load_csl",
    "load_party_csv",
    "review_policy_from_text",
    "split_addresses",
    "split_list",
]
