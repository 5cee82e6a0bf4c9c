"""Batch decisions on DuckDB, embedded: files in, a table of decisions out.

How a file is decided:

1. **Read** with DuckDB (CSV, TSV, Parquet) or the project's own reader (JSON, JSON
   Lines, stdin, and any file DuckDB's reader cannot read the way the project's
   reader does), into a relation of raw values with their row number.
2. **Type** every field in SQL (`chiprules.batch.plan`), as the per-record engine
   would, for the values written the usual way; a row with any other spelling is
   decided by the per-record engine, which reads every spelling and names every
   problem. Chips are looked up once per distinct name in the catalog, party names
   screened once per distinct (name, evidence, epoch of the list) by the project's
   screener: both become tables the plan joins.
3. **Decide** with the plan, every version at once, each row under the version in
   force on its day.
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

import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from chiprules import model as M
from chiprules.batch.plan import (
    CHIP_FIGURES,
    CODE_COLUMNS,
    DECISION_COLUMNS,
    MISSING_WORDS,
    WORD_KEYS,
    Plan,
)
from chiprules.batch.sql import NUMBER, NUMBER_DIGITS, OUTCOME_CODE, POLICY_RANK, note_col
from chiprules.core.dates import as_date
from chiprules.core.errors import ChiprulesError, RecordError
from chiprules.data.csvtext import FIELD_LIMIT
from chiprules.data.records import DEFAULT_FIELDS, RawRecord, normalize_field_name, read_records
from chiprules.eval.decision import Decision
from chiprules.eval.prepare import screenable
from chiprules.screening.names import LEGAL_WORDS

LIST_COLUMNS = ("classification", "license_exceptions", "notifications", "missing", "possible_matches",
                "unsettled", "rules_fired", "citations", "errors", "warnings")
#: How list columns are joined in a CSV file.
CSV_SEPARATORS = {k: (" | " if k in ("notifications", "unsettled", "citations", "errors", "warnings") else ";")
                  for k in LIST_COLUMNS}
DEFAULT_MEMORY = "2GB"  # DuckDB's share unless --memory-limit says otherwise
PY_BATCH = 20_000  # rows handed to the per-record engine at a time
CHUNK_ROWS = 250_000  # rows sorted at a time when writing a file
SCREEN_PAGE = 200_000  # distinct parties screened at a time
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet",
              ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
OUTPUTS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def q(name: str) -> str:
    """An identifier, quoted for DuckDB by sqlglot."""
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def lit(value) -> str:
    """A literal, quoted for DuckDB by sqlglot."""
    return exp.Literal.string(str(value)).sql("duckdb")


def surely_a_name(column: str) -> str:
    """SQL: the value is ASCII and holds a word of two or more letters or digits that no legal
    form uses, read as ``chiprules.screening.names`` reads words (lower case, apostrophes
    dropped, runs of ``[0-9a-z]``). Such a value has a name to screen; the converse need not
    hold, so a false here only sends the value to ``screenable``."""
    legal = "[" + ", ".join(lit(w) for w in sorted(LEGAL_WORDS)) + "]"
    words = f"regexp_extract_all(lower(replace(replace({column}, '''', ''), '`', '')), '[0-9a-z]+')"
    return (f"(NOT regexp_matches({column}, '[^\\x00-\\x7F]') AND len(list_filter({words}, "
            f"lambda w: length(w) >= 2 AND NOT list_contains({legal}, w))) > 0)")


def source_kind(duck_type: str) -> str:
    """A DuckDB column type as one of `chiprules.batch.plan.SOURCE_KINDS`."""
    t = duck_type.upper()
    if t == "VARCHAR":
        return "text"
    if t == "BOOLEAN":
        return "bool"
    if t == "DATE":
        return "date"
    if t.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL")):
        return "number"
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
             "UBIGINT"):
        return "integer"
    return "other"


def output_format(path) -> str:
    fmt = OUTPUTS.get(Path(str(path)).suffix.lower())
    if fmt is None:
        raise ChiprulesError(f"cannot write `{path}`: name it .parquet, .csv or .jsonl")
    return fmt


class BatchEngine:
    """Decides tables of records with DuckDB, exactly as the per-record engine would."""

    def __init__(self, rules, *, timeline: str | None = None, as_of=None, memory_limit: str | None = None,
                 temp_directory: str | None = None, threads: int | None = None,
                 progress: Callable[[str], None] | None = None):
        self.rules = rules
        self.timeline = timeline or rules.timeline
        self.on_fixed = as_date(as_of) if as_of is not None else None
        self.plan = Plan.of(rules, self.timeline, self.on_fixed)
        # DuckDB would take 80 % of the machine; a bounded default keeps a large file's peak
        # predictable (what does not fit spills to the temporary folder)
        self.memory_limit = memory_limit or DEFAULT_MEMORY
        self.temp_directory = temp_directory
        self.threads = threads
        self.progress = progress or (lambda message: None)
        self.counts: dict[str, int] = {}
        self.python_rows = 0

    # ---- the connection
    def connect(self) -> duckdb.DuckDBPyConnection:
        """A connection to a fresh in-memory database whose tables and intermediate results
        spill to a folder of this run's own (under ``temp_directory``) beyond the memory
        limit, so inputs larger than memory are decided too; the folder goes with the run.
        (A database file would write every table to disk: some 40 % slower on a million rows.)"""
        parent = self.temp_directory or os.path.join(tempfile.gettempdir(), "chiprules-duckdb")
        os.makedirs(parent, exist_ok=True)
        self._temp = tempfile.mkdtemp(prefix="run-", dir=parent)
        con = duckdb.connect(":memory:")
        run(con, "SET preserve_insertion_order = true")
        # the stage goes to the user through ``progress``; DuckDB's own bar would write to a
        # file or pipe that stderr points to
        run(con, "SET enable_progress_bar = false")
        if self.memory_limit:
            run(con, f"SET memory_limit = {lit(self.memory_limit)}")
        run(con, f"SET temp_directory = {lit(self._temp)}")
        if self.threads:
            run(con, f"SET threads = {int(self.threads)}")
        return con

    def _close(self, con) -> None:
        con.close()
        shutil.rmtree(self._temp, ignore_errors=True)

    # ---- entry points
    def decide_file(self, source, fmt: str | None = None, output=None, out_format: str | None = None):
        """Decide a records file (or `-`, JSON Lines on stdin). With ``output``, write the
        decisions there and return the number of rows; else return an Arrow table."""
        con = self.connect()
        try:
            raw_cols = self._load(con, source, fmt)
            return self._run(con, raw_cols, str(source), output, out_format)
        except duckdb.Error as exc:
            raise ChiprulesError(f"the batch engine failed on `{source}`: {exc}") from None
        finally:
            self._close(con)

    def decide_table(self, data, output=None, out_format: str | None = None):
        """Decide an Arrow table (or anything DuckDB scans, such as a pandas DataFrame)."""
        con = self.connect()
        try:
            con.register("__input", data)
            cols = [(c[0], str(c[1])) for c in describe(con, "__input")]
            raw_cols = self._raw_view(con, "__input", cols, "table")
            return self._run(con, raw_cols, "<table>", output, out_format)
        except duckdb.Error as exc:
            raise ChiprulesError(f"the batch engine failed: {exc}") from None
        finally:
            self._close(con)

    # ---- reading
    def _load(self, con, source, fmt: str | None) -> list:
        path = None if str(source) == "-" else Path(source)
        if path is not None and fmt is None:
            if not path.exists():
                raise RecordError(f"no such file: `{source}`")
            suffixes = [s.lower() for s in path.suffixes]
            fmt = EXTENSIONS.get(suffixes[-1] if suffixes else "")
        try:
            if path is not None and fmt in ("csv", "tsv"):
                delim = "\t" if fmt == "tsv" else ","
                header = self._csv_header(path, delim)
                if header is not None:
                    columns = "{" + ", ".join(f"{lit(c)}: 'VARCHAR'" for c in header) + "}"
                    scan = (f"read_csv({lit(path)}, header = false, skip = 1, all_varchar = true, "
                            f"delim = {lit(delim)}, quote = '\"', escape = '\"', strict_mode = true, "
                            f"null_padding = false, ignore_errors = false, auto_detect = false, "
                            f"max_line_size = {FIELD_LIMIT}, columns = {columns})")
                    run(con, f"CREATE VIEW __scan AS SELECT * FROM {scan}")
                    # reads the whole file: its errors now; a row that spans lines (a quoted line
                    # break, or a quote never closed) is left to the project's reader, which
                    # tells the two apart
                    (count,), = run(con, "SELECT count(*) FROM __scan")
                    if count != _data_lines(path):
                        raise _Irregular("a row that spans lines")
                    return self._raw_view(con, "__scan", [(c, "VARCHAR") for c in header], fmt)
            elif path is not None and fmt == "parquet":
                run(con, f"CREATE VIEW __scan AS SELECT * FROM read_parquet({lit(path)})")
                return self._raw_view(con, "__scan", [(c[0], str(c[1])) for c in describe(con, "__scan")], fmt)
        except (duckdb.Error, _Irregular):
            run(con, "DROP VIEW IF EXISTS __scan")
        return self._load_python(con, source, fmt)

    @staticmethod
    def _csv_header(path: Path, delim: str) -> list[str] | None:
        """The header line of a plain CSV file (no quotes, no blank first line, `\\n` line ends),
        or None: the project's own reader then reads the file."""
        with open(path, "rb") as f:
            first = f.readline()
        try:
            text = first.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
        if not text.endswith("\n") or text.endswith("\r\n") or '"' in text or not text.strip():
            return None
        return text[:-1].split(delim)

    def _raw_view(self, con, source: str, cols: list[tuple[str, str]], kind: str) -> list:
        """The view ``raw``: the input's columns under their record-field names, and ``__row``."""
        names = [normalize_field_name(c) for c, _ in cols]
        if len(set(names)) != len(names) or any(not n for n in names):
            raise _Irregular("column names that are blank or read alike")
        if kind != "table" and not any(n in DEFAULT_FIELDS for n in names):
            raise _Irregular("no column names a record field")  # the project's reader says so
        select = ", ".join(f"{q(c)} AS {q(n)}" for (c, _), n in zip(cols, names, strict=True))
        # a row of empty cells is no record (a spreadsheet's blank row), as the project's reader has it
        blank = " AND ".join(f"{q(c)} IS NULL" for c, _ in cols) if kind in ("csv", "tsv") else "FALSE"
        # a table, read once (DuckDB keeps what does not fit in memory on disk)
        run(con, f"CREATE TABLE raw AS SELECT row_number() OVER () AS __row, {select} FROM {q(source)} "
                 f"WHERE NOT ({blank})")
        # from here every relation carries `__row`, and the output is ordered by it: the order rows
        # take in between does not matter (and keeping it would hold them in memory)
        run(con, "SET preserve_insertion_order = false")
        self.raw_kind = kind
        self._python_raw: dict[int, RawRecord] = {}
        return [(n, source_kind(t)) for (_, t), n in zip(cols, names, strict=True)]

    def _load_python(self, con, source, fmt) -> list:
        """Read with the project's own reader (every format, every quirk): values as text,
        rows it could not read, or that hold values of other types, marked as odd."""
        specs = self.plan.specs
        self._python_raw = {}
        extra: dict[str, None] = {}
        batches, rows = [], []

        def flush():
            if rows:
                keys = ["__row", "__odd", *specs, *extra]
                batches.append(pa.table({k: pa.array([r.get(k) for r in rows], type=pa.int64() if k == "__row"
                                         else pa.bool_() if k == "__odd" else pa.string()) for k in keys}))
                rows.clear()

        for rec in read_records(source, fmt):
            row = {"__row": rec.number, "__odd": rec.problem is not None}
            for k, v in rec.data.items():
                if k not in specs:
                    extra.setdefault(k)
                    row[k] = None if v is None else str(v)
                    continue
                text = as_text(v, specs[k].kind)
                if text is _ODD:
                    row["__odd"] = True
                else:
                    row[k] = text
            if row["__odd"]:
                self._python_raw[rec.number] = rec
            rows.append(row)
            if len(rows) >= PY_BATCH:
                flush()
        flush()
        keys = ["__row", "__odd", *specs, *extra]
        table = pa.concat_tables([_widen(b, keys) for b in batches]) if batches else pa.table(
            {k: pa.array([], pa.int64() if k == "__row" else pa.bool_() if k == "__odd" else pa.string())
             for k in keys})
        con.register("__pyraw", table)
        run(con, "CREATE VIEW raw AS SELECT * FROM __pyraw")
        run(con, "SET preserve_insertion_order = false")
        self.raw_kind = "python"
        return [(k, "text") for k in [*specs, *extra]]

    # ---- the run
    def _run(self, con, raw_cols, name: str, output, out_format):
        plan = self.plan
        self.progress("reading and typing")
        present = {n: k for n, k in raw_cols if n in plan.specs}
        odd = exp.column("__odd", quoted=True) if self.raw_kind == "python" else exp.false()
        # a party name with nothing to screen is the per-record engine's to report
        parties = [f for f, kind in present.items() if plan.specs[f].kind == "party" and kind == "text"]
        blank = self._blank_names(con, parties)
        if blank:
            for field in parties:
                odd = exp.or_(odd, exp.column(field, quoted=True).isin(*[exp.Literal.string(v) for v in blank]))
        # a table: the chips and ``prepared0`` read it
        run(con, f"CREATE TABLE typed AS {plan.typed(present, odd).sql('duckdb')}")
        self._chips(con)
        # a table: each party's distinct names, and ``prepared``, read it
        run(con, f"CREATE TABLE prepared0 AS {plan.sql('prepared0', 'duckdb')}")
        self.progress("screening parties")
        deferred = set(plan.deferred)
        self._matches(con, [i for i in range(len(plan.parties)) if i not in deferred])
        self._unscreened(con, sorted(deferred))
        self.progress("deciding")
        self._decided(con)
        if deferred:
            self._deferred(con, sorted(deferred))
        self.progress("settling undecided rows")
        self._python_decisions: dict[int, dict] = {}
        rows = [r[0] for r in run(con, "SELECT __row FROM prepared0 WHERE __v IS NULL ORDER BY __row")]
        for answer in self._decide_rows(con, rows, name):
            self._python_decisions[answer.row] = (answer.columns, answer.codes)
        self._settle(con, name)
        self.python_rows = len(self._python_decisions)
        self.progress("writing")
        return self._write(con, raw_cols, output, out_format)

    @staticmethod
    def _blank_names(con, fields: list[str]) -> list[str]:
        """The distinct values of the party columns with no name to screen, read a page at a time.

        Most names hold a word that is surely a name (``surely_a_name``), which DuckDB tells
        over the distinct values of all the columns at once; only the others are read into
        Python and asked of ``screenable``."""
        if not fields:
            return []
        values = " UNION ".join(f"SELECT {q(f)} AS v FROM raw WHERE {q(f)} IS NOT NULL" for f in fields)
        # the distinct values first: a filter over the union would be pushed down to every row
        run(con, f"CREATE TEMP TABLE __values AS {values}")
        run(con, f"CREATE TEMP TABLE __names AS SELECT row_number() OVER () AS id, v FROM __values "
                 f"WHERE NOT {surely_a_name('v')}")
        run(con, "DROP TABLE __values")
        (total,) = run(con, "SELECT count(*) FROM __names")[0]
        blank = []
        for start in range(1, total + 1, SCREEN_PAGE):
            blank += [v for (v,) in run(con, f"SELECT v FROM __names WHERE id BETWEEN {start} AND "
                                             f"{start + SCREEN_PAGE - 1}")
                      if not screenable(v.strip()) and v.strip().lower() not in MISSING_WORDS]
        run(con, "DROP TABLE __names")
        return blank

    def _chips(self, con) -> None:
        """The catalog's figures for every distinct chip name, as the table ``chips``."""
        catalog = self.rules.catalog
        names = [r[0] for r in run(con, "SELECT DISTINCT chip FROM typed WHERE __regular AND chip IS NOT NULL")]
        rows = {k: [] for k in ("raw", "name", "warning", "regular", *CHIP_FIGURES)}
        for raw in names:
            spec, values, warning = chip_lookup(catalog, raw)
            rows["raw"].append(raw)
            rows["name"].append(spec.name if spec is not None else raw)
            rows["warning"].append(warning)
            # figures the plan's numbers hold exactly; else the chip's rows go to the per-record engine
            rows["regular"].append(all(fits(v) for v in values.values() if isinstance(v, Decimal)))
            for f in CHIP_FIGURES:
                v = values.get(f)
                rows[f].append(str(v) if isinstance(v, Decimal) else v)
        con.register("__chips_py", pa.table(rows, schema=pa.schema(
            [("raw", pa.string()), ("name", pa.string()), ("warning", pa.string()), ("regular", pa.bool_())]
            + [(f, pa.bool_() if f == "datacenter" else pa.string()) for f in CHIP_FIGURES])))
        numbers = ", ".join(f"CASE WHEN regular THEN CAST({q(f)} AS {NUMBER}) END AS {q(f)}"
                            for f in CHIP_FIGURES if f not in ("datacenter", "item_kind"))
        run(con, f"CREATE TABLE chips AS SELECT raw, name, warning, regular, {numbers}, datacenter, item_kind "
                 f"FROM __chips_py")

    def _matches(self, con, parties: list[int]) -> None:
        """Screen every distinct party of the file once: tables ``m0``, ``m1`` ... (of the given
        indices into ``plan.parties``) with each party's status, the entry's review policy and a
        note for a possible match.

        The distinct (list, name, day, evidence) of the parties become the table ``work`` in
        DuckDB; Python screens it a page at a time into ``screened``, so the names held in
        memory are one page's, however many the file brings."""
        plan = self.plan
        if not parties:
            return
        parts = []
        for i in parties:
            list_name = plan.parties[i][1]
            run(con, f"CREATE TABLE d{i} AS {plan.sql('party_distinct', 'duckdb', i)}")
            parts.append(f"SELECT {lit(list_name)} AS list, name, day, country, address FROM d{i}")
        run(con, "CREATE TABLE work AS SELECT row_number() OVER () AS id, * FROM "
                 f"(SELECT DISTINCT * FROM ({' UNION ALL '.join(parts)}))")
        run(con, "CREATE TABLE screened (id BIGINT, status BOOLEAN, policy BIGINT, detail VARCHAR)")
        (total,) = run(con, "SELECT count(*) FROM work")[0]
        schema = pa.schema([("id", pa.int64()), ("status", pa.bool_()), ("policy", pa.int64()),
                            ("detail", pa.string())])
        lists = {plan.parties[i][1] for i in parties}
        with Screening({lst: self._screens_with(lst) for lst in lists}, total) as screening:
            for start in range(1, total + 1, SCREEN_PAGE):
                page = run(con, "SELECT id, list, name, day, country, address FROM work "
                                f"WHERE id BETWEEN {start} AND {start + SCREEN_PAGE - 1}")
                results = screening.map([item[1:] for item in page])
                con.register("__screened_py", pa.table(
                    {"id": [item[0] for item in page], "status": [r[0] for r in results],
                     "policy": [r[1] for r in results],
                     "detail": [None if r[2] is None else f"{r[2]} ({r[3]:g})" for r in results]}, schema=schema))
                run(con, "INSERT INTO screened SELECT * FROM __screened_py")
                con.unregister("__screened_py")
        for i in parties:
            field, list_name = plan.parties[i]
            run(con, f"CREATE OR REPLACE TABLE m{i} AS SELECT d.name, d.country, d.address, d.epoch, s.status, "
                     f"s.policy, CASE WHEN s.status IS NULL THEN {lit(f'possible match: {field} ~ ')} || s.detail "
                     "END AS note "
                     f"FROM d{i} d JOIN work w ON w.list = {lit(list_name)} AND w.name = d.name AND w.day = d.day "
                     "AND w.country IS NOT DISTINCT FROM d.country AND w.address IS NOT DISTINCT FROM d.address "
                     "JOIN screened s ON s.id = w.id")
            run(con, f"DROP TABLE d{i}")
        run(con, "DROP TABLE work")
        run(con, "DROP TABLE screened")

    def _decided(self, con) -> None:
        """The table ``decided`` of the rows of ``prepared0``, their parties' screenings joined on
        (``prepared``, read by ``decided`` alone and dropped after)."""
        run(con, f"CREATE TABLE prepared AS {self.plan.sql('prepared', 'duckdb')}")
        run(con, f"CREATE TABLE decided AS {self.plan.sql('decided', 'duckdb')}")
        run(con, "DROP TABLE prepared")

    @staticmethod
    def _unscreened(con, parties: list[int]) -> None:
        """Empty match tables for parties not screened yet: their status is unknown to the plan."""
        for i in parties:
            run(con, f"CREATE OR REPLACE TABLE m{i} (name VARCHAR, country VARCHAR, address VARCHAR, "
                     "epoch INTEGER, status BOOLEAN, policy BIGINT, note VARCHAR)")

    def _deferred(self, con, parties: list[int]) -> None:
        """Screen the deferred parties (``Plan.deferred``) of the rows still undecided, and decide
        those rows again.

        The first pass decided every row with those parties' status unknown (SQL NULL). The
        plan's logic is Kleene's: a row it decides with an unknown is decided the same whatever
        the unknown turns out to be, so only the undecided rows need the screening."""
        run(con, "CREATE TABLE __again AS SELECT __row FROM decided WHERE outcome_code IS NULL")
        (count,) = run(con, "SELECT count(*) FROM __again")[0]
        if not count:
            run(con, "DROP TABLE __again")
            return
        run(con, "ALTER TABLE prepared0 RENAME TO __prepared0_all")
        run(con, "ALTER TABLE decided RENAME TO __decided_first")
        run(con, "CREATE VIEW prepared0 AS SELECT * FROM __prepared0_all WHERE __row IN (SELECT __row FROM __again)")
        self._matches(con, parties)
        self._decided(con)
        run(con, "INSERT INTO decided SELECT * FROM __decided_first WHERE outcome_code IS NOT NULL")
        run(con, "DROP VIEW prepared0")
        run(con, "ALTER TABLE __prepared0_all RENAME TO prepared0")
        for t in ("__decided_first", "__again"):
            run(con, f"DROP TABLE {t}")

    def _screens_with(self, list_name: str):
        for version in reversed(self.plan.versions):
            if list_name in version.model.lists:
                return version.screens
        raise ChiprulesError(f"no version has the list `{list_name}`")

    # ---- rows for the per-record engine
    def _decide_rows(self, con, rows: list[int], name: str) -> Iterable[Answer]:
        """The per-record engine's answers for the given rows of the input, in worker processes
        when they are many (the engine, with its rules, is inherited by fork)."""
        for start in range(0, len(rows), PY_BATCH):
            recs = self._raw_records(con, rows[start:start + PY_BATCH], name)
            yield from parallel_map(_answer_chunk, recs, (self,))

    def answer(self, rec: RawRecord) -> Answer:
        """One record decided by the per-record engine, as the batch's columns and codes."""
        rules = self.rules
        if rec.problem is not None:
            d = Decision(str(rec.data.get("id") or rec.number), M.Outcome.ERROR,
                         errors=(rec.problem,), record=dict(rec.data), location=rec.location)
        else:
            d = rules._decide(rules.prepare(rec.data), self.on_fixed, str(rec.number), self.timeline, rec.location)
        return Answer(rec.number, decision_row(rules, d, rec.number), self.plan.encode(d), list(d.missing),
                      [f"{m.field}~{m.list}" for m in d.possible_matches], unsettled_texts(d),
                      [w for w in d.warnings if not w.startswith("chip `")])

    def _raw_records(self, con, rows: list[int], name: str) -> Iterable[RawRecord]:
        if not rows:
            return []
        con.register("__want", pa.table({"r": pa.array(rows, pa.int64())}))
        cur = con.execute("SELECT * FROM raw WHERE __row IN (SELECT r FROM __want) ORDER BY __row")
        names = [c[0] for c in cur.description]
        out = []
        for values in cur.fetchall():
            data = dict(zip(names, values, strict=True))
            row = data.pop("__row")
            data.pop("__odd", None)
            rec = self._python_raw.get(row)
            if rec is None:
                rec = RawRecord(row, f"{name}: row {row}", {k: v for k, v in data.items() if v is not None})
            out.append(rec)
        con.unregister("__want")
        return out

    def _settle(self, con, name: str) -> None:
        """Undecided rows: one per signature decided by the per-record engine, its answer
        joined back to the group (table ``settled``, the answer as the plan's codes)."""
        plan = self.plan
        keys = ", ".join(k.sql("duckdb") for k in plan.group_keys())
        reps = [r[0] for r in run(con, f"SELECT min(__row) FROM decided WHERE outcome_code IS NULL AND __signable "
                                       f"GROUP BY {keys}")]
        alone = [r[0] for r in run(con, "SELECT __row FROM decided WHERE outcome_code IS NULL AND NOT __signable")]
        answers = {a.row: a for a in self._decide_rows(con, sorted(reps + alone), name)}
        for row in alone:
            self._python_decisions[row] = (answers[row].columns, answers[row].codes)
        codes = [c for c, _ in CODE_COLUMNS]
        groups = {k: [] for k in ("rep", *codes, "missing", "possible", "unsettled", "warnings")}
        for row in reps:
            a = answers[row]
            groups["rep"].append(row)
            for c in codes:
                groups[c].append(a.codes[c])
            groups["missing"].append(a.missing)
            groups["possible"].append(a.possible)
            groups["unsettled"].append(a.unsettled)
            groups["warnings"].append(a.warnings)
        con.register("__groups_py", pa.table(groups, schema=pa.schema(
            [("rep", pa.int64()), *[(c, pa.int64()) for c in codes],
             *[(k, pa.list_(pa.string())) for k in ("missing", "possible", "unsettled", "warnings")]])))
        run(con, "CREATE TABLE groups AS SELECT * FROM __groups_py")
        notes = [f"CASE WHEN list_contains(g.possible, {lit(f'{f}~{lname}')}) THEN u.{q(note_col(f, lname))} END"
                 for f, lname in plan.parties]
        possible = f"list_filter([{', '.join(notes)}], lambda x: x IS NOT NULL)" if notes else "[]::VARCHAR[]"
        run(con, f"CREATE TABLE settled AS SELECT u.__row, {', '.join('g.' + c for c in codes)}, g.missing, "
                 f"{possible} AS possible_matches, g.unsettled, g.warnings AS split_warnings "
                 f"FROM (SELECT *, min(__row) OVER (PARTITION BY {keys}) AS __rep FROM decided "
                 f"WHERE outcome_code IS NULL AND __signable) u JOIN groups g ON g.rep = u.__rep")

    # ---- output
    def _write(self, con, raw_cols, output, out_format):
        """Every row's decision as codes (table ``final``, narrow), then written in row order a chunk
        at a time: the codes of a chunk sorted, read beside the input's rows of the chunk by
        position (no sort of wide rows, which DuckDB cannot spill), the columns users read made
        from the codes as they are written."""
        codes = [c for c, _ in CODE_COLUMNS]
        py = self._python_decisions
        table = {"row": [], "__v": [], **{c: [] for c in codes}, **{f"p_{k}": [] for k in DECISION_COLUMNS[1:]}}
        for row in sorted(py):
            c, encoded = py[row]
            table["row"].append(row)
            for k in ("__v", *codes):
                table[k].append(encoded[k])
            for k in DECISION_COLUMNS[1:]:
                table[f"p_{k}"].append(c[k])
        con.register("__python_py", pa.table(table, schema=pa.schema(
            [("row", pa.int64()), ("__v", pa.int64()), *[(c, pa.int64()) for c in codes],
             *[(f"p_{k}", pa.list_(pa.string()) if k in LIST_COLUMNS else pa.string())
               for k in DECISION_COLUMNS[1:]]])))
        pick = ", ".join(f"CASE WHEN d.outcome_code IS NULL THEN s.{c} ELSE d.{c} END AS {c}" for c in codes)
        nulls = ", ".join(f"NULL AS {q('p_' + k)}" for k in DECISION_COLUMNS[1:])
        run(con, "CREATE TABLE final AS "
                 f"SELECT d.__row AS row, d.__v, {pick}, coalesce(s.missing, []::VARCHAR[]) AS missing, "
                 "coalesce(s.possible_matches, []::VARCHAR[]) AS possible_matches, "
                 "coalesce(s.unsettled, []::VARCHAR[]) AS unsettled, "
                 "list_concat(list_filter([d.__chip_warning], lambda x: x IS NOT NULL), "
                 "coalesce(s.split_warnings, []::VARCHAR[])) AS warnings, FALSE AS py, "
                 f"{nulls} FROM decided d LEFT JOIN settled s ON s.__row = d.__row "
                 "WHERE d.outcome_code IS NOT NULL OR s.__row IS NOT NULL "
                 f"UNION ALL SELECT row, __v, {', '.join(codes)}, p_missing, p_possible_matches, p_unsettled, "
                 "p_warnings, TRUE, "
                 f"{', '.join(q('p_' + k) for k in DECISION_COLUMNS[1:])} FROM __python_py")
        by_code = dict(run(con, "SELECT outcome_code, count(*) FROM final GROUP BY 1"))
        names = {code: str(o) for o, code in OUTCOME_CODE.items()}
        self.counts = {names[k]: v for k, v in by_code.items()}
        total = sum(by_code.values())
        fmt = out_format or (output_format(output) if output is not None else None)
        select = self._output_columns(raw_cols, fmt)
        # the columns users read, made once per distinct decision and joined to its rows
        run(con, f"CREATE TABLE words AS {self.plan.words('final').sql('duckdb')}")
        made = ", ".join(f"w.{q(c)}" for c in [d[0] for d in describe(con, "words")] if c.startswith("w_"))
        same = " AND ".join(f"f.{q(c)} IS NOT DISTINCT FROM w.{q(c)}" for c in WORD_KEYS)
        joined = f"SELECT f.*, {made} FROM final f LEFT JOIN words w ON {same}"
        run(con, "SET preserve_insertion_order = true")  # the chunks are read in order
        tables, writer, out = [], None, None
        try:
            if output is not None and fmt != "parquet":
                out = open(output, "wb")
            for k, start in enumerate(range(1, total + 1, CHUNK_ROWS)):
                end = start + CHUNK_ROWS - 1
                query = (f"SELECT {select} FROM ({joined} WHERE f.row BETWEEN {start} AND {end} ORDER BY f.row) d "
                         f"POSITIONAL JOIN (SELECT * FROM raw WHERE __row BETWEEN {start} AND {end}) r")
                if output is None:
                    tables.append(con.sql(query).to_arrow_table())
                elif fmt == "parquet":
                    chunk = con.sql(query).to_arrow_table()
                    if writer is None:
                        writer = pq.ParquetWriter(output, chunk.schema)
                    writer.write_table(chunk)
                else:
                    piece = os.path.join(self._temp, f"chunk-{k}.{fmt}")
                    options = "FORMAT csv, HEADER" if fmt == "csv" else "FORMAT json"
                    run(con, f"COPY ({query}) TO {lit(piece)} ({options})")
                    with open(piece, "rb") as f:
                        if fmt == "csv" and k > 0:
                            f.readline()  # the header, written once
                        shutil.copyfileobj(f, out)
                    os.unlink(piece)
            if output is None:
                empty = con.sql(f"SELECT {select} FROM ({joined}) d POSITIONAL JOIN raw r LIMIT 0").to_arrow_table()
                return pa.concat_tables(tables) if tables else empty
            if fmt == "parquet" and writer is None:
                run(con, f"COPY (SELECT {select} FROM ({joined}) d POSITIONAL JOIN raw r LIMIT 0) TO {lit(output)} "
                         "(FORMAT parquet)")
        finally:
            if writer is not None:
                writer.close()
            if out is not None:
                out.close()
        return total

    def _output_columns(self, raw_cols, fmt) -> str:
        columns = self.plan.output_columns([n for n, _ in raw_cols], CSV_SEPARATORS if fmt == "csv" else None,
                                           {n for n, kind in raw_cols if kind == "text"}, words=True)
        return ", ".join(c.sql("duckdb") for c in columns)


class Answer(NamedTuple):
    """A row the per-record engine decided: its output columns, its decision as the plan's
    codes, and what an undecided group takes from it."""

    row: int
    columns: dict
    codes: dict
    missing: list
    possible: list
    unsettled: list
    warnings: list


def _answer_chunk(engine: BatchEngine, recs: list) -> list:
    """The per-record engine's answers for a chunk of records (in a worker, or here)."""
    return [engine.answer(rec) for rec in recs]


#: What the worker processes of a run read, set before they fork: inherited, never pickled.
_SHARED: list = []
_PARALLEL_FROM = 2000  # fewer items than this are done in this process


def _call_shared(task) -> list:
    fn, chunk = task
    return fn(*_SHARED, chunk)


class Workers:
    """A pool of worker processes, one per processor, forked once ``shared`` is set, so that
    each inherits it (the screeners, the engine with its rules) rather than receiving it
    pickled. ``map(fn, items)`` runs ``fn(*shared, chunk)`` over chunks of the items, in this
    process when they are few or the platform cannot fork."""

    def __init__(self, shared: tuple, expected: int):
        self.shared = shared
        workers = os.cpu_count() or 1
        self.workers = workers if (expected >= _PARALLEL_FROM and workers > 1
                                   and "fork" in multiprocessing.get_all_start_methods()) else 1
        self.pool = None

    def __enter__(self) -> Workers:
        _SHARED[:] = self.shared
        if self.workers > 1:
            self.pool = multiprocessing.get_context("fork").Pool(self.workers)
        return self

    def map(self, fn: Callable, items: list) -> list:
        if self.pool is None or len(items) < _PARALLEL_FROM:
            return fn(*self.shared, items)
        size = max(200, len(items) // (self.workers * 8))
        tasks = [(fn, items[i:i + size]) for i in range(0, len(items), size)]
        return [r for chunk in self.pool.map(_call_shared, tasks) for r in chunk]

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            if exc[0] is not None:
                self.pool.terminate()
            else:
                self.pool.close()
            self.pool.join()
            self.pool = None
        _SHARED.clear()


def parallel_map(fn: Callable, items: list, shared: tuple) -> list:
    """``fn(*shared, chunk)`` over the items, in worker processes when they are many (`Workers`)."""
    with Workers(shared, len(items)) as workers:
        return workers.map(fn, items)


def _screen_one(screens: dict, item) -> tuple:
    """(status, policy rank, entry name, score) of one (list, name, day, country, address):
    status true for a match, None for a possible match, false for none."""
    list_name, name, day, country, address = item
    res = screens[list_name].result(list_name, name, day, country, address)
    if res.best is None or res.status == "none":
        return False, None, None, None
    try:
        policy = POLICY_RANK[M.Policy(res.best.entry.review_policy)]
    except ValueError:
        policy = POLICY_RANK[M.Policy.PRESUMPTION_OF_DENIAL]
    return (True if res.status == "match" else None), policy, res.best.entry.name, res.best.score


def _screen_chunk(screens: dict, items: list) -> list:
    return [_screen_one(screens, i) for i in items]


class Screening(Workers):
    """Screens many (list, name, day, country, address) items with the screens of each list
    (`Workers`: the screeners are built here first, and inherited). One pool serves every
    page of a run."""

    def __init__(self, screens: dict, expected: int):
        super().__init__((screens,), expected)
        self.screens = screens

    def __enter__(self) -> Screening:
        if self.workers > 1:
            for list_name, s in self.screens.items():
                s.screener(list_name)  # build before forking
        super().__enter__()
        return self

    def map(self, items: list) -> list:  # type: ignore[override]
        return super().map(_screen_chunk, items)


def screen_all(work: list, screens: dict) -> list:
    """Screen every item (see `Screening`)."""
    with Screening(screens, len(work)) as screening:
        return screening.map(work)


def _data_lines(path: Path) -> int:
    """The number of lines after the first in a file (a last line without a line end counts)."""
    lines, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines - (last == b"\n")


def run(con, sql: str, params=None) -> list:
    """Run a statement to completion; its rows."""
    return con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()


def describe(con, relation: str) -> list:
    """The (name, type, ...) of a relation's columns."""
    cur = con.execute(f"SELECT * FROM {q(relation)} LIMIT 0")
    desc = cur.description
    cur.fetchall()
    return desc


def fits(value: Decimal) -> bool:
    """Does a number fit the plan's DECIMAL exactly?"""
    sign, digits, exponent = value.normalize().as_tuple()
    if not isinstance(exponent, int):
        return False
    return max(-exponent, 0) <= NUMBER_DIGITS[1] and len(digits) + exponent <= NUMBER_DIGITS[0]


class _Irregular(Exception):
    """The input cannot be read by DuckDB the way the project's reader reads it."""


_ODD = object()


def as_text(value, kind: str):
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


def decision_row(rules, d: Decision, row: int) -> dict:
    """The batch columns of a per-record decision made under ``rules``."""
    rules_by_id = {}
    if d.ruleset is not None:
        model = next((m for m in rules.models if m.path == d.ruleset.path and m.version == d.ruleset.version),
                     None)
        rules_by_id = {r.id: r for r in model.rules} if model is not None else {}
    return decision_columns(row, d, rules_by_id)


def chip_lookup(catalog, raw: str):
    """A chip name as the record gives it: its catalog entry (or None), the figures the
    catalog fills in, and the warning for a name the catalog does not know."""
    spec = catalog.lookup(raw) if catalog is not None else None
    values = spec.fields() if spec is not None else {}
    warning = None
    if catalog is not None and spec is None:
        guess = catalog.suggest(raw)
        warning = (f"chip `{raw}` is not in the catalog" + (f"; did you mean `{guess}`?" if guess else "")
                   + "; only the specs given in the record are used")
    return spec, values, warning


def unsettled_texts(d: Decision) -> list[str]:
    """The zones of unsettled law an undecided record turns on, as the output's cells show them."""
    return [f"{u.condition}: {u.why} ({u.cite})" for u in d.unsettled]


def decision_columns(row: int, d: Decision, rules_by_id: dict) -> dict:
    """The batch columns of a per-record decision (``rules_by_id``: the rules of its
    version, for the citations)."""
    fired = list(d.rules_fired)
    cites = [f"{rid}: {rules_by_id[rid].cite}" for rid in fired if rid in rules_by_id and rules_by_id[rid].cite]
    return {
        "row": row, "id": d.id, "outcome": str(d.outcome), "classification": list(d.classification),
        "jurisdiction": ";".join(d.jurisdiction) or None,
        "review_policy": d.review_policy and str(d.review_policy),
        "license_exceptions": [g.name for g in d.license_exceptions],
        "notifications": [f"{g.name}: {n}" for g in d.license_exceptions for n in g.notify],
        "missing": list(d.missing),
        "possible_matches": [f"possible match: {m.field} ~ {m.entry} ({m.score:g})" for m in d.possible_matches],
        "unsettled": unsettled_texts(d),
        "rules_fired": fired, "citations": cites,
        "ruleset_version": d.ruleset.version if d.ruleset else None,
        "ruleset_hash": d.ruleset.content_hash if d.ruleset else None,
        "timeline": d.ruleset.timeline if d.ruleset else None,
        "errors": list(d.errors), "warnings": list(d.warnings),
    }


__all__ = ["CSV_SEPARATORS", "DECISION_COLUMNS", "LIST_COLUMNS", "BatchEngine", "decision_columns", "decision_row",
           "chip_lookup", "output_format", "unsettled_texts"]
