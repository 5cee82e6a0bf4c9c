"""Batch decisions on Apache Spark: the same plan as on DuckDB, for clusters.

`SparkBatch.decide_dataframe` takes a Spark DataFrame of records and returns one of
decisions (the columns of `chiprules.batch.duck.DECISION_COLUMNS`, then the input's
own columns); `decide_file` reads a file first. The plan is the one of
`chiprules.batch.plan`, printed in Spark's dialect by sqlglot. What the plan leaves
to Python (the chip catalog, party screening, rows with unusual spellings, one row
per signature of the undecided) runs on the driver: distinct values are collected,
decided once and joined back as small, broadcast tables. The session runs with
ANSI mode off, so that a value the plan does not read gives NULL, never an error.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
from sqlglot import exp

from chiprules import model as M
from chiprules.batch.duck import (
    DECISION_COLUMNS,
    EXTENSIONS,
    LIST_COLUMNS,
    PY_BATCH,
    as_text,
    chip_lookup,
    decision_row,
    fits,
    output_format,
    screen_all,
    unsettled_texts,
)
from chiprules.batch.plan import CHIP_FIGURES, CODE_COLUMNS, MISSING_WORDS, Plan
from chiprules.batch.sql import NUMBER, OUTCOME_CODE, note_col
from chiprules.batch.tables import write_rows
from chiprules.core.dates import as_date
from chiprules.core.errors import ChiprulesError
from chiprules.data.records import DEFAULT_FIELDS, RawRecord, normalize_field_name, read_records
from chiprules.eval.decision import Decision
from chiprules.eval.prepare import screenable

try:  # Spark is optional: `pip install chiprules[spark]`, and Java
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    from pyspark.sql.window import Window
except ImportError:  # pragma: no cover - reported when used
    SparkSession = None

def spark_size(size: str) -> str:
    """A size as the batch engine takes it (`4GB`, `512MB`) in Spark's spelling (`4g`, `512m`)."""
    text = size.strip().lower().replace(" ", "").removesuffix("ib").removesuffix("b")
    return text if text[-1:].isalpha() else text + "m"


SPARK_EXTRA = "install Spark support: pip install 'chiprules[spark]' (and Java 17, e.g. openjdk-17-jre-headless)"


def spark_kind(spark_type) -> str:
    """A Spark column type as one of `chiprules.batch.plan.SOURCE_KINDS`."""
    name = spark_type.simpleString()
    if name == "string":
        return "text"
    if name == "boolean":
        return "bool"
    if name == "date":
        return "date"
    if name.startswith(("decimal", "double", "float")):
        return "number"
    if name in ("tinyint", "smallint", "int", "bigint"):
        return "integer"
    return "other"


class SparkBatch:
    """Decides DataFrames of records on Spark, exactly as the per-record engine would."""

    def __init__(self, rules, *, timeline: str | None = None, as_of=None, master: str | None = None,
                 spark=None, progress=None, partitions: int | None = None, memory: str | None = None):
        """``memory``: the driver's memory when this runner starts the session (default 4g; in
        local mode the driver does the work, and the decided table is collected there)."""
        if SparkSession is None:
            raise ChiprulesError(f"Spark is not installed: {SPARK_EXTRA}")
        self.rules = rules
        self.timeline = timeline or rules.timeline
        self.on_fixed = as_date(as_of) if as_of is not None else None
        self.plan = Plan.of(rules, self.timeline, self.on_fixed)
        self.master = master
        self._spark = spark
        self.partitions = partitions
        self.memory = memory
        self.progress = progress or (lambda message: None)
        self.counts: dict[str, int] = {}

    # ---- the session
    def spark(self):
        if self._spark is None:
            try:
                builder = (SparkSession.builder.appName("chiprules").master(self.master or "local[*]")
                           .config("spark.ui.enabled", "false")
                           # the stage goes to the user through ``progress``, on a terminal only
                           .config("spark.ui.showConsoleProgress", "false")
                           .config("spark.driver.memory", spark_size(self.memory or "4GB"))
                           .config("spark.driver.maxResultSize", "0")
                           .config("spark.sql.shuffle.partitions", str(self.partitions or 8)))
                self._spark = builder.getOrCreate()
            except Exception as exc:  # the JVM could not start: say what to install
                raise ChiprulesError(f"cannot start Spark ({str(exc).splitlines()[0][:200]}): {SPARK_EXTRA}") from None
        self._spark.conf.set("spark.sql.ansi.enabled", "false")
        # Inferring filters from constraints is quadratic in the plan's predicates: on the plan of
        # every version it took 250 of 265 s of planning, and the plan has no filter it could add
        self._spark.conf.set("spark.sql.constraintPropagation.enabled", "false")
        return self._spark

    # ---- entry points
    def decide_file(self, source, fmt: str | None = None, output=None, out_format: str | None = None):
        """Decide a records file; return an Arrow table in input order (or, with ``output``,
        write it there and return the number of rows)."""
        spark = self.spark()
        path = None if str(source) == "-" else Path(source)
        if path is not None and fmt is None:
            suffixes = [s.lower() for s in path.suffixes]
            fmt = EXTENSIONS.get(suffixes[-1] if suffixes else "")
        df, odd = None, {}
        if path is not None and fmt == "parquet":
            df = spark.read.parquet(str(path.resolve()))
        elif path is not None and fmt in ("csv", "tsv") and self._plain_csv(path, "\t" if fmt == "tsv" else ","):
            try:
                df = (spark.read.option("header", True).option("inferSchema", False).option("mode", "FAILFAST")
                      .option("sep", "\t" if fmt == "tsv" else ",").csv(str(path.resolve())))
                df.count()  # reads the file: its errors now
            except Exception:
                df = None
        if df is None:
            df, odd = self._python_frame(source, fmt)
        try:
            result = self.decide_dataframe(df, odd=odd)
            table = result.orderBy("row").toArrow()
        except Exception as exc:  # a failed Spark job: its first line, and what to try
            if isinstance(exc, ChiprulesError):
                raise
            first = next((ln for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
            raise ChiprulesError(f"the Spark job failed: {first[:300]}; in local mode give the driver more "
                                 "memory with --memory-limit (e.g. 8GB), or run on a cluster with --master") from None
        if output is None:
            return table
        fmt_out = out_format or output_format(output)
        if fmt_out == "parquet":
            pq.write_table(table, str(output))
        else:
            write_rows(table.to_pylist(), str(output), fmt_out)
        return table.num_rows

    @staticmethod
    def _plain_csv(path: Path, delim: str) -> bool:
        with open(path, "rb") as f:
            first = f.readline()
        try:
            text = first.decode("utf-8-sig")
        except UnicodeDecodeError:
            return False
        names = [normalize_field_name(c) for c in text.rstrip("\n").split(delim)]
        return (text.endswith("\n") and not text.endswith("\r\n") and '"' not in text and bool(text.strip())
                and len(set(names)) == len(names) and all(names) and any(n in DEFAULT_FIELDS for n in names))

    def _python_frame(self, source, fmt):
        """The project's reader into a DataFrame of text, with the rows it marks odd kept aside."""
        specs = self.plan.specs
        rows, odd, extra = [], {}, {}
        for rec in read_records(source, fmt):
            row = {"__row": rec.number}
            bad = rec.problem is not None
            for k, v in rec.data.items():
                if k not in specs:
                    extra.setdefault(k)
                    row[k] = None if v is None else str(v)
                    continue
                text = as_text(v, specs[k].kind)
                if text is None or isinstance(text, str):
                    row[k] = text
                else:
                    bad = True
            if bad:
                odd[rec.number] = rec
            rows.append(row)
        keys = ["__row", *specs, *extra]
        schema = T.StructType([T.StructField(k, T.LongType() if k == "__row" else T.StringType()) for k in keys])
        return self.spark().createDataFrame([tuple(r.get(k) for k in keys) for r in rows], schema), odd

    def decide_dataframe(self, df, odd: dict | None = None):
        """Decide a DataFrame of records: a DataFrame of decisions, one row per input row, with
        ``row`` its position (by ``__row`` if the input has it, else in the DataFrame's order)."""
        spark = self.spark()
        plan = self.plan
        odd = odd or {}
        self._odd = odd
        self.progress("reading and typing")
        names = {c: normalize_field_name(c) for c in df.columns if c != "__row"}
        names_in = list(names.values())
        if len(set(names.values())) != len(names):
            raise ChiprulesError("two columns read as the same field name; give every column its own name")
        cols = [F.col(f"`{c}`").alias(n) for c, n in names.items()]
        if "__row" in df.columns:
            raw = df.select(F.col("__row"), *cols)
        else:
            ordered = df.select(F.monotonically_increasing_id().alias("__mid"), *cols)
            raw = ordered.select(F.row_number().over(Window.orderBy("__mid")).alias("__row"),
                                 *[F.col(n) for n in names.values()])
        raw.createOrReplaceTempView("raw")
        kinds = {f.name: spark_kind(f.dataType) for f in raw.schema.fields}
        present = {n: kinds[n] for n in names.values() if n in plan.specs}
        rows_odd = sorted(odd)
        odd_view = spark.createDataFrame([(r,) for r in rows_odd] or [(-1,)], "r long")
        odd_view.createOrReplaceTempView("odd_rows")
        odd_expr = exp.In(this=exp.column("__row", quoted=True),
                          query=exp.select("r").from_("odd_rows")) if rows_odd else exp.false()
        # a party name with nothing to screen is the per-record engine's to report
        for field, kind in present.items():
            if plan.specs[field].kind == "party" and kind == "text":
                column = exp.column(field, quoted=True)
                distinct = exp.select(column).distinct().from_("raw").where(exp.Not(this=exp.Is(
                    this=column.copy(), expression=exp.Null())))
                blank = [v for (v,) in spark.sql(distinct.sql("spark")).toLocalIterator()
                         if not screenable(v.strip()) and v.strip().lower() not in MISSING_WORDS]
                if blank:
                    odd_expr = exp.or_(odd_expr, exp.column(field, quoted=True).isin(
                        *[exp.Literal.string(v) for v in blank]))
        spark.sql(plan.typed(present, odd_expr).sql("spark")).createOrReplaceTempView("typed")
        self._chips(spark)
        prepared0 = spark.sql(plan.sql("prepared0", "spark")).cache()
        prepared0.createOrReplaceTempView("prepared0")
        self.progress("screening parties")
        self._matches(spark)
        prepared = spark.sql(plan.sql("prepared", "spark")).cache()
        prepared.createOrReplaceTempView("prepared")
        self.progress("deciding")
        decided = spark.sql(plan.sql("decided", "spark")).cache()
        decided.createOrReplaceTempView("decided")
        self.progress("settling undecided rows")
        python_rows = [r["__row"] for r in prepared.where("__v IS NULL").select("__row").collect()]
        decisions = {row: d for row, d in self._decide_rows(raw, python_rows)}
        settled = self._settle(spark, raw, decided, decisions)
        final = self._final(spark, decided, settled, decisions).cache()
        final.createOrReplaceTempView("final")
        self.progress("writing")
        names = {code: str(o) for o, code in OUTCOME_CODE.items()}
        self.counts = {names[r["outcome_code"]]: r["count"] for r in final.groupBy("outcome_code").count().collect()}
        columns = ", ".join(c.sql("spark") for c in plan.output_columns(list(names_in)))
        return spark.sql(f"SELECT {columns} FROM final AS d JOIN raw AS r ON r.__row = d.row")

    # ---- tables made in Python
    def _chips(self, spark) -> None:
        catalog = self.rules.catalog
        names = [r[0] for r in spark.sql("SELECT DISTINCT chip FROM typed WHERE __regular AND chip IS NOT NULL")
                 .collect()]
        rows = []
        for raw in names:
            spec, values, warning = chip_lookup(catalog, raw)
            regular = all(fits(v) for v in values.values() if isinstance(v, Decimal))
            rows.append((raw, spec.name if spec is not None else raw, warning, regular,
                         *[(values.get(f) if regular else None) if f not in ("datacenter", "item_kind")
                           else values.get(f) for f in CHIP_FIGURES]))
        schema = ("raw string, name string, warning string, regular boolean, "
                  + ", ".join(f"`{f}` {'boolean' if f == 'datacenter' else 'string' if f == 'item_kind' else NUMBER}"
                              for f in CHIP_FIGURES))
        F.broadcast(spark.createDataFrame(rows, schema)).createOrReplaceTempView("chips")

    def _matches(self, spark) -> None:
        plan = self.plan
        found = [[tuple(r) for r in spark.sql(plan.sql("party_distinct", "spark", i)).collect()]
                 for i in range(len(plan.parties))]
        work = sorted({(plan.parties[i][1], name, day, country, address)
                       for i, rows in enumerate(found) for name, country, address, _, day in rows}, key=str)
        screens = {lst: self._screens_with(lst) for _, lst in plan.parties}
        results = dict(zip(work, screen_all(work, screens), strict=True))
        for i, (field, list_name) in enumerate(plan.parties):
            rows = []
            for name, country, address, epoch, day in found[i]:
                status, policy, entry, score = results[(list_name, name, day, country, address)]
                note = f"possible match: {field} ~ {entry} ({score:g})" if status is None else None
                rows.append((name, country, address, epoch, status, policy, note))
            df = spark.createDataFrame(rows, "name string, country string, address string, epoch int, "
                                             "status boolean, policy bigint, note string")
            F.broadcast(df).createOrReplaceTempView(f"m{i}")

    def _screens_with(self, list_name: str):
        for version in reversed(self.plan.versions):
            if list_name in version.model.lists:
                return version.screens
        raise ChiprulesError(f"no version has the list `{list_name}`")

    # ---- the per-record engine, on the driver
    def _decide_rows(self, raw, rows: list[int]):
        rules = self.rules
        for start in range(0, len(rows), PY_BATCH):
            chunk = rows[start:start + PY_BATCH]
            got = {}
            if chunk:
                for r in raw.where(F.col("__row").isin(chunk)).collect():
                    data = r.asDict()
                    row = data.pop("__row")
                    got[row] = {k: v for k, v in data.items() if v is not None}
            for row in chunk:
                rec = self._odd.get(row) or RawRecord(row, f"row {row}", got.get(row, {}))
                if rec.problem is not None:
                    yield row, Decision(str(rec.data.get("id") or row), M.Outcome.ERROR, errors=(rec.problem,),
                                        record=dict(rec.data), location=rec.location)
                else:
                    yield row, rules._decide(rules.prepare(rec.data), self.on_fixed, str(row), self.timeline,
                                             rec.location)

    def _settle(self, spark, raw, decided, decisions: dict):
        # one text of the signature per row: groups compare it whole (NULLs spelled out)
        parts = [F.coalesce(F.col(k).cast("string"), F.lit("\u2205")) for k in
                 ["__v", *[f"__s{i}" for i in range(self.plan.signature_width)]]]
        undecided = decided.where("outcome_code IS NULL").withColumn("__sig", F.concat_ws("\u241f", *parts))
        rep_rows = undecided.where("__signable").groupBy("__sig").agg(F.min("__row").alias("rep")).collect()
        reps = [r["rep"] for r in rep_rows]
        alone = [r[0] for r in undecided.where("NOT __signable").select("__row").collect()]
        answers = dict(self._decide_rows(raw, sorted(reps + alone)))
        for row in alone:
            decisions[row] = answers[row]
        sig_of = F.broadcast(spark.createDataFrame([(r["__sig"], r["rep"]) for r in rep_rows] or [("", -1)],
                                                   "__sig string, __rep bigint"))
        codes = [c for c, _ in CODE_COLUMNS]
        groups = []
        for row in reps:
            d = answers[row]
            encoded = self.plan.encode(d)
            groups.append((row, *[encoded[c] for c in codes], list(d.missing),
                           [f"{m.field}~{m.list}" for m in d.possible_matches], unsettled_texts(d),
                           [w for w in d.warnings if not w.startswith("chip `")]))
        schema = ("rep bigint, " + ", ".join(f"{c} bigint" for c in codes)
                  + ", missing array<string>, possible array<string>, unsettled array<string>, warnings array<string>")
        g = F.broadcast(spark.createDataFrame(groups or [(-1, *[None] * len(codes), [], [], [], [])], schema))
        u = undecided.where("__signable").join(sig_of, "__sig")
        notes = [F.when(F.array_contains(F.col("g.possible"), f"{f}~{lname}"), F.col(f"u.`{note_col(f, lname)}`"))
                 for f, lname in self.plan.parties]
        possible = F.filter(F.array(*notes), lambda x: x.isNotNull()) if notes else F.array().cast("array<string>")
        return (u.alias("u").join(g.alias("g"), F.col("g.rep") == F.col("u.__rep"))
                .select(F.col("u.__row").alias("__row"), *[F.col(f"g.{c}") for c in codes], "g.missing",
                        possible.alias("possible_matches"), "g.unsettled",
                        F.col("g.warnings").alias("split_warnings")))

    def _final(self, spark, decided, settled, decisions: dict):
        """Every row's decision as codes, or a Python row's own columns (``p_``)."""
        codes = [c for c, _ in CODE_COLUMNS]
        empty = F.array().cast("array<string>")
        d, s = F.col, F.col
        chip_warning = F.filter(F.array(d("d.__chip_warning")), lambda x: x.isNotNull())
        sql_rows = (decided.alias("d").join(settled.alias("s"), d("d.__row") == s("s.__row"), "left")
                    .where(d("d.outcome_code").isNotNull() | s("s.__row").isNotNull())
                    .select(d("d.__row").alias("row"), d("d.__v").cast("bigint").alias("__v"),
                            *[F.when(d("d.outcome_code").isNull(), s(f"s.{c}")).otherwise(d(f"d.{c}"))
                              .cast("bigint").alias(c) for c in codes],
                            F.coalesce(s("s.missing"), empty).alias("missing"),
                            F.coalesce(s("s.possible_matches"), empty).alias("possible_matches"),
                            F.coalesce(s("s.unsettled"), empty).alias("unsettled"),
                            F.concat(chip_warning, F.coalesce(s("s.split_warnings"), empty)).alias("warnings"),
                            F.lit(False).alias("py"),
                            *[F.lit(None).cast("array<string>" if k in LIST_COLUMNS else "string").alias(f"p_{k}")
                              for k in DECISION_COLUMNS[1:]]))
        rows = []
        for row, dec in sorted(decisions.items()):
            c, encoded = decision_row(self.rules, dec, row), self.plan.encode(dec)
            rows.append((row, encoded["__v"], *[encoded[k] for k in codes], c["missing"], c["possible_matches"],
                         c["unsettled"], c["warnings"], True, *[c[k] for k in DECISION_COLUMNS[1:]]))
        schema = T.StructType(
            [T.StructField("row", T.LongType()), T.StructField("__v", T.LongType()),
             *[T.StructField(k, T.LongType()) for k in codes],
             *[T.StructField(k, T.ArrayType(T.StringType()))
               for k in ("missing", "possible_matches", "unsettled", "warnings")],
             T.StructField("py", T.BooleanType()),
             *[T.StructField(f"p_{k}", T.ArrayType(T.StringType()) if k in LIST_COLUMNS else T.StringType())
               for k in DECISION_COLUMNS[1:]]])
        return sql_rows.unionByName(spark.createDataFrame(rows, schema))


__all__ = ["SPARK_EXTRA", "SparkBatch", "spark_kind"]
