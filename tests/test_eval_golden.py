"""Golden outputs of `chiprules eval` on the bundled shipments: the table and --explain."""

from __future__ import annotations

from click.testing import CliRunner

from chiprules.cli import main

from .conftest import GOLDEN, ROOT


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["eval", "rules/ear", "examples/shipments.csv", *args])
    return res.exit_code, res.stdout


def test_table_golden(golden, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out = run()
    assert code == 2  # five rows are malformed on purpose; they are reported, not dropped
    golden(GOLDEN / "eval" / "shipments.table.txt", out)


def test_explain_golden(golden, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out = run("--explain", "--format", "jsonl")
    import json

    text = "\n\n".join(json.loads(line)["explanation"] for line in out.splitlines())
    golden(GOLDEN / "eval" / "shipments.explain.txt", text + "\n")


def test_every_record_yields_one_row(monkeypatch):
    monkeypatch.chdir(ROOT)
    _, out = run("--format", "csv")
    rows = out.strip().splitlines()
    data = (ROOT / "examples" / "shipments.csv").read_text().strip().splitlines()
    assert len(rows) == len(data)  # a header each, then one row per record
