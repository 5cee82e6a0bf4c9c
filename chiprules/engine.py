"""The facade: load rules (a file or a folder of dated versions) and decide records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path

import attrs

from chiprules import model as M
from chiprules.core.diagnostics import error
from chiprules.core.errors import ChiprulesError, RulesError
from chiprules.data.records import FieldSpec, RawRecord, convert_record, read_records
from chiprules.eval.compiler import compile_ruleset
from chiprules.eval.decision import Decision, RulesetInfo
from chiprules.eval.interpreter import (
    Screen,
    VariableTable,
    decide,
    grants,
    possible_reasons,
    trace,
)
from chiprules.lang.checker import check_file, find_root, root_settings

TIMELINES = ("enforced", "written")
_MISSING_WORDS = frozenset({"na", "n/a", "null", "-"})


def field_specs(rs: M.CheckedRuleset) -> dict[str, FieldSpec]:
    specs = {}
    for f in rs.fields.values():
        if f.kind == "number":
            specs[f.name] = FieldSpec(f.name, "quantity", unit=f.unit, allow_zero=f.unit != "mm2")
        else:
            specs[f.name] = FieldSpec(f.name, f.kind, values=f.values)
    # the export date picks the version in force: read it as a date even when the
    # rules never test it
    specs.setdefault("export_date", FieldSpec("export_date", "date"))
    return specs


class Version:
    """One checked ruleset version, compiled, with its screening index."""

    def __init__(self, model: M.CheckedRuleset, timeline: str):
        self.model = model
        self.compiled = compile_ruleset(model)
        self.decide = self.compiled.decide
        self.screen = Screen(model)
        self.table: VariableTable | None = None
        self._grants: dict = {}
        self.info = RulesetInfo(model.name, model.version, model.effective, model.content_hash,
                                timeline, model.path)

    def grants(self, verdict) -> tuple:
        """The exception grants of a verdict, remembered per verdict."""
        g = self._grants.get(verdict)
        if g is None:
            if len(self._grants) > 10_000:
                self._grants.clear()
            g = self._grants[verdict] = grants(self.model, verdict)
        return g

    def variables(self) -> VariableTable:
        if self.table is None:
            self.table = VariableTable.build(self.model)
        return self.table


@attrs.frozen
class _Prepared:
    record: dict
    problems: tuple
    warnings: tuple


class Rules:
    """Rules loaded from a file or a folder of dated versions.

    ``evaluate`` decides one record under the version in force on its
    ``export_date`` (or ``as_of``), on the chosen timeline: ``enforced`` (the
    default, the regime as BIS applies it) or ``written`` (the text as written).
    """

    def __init__(self, versions: list[M.CheckedRuleset], catalog=None, timeline: str = "enforced",
                 source: str = ""):
        if timeline not in TIMELINES:
            raise ChiprulesError(f"unknown timeline `{timeline}`; use `enforced` or `written`")
        self.source = source
        self.models = sorted(versions, key=lambda m: (m.effective or dt.date.min, m.version))
        own = {m.timeline for m in self.models}
        if timeline not in own and None not in own and len(own) == 1:
            timeline = own.pop()  # e.g. a single file of the written timeline
        self.timeline = timeline
        self._compiled: dict[str, Version] = {}
        self.catalog = catalog
        ref = self.models[-1]
        self.specs = field_specs(ref)
        self.defaults = {f.name: f.default for f in ref.fields.values() if f.default is not None}
        # literal defaults first, then the ones copied from another field (a consignee
        # copies the end user), in declaration order
        self._literal_defaults = tuple((n, d) for n, d in self.defaults.items() if not isinstance(d, M.FieldRef))
        self._copied_defaults = tuple((n, d.name) for n, d in self.defaults.items() if isinstance(d, M.FieldRef))
        from chiprules.data.countries import all_country_codes

        self._codes = all_country_codes()
        self._by_date: dict = {}
        self._derived_only = tuple(n for m in self.models for n in m.derived if n not in m.fields)
        # per key layout of a dict record: a generated function that checks every value is
        # already of its field's type and returns the prepared record (see `_builder`)
        self._builders: dict = {}

    # ---- versions
    def on_timeline(self, timeline: str | None = None) -> list[M.CheckedRuleset]:
        t = timeline or self.timeline
        return [m for m in self.models if m.timeline in (None, t)]

    def version(self, key: str) -> M.CheckedRuleset:
        for m in self.models:
            if m.version == key or Path(m.path or "").stem == key:
                return m
        raise ChiprulesError(
            f"no version `{key}`; versions: {', '.join(m.version for m in self.models)}")

    def compiled(self, model: M.CheckedRuleset, timeline: str | None = None) -> Version:
        key = model.path or model.version
        v = self._compiled.get(key)
        if v is None:
            v = self._compiled[key] = Version(model, model.timeline or timeline or self.timeline)
        return v

    def in_force(self, on: dt.date, timeline: str | None = None) -> M.CheckedRuleset | None:
        """The latest version that took effect on or before ``on`` (None if it has ended)."""
        chosen = None
        for m in self.on_timeline(timeline):
            if m.effective is None or m.effective <= on:
                chosen = m
        if chosen is not None and chosen.until is not None and on > chosen.until:
            return None
        return chosen

    @property
    def latest(self) -> M.CheckedRuleset:
        return self.on_timeline()[-1] if self.on_timeline() else self.models[-1]

    # ---- records
    def _typed(self, data: Mapping) -> tuple[dict, dict]:
        """Split a record into values already of their field's type and the rest.

        Records built in Python often carry Decimals, bools and ISO codes
        already; checking the type is much cheaper than converting again.
        """
        specs, codes = self.specs, self._codes
        typed, rest = {}, {}
        for k, v in data.items():
            spec = specs.get(k)
            if spec is None or v is None:
                typed[k] = v
                continue
            kind = spec.kind
            t = type(v)
            if kind == "quantity":
                ok = t is Decimal and v.is_finite() and v >= 0 and (spec.allow_zero or v != 0)
            elif kind == "country":
                ok = t is str and v in codes
            elif kind == "enum":
                ok = t is str and v in spec.values
            elif kind == "text" or kind == "party":
                ok = t is str and v != "" and not v[0].isspace() and not v[-1].isspace() \
                    and v.lower() not in _MISSING_WORDS
            elif kind == "bool":
                ok = t is bool
            elif kind == "date":
                ok = t is dt.date
            elif kind == "integer":
                ok = t is int and v >= 0
            else:
                ok = False
            if ok:
                typed[k] = v
            else:
                rest[k] = v
        return typed, rest

    def _builder(self, keys: tuple):
        """A function of a record's values (in the order of ``keys``) giving the prepared
        record, or None when a value is not already of its field's type; False when
        records with these keys always need the general path.

        It does what `prepare` does for such a record, with the type tests of
        `_typed` fused per field: no conversion, no None to drop, no derived column
        or catalog chip to look at, the defaults known from the keys alone.
        """
        if any(k in self._derived_only for k in keys):
            return False
        if "chip" in keys and self.catalog is not None:
            return False
        ns: dict = {"Decimal": Decimal, "ZERO": Decimal(0), "date": dt.date, "CODES": self._codes, "MISSING": _MISSING_WORDS}
        tests, entries = [], []
        for i, k in enumerate(keys):
            v, kname = f"v{i}", f"N{i}"
            ns[kname] = k
            entries.append(f"{kname}: {v}")
            spec = self.specs.get(k)
            if spec is None:
                tests.append(f"{v} is not None")
                continue
            kind = spec.kind
            if kind == "quantity":
                t = f"type({v}) is Decimal and {v}.is_finite() and {v} {'>=' if spec.allow_zero else '>'} ZERO"
            elif kind == "country":
                t = f"type({v}) is str and {v} in CODES"
            elif kind == "enum":
                ns[f"E{i}"] = frozenset(spec.values)
                t = f"type({v}) is str and {v} in E{i}"
            elif kind == "text" or kind == "party":
                # no white space at either end: what `strip` removes is what `isspace` finds
                t = (f"type({v}) is str and {v} != '' and {v}.strip() == {v}"
                     f" and (len({v}) > 4 or {v}.lower() not in MISSING)")
            elif kind == "bool":
                t = f"type({v}) is bool"
            elif kind == "date":
                t = f"type({v}) is date"
            elif kind == "integer":
                t = f"type({v}) is int and {v} >= 0"
            else:
                return False
            tests.append(f"({t})")
        given = {k: f"v{i}" for i, k in enumerate(keys)}
        for j, (name, default) in enumerate(self._literal_defaults):
            if name not in given:
                ns[f"D{j}"], ns[f"DN{j}"] = default, name
                entries.append(f"DN{j}: D{j}")
                given[name] = f"D{j}"
        for j, (name, source) in enumerate(self._copied_defaults):
            if name not in given and source in given:
                ns[f"CN{j}"] = name
                entries.append(f"CN{j}: {given[source]}")
                given[name] = given[source]
        params = ", ".join(f"v{i}" for i in range(len(keys)))
        src = (f"def build({params}):\n"
               f"    if {' and '.join(tests) or 'True'}:\n"
               f"        return {{{', '.join(entries)}}}\n"
               f"    return None\n")
        exec(compile(src, "<chiprules record builder>", "exec"), ns)  # noqa: S102 - no user text in the source
        return ns["build"]

    def _prepare_fast(self, data) -> dict | None:
        """The prepared record when ``data`` is a dict whose values are all typed, else None."""
        if type(data) is not dict:
            return None
        keys = tuple(data)
        build = self._builders.get(keys)
        if build is None:
            if len(self._builders) > 1000:
                self._builders.clear()
            build = self._builders[keys] = self._builder(keys)
        return build(*data.values()) if build else None

    def prepare(self, data: Mapping) -> _Prepared:
        fast = self._prepare_fast(data)
        if fast is not None:
            return _Prepared(fast, (), ())
        record, rest = self._typed(data)
        problems = ()
        if rest:
            converted, problems = convert_record(rest, self.specs)
            record.update(converted)
            for k in rest:
                if k not in converted:
                    record.pop(k, None)
        if None in record.values():
            record = {k: v for k, v in record.items() if v is not None}
        warnings = []
        for name in self._derived_only:
            if name in record:
                del record[name]
                warnings.append(f"column `{name}` is computed by the rules; the value given is ignored")
        chip = record.get("chip")
        if chip is not None and self.catalog is not None:
            spec = self.catalog.lookup(chip)
            if spec is not None and spec.name != chip:
                record["chip"] = spec.name  # rules compare the catalog's own name
            if spec is None:
                guess = self.catalog.suggest(chip)
                warnings.append(f"chip `{chip}` is not in the catalog"
                                + (f"; did you mean `{guess}`?" if guess else "")
                                + "; only the specs given in the record are used")
            else:
                for k, v in spec.fields().items():
                    if record.get(k) is None:
                        record[k] = v
        for name, default in self._literal_defaults:
            if record.get(name) is None:
                record[name] = default
        for name, source in self._copied_defaults:
            if record.get(name) is None:
                value = record.get(source)
                if value is not None:
                    record[name] = value
        return _Prepared(record, tuple(problems), tuple(warnings))

    def evaluate(self, record: Mapping, as_of: str | dt.date | None = None, *, id: str | None = None,
                 timeline: str | None = None, location: str | None = None) -> Decision:
        """Decide one record (a dict of field names to values)."""
        on_fixed = _as_date(as_of) if as_of is not None else None
        prepared = self.prepare(record)
        return self._decide(prepared, on_fixed, id or "record", timeline, location)

    def evaluate_many(self, records: Iterable[Mapping | RawRecord], as_of: str | dt.date | None = None,
                      *, timeline: str | None = None) -> Iterator[Decision]:
        """Decide records one by one (streamed: nothing is held back)."""
        on_fixed = _as_date(as_of) if as_of is not None else None
        builders, by_date = self._builders, self._by_date
        fixed = None  # the version in force on `as_of`, once known
        make = Decision._decided
        last_keys = build = None  # records of a run mostly share one key layout
        current = decide_fn = screen = info = context = None  # the last version used, unpacked
        for n, rec in enumerate(records, 1):
            if type(rec) is dict:
                # the fast path: a dict of typed values, decided by the compiled function
                keys = tuple(rec)
                if keys != last_keys:
                    build = builders.get(keys)
                    if build is None:
                        if len(builders) > 1000:
                            builders.clear()
                        build = builders[keys] = self._builder(keys)
                    last_keys = keys
                record = build(*rec.values()) if build else None
                if record is not None:
                    if on_fixed is not None:
                        on = on_fixed
                        version = fixed
                        if version is None:
                            version = fixed = by_date.get((on, timeline))
                    else:
                        when = record.get("export_date")
                        on = when if when is not None else dt.date.today()
                        version = by_date.get((on, timeline))
                    if version is not None and (version is not current or on != context[2]):
                        current = version
                        decide_fn, screen, info = version.decide, version.screen, version.info
                        context = (trace, version.model, on, screen)
                    verdict = decide_fn(record, on, screen) if version is not None else None
                    if verdict is None:
                        yield self._decide(_Prepared(record, (), ()), on_fixed, str(n), timeline, None)
                    else:
                        yield make(
                            str(record.get("id") or n), verdict.outcome, verdict.classification,
                            verdict.review_policy, version.grants(verdict) if verdict.exceptions else (),
                            info, record, context, verdict)
                    continue
            if isinstance(rec, RawRecord):
                if rec.problem is not None:
                    yield Decision(str(rec.data.get("id") or rec.number), "error", errors=(rec.problem,),
                                   location=rec.location, record=dict(rec.data))
                    continue
                data, location, default_id = rec.data, rec.location, str(rec.number)
            else:
                data, location, default_id = rec, None, str(n)
            prepared = self.prepare(data)
            yield self._decide(prepared, on_fixed, default_id, timeline, location)

    def _decide(self, prepared: _Prepared, on_fixed, default_id, timeline, location) -> Decision:
        record = prepared.record
        rid = str(record.get("id") or default_id or "")
        if prepared.problems:
            msgs = tuple(p.message + (f" ({p.help})" if p.help else "") for p in prepared.problems)
            return Decision(rid, "error", errors=msgs, record=record, location=location,
                            warnings=prepared.warnings)
        when = record.get("export_date")
        on = on_fixed or (when if isinstance(when, dt.date) else None) or dt.date.today()
        key = (on, timeline)
        version = self._by_date.get(key)
        if version is None:
            model = self.in_force(on, timeline)
            if model is None:
                versions = self.on_timeline(timeline)
                if not versions:
                    return Decision(rid, "error", errors=(
                        f"these rules have no version on the `{timeline or self.timeline}` timeline",),
                        record=record, location=location)
                first = versions[0]
                started = [m for m in versions if m.effective is None or m.effective <= on]
                if started:
                    last = started[-1]
                    msg = (f"no version of these rules is in force on {on.isoformat()}: "
                           f"{last.version} ended on {last.until}")
                else:
                    msg = (f"`export_date` {on.isoformat()} is before the first version of these rules "
                           f"({first.version}, in force from {first.effective})")
                return Decision(rid, "error", errors=(msg,), record=record, location=location)
            version = self.compiled(model, timeline)
            if len(self._by_date) > 10_000:
                self._by_date.clear()
            self._by_date[key] = version
        model = version.model
        screen = version.screen
        verdict = version.compiled.decide(record, on, screen)
        missing, warnings = (), prepared.warnings
        if verdict is None:
            outcome = decide(model, record, on, screen, version.variables())
            verdict, missing = outcome.verdict, outcome.missing
            warnings = warnings + outcome.warnings
        if verdict is None:
            found = ()
            if outcome.possible:
                found = tuple(possible_reasons(model, record, on, screen, outcome.possible))
            return Decision(rid, "indeterminate", missing=missing, ruleset=version.info, record=record,
                            location=location, warnings=warnings, reasons=found,
                            possible_matches=tuple(m for r in found for m in r.matches))
        return Decision(
            rid, verdict.outcome, verdict.classification, verdict.review_policy,
            version.grants(verdict) if verdict.exceptions else (), missing, version.info,
            (), warnings, record, location, (trace, model, record, on, screen, verdict),
        )


def _as_date(value) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ChiprulesError(f"`{value}` is not a date; write YYYY-MM-DD") from None


def rule_files(path: Path) -> list[Path]:
    """The version files of a folder: `.rules` files directly inside it."""
    return sorted(p for p in path.glob("*.rules") if p.is_file())


def load(path: str | Path, *, timeline: str = "enforced") -> Rules:
    """Load and check rules: a `.rules` file, or a folder of dated versions.

    Raises :class:`RulesError` with every diagnostic when the rules do not check.
    """
    path = Path(path)
    if not path.exists():
        raise RulesError(f"`{path}` does not exist", [error("E001", f"`{path}` does not exist",
                                                            location=str(path))])
    files = rule_files(path) if path.is_dir() else [path]
    if not files:
        raise RulesError(f"no `.rules` files in `{path}`",
                         [error("E001", f"no `.rules` files in `{path}`", location=str(path))])
    models, diags = [], []
    for f in files:
        model, ds = check_file(f, as_version=True)
        diags.extend(d for d in ds if d.is_error)
        if model is not None:
            models.append(model)
    if diags or not models:
        raise RulesError(f"`{path}` has errors", diags)
    seen = {}
    for m in models:
        key = (m.effective, m.timeline)
        if key in seen and m.effective is not None:
            raise RulesError("two versions in force from the same day", [error(
                "E225", f"versions `{seen[key].version}` and `{m.version}` both take effect on {m.effective}"
                + (f" on the `{m.timeline}` timeline" if m.timeline else ""), location=m.path)])
        seen[key] = m
    catalog = load_catalog_for(path)
    return Rules(models, catalog, timeline, str(path))


def load_catalog_for(path: Path):
    root = find_root(path)
    settings = root_settings(root)
    name = settings.get("catalog")
    if not isinstance(name, str):
        return None
    from chiprules.data.catalog import load_catalog

    cat_path = (root / name)
    if not cat_path.is_file():
        raise RulesError(f"catalog `{name}` not found", [error(
            "E210", f"the chip catalog `{cat_path}` named in `{root / 'chiprules.toml'}` does not exist",
            location=str(root / "chiprules.toml"))])
    return load_catalog(cat_path)


def read(path: str | Path, fmt: str | None = None) -> Iterator[RawRecord]:
    return read_records(path, fmt)
