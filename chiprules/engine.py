"""The facade: load rules (a file or a folder of dated versions) and decide records.

Every record takes one path: `Preparer.prepare` types it and fills it from the
catalog and the defaults; `Rules.version_on` picks the version in force on its
day; the version's compiled function (`chiprules.eval.python`, from the lowered
form) decides it, and where missing facts leave a rule undecided, the case
split (`chiprules.eval.split`) does. The reference interpreter
(`chiprules.eval.reference`) explains decisions when asked, and checks the rest
in the tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import attrs

from chiprules import model as M
from chiprules.batch.duck import BatchEngine
from chiprules.batch.spark import SparkBatch
from chiprules.core.dates import as_date
from chiprules.core.diagnostics import error
from chiprules.core.errors import ChiprulesError, RulesError
from chiprules.core.memo import Memo
from chiprules.data.catalog import load_catalog
from chiprules.data.licences import load_licences as _load_licences
from chiprules.data.records import RawRecord, read_records
from chiprules.eval.decision import Decision, ExceptionGrant, ListMatch, RulesetInfo, UnsettledLaw
from chiprules.eval.prepare import Prepared, Preparer
from chiprules.eval.python import SINK, PythonProgram, Undecided
from chiprules.eval.reference import missing_reasons, possible_reasons, trace
from chiprules.eval.screens import Screens
from chiprules.eval.split import Splitter
from chiprules.ir.lower import lower
from chiprules.lang.checker import check_file, find_root, root_settings
from chiprules.ledger import Ledger, Tally, draws_of, fingerprint, replay
from chiprules.model.walk import fields_of, list_atoms, rule_conditions, unsettled_zones

TIMELINES = ("enforced", "written")
# the fields a chip named in the catalog fills (`chiprules.data.catalog.Product.fields`)
_CATALOG_FIELDS = frozenset({"tpp", "die_area", "datacenter", "interconnect_bw", "dram_bw", "memory_bw_density",
                             "item_kind", "performance_density"})
_NO_DATE = ("no export date: the version in force cannot be chosen; give `export_date`, "
            "or decide as of a date (`as_of`, `--as-of`)")


class Version:
    """One checked version, ready to decide: its compiled function, screens and case split."""

    def __init__(self, model: M.CheckedRuleset, timeline: str):
        self.model = model
        self.program = lower(model)
        self.screens = Screens(model)
        self.compiled = PythonProgram(self.program, self.screens)
        self.decide = self.compiled.decide
        self.splitter = Splitter(model, self.compiled, self.screens)
        self.zones = unsettled_zones(model)
        self._grants = Memo(10_000)
        self._explainers = Memo(10_000)
        self.info = RulesetInfo(model.name, model.version, model.effective, model.content_hash,
                                timeline, model.path)

    def grants(self, exceptions) -> tuple[ExceptionGrant, ...]:
        """The exception grants of a verdict's exceptions, remembered."""
        g = self._grants.get(exceptions)
        if g is None:
            out = []
            for name, duties in exceptions:
                rule = self.model.rule(name)
                out.append(ExceptionGrant(name, rule.title if rule else None, rule.cite if rule else None, duties))
            g = self._grants.remember(exceptions, tuple(out))
        return g

    def explainer(self, on: dt.date):
        """Reasons for a verdict on ``on``, by the reference interpreter (shared by a run)."""
        f = self._explainers.get(on)
        if f is None:
            model, screens = self.model, self.screens

            def f(record, verdict):
                return trace(model, record, on, screens, verdict)

            self._explainers.remember(on, f)
        return f

    def doubts(self, on: dt.date):
        """Reasons for an undecided record: what each missing fact would decide, and the
        possible list matches it turns on."""
        model, screens = self.model, self.screens

        def f(record, split):
            out = missing_reasons(model, record, on, screens, split.missing) if split.missing else []
            if split.possible:
                out += possible_reasons(model, record, on, screens, split.possible)
            return out

        return f


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
        self.catalog = catalog
        self.preparer = Preparer(self.models, catalog)
        self._versions: dict[str, Version] = {}
        self._by_date = Memo(10_000)

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
        v = self._versions.get(key)
        if v is None:
            v = self._versions[key] = Version(model, model.timeline or timeline or self.timeline)
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

    def version_on(self, on: dt.date, timeline: str | None = None) -> Version | str:
        """The version in force on ``on``, ready to decide, or why there is none (remembered per day)."""
        key = (on, timeline)
        found = self._by_date.get(key)
        if found is None:
            model = self.in_force(on, timeline)
            found = self._no_version(on, timeline) if model is None else self.compiled(model, timeline)
            self._by_date.remember(key, found)
        return found

    def _no_version(self, on: dt.date, timeline: str | None) -> str:
        versions = self.on_timeline(timeline)
        if not versions:
            return f"these rules have no version on the `{timeline or self.timeline}` timeline"
        started = [m for m in versions if m.effective is None or m.effective <= on]
        if started:
            last = started[-1]
            return f"no version of these rules is in force on {on.isoformat()}: {last.version} ended on {last.until}"
        first = versions[0]
        return (f"`export_date` {on.isoformat()} is before the first version of these rules "
                f"({first.version}, in force from {first.effective})")

    @property
    def latest(self) -> M.CheckedRuleset:
        return self.on_timeline()[-1] if self.on_timeline() else self.models[-1]

    # ---- screening
    def screen(self, name: str, on: dt.date, *, country=None, address=None, lists=None,
               timeline: str | None = None) -> tuple[ListMatch, ...]:
        """Screen a party name against the lists of the version in force on ``on`` (the lists
        its licence rules test, else all its lists, or those named), as decisions do: one
        `ListMatch` per list. A list only jurisdiction rules test (a footnote's entries of
        another list) is screened when named."""
        _check_timeline(timeline)
        version = self.version_on(as_date(on), timeline)
        if type(version) is str:
            raise ChiprulesError(version)
        names = list(lists) if lists else _licence_lists(version.model)
        unknown = [n for n in names if n not in version.model.lists]
        if unknown or not names:
            have = ", ".join(f"`{n}`" for n in sorted(version.model.lists)) or "none"
            what = f"no list `{unknown[0]}`" if unknown else "no party lists"
            raise ChiprulesError(f"{what} in version {version.model.version}; lists: {have}")
        return tuple(ListMatch.of_result("", name, n, version.screens.result(n, name, as_date(on), country, address))
                     for n in names)

    # ---- tables
    def decide_table(self, source, *, as_of=None, timeline: str | None = None, output=None,
                     input_format: str | None = None, output_format: str | None = None,
                     memory_limit: str | None = None, temp_directory: str | None = None):
        """Decide a whole table of records with the batch engine (DuckDB, embedded).

        ``source`` is a records file (CSV, TSV, Parquet, JSON, JSON Lines; `-` for JSON Lines
        on stdin) or an Arrow table (or a pandas DataFrame). Returns an Arrow table with the
        decision columns (`chiprules.batch.duck.DECISION_COLUMNS`) and the input's own
        columns, one row per input record in input order; with ``output``, writes it there
        (Parquet, CSV or JSON Lines, from the name) and returns the number of rows.
        Each row is decided by the rules alone: the batch engine keeps no running totals
        (quotas, licences, a ledger; see ``evaluate_many``).
        """
        _check_timeline(timeline)
        engine = BatchEngine(self, timeline=timeline, as_of=as_of, memory_limit=memory_limit,
                             temp_directory=temp_directory)
        if isinstance(source, str | Path):
            return engine.decide_file(source, input_format, output, output_format)
        return engine.decide_table(source, output, output_format)

    def decide_spark(self, df, *, as_of=None, timeline: str | None = None):
        """Decide a Spark DataFrame of records on its own session (a cluster, or local mode).

        Columns are the record fields (any type Spark reads; they are typed as the batch
        engine types text). Returns a Spark DataFrame of decisions, one row per input row:
        the decision columns, with ``row`` the input row's position, computed where the
        data lives, the party screenings broadcast to the executors.
        """
        return SparkBatch(self, timeline=timeline, as_of=as_of, spark=df.sparkSession).decide_dataframe(df)

    # ---- records
    @property
    def specs(self):
        return self.preparer.specs

    def prepare(self, data: Mapping) -> Prepared:
        return self.preparer.prepare(data)

    def evaluate(self, record: Mapping, as_of: str | dt.date | None = None, *, id: str | None = None,
                 timeline: str | None = None, location: str | None = None, tally: bool = True) -> Decision:
        """Decide one record (a dict of field names to values): by the rules, then, when the
        rules declare quotas, as a shipment alone against them (``tally=False``: by the rules
        alone)."""
        on_fixed = as_date(as_of) if as_of is not None else None
        _check_timeline(timeline)
        if not isinstance(record, Mapping):
            return _not_a_record(record, id or "record", location)
        d = self._decide(self.prepare(record), on_fixed, id or "record", timeline, location)
        if tally and self.has_quotas(timeline):  # a shipment alone against the rules' quotas
            on = on_fixed or d.record.get("export_date")
            version = self._version_or_none(on, timeline)
            if version is not None and version.model.quotas:
                d = Tally().apply(d, version, on)
        return d

    def has_quotas(self, timeline: str | None = None) -> bool:
        """Does any version on the timeline declare a quota?"""
        return any(m.quotas for m in self.on_timeline(timeline))

    def quotas_in_play(self, columns, timeline: str | None = None) -> bool:
        """Could a quota of the timeline's versions draw on records with these columns?

        A quota is out of play when a field its conditions read is in no column, has no
        default and cannot come from the chip catalog: its condition is then never known to
        hold (the 2026 China ceiling needs `end_user_in_us`). The batch engine decides no
        quotas, so `eval -o` picks the per-record engine when one is in play."""
        cols = {str(c).strip().lower().replace(" ", "_") for c in columns}
        for m in self.on_timeline(timeline):
            for q in m.quotas:
                need = fields_of(q.when) | (fields_of(q.fed) if q.fed is not None else set())
                if all(self._available(m, f, cols) for f in need):
                    return True
        return False

    @staticmethod
    def _available(model, name, cols) -> bool:
        f = model.fields.get(name)
        if f is None or name in cols or f.default is not None:
            return True
        return name in _CATALOG_FIELDS and "chip" in cols

    def _version_or_none(self, on, timeline) -> Version | None:
        if on is None:
            return None
        v = self.version_on(on, timeline)
        return None if type(v) is str else v

    def evaluate_many(self, records: Iterable[Mapping | RawRecord], as_of: str | dt.date | None = None,
                      *, timeline: str | None = None, licences=(), ledger=None,
                      source: str = "", tally: bool = True) -> Iterator[Decision]:
        """Decide records one by one, yielded in input order.

        Without quotas, licences or a ledger, every record is decided alone and streamed.
        With them (``licences``: `chiprules.data.licences.Licence`s; ``ledger``: a
        `chiprules.ledger.Ledger`), the records whose decisions draw on a running total are
        decided in `export_date` order (ties by record id, then input position), each
        drawing on the totals; the others stream until the first such record, and the rest
        of the output waits for the run's end. With a ledger, the totals start from its
        earlier draws, a record id it has seen is replayed rather than drawn again, and the
        run's draws are recorded in one transaction when the last record is decided.
        ``tally=False`` decides every record by the rules alone, as the batch engine does.
        """
        if not tally or (not licences and ledger is None and not self.has_quotas(timeline)):
            yield from self._each(records, as_of, timeline)
            return
        yield from self._ordered(self._each(records, as_of, timeline), as_of, timeline, licences, ledger, source)

    def _ordered(self, decisions, as_of, timeline, licences, ledger, source) -> Iterator[Decision]:
        on_fixed = as_date(as_of) if as_of is not None else None
        tally = Tally(licences, seed=ledger.seed() if ledger is not None else ())
        held: list = []  # decisions waiting for the run's end, in input order (None: pending)
        offset = 0  # records yielded before the first one held
        pending = []  # (day, id, position, decision, version)
        for i, d in enumerate(decisions):
            on = on_fixed or d.record.get("export_date")
            version = self._version_or_none(on, timeline)
            seen = ledger is not None and d.outcome != "error" and ledger.recorded(d.id) is not None
            if seen or (version is not None and tally.touches(d, version, on)):
                pending.append((on, d.id, i, d, version))
                held.append(None)
            elif held:
                held.append(d)
            else:
                offset += 1
                yield d
        new_records, draws, ids = [], [], set()
        for on, rid, i, d, version in sorted(pending, key=lambda p: (p[0], p[1], p[2])):
            recorded = ledger.recorded(rid) if ledger is not None else None
            if recorded is not None:
                fp, run, uses = recorded
                d = _ledger_conflict(d, run) if fp != fingerprint(d.record) else replay(d, version, uses)
            elif ledger is not None and rid in ids:
                d = _duplicate_id(d)
            else:
                d = tally.apply(d, version, on)
                if ledger is not None and d.quota_uses:
                    ids.add(rid)
                    new_records.append((rid, fingerprint(d.record), on))
                    draws.extend(draws_of(d, on))
            held[i - offset] = d
        if ledger is not None:
            ledger.last_run = ledger.commit(source, new_records, draws)
        yield from held

    def _each(self, records, as_of, timeline) -> Iterator[Decision]:
        """Every record decided alone, in input order (streamed: nothing is held back)."""
        on_fixed = as_date(as_of) if as_of is not None else None
        _check_timeline(timeline)
        prepare = self.preparer.prepare
        for n, rec in enumerate(records, 1):
            if isinstance(rec, RawRecord):
                if rec.problem is not None:
                    yield Decision(str(rec.data.get("id") or rec.number), M.Outcome.ERROR, errors=(rec.problem,),
                                   location=rec.location, record=dict(rec.data))
                    continue
                yield self._decide(prepare(rec.data), on_fixed, str(rec.number), timeline, rec.location)
            elif isinstance(rec, Mapping):
                yield self._decide(prepare(rec), on_fixed, str(n), timeline, None)
            else:  # one row for it too, and the stream goes on
                yield _not_a_record(rec, str(n), None)

    def _decide(self, prepared: Prepared, on_fixed, default_id, timeline, location) -> Decision:
        record = prepared.record
        rid = str(record.get("id") or default_id or "")
        if prepared.problems:
            msgs = tuple(p.message + (f" ({p.help})" if p.help else "") for p in prepared.problems)
            return Decision(rid, M.Outcome.ERROR, errors=msgs, record=record, location=location,
                            warnings=prepared.warnings)
        on = on_fixed or record.get("export_date")
        if on is None:
            return Decision(rid, M.Outcome.INDETERMINATE, missing=("export_date",), record=record,
                            location=location, warnings=prepared.warnings + (_NO_DATE,))
        version = self.version_on(on, timeline)
        if type(version) is str:
            return Decision(rid, M.Outcome.ERROR, errors=(version,), record=record, location=location)
        verdict = version.decide(record, on, {}, SINK)
        warnings = prepared.warnings
        if type(verdict) is Undecided:
            split = version.splitter.split(record, on)
            warnings = warnings + split.warnings
            verdict = split.verdict
            if verdict is None:
                return self._undecided(version, record, on, rid, split, warnings, location)
            return Decision(rid, verdict.outcome, verdict.classification, verdict.review_policy,
                            version.grants(verdict.exceptions) if verdict.exceptions else (), split.missing,
                            version.info, (), warnings, record, location, version.explainer(on), verdict)
        if warnings or location is not None:
            return Decision(rid, verdict.outcome, verdict.classification, verdict.review_policy,
                            version.grants(verdict.exceptions) if verdict.exceptions else (), (),
                            version.info, (), warnings, record, location, version.explainer(on), verdict)
        return Decision._decided(rid, verdict.outcome, verdict.classification, verdict.review_policy,
                                 version.grants(verdict.exceptions) if verdict.exceptions else (),
                                 version.info, record, version.explainer(on), verdict)

    @staticmethod
    def _undecided(version: Version, record: dict, on: dt.date, rid, split, warnings, location) -> Decision:
        found = []
        for field, list_name in split.possible:
            value = record.get(field)
            res = version.screens.of_field(list_name, field, value, on, record.get)
            found.append(ListMatch.of_result(field, value, list_name, res))
        settled = split.settled
        if settled is None:
            d = Decision(rid, M.Outcome.INDETERMINATE, missing=split.missing, ruleset=version.info, record=record,
                         location=location, warnings=warnings, possible_matches=tuple(found),
                         explain=version.doubts(on), detail=split)
        else:
            d = Decision(rid, M.Outcome.INDETERMINATE, settled.classification, settled.review_policy,
                         version.grants(settled.exceptions) if settled.exceptions else (), split.missing,
                         version.info, (), warnings, record, location, possible_matches=tuple(found),
                         explain=version.doubts(on), detail=split)
            d.settled_fired = settled.fired
        if split.unsettled:
            d.unsettled = tuple(UnsettledLaw.of(version.zones[k]) for k in split.unsettled)
        return d


def _licence_lists(model) -> list[str]:
    """The lists a version's licence rules test (every list when they test none)."""
    tested = {a.list for r in model.rules if r.kind is not M.RuleKind.JURISDICTION
              for c in rule_conditions(r) for a in list_atoms(c)}
    return sorted(tested & set(model.lists)) or sorted(model.lists)


def _check_timeline(timeline) -> None:
    if timeline is not None and timeline not in TIMELINES:
        raise ChiprulesError(f"unknown timeline `{timeline}`; use `enforced` or `written`")


def _ledger_conflict(d: Decision, run) -> Decision:
    return Decision(d.id, M.Outcome.ERROR, record=d.record, location=d.location, errors=(
        f"record `{d.id}` was decided in ledger run {run} with other facts; a ledger keys draws by record id: "
        f"give this record a new id, or undo that run (`chiprules ledger undo`)",))


def _duplicate_id(d: Decision) -> Decision:
    return Decision(d.id, M.Outcome.ERROR, record=d.record, location=d.location, errors=(
        f"record id `{d.id}` draws on a quota or licence twice in this run; a ledger keys draws by "
        f"record id: give each record its own id",))


def _not_a_record(value, default_id: str, location) -> Decision:
    kind = "None" if value is None else f"a value of type {type(value).__name__}"
    return Decision(default_id, M.Outcome.ERROR, location=location, record={},
                    errors=(f"record {default_id} is not a mapping of field names to values (got {kind})",))


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
    catalog, digest = load_catalog_with_digest(path)
    if digest is not None:  # a decision depends on the catalog's figures: the hash names them too
        models = [attrs.evolve(m, content_hash=hashlib.sha256(m.content_hash.encode() + digest).hexdigest()[:16])
                  for m in models]
    return Rules(models, catalog, timeline, str(path))


def load_catalog_for(path: Path):
    return load_catalog_with_digest(path)[0]


def load_catalog_with_digest(path: Path):
    """The chip catalog named in the rules root's `chiprules.toml` and the SHA-256 of its file,
    or (None, None). The catalog must lie inside the rules root, as includes and lists do."""
    root = find_root(path)
    settings = root_settings(root)
    name = settings.get("catalog")
    if not isinstance(name, str):
        return None, None
    marker = str(root / "chiprules.toml")
    cat_path = root / name
    if not cat_path.resolve().is_relative_to(root.resolve()):
        raise RulesError(f"catalog `{name}` is outside the rules root", [error(
            "E209", f"the chip catalog `{name}` named in `{marker}` is outside the rules root `{root}`",
            location=marker, help="keep the catalog inside the folder that holds `chiprules.toml`")])
    if not cat_path.is_file():
        raise RulesError(f"catalog `{name}` not found", [error(
            "E210", f"the chip catalog `{cat_path}` named in `{marker}` does not exist",
            location=marker)])
    try:
        data = cat_path.read_bytes()
    except OSError as exc:
        raise RulesError(f"cannot read catalog `{name}`", [error(
            "E210", f"cannot read the chip catalog `{cat_path}`: {exc.strerror or exc}", location=marker)]) from None
    return load_catalog(cat_path), hashlib.sha256(data).digest()


def load_licences(path: str | Path):
    """The licences in a CSV file (`chiprules.data.licences`); `LedgerError` when malformed."""
    return _load_licences(path)


def open_ledger(path: str | Path, rules: Rules, timeline: str | None = None):
    """A ledger file for these rules (created when missing); `LedgerError` when it is damaged
    or kept for other rules."""
    return Ledger(path, rules.latest.name, timeline or rules.timeline)


def read(path: str | Path, fmt: str | None = None) -> Iterator[RawRecord]:
    return read_records(path, fmt)
