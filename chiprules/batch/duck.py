"""Batch decisions on DuckDB, embedded: files in, a table of decisions out.

How a file is decided:

1. **Read** with DuckDB (CSV, TSV, Parquet) or the project's own reader (JSON, JSON
   Lines, stdin, and any file DuckDB's reader refuses), into a relation of raw
   values with their row number.
2. **Type** every field in SQL, exactly as `chiprules.eval.prepare` would, for the
   values written the usual way (plain decimals, ISO codes, `YYYY-MM-DD` dates, the
   enum values, yes/no words); a row with any other spelling is *irregular* and is
   decided by the per-record engine, which reads every spelling and names every
   problem. Chips are looked up once per distinct name in the catalog, party names
   screened once per distinct (name, evidence, epoch of the list) by the project's
   screener: both become tables the plan joins.
3. **Decide** with the plan of `chiprules.batch.sql`, all versions at once, each row
   under the version in force on its day.
4. **Settle the undecided**: rows whose facts leave a rule unknown are grouped by
   signature; one row of each group is decided by the per-record engine (its case
   split), and the answer joins back to the whole group.
5. **Write** the decisions, in input order, beside the input's own columns: Parquet,
   CSV or JSON Lines, streamed by DuckDB with bounded memory (it spills to a
   temporary folder).

The result is the per-record engine's decision for every row; the tests hold the
two to each other row for row.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlglot import exp

from chiprules import model as M
from chiprules.batch.sql import (
    NUMBER,
    NUMBER_DIGITS,
    POLICY_RANK,
    UnsupportedInSql,
    VersionSql,
    note_col,
    policy_col,
    signature_columns,
    status_col,
)
from chiprules.core.dates import as_date
from chiprules.core.errors import ChiprulesError, RecordError
from chiprules.data.countries import all_country_codes
from chiprules.data.records import DEFAULT_FIELDS, RawRecord, normalize_field_name, read_records
from chiprules.eval.decision import Decision
from chiprules.eval.screens import EVIDENCE, PARTY_ORDER
from chiprules.ir import nodes as I
from chiprules.ir.lower import program_rules, rule_exprs, walk

#: The decision columns of a batch result, in order (the input's own columns follow).
DECISION_COLUMNS = ("row", "id", "outcome", "classification", "review_policy", "license_exceptions",
                    "notifications", "missing", "possible_matches", "rules_fired", "citations",
                    "ruleset_version", "ruleset_hash", "timeline", "errors", "warnings")
_LISTS = ("classification", "license_exceptions", "notifications", "missing", "possible_matches",
          "rules_fired", "citations", "errors", "warnings")
_MISSING_WORDS = ("", "na", "n/a", "null", "-")
_BOOL_WORDS = {"yes": True, "y": True, "true": True, "t": True, "1": True, "on": True,
               "no": False, "n": False, "false": False, "f": False, "0": False, "off": False}
_DECIMAL_RE = rf"[0-9]{{1,{NUMBER_DIGITS[0]}}}(\.[0-9]{{1,{NUMBER_DIGITS[1]}}})?"
_PY_BATCH = 20_000  # rows handed to the per-record engine at a time


def q(name: str) -> str:
    """An identifier, quoted for DuckDB by sqlglot."""
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def lit(value) -> str:
    """A literal, quoted for DuckDB by sqlglot."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return f"DATE {exp.Literal.string(value.isoformat()).sql('duckdb')}"
    return exp.Literal.string(str(value)).sql("duckdb")


def _in(values) -> str:
    return "(" + ", ".join(lit(v) for v in sorted(values)) + ")" if values else "(NULL)"


class BatchEngine:
    """Decides tables of records with DuckDB, exactly as the per-record engine would."""

    def __init__(self, rules, *, timeline: str | None = None, as_of=None,
                 memory_limit: str | None = None, temp_directory: str | None = None,
                 threads: int | None = None, progress=None):
        self.rules = rules
        self.timeline = timeline or rules.timeline
        self.on_fixed = as_date(as_of) if as_of is not None else None
        self.models = rules.on_timeline(self.timeline)
        self.versions = [rules.compiled(m, self.timeline) for m in self.models]
        self.memory_limit = memory_limit
        self.temp_directory = temp_directory
        self.threads = threads
        self.progress = progress or (lambda message: None)
        self.specs = rules.preparer.specs
        self.sqls = []
        self.sql_ok = []
        for v, version in enumerate(self.versions):
            s = VersionSql(v, version.program, version.model)
            try:  # emit once now: what SQL cannot decide exactly goes to the per-record engine
                s.stage_classify(), s.stage_require(), s.stage_exceptions()
                ok = True
            except UnsupportedInSql:
                ok = False
            self.sqls.append(s)
            self.sql_ok.append(ok)
        self.parties = sorted({(n.field, n.list) for version in self.versions
                               for rule in program_rules(version.program) for e in rule_exprs(rule)
                               for n in walk(e) if type(n) is I.Listed}
                              | {t for version in self.versions for rule in version.program.require
                                 if rule.review is not None for p in walk(rule.review)
                                 if type(p) is I.PolicyListed for t in p.tests},
                              key=lambda p: (PARTY_ORDER.get(p[0], len(PARTY_ORDER)), p))
        self.read_fields = sorted({n.name for version in self.versions for rule in program_rules(version.program)
                                   for e in rule_exprs(rule) for n in walk(e) if type(n) is I.Var})

    # ---- the connection
    def connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        con.execute("SET preserve_insertion_order = true").fetchall()
        if self.memory_limit:
            con.execute(f"SET memory_limit = {lit(self.memory_limit)}").fetchall()
        temp = self.temp_directory or os.path.join(tempfile.gettempdir(), "chiprules-duckdb")
        con.execute(f"SET temp_directory = {lit(temp)}").fetchall()
        if self.threads:
            con.execute(f"SET threads = {int(self.threads)}").fetchall()
        return con

    # ---- entry points
    def decide_file(self, source, fmt: str | None = None, output: str | None = None,
                    out_format: str | None = None):
        """Decide a records file (or `-`, JSON Lines on stdin). With ``output``, write the
        decisions there and return the number of rows; else return an Arrow table."""
        con = self.connect()
        try:
            name = str(source)
            raw_cols = self._load(con, source, fmt)
            return self._run(con, raw_cols, name, output, out_format)
        finally:
            con.close()

    def decide_table(self, table, output: str | None = None, out_format: str | None = None):
        """Decide an Arrow table (or anything DuckDB can scan, such as a pandas DataFrame)."""
        con = self.connect()
        try:
            con.register("__input", table)
            cols = _describe(con, "__input")
            raw_cols = self._raw_view(con, "__input", [(c[0], str(c[1])) for c in cols], "table")
            return self._run(con, raw_cols, "<table>", output, out_format)
        finally:
            con.close()

    # ---- reading
    def _load(self, con, source, fmt: str | None) -> list:
        path = None if str(source) == "-" else Path(source)
        if path is not None and fmt is None:
            if not path.exists():
                raise RecordError(f"no such file: `{source}`")
            suffixes = [s.lower() for s in path.suffixes]
            fmt = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet",
                   ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(suffixes[-1] if suffixes else "")
        if path is not None and fmt in ("csv", "tsv"):
            delim = "\t" if fmt == "tsv" else ","
            try:
                header = self._csv_header(path, delim)
                if header is not None:
                    columns = "{" + ", ".join(f"{lit(c)}: 'VARCHAR'" for c in header) + "}"
                    scan = (f"read_csv({lit(str(path))}, header = false, skip = 1, all_varchar = true, "
                            f"delim = {lit(delim)}, quote = '\"', escape = '\"', strict_mode = true, "
                            f"null_padding = false, ignore_errors = false, auto_detect = false, "
                            f"columns = {columns})")
                    con.execute(f"CREATE VIEW __scan AS SELECT * FROM {scan}").fetchall()
                    con.execute("SELECT count(*) FROM __scan").fetchall()  # reads the whole file: errors now
                    return self._raw_view(con, "__scan", [(c, "VARCHAR") for c in header], fmt)
            except (duckdb.Error, _Irregular):
                con.execute("DROP VIEW IF EXISTS __scan").fetchall()
        elif path is not None and fmt == "parquet":
            try:
                con.execute(f"CREATE VIEW __scan AS SELECT * FROM read_parquet({lit(str(path))})").fetchall()
                cols = [(c[0], str(c[1])) for c in _describe(con, "__scan")]
                return self._raw_view(con, "__scan", cols, fmt)
            except (duckdb.Error, _Irregular):
                con.execute("DROP VIEW IF EXISTS __scan").fetchall()
        return self._load_python(con, source, fmt)

    @staticmethod
    def _csv_header(path: Path, delim: str) -> list[str] | None:
        """The header line of a plain CSV file, or None when it is not plain (the project's
        own reader then reads the file)."""
        with open(path, "rb") as f:
            first = f.readline()
        try:
            text = first.decode("utf-8-sig").rstrip("\r\n")
        except UnicodeDecodeError:
            return None
        if '"' in text or not text.strip():
            return None
        return text.split(delim)

    def _raw_view(self, con, source: str, cols: list[tuple[str, str]], kind: str) -> list:
        """The view ``__raw``: the input's columns under their record-field names, and ``__row``."""
        names = [normalize_field_name(c) for c, _ in cols]
        if len(set(names)) != len(names) or any(not n for n in names):
            raise _Irregular("column names that are blank or read alike")
        if not any(n in DEFAULT_FIELDS for n in names):
            raise _Irregular("no column names a record field")  # the project's reader says so
        select = ", ".join(f"{q(c)} AS {q(n)}" for (c, _), n in zip(cols, names, strict=True))
        # a row of empty cells is no record (a spreadsheet's blank row), as the project's reader has it
        blank = " AND ".join(f"{q(c)} IS NULL" for c, _ in cols) if kind in ("csv", "tsv") else "FALSE"
        con.execute(f"CREATE VIEW __raw AS SELECT row_number() OVER () AS __row, {select} FROM {q(source)} "
                    f"WHERE NOT ({blank})").fetchall()
        self.raw_kind = kind
        return [(n, t, c) for (c, t), n in zip(cols, names, strict=True)]

    def _load_python(self, con, source, fmt) -> list:
        """Read with the project's own reader (every format, every quirk): values as text,
        rows it could not read marked for the per-record engine."""
        records = read_records(source, fmt)
        self._python_raw: dict[int, RawRecord] = {}
        fields = list(self.specs)
        extra: dict[str, None] = {}
        batches = []
        rows = []

        def flush():
            if rows:
                keys = ["__row", "__odd", *fields, *extra]
                batches.append(pa.table({k: pa.array([r.get(k) for r in rows], type=pa.int64() if k == "__row"
                                         else pa.bool_() if k == "__odd" else pa.string()) for k in keys}))
                rows.clear()

        for rec in records:
            row = {"__row": rec.number, "__odd": rec.problem is not None}
            for k, v in rec.data.items():
                if k not in self.specs:
                    extra.setdefault(k)
                    row[k] = None if v is None else str(v)
                    continue
                text = _as_text(v, self.specs[k].kind)
                if text is _ODD:
                    row["__odd"] = True
                else:
                    row[k] = text
            if row["__odd"]:
                self._python_raw[rec.number] = rec
            rows.append(row)
            if len(rows) >= _PY_BATCH:
                flush()
        flush()
        keys = ["__row", "__odd", *fields, *extra]
        table = pa.concat_tables([b.select(keys) if set(keys) <= set(b.column_names) else _widen(b, keys)
                                  for b in batches]) if batches else pa.table({k: pa.array([], pa.string())
                                                                               for k in keys})
        con.register("__pyraw", table)
        con.execute("CREATE VIEW __raw AS SELECT * FROM __pyraw").fetchall()
        self.raw_kind = "python"
        return [(k, "VARCHAR", k) for k in [*fields, *extra]]

    # ---- typing
    def _typed(self, name: str, src_type: str) -> tuple[str, str]:
        """(value, regular) SQL for a field: the typed value, and whether its spelling is one
        the plan reads exactly as the per-record engine does (NULL values are regular)."""
        spec = self.specs[name]
        kind = spec.kind
        c = q(name)
        text = src_type == "VARCHAR"
        if text:
            missing = f"({c} IS NULL OR lower(trim({c})) IN {_in(_MISSING_WORDS)})"
        else:
            missing = f"({c} IS NULL)"
        if kind == "quantity":
            src = c if text else f"CAST({c} AS VARCHAR)"
            if not text and not src_type.startswith(("DECIMAL", "DOUBLE", "FLOAT", "INTEGER", "BIGINT", "SMALLINT",
                                                     "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER")):
                return "NULL", missing
            positive = "" if spec.allow_zero else f" AND TRY_CAST({src} AS {NUMBER}) > 0"
            regular = f"(regexp_full_match({src}, {lit(_DECIMAL_RE)}){positive})"
            return (f"CASE WHEN {missing} THEN NULL ELSE TRY_CAST({src} AS {NUMBER}) END",
                    f"({missing} OR {regular})")
        if kind == "integer":
            src = c if text else f"CAST({c} AS VARCHAR)"
            regular = f"regexp_full_match({src}, '[0-9]{{1,18}}')"
            return (f"CASE WHEN {missing} THEN NULL ELSE TRY_CAST({src} AS BIGINT) END", f"({missing} OR {regular})")
        if kind == "bool":
            if src_type == "BOOLEAN":
                return c, "TRUE"
            if not text:
                return "NULL", missing
            words = lit_map(_BOOL_WORDS)
            return (f"CASE WHEN {missing} THEN NULL ELSE {words}[lower(trim({c}))] END",
                    f"({missing} OR lower(trim({c})) IN {_in(_BOOL_WORDS)})")
        if kind == "date":
            if src_type == "DATE":
                return c, "TRUE"
            if not text:
                return "NULL", missing
            regular = (f"(regexp_full_match({c}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') AND "
                       f"TRY_CAST({c} AS DATE) IS NOT NULL AND substr({c}, 1, 4) <> '0000')")
            return f"CASE WHEN {missing} THEN NULL ELSE TRY_CAST({c} AS DATE) END", f"({missing} OR {regular})"
        if not text:
            return "NULL", missing
        if kind == "country":
            return (f"CASE WHEN {missing} THEN NULL ELSE {c} END",
                    f"({missing} OR {c} IN {_in(all_country_codes())})")
        if kind == "enum":
            return f"CASE WHEN {missing} THEN NULL ELSE {c} END", f"({missing} OR {c} IN {_in(spec.values)})"
        # text and party names: as written, with nothing to strip
        return f"CASE WHEN {missing} THEN NULL ELSE {c} END", f"({missing} OR {c} = trim({c}))"

    # ---- the run
    def _run(self, con, raw_cols, name: str, output, out_format):
        self.progress("typing")
        present = {n: t for n, t, _ in raw_cols}
        typed, regular = {}, []
        for field in self.specs:
            if field in present:
                value, ok = self._typed(field, present[field])
                typed[field] = value
                regular.append(ok)
            else:
                typed[field] = "NULL"
        derived_only = [n for n in self.rules.preparer.derived_only if n in present]
        odd = "__odd" if self.raw_kind == "python" else "FALSE"
        if derived_only:
            odd = "TRUE"  # the per-record engine says the given value is ignored
        cols = ", ".join(f"CAST({v} AS {self._sql_type(f)}) AS {q(f)}" for f, v in typed.items())
        reg = " AND ".join(regular) or "TRUE"
        con.execute(f"CREATE VIEW __typed AS SELECT __row, NOT ({odd}) AND ({reg}) AS __regular, {cols} "
                    f"FROM __raw").fetchall()
        self._chips(con)
        con.execute(self._prepared_sql()).fetchall()
        self._matches(con)
        self.progress("deciding")
        con.execute(self._decided_sql()).fetchall()
        self.progress("settling undecided rows")
        self._python_rows(con, name)
        self._settle(con)
        self.progress("writing")
        return self._write(con, raw_cols, output, out_format)

    def _sql_type(self, field: str) -> str:
        kind = self.specs[field].kind
        return {"quantity": NUMBER, "integer": "BIGINT", "bool": "BOOLEAN", "date": "DATE"}.get(kind, "VARCHAR")

    def _chips(self, con) -> None:
        """The catalog's figures for every distinct chip name, as the table ``__chips``."""
        catalog = self.rules.catalog
        names = [r[0] for r in con.execute(
            "SELECT DISTINCT chip FROM __typed WHERE __regular AND chip IS NOT NULL").fetchall()]
        figures = ("tpp", "die_area", "datacenter", "interconnect_bw", "dram_bw", "memory_bw_density", "item_kind")
        rows = {k: [] for k in ("raw", "name", "warning", "regular", *figures)}
        for raw in names:
            spec = catalog.lookup(raw) if catalog is not None else None
            values = spec.fields() if spec is not None else {}
            warning = None
            if catalog is not None and spec is None:
                guess = catalog.suggest(raw)
                warning = (f"chip `{raw}` is not in the catalog" + (f"; did you mean `{guess}`?" if guess else "")
                           + "; only the specs given in the record are used")
            rows["raw"].append(raw)
            rows["name"].append(spec.name if spec is not None else raw)
            rows["warning"].append(warning)
            # figures the plan's numbers hold exactly; else its rows go to the per-record engine
            rows["regular"].append(all(_fits(v) for v in values.values() if isinstance(v, Decimal)))
            for f in figures:
                v = values.get(f)
                rows[f].append(str(v) if isinstance(v, Decimal) else v)
        con.register("__chips_py", pa.table(rows, schema=pa.schema(
            [("raw", pa.string()), ("name", pa.string()), ("warning", pa.string()), ("regular", pa.bool_())]
            + [(f, pa.bool_() if f == "datacenter" else pa.string()) for f in figures])))
        con.execute("CREATE TABLE __chips AS SELECT raw, name, warning, regular, "
                    + ", ".join(f"CAST({q(f)} AS {NUMBER}) AS {q(f)}" for f in figures
                                if f not in ("datacenter", "item_kind"))
                    + ", datacenter, item_kind FROM __chips_py").fetchall()

    def _prepared_sql(self) -> str:
        """The view ``__prepared``: catalog figures and defaults filled in, the day and the version."""
        out = []
        chip_fields = {"tpp", "die_area", "datacenter", "interconnect_bw", "dram_bw", "memory_bw_density", "item_kind"}
        for field in self.specs:
            v = f"t.{q(field)}"
            if field == "chip":
                v = "coalesce(k.name, t.chip)"
            elif field in chip_fields and field in self.specs:
                v = f"coalesce(t.{q(field)}, k.{q(field)})"
            out.append((field, v))
        values = dict(out)
        for field, default in self.rules.preparer.literal_defaults:
            values[field] = f"coalesce({values[field]}, {lit(default)})"
        for field, source in self.rules.preparer.copied_defaults:
            values[field] = f"coalesce({values[field]}, {values[source]})"
        on = lit(self.on_fixed) if self.on_fixed is not None else q("export_date")
        version = ["CASE"]
        for v, model in reversed(list(enumerate(self.models))):
            cond = f"__on >= {lit(model.effective)}" if model.effective is not None else "TRUE"
            if model.until is not None and v == len(self.models) - 1:
                cond += f" AND __on <= {lit(model.until)}"
            version.append(f"WHEN {cond} THEN {v}")
        version.append("END")
        sql_versions = _in([v for v, ok in enumerate(self.sql_ok) if ok])
        version = " ".join(version)
        version = f"CASE WHEN __regular AND ({version}) IN {sql_versions} THEN {version} END"
        cols = ", ".join(f"{v} AS {q(f)}" for f, v in values.items())
        return (f"CREATE VIEW __prepared0 AS SELECT t.__row, t.__regular AND coalesce(k.regular, TRUE) AS __regular, "
                f"k.warning AS __chip_warning, {cols} "
                f"FROM __typed t LEFT JOIN __chips k ON t.__regular AND t.chip = k.raw; "
                f"CREATE VIEW __prepared1 AS SELECT *, {on} AS __on FROM __prepared0; "
                f"CREATE VIEW __prepared2 AS SELECT *, {version} AS __v FROM __prepared1")

    def _epochs(self, list_name: str) -> list[dt.date]:
        """The days on which entries of a list come into or go out of force."""
        days = set()
        for version in self.versions:
            lst = version.model.lists.get(list_name)
            if lst is None:
                continue
            for e in lst.entries:
                days.update(d for d in (e.added, e.removed) if d is not None)
        return sorted(days)

    def _matches(self, con) -> None:
        """Screen every distinct party of the file once: the view ``__prepared`` with a status,
        the entry's policy and a note for each party field and list."""
        joins, cols = [], []
        for n, (field, list_name) in enumerate(self.parties):
            country_field, address_field = EVIDENCE.get(field, (None, None))
            country = f"p.{q(country_field)}" if country_field else "NULL"
            address = f"p.{q(address_field)}" if address_field and address_field in self.specs else "NULL"
            days = self._epochs(list_name)
            epoch = _epoch_sql("p.__on", days)
            found = con.execute(
                f"SELECT DISTINCT p.{q(field)}, {country}, {address}, {epoch}, min(p.__on) OVER "
                f"(PARTITION BY p.{q(field)}, {country}, {address}, {epoch}) FROM __prepared2 p "
                f"WHERE p.__regular AND p.{q(field)} IS NOT NULL AND p.__v IS NOT NULL").fetchall()
            table = {"name": [], "country": [], "address": [], "epoch": [], "status": [], "policy": [],
                     "note": []}
            screens = self.versions[-1].screens if self.versions else None
            for name, cty, addr, ep, on in found:
                screens = self._screens_with(list_name)
                res = screens.result(list_name, name, on, cty, addr)
                status = True if res.status == "match" else None if res.status == "possible" else False
                policy = None
                note = None
                if res.best is not None and res.status != "none":
                    try:
                        policy = POLICY_RANK[M.Policy(res.best.entry.review_policy)]
                    except ValueError:
                        policy = POLICY_RANK[M.Policy.PRESUMPTION_OF_DENIAL]
                    if res.status == "possible":
                        note = f"possible match: {field} ~ {res.best.entry.name} ({res.best.score:g})"
                for k, v in zip(table, (name, cty, addr, ep, status, policy, note), strict=True):
                    table[k].append(v)
            name = f"__m{n}"
            con.register(name + "_py", pa.table(table, schema=pa.schema([
                ("name", pa.string()), ("country", pa.string()), ("address", pa.string()), ("epoch", pa.int64()),
                ("status", pa.bool_()), ("policy", pa.int64()), ("note", pa.string())])))
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_py").fetchall()
            joins.append(f"LEFT JOIN {name} ON {name}.name = p.{q(field)} AND {name}.country IS NOT DISTINCT FROM "
                         f"{country} AND {name}.address IS NOT DISTINCT FROM {address} AND {name}.epoch = {epoch}")
            cols += [f"{name}.status AS {q(status_col(field, list_name))}",
                     f"{name}.policy AS {q(policy_col(field, list_name))}",
                     f"{name}.note AS {q(note_col(field, list_name))}"]
        extra = (", " + ", ".join(cols)) if cols else ""
        con.execute(f"CREATE TABLE __prepared AS SELECT p.*{extra} FROM __prepared2 p {' '.join(joins)}").fetchall()

    def _screens_with(self, list_name: str):
        for version in reversed(self.versions):
            if list_name in version.model.lists:
                return version.screens
        raise ChiprulesError(f"no version has the list `{list_name}`")

    def _decided_sql(self) -> str:
        """The table ``__decided``: the plan's decision for every row with a version decided in
        SQL, one select per version over its own rows, joined by UNION ALL."""
        sigs = {}
        for s, ok in zip(self.sqls, self.sql_ok, strict=True):
            if ok and self.versions[s.v].splitter.signer.usable:
                try:
                    sigs[s.v] = signature_columns(s.v, s.model, s.program, self._day_points(s.v), EVIDENCE)
                except UnsupportedInSql:
                    pass
        self.signature_width = width = max((len(c) for c in sigs.values()), default=0)
        selects = [self._version_select(s, sigs.get(s.v), width)
                   for s, ok in zip(self.sqls, self.sql_ok, strict=True) if ok]
        if not selects:
            selects = [self._version_select(None, None, width)]
        return "CREATE TABLE __decided AS\n" + "\nUNION ALL\n".join(selects)

    def _version_select(self, s: VersionSql | None, sig, width: int) -> str:
        """One version's decisions (``s`` None: an empty select of the same columns)."""
        notes = [q(note_col(f, lname)) for f, lname in self.parties]
        if s is None:
            cols = ["__row", "__v", "__chip_warning", "id AS __id", "NULL::VARCHAR AS outcome",
                    *[f"NULL::VARCHAR[] AS {c}" for c in ("classification",)], "NULL::VARCHAR AS review_policy",
                    *[f"NULL::VARCHAR[] AS {c}" for c in ("license_exceptions", "notifications", "rules_fired",
                                                         "citations")],
                    "NULL AS ruleset_version", "NULL AS ruleset_hash", "NULL AS timeline", "FALSE AS __signable",
                    *[f"NULL::VARCHAR AS __s{i}" for i in range(width)], *notes]
            return f"SELECT {', '.join(cols)} FROM __prepared WHERE FALSE"
        info = self.versions[s.v].info
        und = q(s.names.undecided())
        sig_cols = [f"CASE WHEN {und} THEN CAST({sig[i].sql('duckdb')} AS VARCHAR) END AS __s{i}"
                    if sig is not None and i < len(sig) else f"NULL::VARCHAR AS __s{i}" for i in range(width)]
        stages = [s.stage_classify(), s.stage_require(), s.stage_exceptions(), s.stage_summary()]
        body = f"(SELECT * FROM __prepared WHERE __v = {s.v})"
        for stage in stages:
            body = f"(SELECT *{''.join(', ' + e.sql('duckdb') for e in stage)} FROM {body})"
        cols = ["__row", "__v", "__chip_warning", "id AS __id",
                f"{s.outcome().sql('duckdb')} AS outcome",
                f"{s.classification().sql('duckdb')} AS classification",
                f"{s.review().sql('duckdb')} AS review_policy",
                f"{s.exceptions().sql('duckdb')} AS license_exceptions",
                f"{s.notifications().sql('duckdb')} AS notifications",
                f"{s.rules_fired().sql('duckdb')} AS rules_fired",
                f"{s.citations().sql('duckdb')} AS citations",
                f"{lit(info.version)} AS ruleset_version", f"{lit(info.content_hash)} AS ruleset_hash",
                f"{lit(info.timeline)} AS timeline", f"{'TRUE' if sig is not None else 'FALSE'} AS __signable",
                *sig_cols, *notes]
        return f"SELECT {', '.join(cols)} FROM {body}"

    def _day_points(self, v: int) -> list[dt.date]:
        """Every day on which a rule of version ``v`` or an entry of its lists comes into or goes out of force."""
        model = self.versions[v].model
        days = set()
        for r in model.rules:
            if r.effective is not None:
                days.add(r.effective)
            if r.until is not None:
                days.add(r.until + dt.timedelta(days=1))
        for lst in model.lists.values():
            for e in lst.entries:
                days.update(d for d in (e.added, e.removed) if d is not None)
        # interval classes of `on` among the points: a day equal to a point is its own class,
        # so the points are the first days of the new state and the day before is `<`
        return sorted(days)

    def _columns(self, row: int, d: Decision) -> dict:
        rules_by_id = {}
        if d.ruleset is not None:
            model = next((m for m in self.rules.models if m.path == d.ruleset.path
                          and m.version == d.ruleset.version), None)
            rules_by_id = {r.id: r for r in model.rules} if model is not None else {}
        return decision_columns(row, d, rules_by_id)

    # ---- rows for the per-record engine
    def _python_rows(self, con, name: str) -> None:
        """Decide with the per-record engine every row the plan did not: irregular spellings,
        no version in force, no day."""
        rows = [r[0] for r in con.execute(
            "SELECT __row FROM __prepared WHERE __v IS NULL ORDER BY __row").fetchall()]
        self._python_decisions = {}
        for row, d in self._decide_rows(con, rows, name):
            self._python_decisions[row] = self._columns(row, d)

    def _decide_rows(self, con, rows: list[int], name: str):
        rules = self.rules
        for start in range(0, len(rows), _PY_BATCH):
            chunk = rows[start:start + _PY_BATCH]
            for rec in self._raw_records(con, chunk, name):
                if rec.problem is not None:
                    d = Decision(str(rec.data.get("id") or rec.number), M.Outcome.ERROR, errors=(rec.problem,),
                                 record=dict(rec.data), location=rec.location)
                    yield rec.number, d
                    continue
                d = rules._decide(rules.prepare(rec.data), self.on_fixed, str(rec.number), self.timeline,
                                  rec.location)
                yield rec.number, d

    def _raw_records(self, con, rows: list[int], name: str) -> Iterable[RawRecord]:
        if not rows:
            return []
        if self.raw_kind == "python":
            out = []
            for row in rows:
                rec = self._python_raw.get(row)
                if rec is None:
                    cur = con.execute("SELECT * EXCLUDE (__row, __odd) FROM __raw WHERE __row = ?", [row])
                    data = cur.fetchall()[0]
                    names = [c[0] for c in cur.description]
                    rec = RawRecord(row, f"{name}: record {row}", {k: v for k, v in zip(names, data, strict=True)
                                                                       if v is not None})
                out.append(rec)
            return out
        con.register("__want", pa.table({"r": pa.array(rows, pa.int64())}))
        cur = con.execute("SELECT * FROM __raw WHERE __row IN (SELECT r FROM __want) ORDER BY __row")
        names = [c[0] for c in cur.description]
        out = []
        for values in cur.fetchall():
            data = dict(zip(names, values, strict=True))
            row = data.pop("__row")
            out.append(RawRecord(row, f"{name}: row {row}", {k: _py(v) for k, v in data.items() if v is not None}))
        con.unregister("__want")
        return out

    def _settle(self, con) -> None:
        """Undecided rows: one per signature decided by the per-record engine, its answer joined back."""
        width = self.signature_width
        sig = ", ".join(f"__s{i}" for i in range(width))
        group_by = "__v" + (", " + sig if sig else "")
        reps = [r[0] for r in con.execute(
            f"SELECT min(__row) FROM __decided WHERE outcome IS NULL AND __signable "
            f"GROUP BY {group_by}").fetchall()]
        alone = [r[0] for r in con.execute(
            "SELECT __row FROM __decided WHERE outcome IS NULL AND NOT __signable").fetchall()]
        answers = {}
        for row, d in self._decide_rows(con, sorted(reps + alone), "<input>"):
            answers[row] = d
        for row in alone:
            d = answers[row]
            self._python_decisions[row] = self._columns(row, d)
        groups = {k: [] for k in ("rep", "outcome", "classification", "review_policy", "license_exceptions",
                                  "notifications", "missing", "possible", "rules_fired", "citations", "warnings")}
        for row in reps:
            d = answers[row]
            c = self._columns(row, d)
            groups["rep"].append(row)
            for k in groups:
                if k == "rep":
                    continue
                if k == "possible":
                    groups[k].append([f"{m.field}~{m.list}" for m in d.possible_matches])
                elif k == "warnings":
                    groups[k].append(list(_split_warnings(d)))
                else:
                    groups[k].append(c[k])
        con.register("__groups_py", pa.table(groups, schema=pa.schema(
            [("rep", pa.int64()), ("outcome", pa.string())]
            + [(k, pa.list_(pa.string())) for k in ("classification",)]
            + [("review_policy", pa.string())]
            + [(k, pa.list_(pa.string())) for k in ("license_exceptions", "notifications", "missing", "possible",
                                                     "rules_fired", "citations", "warnings")])))
        con.execute("CREATE TABLE __groups AS SELECT * FROM __groups_py").fetchall()
        notes = [f"CASE WHEN list_contains(g.possible, {lit(f'{f}~{lname}')}) THEN u.{q(note_col(f, lname))} END"
                 for f, lname in self.parties]
        possible = f"list_filter([{', '.join(notes)}], lambda x: x IS NOT NULL)" if notes else "[]::VARCHAR[]"
        con.execute(
            f"CREATE TABLE __settled AS SELECT u.__row, g.outcome, g.classification, g.review_policy, "
            f"g.license_exceptions, g.notifications, g.missing, {possible} AS possible_matches, g.rules_fired, "
            f"g.citations, g.warnings AS split_warnings "
            f"FROM (SELECT *, min(__row) OVER (PARTITION BY {group_by}) AS __rep FROM __decided "
            f"WHERE outcome IS NULL AND __signable) u JOIN __groups g ON g.rep = u.__rep").fetchall()

    # ---- output
    def _write(self, con, raw_cols, output, out_format):
        py = self._python_decisions
        table = {k: [] for k in DECISION_COLUMNS}
        for row in sorted(py):
            c = py[row]
            for k in DECISION_COLUMNS:
                table[k].append(c[k])
        schema = pa.schema([(k, pa.int64() if k == "row" else pa.list_(pa.string()) if k in _LISTS else pa.string())
                            for k in DECISION_COLUMNS])
        con.register("__python_py", pa.table(table, schema=schema))
        warnings = "list_filter([d.__chip_warning], lambda x: x IS NOT NULL)"
        ids = "coalesce(d.__id, CAST(d.__row AS VARCHAR))"
        sql_rows = (
            f"SELECT d.__row AS row, {ids} AS id, "
            "coalesce(d.outcome, s.outcome) AS outcome, "
            "CASE WHEN d.outcome IS NULL THEN s.classification ELSE d.classification END AS classification, "
            "CASE WHEN d.outcome IS NULL THEN s.review_policy ELSE d.review_policy END AS review_policy, "
            "CASE WHEN d.outcome IS NULL THEN s.license_exceptions ELSE d.license_exceptions END AS license_exceptions, "
            "CASE WHEN d.outcome IS NULL THEN s.notifications ELSE d.notifications END AS notifications, "
            "coalesce(s.missing, []::VARCHAR[]) AS missing, "
            "coalesce(s.possible_matches, []::VARCHAR[]) AS possible_matches, "
            "CASE WHEN d.outcome IS NULL THEN s.rules_fired ELSE d.rules_fired END AS rules_fired, "
            "CASE WHEN d.outcome IS NULL THEN s.citations ELSE d.citations END AS citations, "
            "d.ruleset_version, d.ruleset_hash, d.timeline, []::VARCHAR[] AS errors, "
            f"list_concat({warnings}, coalesce(s.split_warnings, []::VARCHAR[])) AS warnings "
            "FROM __decided d LEFT JOIN __settled s ON s.__row = d.__row "
            "WHERE d.outcome IS NOT NULL OR s.__row IS NOT NULL")
        decisions = (f"SELECT * FROM ({sql_rows}) UNION ALL "
                     f"SELECT * FROM __python_py")
        inputs = [(n, orig) for n, _, orig in raw_cols]
        taken = set(DECISION_COLUMNS)
        input_cols = ", ".join(f"r.{q(n)} AS {q(n if n not in taken else 'input_' + n)}" for n, _ in inputs)
        query = (f"SELECT d.*{', ' + input_cols if input_cols else ''} FROM ({decisions}) d "
                 f"JOIN __raw r ON r.__row = d.row ORDER BY d.row")
        if output is None:
            return con.sql(query).to_arrow_table()
        fmt = out_format or _format_of(output)
        if fmt == "parquet":
            con.execute(f"COPY ({query}) TO {lit(str(output))} (FORMAT parquet)").fetchall()
        elif fmt == "csv":
            flat = ", ".join(
                f"array_to_string(d.{q(k)}, {lit(' | ' if k in ('notifications', 'citations', 'errors', 'warnings') else ';')}) AS {q(k)}"
                if k in _LISTS else f"d.{q(k)}" for k in DECISION_COLUMNS)
            con.execute(f"COPY (SELECT {flat}{', ' + input_cols if input_cols else ''} FROM ({decisions}) d "
                        f"JOIN __raw r ON r.__row = d.row ORDER BY d.row) TO {lit(str(output))} (FORMAT csv, HEADER)"
                        ).fetchall()
        elif fmt == "jsonl":
            con.execute(f"COPY ({query}) TO {lit(str(output))} (FORMAT json)").fetchall()
        else:
            raise ChiprulesError(f"cannot write `{output}`: name it .parquet, .csv or .jsonl")
        return con.execute("SELECT count(*) FROM __raw").fetchall()[0][0]


def _describe(con, relation: str) -> list:
    """The (name, type, ...) of a relation's columns."""
    cur = con.execute(f"SELECT * FROM {q(relation)} LIMIT 0")
    desc = cur.description
    cur.fetchall()
    return desc


def _fits(value: Decimal) -> bool:
    """Does a number fit the plan's DECIMAL exactly?"""
    sign, digits, exponent = value.normalize().as_tuple()
    if not isinstance(exponent, int):
        return False
    scale = max(-exponent, 0)
    return scale <= NUMBER_DIGITS[1] and len(digits) + exponent <= NUMBER_DIGITS[0]


class _Irregular(Exception):
    """The input cannot be read by DuckDB the way the project's reader reads it."""


_ODD = object()


def _as_text(value, kind: str):
    """A value from the project's reader as the text the plan types, or `_ODD` when the
    per-record engine must read it (a JSON type the plan does not type the same way)."""
    if value is None:
        return None
    t = type(value)
    if t is str:
        return value
    if kind in ("quantity", "integer") and (t is Decimal or t is int):
        return str(value) if t is int or value.is_finite() else _ODD
    if kind == "bool" and t is bool:
        return "true" if value else "false"
    return _ODD


def _widen(table: pa.Table, keys: list[str]) -> pa.Table:
    for k in keys:
        if k not in table.column_names:
            table = table.append_column(k, pa.nulls(len(table), pa.string()))
    return table.select(keys)


def _py(value):
    """A DuckDB value as the per-record engine reads it from a file (Parquet's types as pyarrow gives them)."""
    return value


def lit_map(words: dict) -> str:
    keys = ", ".join(lit(k) for k in words)
    values = ", ".join(lit(v) for v in words.values())
    return f"MAP([{keys}], [{values}])"


def _epoch_sql(on: str, days: list[dt.date]) -> str:
    """The number of entry dates on or before ``on``: days with one number screen alike."""
    if not days:
        return "0"
    parts = " + ".join(f"CAST({on} >= {lit(d)} AS INTEGER)" for d in days)
    return f"({parts})"


def _case_info(info: dict, attr: str) -> str:
    arms = " ".join(f"WHEN {v} THEN {lit(getattr(i, attr))}" for v, i in info.items() if getattr(i, attr) is not None)
    return f"CASE __v {arms} END" if arms else "NULL"


def _split_warnings(d: Decision) -> tuple[str, ...]:
    """The warnings of the case split (those of the record itself come from the plan)."""
    return tuple(w for w in d.warnings if not w.startswith("chip `"))


def decision_columns(row: int, d: Decision, rules_by_id: dict) -> dict:
    """The batch columns of a per-record decision (``rules_by_id``: the rules of its
    version, for the citations)."""
    fired = list(d.rules_fired)
    cites = [f"{rid}: {rules_by_id[rid].cite}" for rid in fired if rid in rules_by_id and rules_by_id[rid].cite]
    return {
        "row": row, "id": d.id, "outcome": str(d.outcome), "classification": list(d.classification),
        "review_policy": d.review_policy and str(d.review_policy),
        "license_exceptions": [g.name for g in d.license_exceptions],
        "notifications": [f"{g.name}: {n}" for g in d.license_exceptions for n in g.notify],
        "missing": list(d.missing),
        "possible_matches": [f"possible match: {m.field} ~ {m.entry} ({m.score:g})" for m in d.possible_matches],
        "rules_fired": fired, "citations": cites,
        "ruleset_version": d.ruleset.version if d.ruleset else None,
        "ruleset_hash": d.ruleset.content_hash if d.ruleset else None,
        "timeline": d.ruleset.timeline if d.ruleset else None,
        "errors": list(d.errors), "warnings": list(d.warnings),
    }


def _format_of(path) -> str:
    suffix = Path(str(path)).suffix.lower()
    return {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(
        suffix, "")


__all__ = ["DECISION_COLUMNS", "BatchEngine", "decision_columns"]
