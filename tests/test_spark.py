"""The same plan on Apache Spark decides every row as the per-record engine does.

A local Spark session (pyspark, with Java 17 from the OS packages: `scripts/test`
installs both). Spark is slow to start and to plan, so the sample is smaller than on
DuckDB: the bundled shipments under one version and under every version, generated
records, the DataFrame API, and the command line.
"""

from __future__ import annotations

import shutil

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import chiprules
from chiprules.batch.spark import SparkBatch
from chiprules.cli import main

from .conftest import ROOT
from .test_batch import COMPARED, ENFORCED, record_columns, write_csv

pytestmark = pytest.mark.slow

SHIPMENTS = ROOT / "examples" / "shipments.csv"
ONE = chiprules.load(ROOT / "rules" / "ear" / "2023-11-17.rules")


@pytest.fixture(scope="module")
def spark():
    pyspark = pytest.importorskip("pyspark", reason="pyspark is part of the test install: pip install -e '.[dev]'")
    assert shutil.which("java"), "Spark needs Java 17: scripts/test installs openjdk-17-jre-headless"
    session = (pyspark.sql.SparkSession.builder.master("local[2]").appName("chiprules-tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               # room for the plan over every version (1 GB ran out while constraint propagation was on)
               .config("spark.driver.memory", "3g")
               .config("spark.sql.shuffle.partitions", "2").getOrCreate())
    yield session
    session.stop()


def same_as_record_engine(rules, rows, path, as_of=None):
    from chiprules.data.records import read_records

    # the batch engine decides no quotas: it is held to the rules alone
    expected = list(rules.evaluate_many(read_records(path), as_of=as_of, tally=False))
    assert [r["row"] for r in rows] == list(range(1, len(expected) + 1))
    for r, d in zip(rows, expected, strict=True):
        want = record_columns(rules, d, r["row"])
        assert {k: r[k] for k in COMPARED} == {k: want[k] for k in COMPARED}, r["row"]


def test_one_version_on_the_shipments_and_generated_records(spark, tmp_path):
    import random

    rng = random.Random(3)
    records = [{"export_date": "2024-01-10", "tpp": rng.choice(["4800", "4799.99", "1600", "2400", ""]),
                "die_area": rng.choice(["300", "814", ""]), "datacenter": rng.choice(["yes", "no", ""]),
                "destination": rng.choice(["CN", "VN", "AE", "DE", "China", ""]),
                "end_user": rng.choice(["Huawei Technologies Co., Ltd.", "Huawai Technologies Co Ltd", "Example Ltd",
                                        ""]),
                "end_user_hq": rng.choice(["CN", "SG", ""])} for _ in range(60)]
    path = tmp_path / "g.csv"
    write_csv(path, records)
    runner = SparkBatch(ONE, spark=spark)
    for source in (SHIPMENTS, path):
        same_as_record_engine(ONE, runner.decide_file(source).to_pylist(), source)


def test_a_party_with_nothing_to_screen_is_an_error_row(spark, tmp_path):
    path = tmp_path / "p.csv"
    write_csv(path, [{"export_date": "2024-01-10", "destination": "CN", "chip": "NVIDIA H100 SXM", "end_user": name}
                     for name in ("Co., Ltd.", "!!!", "Tianjin Example Trading")])
    rows = SparkBatch(ONE, spark=spark).decide_file(path).to_pylist()
    assert [r["outcome"] for r in rows] == ["error", "error", "license_required"]
    assert all("no name to screen" in r["errors"][0] for r in rows[:2])
    same_as_record_engine(ONE, rows, path)


def test_every_version_on_the_shipments(spark):
    rows = SparkBatch(ENFORCED, spark=spark).decide_file(SHIPMENTS).to_pylist()
    same_as_record_engine(ENFORCED, rows, SHIPMENTS)


def test_a_dataframe_in_a_dataframe_out(spark):
    df = spark.read.option("header", True).csv(str(SHIPMENTS))
    out = ONE.decide_spark(df, as_of="2024-01-10")
    rows = sorted((r.asDict() for r in out.collect()), key=lambda r: r["row"])
    assert len(rows) == 67 and {r["ruleset_version"] for r in rows if r["outcome"] != "error"} == {"2023-11-17"}
    same_as_record_engine(ONE, rows, SHIPMENTS, as_of="2024-01-10")


def test_the_command_line_runs_spark(tmp_path):
    out = tmp_path / "d.parquet"
    res = CliRunner().invoke(main, ["eval", str(ROOT / "rules" / "ear" / "2023-11-17.rules"), str(SHIPMENTS),
                                    "--engine", "spark", "--master", "local[1]", "-o", str(out)])
    assert res.exit_code == 2, res.output
    batch = tmp_path / "b.parquet"
    CliRunner().invoke(main, ["eval", str(ROOT / "rules" / "ear" / "2023-11-17.rules"), str(SHIPMENTS),
                              "-o", str(batch)])
    assert pq.read_table(out).to_pylist() == pq.read_table(batch).to_pylist()


def test_review_arms_and_named_products_on_spark(spark, tmp_path):
    """A review with several arms (CASE WHEN, NULL where the possible policies differ) and
    `chip is` (the catalog's figures) decide on Spark as record by record."""
    from . import test_product, test_review_arms

    for name, text, rows in (
            ("arms", test_review_arms.RULES, [
                {**r, "export_date": test_review_arms.ON.isoformat()}
                for r in test_review_arms.grid_records()]),
            ("product", test_product.RULES, [
                {**r, "export_date": test_product.ON.isoformat()} for r in test_product.grid_records()])):
        root = tmp_path / name
        root.mkdir()
        (root / "chiprules.toml").write_text('catalog = "chips.csv"\n', encoding="utf-8")
        shutil.copy(ROOT / "rules" / "fields.rules", root / "fields.rules")
        shutil.copy(ROOT / "rules" / "chips.csv", root / "chips.csv")
        (root / f"{name}.rules").write_text(text, encoding="utf-8")
        rules = chiprules.load(root / f"{name}.rules")
        path = tmp_path / f"{name}.csv"
        write_csv(path, rows)
        same_as_record_engine(rules, SparkBatch(rules, spark=spark).decide_file(path).to_pylist(), path)
