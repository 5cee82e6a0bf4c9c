"""Reading shipment records: files in, raw records out, typed values on request.

Two steps, kept apart so that nothing is ever dropped:

- `read_records` streams a CSV, TSV, JSON, JSON Lines or Parquet file (or JSON Lines
  on stdin) and yields one `RawRecord` per input record, with its location. A record
  that cannot be read at all still comes out, with `problem` set.
- `convert_record` turns the known fields of one record into typed values (exact
  `Decimal` numbers, ISO country codes, dates ...) and reports each bad value as a
  `FieldProblem`. Unknown fields pass through untouched.

The field contract is DESIGN section 5; `DEFAULT_FIELDS` encodes it.

Diagnostic codes: R001 a field value is invalid; R002 a record could not be read;
R010 unknown format; R011 the file cannot be opened or read; R012 not UTF-8;
R013 CSV/TSV structure (header, columns); R014 JSON structure; R015 Parquet.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as _dt
import gzip
import io
import json
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

import attrs
import pyarrow.parquet as pq

from chiprules.core.diagnostics import Diagnostic, did_you_mean, error
from chiprules.core.errors import RecordError
from chiprules.data.countries import (
    RetiredCountry,
    UnknownCountry,
    all_country_codes,
    country_name,
    resolve_country,
)
from chiprules.data.csvtext import CsvRows

__all__ = [
    "DEFAULTS",
    "DEFAULT_FIELDS",
    "MAGNITUDE",
    "FORMATS",
    "FieldProblem",
    "FieldSpec",
    "RawRecord",
    "convert_record",
    "json_records",
    "normalize_field_name",
    "parse_json",
    "problems_to_diagnostics",
    "read_records",
    "typed_check",
]

KINDS = frozenset({"quantity", "integer", "bool", "country", "date", "text", "enum", "party"})


@attrs.frozen
class FieldSpec:
    """The type of one record field."""

    name: str
    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))
    unit: str | None = None  # for quantities: "TPP", "mm2", "GB/s" ...
    values: tuple[str, ...] = ()  # for enums: the allowed values, lower case
    allow_negative: bool = False  # quantities and counts are never negative by default
    allow_zero: bool = True  # a die area of zero would make the density infinite


def _q(name: str, unit: str, **kw: Any) -> FieldSpec:
    return FieldSpec(name, "quantity", unit=unit, **kw)


DEFAULT_FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("id", "text"),
        FieldSpec("export_date", "date"),
        FieldSpec("transaction", "enum", values=("export", "reexport", "transfer")),
        FieldSpec("exported_from", "country"),
        FieldSpec("destination", "country"),
        FieldSpec("end_user", "party"),
        FieldSpec("end_user_hq", "country"),
        FieldSpec("end_user_parent", "party"),
        FieldSpec("consignee", "party"),
        FieldSpec("chip", "text"),
        FieldSpec("item_kind", "enum", values=("ic", "computer", "hbm")),
        _q("tpp", "TPP"),
        _q("die_area", "mm2", allow_zero=False),
        _q("performance_density", "TPP/mm2"),
        FieldSpec("datacenter", "bool"),
        _q("interconnect_bw", "GB/s"),
        _q("dram_bw", "GB/s"),
        _q("memory_bw_density", "GB/s/mm2"),
        FieldSpec("quantity", "integer"),
    )
}

# Values the caller fills in when a record leaves these fields out.
DEFAULTS: dict[str, str] = {"transaction": "export", "exported_from": "US", "item_kind": "ic"}

# Spellings of "no value", in any case and with surrounding whitespace.
_MISSING = frozenset({"", "na", "n/a", "null", "-"})


def _case_variants(word: str) -> set[str]:
    variants = {""}
    for ch in word:
        variants = {v + c for v in variants for c in {ch.lower(), ch.upper()}}
    return variants


# Every spelling of a missing value, so that the common check is one set lookup.
_MISSING_ANY_CASE = frozenset(v for word in _MISSING for v in _case_variants(word))


# --------------------------------------------------------------------------- problems


@attrs.frozen
class FieldProblem:
    """A field value that could not be used: which field, what was there, what is wrong."""

    field: str
    value: str  # the raw value, shortened and safe to print
    message: str  # one line, lower case
    help: str | None = None  # what to do about it


@attrs.frozen
class RawRecord:
    """One input record as read, before any conversion."""

    number: int  # 1-based position among the records of the input
    location: str  # where to point a reader: `shipments.csv:7`, `x.json: record 3`
    data: dict[str, object]
    problem: str | None = None  # set when the record itself could not be read


R_FIELD = "R001"  # a field value is invalid
R_RECORD = "R002"  # a record could not be read


def problems_to_diagnostics(raw: RawRecord, problems: Iterable[FieldProblem]) -> list[Diagnostic]:
    """Diagnostics for a record: R002 if it could not be read, R001 for each bad field."""
    out = []
    if raw.problem is not None:
        out.append(error(R_RECORD, raw.problem, location=raw.location))
    for p in problems:
        out.append(error(R_FIELD, p.message, location=raw.location, help=p.help))
    return out


def _shown(value: object, limit: int = 60) -> str:
    """A raw value as a short, printable string for messages."""
    if isinstance(value, str):
        s = value
    elif isinstance(value, float | int | Decimal | bool) or value is None:
        s = str(value)
    else:
        s = repr(value)
    if not s.isprintable():
        s = repr(s)[1:-1]
    s = s.replace("`", "'")
    if len(s) > limit:
        s = s[: limit - 3] + "..."
    return s


def _type_word(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a value of type {type(value).__name__}"


class _Invalid(Exception):
    """Raised by a converter; carries the message and the help."""

    def __init__(self, message: str, help: str | None = None):
        self.message = message
        self.help = help


# --------------------------------------------------------------------------- converters

_UNIT_SPELLINGS: dict[str, tuple[str, ...]] = {
    "TPP": ("TPP", "tpp"),
    "mm2": ("mm2", "mm²", "mm^2", "MM2"),
    "TPP/mm2": ("TPP/mm2", "TPP/mm²", "TPP/mm^2", "tpp/mm2"),
    "GB/s": ("GB/s", "GB/sec", "GBps"),
    "GB/s/mm2": ("GB/s/mm2", "GB/s/mm²", "GB/s/mm^2"),
    "PFLOPS": ("PFLOPS", "PFLOP/s", "petaflops"),
    "ft3": ("ft3", "ft³", "cu ft"),
    "nm": ("nm",),
    "um2": ("um2", "µm²", "μm²", "µm2", "um^2"),
    "Gb/mm2": ("Gb/mm2", "Gb/mm²", "Gb/mm^2"),
    "ops": ("ops", "operations", "FLOP"),
}
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_NUMBER_HELP = (
    "write a plain number such as `4800` or `5.92`, or leave the field empty if it is not known"
)


def _decimal_from_text(s: str, spec: FieldSpec) -> Decimal:
    """Parse the text of a number exactly; the slow cases only run when Decimal() fails."""
    try:
        return Decimal(s)
    except InvalidOperation:
        pass
    unit_words = f" in {spec.unit}" if spec.unit else ""
    text = s.strip()
    for spelling in _UNIT_SPELLINGS.get(spec.unit or "", ()):
        if text.endswith(spelling) and len(text) > len(spelling):
            text = text[: -len(spelling)].rstrip()
            break
    if "," in text:
        if _THOUSANDS.fullmatch(text):
            return Decimal(text.replace(",", ""))
        raise _Invalid(
            f"`{spec.name}` has a comma that is not a thousands separator: `{_shown(s)}`",
            "use `.` as the decimal point, e.g. `5.92`; commas may only group thousands, e.g. `4,800`",
        )
    try:
        return Decimal(text)
    except InvalidOperation:
        raise _Invalid(
            f"`{spec.name}` must be a number{unit_words}, got `{_shown(s)}`", _NUMBER_HELP
        ) from None


def _to_decimal(value: object, spec: FieldSpec) -> Decimal:
    if type(value) is str:
        d = _DECIMALS.get(value)
        if d is None:
            try:
                d = Decimal(value)
            except InvalidOperation:  # units, thousands separators, or not a number
                return _decimal_from_text(value, spec)
            if len(_DECIMALS) < _CACHE_SIZE:  # only plain numbers: the unit check is per field
                _DECIMALS[value] = d
        return d
    if isinstance(value, bool):
        raise _Invalid(f"`{spec.name}` must be a number, got {_type_word(value)}", _NUMBER_HELP)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return Decimal(value)  # rejected as not finite by the caller
        return Decimal(repr(value))
    if isinstance(value, str):  # a str subclass
        return _decimal_from_text(str(value), spec)
    raise _Invalid(f"`{spec.name}` must be a number, got {_type_word(value)}", _NUMBER_HELP)


def _check_sign(d: Decimal, spec: FieldSpec, raw: object) -> None:
    if not d.is_finite():
        raise _Invalid(
            f"`{spec.name}` must be a finite number, got `{_shown(raw)}`",
            "leave the field empty if the value is not known",
        )
    if d <= 0:
        if d < 0 and not spec.allow_negative:
            raise _Invalid(
                f"`{spec.name}` must not be negative, got `{_shown(raw)}`",
                f"give the {spec.name.replace('_', ' ')} as a positive number"
                + (f" in {spec.unit}" if spec.unit else ""),
            )
        if d == 0 and not spec.allow_zero:
            raise _Invalid(
                f"`{spec.name}` must be greater than zero, got `{_shown(raw)}`",
                "leave the field empty if the value is not known",
            )


# Numbers are exact, so a size such as 1e999999999 would cost the arithmetic without end;
# no figure a record or a rule holds comes near these bounds (in its canonical unit).
MAGNITUDE = 30


def _check_size(d: Decimal, spec: FieldSpec, raw: object) -> Decimal:
    if d and not -MAGNITUDE <= d.adjusted() <= MAGNITUDE:
        raise _Invalid(
            f"`{spec.name}` is out of range: `{_shown(raw)}`",
            f"give a number between 1e-{MAGNITUDE} and 1e{MAGNITUDE} in size"
            + (f" in {spec.unit}" if spec.unit else "")
            + ", or leave the field empty if it is not known",
        )
    return d


def _convert_quantity(value: object, spec: FieldSpec) -> Decimal:
    d = _to_decimal(value, spec)
    if d.is_finite() and d > 0:  # the common case, checked first
        return _check_size(d, spec, value)
    _check_sign(d, spec, value)
    return _check_size(d, spec, value)


_MAX_INT_DIGITS = 30  # larger counts are mistakes, and huge exponents would eat memory
_TOO_MANY = 10**_MAX_INT_DIGITS


def _convert_integer(value: object, spec: FieldSpec) -> int:
    if type(value) is int:
        n = value
    elif type(value) is str:
        try:
            n = int(value)
        except ValueError:
            n = _integral(_decimal_from_text(value, spec), spec, value)
    elif isinstance(value, bool):
        raise _Invalid(f"`{spec.name}` must be a whole number, got {_type_word(value)}")
    elif isinstance(value, int):
        n = int(value)
    else:
        n = _integral(_to_decimal(value, spec), spec, value)
    if n < 0 and not spec.allow_negative:
        raise _Invalid(
            f"`{spec.name}` must not be negative, got `{_shown(value)}`",
            "give the count as a whole number of 0 or more",
        )
    if n >= _TOO_MANY:
        raise _Invalid(f"`{spec.name}` is too large: `{_shown(value)}`", "check the value")
    if n == 0 and not spec.allow_zero:
        raise _Invalid(f"`{spec.name}` must be greater than zero, got `{_shown(value)}`")
    return n


def _integral(d: Decimal, spec: FieldSpec, raw: object) -> int:
    if not d.is_finite():
        raise _Invalid(
            f"`{spec.name}` must be a whole number, got `{_shown(raw)}`",
            "leave the field empty if the value is not known",
        )
    if d.adjusted() >= _MAX_INT_DIGITS:
        raise _Invalid(f"`{spec.name}` is too large: `{_shown(raw)}`", "check the value")
    if d != d.to_integral_value():
        raise _Invalid(
            f"`{spec.name}` must be a whole number, got `{_shown(raw)}`",
            "counts of units have no fractional part",
        )
    return int(d)


_BOOLS = {
    "yes": True, "y": True, "true": True, "t": True, "1": True, "on": True,
    "no": False, "n": False, "false": False, "f": False, "0": False, "off": False,
}  # fmt: skip


def _convert_bool(value: object, spec: FieldSpec) -> bool:
    if value is True or value is False:
        return value
    if isinstance(value, str):
        b = _BOOLS.get(value.strip().lower())
        if b is not None:
            return b
    elif isinstance(value, int | Decimal | float) and value in (0, 1):
        return bool(value)
    raise _Invalid(
        f"`{spec.name}` must be yes or no, got `{_shown(value)}`",
        "write yes/no, true/false, y/n, 1/0 or on/off; leave the field empty if it is not known",
    )


def _convert_country(value: object, spec: FieldSpec) -> str:
    if not isinstance(value, str):
        raise _Invalid(
            f"`{spec.name}` must be a country code or name, got {_type_word(value)}",
            "write an ISO 3166-1 alpha-2 code such as `CN`, or a country name",
        )
    try:
        return resolve_country(value)
    except RetiredCountry as exc:
        what = f" ({exc.name})" if exc.name else ""
        raise _Invalid(
            f"retired country code `{_shown(value)}`{what} in `{spec.name}`",
            exc.successors_hint or "write the code of the country as it is today",
        ) from None
    except UnknownCountry as exc:
        if exc.suggested_code:
            help = f"did you mean `{exc.suggested_code}` ({country_name(exc.suggested_code)})?"
        elif exc.hint:
            help = exc.hint
        else:
            help = "write an ISO 3166-1 alpha-2 code such as `CN`, or a country name"
        raise _Invalid(f"unknown country `{_shown(value)}` in `{spec.name}`", help) from None


# Record files repeat the same few hundred dates and numbers; parse each spelling once.
_CACHE_SIZE = 8192
_DATES: dict[str, _dt.date] = {}
_DECIMALS: dict[str, Decimal] = {}

_DATE_HELP = "write the date as YYYY-MM-DD, e.g. `2024-01-10`"


def _convert_date(value: object, spec: FieldSpec) -> _dt.date:
    if type(value) is str:
        d = _DATES.get(value)
        if d is None:
            d = _date_from_text(value, spec)
            if len(_DATES) < _CACHE_SIZE:
                _DATES[value] = d
        return d
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        return _date_from_text(str(value), spec)
    raise _Invalid(f"`{spec.name}` must be a date, got {_type_word(value)}", _DATE_HELP)


def _date_from_text(value: str, spec: FieldSpec) -> _dt.date:
    s = value.strip()
    # YYYY-MM-DD, optionally followed by a time ("T" or a space) that is ignored.
    if len(s) >= 10 and s[4] == "-" and s[7] == "-" and (len(s) == 10 or s[10] in "T "):
        y, m, d = s[:4], s[5:7], s[8:10]
        if (
            y.isascii()
            and y.isdigit()
            and m.isascii()
            and m.isdigit()
            and d.isascii()
            and d.isdigit()
        ):
            try:
                return _dt.date(int(y), int(m), int(d))
            except ValueError as exc:
                raise _Invalid(
                    f"`{spec.name}` is not a real date: `{_shown(value)}` ({exc})", _DATE_HELP
                ) from None
    raise _Invalid(
        f"`{spec.name}` must be a date written YYYY-MM-DD, got `{_shown(value)}`", _DATE_HELP
    )


def _convert_enum(value: object, spec: FieldSpec) -> str:
    if isinstance(value, str):
        s = value.strip().lower()
        if s in spec.values:
            return s
        squeezed = s.replace("-", "").replace("_", "").replace(" ", "")
        if squeezed in spec.values:  # "re-export" -> "reexport"
            return squeezed
    choices = ", ".join(f"`{v}`" for v in spec.values)
    guess = did_you_mean(value.strip().lower(), spec.values) if isinstance(value, str) else None
    raise _Invalid(
        f"`{spec.name}` must be one of {choices}, got `{_shown(value)}`",
        f"did you mean `{guess}`?" if guess else f"use one of {choices}",
    )


def _convert_text(value: object, spec: FieldSpec) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        return str(value)
    raise _Invalid(
        f"`{spec.name}` must be text, got {_type_word(value)}", "write the value as text"
    )


_CONVERTERS: dict[str, Callable[[object, FieldSpec], object]] = {
    "quantity": _convert_quantity,
    "integer": _convert_integer,
    "bool": _convert_bool,
    "country": _convert_country,
    "date": _convert_date,
    "enum": _convert_enum,
    "text": _convert_text,
    "party": _convert_text,
}


def convert_record(
    data: Mapping[str, object], specs: Mapping[str, FieldSpec] = DEFAULT_FIELDS
) -> tuple[dict[str, object], list[FieldProblem]]:
    """Typed values for the known fields of a record, and a problem for each bad one.

    Missing values (empty, whitespace, `NA`, `N/A`, `null`, `-`, None) are left out of
    the result, so that "not given" never reads as false or zero. A bad value is left
    out too, and reported. Fields without a spec pass through unchanged. Never raises
    for bad values.
    """
    out: dict[str, object] = {}
    problems: list[FieldProblem] = []
    converters = _CONVERTERS
    missing = _MISSING_ANY_CASE
    for name, value in data.items():
        spec = specs.get(name)
        if spec is None:
            out[name] = value
            continue
        if value is None:
            continue
        if type(value) is str:
            if value in missing:
                continue
            if (value[0].isspace() or value[-1].isspace()) and value.strip() in missing:
                continue
        try:
            out[name] = converters[spec.kind](value, spec)
        except _Invalid as bad:
            problems.append(FieldProblem(name, _shown(value), bad.message, bad.help))
        except (ValueError, TypeError, ArithmeticError) as exc:  # defensive: never escape
            problems.append(
                FieldProblem(name, _shown(value), f"`{name}` could not be read: {exc}", None)
            )
    return out, problems


def typed_check(spec: FieldSpec) -> Callable[[object], bool]:
    """A test for values already of the field's type, that `convert_record` would keep as
    they are: records built in Python usually carry such values, and testing the type is
    far cheaper than converting again."""
    kind = spec.kind
    if kind == "quantity":
        low, high = -MAGNITUDE, MAGNITUDE
        if spec.allow_zero:
            return lambda v: type(v) is Decimal and v.is_finite() and (
                v == 0 or v > 0 and low <= v.adjusted() <= high
            )
        return lambda v: type(v) is Decimal and v.is_finite() and v > 0 and low <= v.adjusted() <= high
    if kind == "integer":
        top = 10**_MAX_INT_DIGITS
        return lambda v: type(v) is int and 0 <= v < top
    if kind == "bool":
        return lambda v: v is True or v is False
    if kind == "date":
        return lambda v: type(v) is _dt.date
    if kind == "country":
        codes = all_country_codes()
        return lambda v: type(v) is str and v in codes
    if kind == "enum":
        values = frozenset(spec.values)
        return lambda v: type(v) is str and v in values
    missing = _MISSING_ANY_CASE
    # text: no white space at either end (what `strip` removes is what `isspace` finds) and
    # not a spelling of "no value"
    return lambda v: type(v) is str and v != "" and v.strip() == v and v not in missing


# --------------------------------------------------------------------------- field names

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_NAME_CACHE: dict[str, str] = {}


def normalize_field_name(name: str) -> str:
    """`"Export Date"` -> `export_date`, `"dieArea"` -> `die_area`, `"TPP"` -> `tpp`."""
    cached = _NAME_CACHE.get(name)
    if cached is not None:
        return cached
    s = name.replace("\ufeff", "").strip()
    s = _CAMEL.sub("_", s).lower()
    s = _NON_WORD.sub("_", s).strip("_")
    if len(_NAME_CACHE) < 10_000:
        _NAME_CACHE[name] = s
    return s


def _normalized_keys(obj: dict) -> tuple[dict[str, object], str | None]:
    """The object with normalized keys, and a problem if two keys collide."""
    out: dict[str, object] = {}
    problem = None
    for key, value in obj.items():
        name = normalize_field_name(key)
        if name in out and problem is None:
            problem = f"two fields both read as `{name}` (one of them is `{_shown(key)}`)"
        out[name] = value
    return out, problem


# --------------------------------------------------------------------------- reading

FORMATS = ("csv", "tsv", "json", "jsonl", "parquet")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_FORMAT_ALIASES = {"ndjson": "jsonl", "jsonlines": "jsonl"}

_PARQUET_BATCH = 4096  # rows per Parquet batch: big enough to be fast, small enough to stay flat


def _fail(code: str, message: str, location: str, help: str | None = None) -> RecordError:
    return RecordError(message, [error(code, message, location=location, help=help)])


def _detect_format(path: Path) -> tuple[str, bool]:
    """(format, gzipped) from the file name."""
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    if gz:
        suffixes = suffixes[:-1]
    fmt = _EXTENSIONS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise _fail(
            "R010",
            f"cannot tell the format of `{path}` from its name",
            str(path),
            "name the file with one of .csv, .tsv, .json, .jsonl, .ndjson or .parquet"
            " (optionally followed by .gz), or give the format explicitly",
        )
    return fmt, gz


def read_records(
    source: str | Path | IO[str] | IO[bytes], fmt: str | None = None
) -> Iterator[RawRecord]:
    """Stream the records of a file, of `-` (JSON Lines on stdin) or of an open stream.

    The format comes from the file extension (`.csv`, `.tsv`, `.json`, `.jsonl`,
    `.ndjson`, `.parquet`, each but Parquet optionally followed by `.gz`) unless `fmt`
    names it; a stream is JSON Lines unless `fmt` says otherwise. Every input record
    yields exactly one `RawRecord`. A file that cannot be read raises `RecordError`
    with a located diagnostic: at the call for what opening shows (no such file, no
    header, bad JSON document), during iteration for what comes later.
    """
    if fmt is not None:
        fmt = _FORMAT_ALIASES.get(fmt.lower(), fmt.lower())
        if fmt not in FORMATS:
            raise _fail(
                "R010",
                f"unknown record format `{_shown(fmt)}`",
                "<input>",
                "use one of " + ", ".join(f"`{f}`" for f in FORMATS),
            )
    if isinstance(source, str) and source == "-":
        return _read_stream(sys.stdin, fmt or "jsonl", "<stdin>")
    if not isinstance(source, str | Path):
        name = getattr(source, "name", None)
        return _read_stream(source, fmt or "jsonl", name if isinstance(name, str) else "<stream>")
    path = Path(source)
    name = str(source)
    if not path.exists():
        raise _fail("R011", f"no such file: `{name}`", name, "check the path")
    if path.is_dir():
        raise _fail(
            "R011", f"`{name}` is a folder, not a records file", name, "name a file inside it"
        )
    gz = path.suffix.lower() == ".gz"
    if fmt is None:
        fmt, gz = _detect_format(path)
    if fmt == "parquet":
        return _read_parquet(path, name)
    binary = _open_binary(path, name, gz)
    # newline="" lets the csv module see quoted line breaks; JSON Lines split on "\n" only.
    text = io.TextIOWrapper(
        binary, encoding="utf-8-sig", newline="" if fmt in ("csv", "tsv") else "\n"
    )
    return _records(text, fmt, name, close=text.close, rescan=lambda: _first_bad_line(path, gz))


def _open_binary(path: Path, name: str, gz: bool) -> IO[bytes]:
    try:
        return gzip.open(path, "rb") if gz else open(path, "rb")  # type: ignore[return-value]
    except OSError as exc:
        raise _fail(
            "R011",
            f"cannot open `{name}`: {exc.strerror or exc}",
            name,
            "check the file's permissions",
        ) from None


def _read_stream(stream: Any, fmt: str, name: str) -> Iterator[RawRecord]:
    if fmt == "parquet":
        return _read_parquet(stream, name)
    binary = getattr(stream, "buffer", None)  # stdin: read the bytes, decode them as UTF-8
    if binary is None and _is_binary(stream):
        binary = stream
    lines = _decode_lines(binary, name) if binary is not None else stream
    return _records(lines, fmt, name, close=None, rescan=None)


def _is_binary(stream: Any) -> bool:
    try:
        return isinstance(stream.read(0), bytes)
    except Exception:
        return False


def _decode_lines(binary: IO[bytes], name: str) -> Iterator[str]:
    """Lines of a binary stream decoded as UTF-8, one by one, so errors name their line."""
    for lineno, raw in enumerate(binary, 1):
        if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _not_utf8(name, (lineno, raw[exc.start])) from None


def _first_bad_line(path: Path, gz: bool) -> tuple[int, int] | None:
    """(line, byte) of the first bytes in a file that are not UTF-8."""
    with gzip.open(path, "rb") if gz else open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return lineno, raw[exc.start]
    return None


def _not_utf8(name: str, where: tuple[int, int] | None) -> RecordError:
    if where is None:
        message, location = f"`{name}` is not UTF-8 text", name
    else:
        line, byte = where
        message = f"`{name}` is not UTF-8 text (byte 0x{byte:02x} on line {line})"
        location = f"{name}:{line}"
    return _fail("R012", message, location, "save the file as UTF-8 (in a spreadsheet: CSV UTF-8)")


@contextlib.contextmanager
def _read_errors(name: str, rescan: Callable[[], tuple[int, int] | None] | None):
    """Turn decoding and I/O failures into located record errors."""
    try:
        yield
    except UnicodeDecodeError:
        where = None
        if rescan is not None:
            try:
                where = rescan()
            except (OSError, EOFError, zlib.error):
                pass
        raise _not_utf8(name, where) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise _fail(
            "R011",
            f"cannot read `{name}`: {exc}",
            name,
            "check that the file is complete and not damaged",
        ) from None


def _records(
    lines: Iterable[str],
    fmt: str,
    name: str,
    close: Callable[[], None] | None,
    rescan: Callable[[], tuple[int, int] | None] | None,
) -> Iterator[RawRecord]:
    """Read what must be read up front (a CSV header, a JSON document), then stream."""
    try:
        with _read_errors(name, rescan):
            if fmt in ("csv", "tsv"):
                reader = CsvRows(lines, delimiter="\t" if fmt == "tsv" else ",")
                rows = _csv_rows(reader, name, _csv_header(reader, name))
            elif fmt == "jsonl":
                rows = _jsonl_rows(lines, name)
            else:
                rows = _json_stream(iter(lines), name)
    except BaseException:
        if close is not None:
            close()
        raise
    return _streamed(rows, name, close, rescan)


def _streamed(
    rows: Iterator[RawRecord],
    name: str,
    close: Callable[[], None] | None,
    rescan: Callable[[], tuple[int, int] | None] | None,
) -> Iterator[RawRecord]:
    try:
        with _read_errors(name, rescan):
            yield from rows
    finally:
        if close is not None:
            close()


def _csv_header(reader: CsvRows, name: str) -> list[str]:
    """The normalized column names from the first non-blank row; sets the reader's width."""
    rows = iter(reader)
    for row in rows:
        if row.problem is not None:
            raise _fail(
                "R013", f"cannot read the header of `{name}`: {row.problem}", f"{name}:{row.line}",
                row.help,
            )
        if any(cell.strip() for cell in row.cells):
            break
    else:
        raise _fail(
            "R013",
            f"`{name}` has no header line",
            f"{name}:1",
            "the first line must name the columns, e.g. `id,export_date,destination,chip`",
        )
    location = f"{name}:{row.line}"
    columns = _column_names(row.cells, name, location)
    if not any(c in DEFAULT_FIELDS for c in columns):
        fields = ", ".join(f"`{f}`" for f in list(DEFAULT_FIELDS)[:6])
        raise _fail(
            "R013",
            f"the first line of `{name}` names no record field",
            location,
            f"start the file with a header line naming the columns, e.g. {fields} ...",
        )
    reader.width = len(columns)
    reader.rows = rows
    return columns


def _column_names(header: list[str], name: str, location: str) -> list[str]:
    """Normalized column names; two columns that read the same are an error."""
    columns = [normalize_field_name(h) or f"column_{i}" for i, h in enumerate(header, 1)]
    seen: dict[str, int] = {}
    for i, col in enumerate(columns, 1):
        if col in seen:
            raise _fail(
                "R013",
                f"columns {seen[col]} and {i} of `{name}` both read as `{col}`",
                location,
                "give every column its own name",
            )
        seen[col] = i
    return columns


def _csv_rows(reader: CsvRows, name: str, columns: list[str]) -> Iterator[RawRecord]:
    width = len(columns)
    number = 0
    for row in reader.rows:
        cells = row.cells
        if row.problem is None and (not any(cells) or (len(cells) == 1 and not cells[0].strip())):
            continue  # a blank line, or a spreadsheet's row of empty cells
        number += 1
        problem = row.problem if row.help is None else f"{row.problem}; {row.help}"
        if len(cells) > width:
            if problem is None and any(cell.strip() for cell in cells[width:]):
                problem = f"row has {len(cells)} cells but the header names {width} columns"
            cells = cells[:width]
        yield RawRecord(number, f"{name}:{row.line}", dict(zip(columns, cells, strict=False)), problem)


def _json_int(text: str) -> int | Decimal:
    # a whole number too long for `int` (and its limit on digits) stays an exact Decimal,
    # which the field's converter then finds out of range
    return int(text) if len(text) <= _MAX_INT_DIGITS + 1 else Decimal(text)


def _parse_json(text: str) -> object:
    return json.loads(text, parse_float=Decimal, parse_constant=Decimal, parse_int=_json_int)


def _jsonl_rows(lines: Iterable[str], name: str) -> Iterator[RawRecord]:
    number = 0
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        number += 1
        location = f"{name}:{lineno}"
        try:
            obj = _parse_json(line)
        except (ValueError, RecursionError) as exc:
            if isinstance(exc, json.JSONDecodeError):
                reason = f"{exc.msg.lower()} at column {exc.colno}"
            else:
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            yield RawRecord(number, location, {}, f"line {lineno} is not valid JSON: {reason}")
            continue
        if not isinstance(obj, dict):
            problem = f"line {lineno} is not a JSON object (got {_json_kind(obj)})"
            yield RawRecord(number, location, {}, problem)
            continue
        data, problem = _normalized_keys(obj)
        yield RawRecord(number, location, data, problem)


def _json_kind(obj: object) -> str:
    if isinstance(obj, dict):
        return "an object"
    if isinstance(obj, list):
        return "an array"
    if isinstance(obj, str):
        return "a string"
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "a boolean"
    return "a number"


def _json_document(text: str, name: str) -> list:
    """The records of a JSON array, or of an object's `records` array (read whole)."""
    try:
        doc = _parse_json(text)
    except json.JSONDecodeError as exc:
        raise _fail(
            "R014",
            f"`{name}` is not valid JSON: {exc.msg.lower()}",
            f"{name}:{exc.lineno}:{exc.colno}",
            "a JSON records file is an array of objects, `[{...}, {...}]`",
        ) from None
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise _fail("R014", f"`{name}` is not valid JSON: {reason}", name) from None
    if isinstance(doc, dict) and isinstance(doc.get("records"), list):
        return doc["records"]
    if isinstance(doc, list):
        return doc
    what = "an object without a `records` array" if isinstance(doc, dict) else _json_kind(doc)
    raise _fail(
        "R014",
        f"`{name}` holds {what}",
        name,
        "a JSON records file is an array of objects, or an object with a `records` array",
    )


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=Decimal, parse_int=_json_int)
_JSON_CHUNK = 1 << 16  # characters read at least at a time


def _json_stream(lines: Iterator[str], name: str) -> Iterator[RawRecord]:
    """The records of a JSON document: a top-level array is read one element at a time (a
    file larger than memory streams); an object with a `records` array is read whole."""
    head = ""
    for line in lines:
        head += line
        if head.strip():
            break
    if not head.lstrip().startswith("["):
        return _json_items(_json_document(head + "".join(lines), name), name)
    return _json_array(head, lines, name)


def _json_array(buf: str, lines: Iterator[str], name: str) -> Iterator[RawRecord]:
    pos = buf.index("[") + 1
    done_lines = 0  # line breaks in the text already dropped from the buffer
    carried = 0  # characters of the current line already dropped from the buffer
    more = True
    number = 0

    def fill(want: int) -> bool:
        nonlocal buf, more
        got = []
        size = 0
        for line in lines:
            got.append(line)
            size += len(line)
            if size >= want:
                break
        else:
            more = False
        buf += "".join(got)
        return bool(got)

    def where(at: int) -> str:
        line = done_lines + buf.count("\n", 0, at) + 1
        start = buf.rfind("\n", 0, at)
        col = at - start if start >= 0 else at + carried + 1
        return f"{name}:{line}:{col}"

    def bad(at: int, what: str) -> RecordError:
        return _fail("R014", f"`{name}` is not valid JSON: {what}", where(at),
                     "a JSON records file is an array of objects, `[{...}, {...}]`")

    def skip_space() -> None:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos < len(buf) or not more or not fill(_JSON_CHUNK):
                return

    first = True
    while True:
        skip_space()
        if pos >= len(buf):
            raise bad(pos, "the array is never closed")
        if buf[pos] == "]":
            pos += 1
            skip_space()
            if pos < len(buf):
                raise bad(pos, "extra data after the array")
            return
        if not first:
            if buf[pos] != ",":
                raise bad(pos, "expecting `,` or `]` between records")
            pos += 1
            skip_space()
            if pos >= len(buf):
                raise bad(pos, "the array is never closed")
        first = False
        while True:
            try:
                obj, end = _DECODER.raw_decode(buf, pos)
                break
            except json.JSONDecodeError as exc:
                if more and fill(max(_JSON_CHUNK, len(buf) - pos)):
                    continue
                raise bad(exc.pos, exc.msg.lower()) from None
            except (ValueError, RecursionError) as exc:
                raise bad(pos, "nested too deeply" if isinstance(exc, RecursionError) else str(exc)) from None
        number += 1
        location = f"{name}: record {number}"
        if isinstance(obj, dict):
            data, problem = _normalized_keys(obj)
            yield RawRecord(number, location, data, problem)
        else:
            yield RawRecord(number, location, {}, f"record {number} is not a JSON object (got {_json_kind(obj)})")
        pos = end
        if pos > _JSON_CHUNK:  # drop what is read, keeping count of its lines for locations
            breaks = buf.count("\n", 0, pos)
            done_lines += breaks
            carried = pos - buf.rfind("\n", 0, pos) - 1 if breaks else carried + pos
            buf = buf[pos:]
            pos = 0


def _json_items(items: list, name: str) -> Iterator[RawRecord]:
    for number, obj in enumerate(items, 1):
        location = f"{name}: record {number}"
        if isinstance(obj, dict):
            data, problem = _normalized_keys(obj)
            yield RawRecord(number, location, data, problem)
        else:
            problem = f"record {number} is not a JSON object (got {_json_kind(obj)})"
            yield RawRecord(number, location, {}, problem)


def json_records(items: Iterable[object], name: str) -> Iterator[RawRecord]:
    """Records from JSON values already parsed (numbers as `Decimal`), read as the records of
    a JSON file named ``name`` are: keys normalised, anything but an object a record that
    cannot be read."""
    return _json_items(list(items), name)


def parse_json(text: str | bytes) -> object:
    """JSON text parsed as the record reader parses it: numbers exact, as `Decimal`."""
    return _parse_json(text)


def _read_parquet(source: Any, name: str) -> Iterator[RawRecord]:
    try:
        pf = pq.ParquetFile(source)
    except FileNotFoundError:
        raise _fail("R011", f"no such file: `{name}`", name, "check the path") from None
    except IsADirectoryError:
        raise _fail(
            "R011", f"`{name}` is a folder, not a records file", name, "name a file inside it"
        ) from None
    except Exception as exc:  # pyarrow raises its own error types for bad files
        raise _fail(
            "R015",
            f"`{name}` is not a readable Parquet file: {exc}",
            name,
            "check that the file is Parquet",
        ) from None
    columns = _column_names(pf.schema_arrow.names, name, name)
    return _parquet_rows(pf, name, columns)


def _parquet_rows(pf: Any, name: str, columns: list[str]) -> Iterator[RawRecord]:
    number = 0
    try:
        for batch in pf.iter_batches(batch_size=_PARQUET_BATCH):
            cols = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for values in zip(*cols, strict=True):
                number += 1
                yield RawRecord(
                    number, f"{name}: row {number}", dict(zip(columns, values, strict=True))
                )
    except RecordError:
        raise
    except Exception as exc:  # a corrupt page surfaces here
        raise _fail(
            "R015", f"cannot read `{name}` after row {number}: {exc}", f"{name}: row {number + 1}"
        ) from None
    finally:
        close = getattr(pf, "close", None)
        if close is not None:
            close()
