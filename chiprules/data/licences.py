"""Licences the exporter holds: a CSV file kept beside the rules (``--licences FILE``).

One row per licence::

    number,items,destination,end_user,consignee,quantity,tpp,valid_from,valid_to,conditions
    D123456,3A090.a;4A090.a,IN,Example Cloud Pvt. Ltd.,,1000,,2025-06-01,2027-05-31,"..."

``items`` are ECCNs (``3A090`` covers its paragraphs), separated by ``;``; ``quantity`` is
the units the licence allows and ``tpp`` the total processing performance (TPP x units), at
least one of them; ``consignee`` is optional (any consignee); ``conditions`` is free text
shown with each decision the licence covers. Every problem is reported at ``file:line``,
all of them at once, in one ``LedgerError``.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import attrs

from chiprules.core.diagnostics import error
from chiprules.core.errors import LedgerError
from chiprules.data.countries import check_code
from chiprules.data.csvtext import csv_records

COLUMNS = ("number", "items", "destination", "end_user", "consignee", "quantity", "tpp", "valid_from",
           "valid_to", "conditions")
REQUIRED = ("number", "items", "destination", "end_user", "valid_from", "valid_to")
_ECCN = re.compile(r"[0-9][A-E][0-9]{3}(\.[a-z0-9]+)*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@attrs.frozen
class Licence:
    number: str
    items: tuple[str, ...]
    destination: str
    end_user: str
    consignee: str | None
    quantity: Decimal | None  # units allowed
    tpp: Decimal | None  # TPP allowed (TPP x units)
    valid_from: date
    valid_to: date
    conditions: str | None
    location: str  # file:line

    def valid_on(self, on: date) -> bool:
        return self.valid_from <= on <= self.valid_to


def load_licences(path: str | Path) -> tuple[Licence, ...]:
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise LedgerError(f"cannot read licences file {where}: {reason}",
                          [error("licence-file", f"cannot read the licences file: {reason}", location=where)]) from None
    except UnicodeDecodeError as exc:
        raise LedgerError(f"{where} is not UTF-8 text", [error(
            "licence-file", f"the licences file is not UTF-8 text (byte {exc.start})", location=where,
            help="save it as UTF-8 CSV")]) from None
    try:
        records = list(csv_records(text))
    except Exception as exc:  # csv.Error: a malformed quote, a NUL byte
        raise LedgerError(f"{where} is not CSV", [error(
            "licence-file", f"not a CSV file: {exc}", location=where)]) from None
    if not records:
        raise LedgerError(f"{where} is empty", [error(
            "licence-file", "the licences file is empty", location=where,
            help="the first line names the columns: " + ",".join(COLUMNS))])
    header_line, header = records[0]
    header = [h.strip().lower().replace(" ", "_") for h in header]
    diags = []
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing or unknown:
        what = (f"missing column{'s' if len(missing) != 1 else ''} {', '.join(missing)}" if missing else
                f"unknown column{'s' if len(unknown) != 1 else ''} {', '.join(unknown)}")
        raise LedgerError(f"{where}: {what}", [error(
            "licence-columns", f"the licences file has {what}", location=f"{where}:{header_line}",
            help="the columns are " + ", ".join(COLUMNS))])
    out, seen = [], {}
    for line, row in records[1:]:
        if not any(cell.strip() for cell in row):
            continue
        loc = f"{where}:{line}"
        if len(row) != len(header):
            diags.append(error("licence-row", f"row has {len(row)} cells; the header has {len(header)}",
                               location=loc))
            continue
        cells = {h: c.strip() for h, c in zip(header, row, strict=True)}
        lic, problems = _licence(cells, loc)
        diags.extend(problems)
        if lic is None:
            continue
        if lic.number in seen:
            diags.append(error("licence-row", f"licence `{lic.number}` is listed twice (first at {seen[lic.number]})",
                               location=loc, help="one row per licence; amend the first row instead"))
            continue
        seen[lic.number] = loc
        out.append(lic)
    if diags:
        raise LedgerError(f"{where}: {len(diags)} problem{'s' if len(diags) != 1 else ''}", diags)
    return tuple(out)


def _licence(cells: dict, loc: str):
    problems = []

    def bad(column, message, help=None):
        problems.append(error("licence-value", f"column '{column}': {message}", location=loc, help=help))

    for c in REQUIRED:
        if not cells.get(c):
            bad(c, "empty", "every licence needs a number, items, a destination, an end user and its dates")
    items = tuple(i.strip() for i in cells.get("items", "").split(";") if i.strip())
    for i in items:
        if not _ECCN.fullmatch(i):
            bad("items", f"`{i}` is not an ECCN", "write ECCNs such as 3A090.a, separated by `;`")
    dest = cells.get("destination", "")
    if dest:
        good, hint = check_code(dest)
        if not good:
            bad("destination", f"unknown country code `{dest}`", hint)
    amounts = {}
    for c in ("quantity", "tpp"):
        text = cells.get(c, "")
        if not text:
            amounts[c] = None
            continue
        try:
            value = Decimal(text.replace(",", ""))
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value <= 0 or value.adjusted() > 30:
            bad(c, f"`{text}` is not a positive number")
            amounts[c] = None
        else:
            amounts[c] = value
    if not cells.get("quantity") and not cells.get("tpp"):
        bad("quantity", "a licence needs a quantity of units or a TPP amount (or both)")
    dates = {}
    for c in ("valid_from", "valid_to"):
        text = cells.get(c, "")
        if not text:
            continue
        try:
            if not _DATE.fullmatch(text):
                raise ValueError
            dates[c] = date.fromisoformat(text)
        except ValueError:
            bad(c, f"`{text}` is not a date", "write YYYY-MM-DD")
    if len(dates) == 2 and dates["valid_to"] < dates["valid_from"]:
        bad("valid_to", f"the licence ends ({dates['valid_to']}) before it starts ({dates['valid_from']})")
    if problems:
        return None, problems
    return Licence(cells["number"], items, dest, cells["end_user"], cells.get("consignee") or None,
                   amounts["quantity"], amounts["tpp"], dates["valid_from"], dates["valid_to"],
                   cells.get("conditions") or None, loc), []
