"""Preparing a record for the rules: the one path every record takes.

Typing (exact decimals, ISO codes, dates; values already typed pass through
after a type test), the chip catalog's figures for a named chip, and the
fields' defaults. Every evaluator, the per-record engine and the batch engine
alike, decides prepared records.
"""

from __future__ import annotations

import difflib
import warnings as _warnings
from collections.abc import Iterable, Mapping

import attrs

from chiprules import model as M
from chiprules.data.records import (
    FieldProblem,
    FieldSpec,
    convert_record,
    normalize_field_name,
    typed_check,
)
from chiprules.screening.names import has_name

_SCREENABLE: dict[str, bool] = {}


def screenable(name) -> bool:
    """Whether a party name has something to screen (not only punctuation or a legal form)."""
    ok = _SCREENABLE.get(name)
    if ok is None:
        ok = has_name(str(name))
        if len(_SCREENABLE) < 100_000:
            _SCREENABLE[name] = ok
    return ok


def blank_party(field: str, value) -> FieldProblem:
    shown = repr(value)[1:-1] if isinstance(value, str) else repr(value)
    return FieldProblem(
        field, shown[:60], f"`{field}` has no name to screen: `{shown[:60]}`",
        "give the party's name; punctuation or a legal form alone cannot be screened, "
        "and an unknown party is left empty",
    )


class UnknownFieldWarning(UserWarning):
    """A record's field is no field of the rules but is spelled close to one."""


def near_field(name: str, fields: Iterable[str]) -> str | None:
    """The field of the rules that an unknown field name is most likely a misspelling of."""
    fields = sorted(fields)
    squeezed = name.replace("_", "")
    for f in fields:
        if f.replace("_", "") == squeezed:
            return f
    close = difflib.get_close_matches(name, fields, n=1, cutoff=0.8)
    return close[0] if close else None


def unknown_field_message(name: str, guess: str) -> str:
    return (f"`{name}` is not a record field, so its values are not used; did you mean `{guess}`? "
            f"(rename the column)")


def field_specs(rs: M.CheckedRuleset) -> dict[str, FieldSpec]:
    """The record reader's type of every field a version declares."""
    specs = {}
    for f in rs.fields.values():
        if f.kind == M.FieldKind.NUMBER:
            specs[f.name] = FieldSpec(f.name, "quantity", unit=f.unit, allow_zero=f.unit != "mm2")
        else:
            specs[f.name] = FieldSpec(f.name, str(f.kind), values=f.values)
    # the export date picks the version in force: read it as a date even when the
    # rules never test it
    specs.setdefault("export_date", FieldSpec("export_date", "date"))
    return specs


@attrs.frozen
class Prepared:
    record: dict
    problems: tuple = ()  # FieldProblem: values that could not be read (the record is an error)
    warnings: tuple = ()


class Preparer:
    """Prepares records for rules whose fields are those of ``model`` (the latest version)."""

    def __init__(self, models: list[M.CheckedRuleset], catalog=None):
        ref = models[-1]
        self.specs = field_specs(ref)
        self.checks = {name: typed_check(spec) for name, spec in self.specs.items()}
        self.catalog = catalog
        defaults = {f.name: f.default for f in ref.fields.values() if f.default is not None}
        # literal defaults first, then the ones copied from another field (a consignee
        # copies the end user), in declaration order
        self.literal_defaults = tuple((n, d) for n, d in defaults.items() if not isinstance(d, M.FieldRef))
        self.copied_defaults = tuple((n, d.name) for n, d in defaults.items() if isinstance(d, M.FieldRef))
        self.party_fields = tuple(n for n, spec in self.specs.items() if spec.kind == "party")
        #: fields no version reads, spelled close to one that is read: {name: the field}
        self.near_misses: dict[str, str] = {}
        self._unknown: set[str] = set()
        #: quantities some version computes and no version lets a record give
        self.derived_only = tuple(dict.fromkeys(n for m in models for n in m.derived if n not in m.fields))

    def prepare(self, data: Mapping) -> Prepared:
        checks = self.checks
        record: dict = {}
        rest: dict = {}
        for k, v in data.items():
            if v is None:
                continue
            check = checks.get(k)
            if check is None:
                name = normalize_field_name(k) if type(k) is str else k
                if name != k and name in checks:
                    if name not in data:  # "Export Date" is `export_date`, as in a file's header
                        rest[name] = v
                    continue
                record[k] = v
                if k not in self._unknown:
                    self._unknown_field(k)
            elif check(v):
                record[k] = v
            else:
                rest[k] = v
        problems: tuple = ()
        if rest:
            converted, found = convert_record(rest, self.specs)
            record.update(converted)
            problems = tuple(found)
        for name in self.party_fields:
            value = record.get(name)
            if value is not None and not screenable(value):
                del record[name]
                problems += (blank_party(name, value),)
        warnings = []
        for name in self.derived_only:
            if name in record:
                del record[name]
                warnings.append(f"column `{name}` is computed by the rules; the value given is ignored")
        chip = record.get("chip")
        if chip is not None and self.catalog is not None:
            self._fill_from_catalog(record, chip, warnings)
        for name, default in self.literal_defaults:
            if name not in record:
                record[name] = default
        for name, source in self.copied_defaults:
            if name not in record:
                value = record.get(source)
                if value is not None:
                    record[name] = value
        return Prepared(record, problems, tuple(warnings))

    def _unknown_field(self, name) -> None:
        """Note a field no version reads; warn once if its name is close to one that is read."""
        self._unknown.add(name)
        if type(name) is not str or len(self._unknown) > 1000:
            return
        guess = near_field(normalize_field_name(name), self.specs)
        if guess is not None:
            self.near_misses[name] = guess
            _warnings.warn(unknown_field_message(name, guess), UnknownFieldWarning, stacklevel=5)

    def _fill_from_catalog(self, record: dict, chip, warnings: list) -> None:
        spec = self.catalog.lookup(chip)
        if spec is None:
            guess = self.catalog.suggest(chip)
            warnings.append(f"chip `{chip}` is not in the catalog"
                            + (f"; did you mean `{guess}`?" if guess else "")
                            + "; only the specs given in the record are used")
            return
        if spec.name != chip:
            record["chip"] = spec.name  # rules compare the catalog's own name
        for k, v in spec.fields().items():
            if record.get(k) is None:
                record[k] = v


__all__ = ["Prepared", "Preparer", "UnknownFieldWarning", "field_specs", "near_field", "unknown_field_message"]
