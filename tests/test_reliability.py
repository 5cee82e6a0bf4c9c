"""The guarantees of docs/reliability.md, one test (or a few) each: every input record
gives one output row, nothing is decided on a guess, every path stays confined, every
output format escapes what it must, and no user sees a Python traceback."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import chiprules
from chiprules.cli import main
from chiprules.data.records import read_records

from .conftest import ROOT

EAR = ROOT / "rules" / "ear"
HEADER = "id,export_date,destination,chip,end_user\n"


def row(i: int, end_user: str = "Bar") -> str:
    return f"R{i},2024-01-10,CN,NVIDIA H100 SXM,{end_user}\n"


def eval_jsonl(*args: str) -> tuple[list[dict], int, str]:
    res = CliRunner().invoke(main, ["eval", str(EAR), *args, "--format", "jsonl"])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    lines = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    return lines, res.exit_code, res.stderr


def batch_rows(path) -> list[dict]:
    return chiprules.load(EAR).decide_table(str(path)).to_pylist()


# --------------------------------------------------------------------------- one row per record


@pytest.mark.parametrize("bad", [1, 2, 500])
def test_unclosed_quote_costs_one_record(tmp_path, bad):
    path = tmp_path / "quote.csv"
    path.write_text(HEADER + "".join(row(i, '"Foo' if i == bad else "Bar") for i in range(1000)))
    records = list(read_records(path))
    assert len(records) == 1000
    problems = [r for r in records if r.problem]
    assert [r.location for r in problems] == [f"{path}:{bad + 2}"]
    assert "never closed" in problems[0].problem
    rows = batch_rows(path)
    assert len(rows) == 1000
    assert [r["id"] for r in rows if r["outcome"] == "error"] == [str(bad + 1)]
    decided, code, _ = eval_jsonl(str(path))
    assert len(decided) == 1000 and code != 0
    assert sum(d["outcome"] == "error" for d in decided) == 1


def test_unclosed_quote_at_the_end(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(HEADER + row(1, '"Foo') + row(2))
    decided, _, _ = eval_jsonl(str(path))
    assert [d["outcome"] for d in decided] == ["error", "license_required"]
    assert [d["id"] for d in decided] == ["1", "R2"]


def test_quoted_line_breaks_still_read(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text(HEADER + row(1, '"Foo,\nBantian, Shenzhen"') + row(2, '"A ""quoted"" name"'))
    records = list(read_records(path))
    assert [r.data["end_user"] for r in records] == ["Foo,\nBantian, Shenzhen", 'A "quoted" name']
    assert all(r.problem is None for r in records)
    assert [r["end_user"] for r in batch_rows(path)] == ["Foo,\nBantian, Shenzhen", 'A "quoted" name']


@pytest.mark.parametrize("quoted", [False, True])
def test_huge_cell_costs_one_record(tmp_path, quoted):
    big = "x" * 200_000
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "".join(row(i, (f'"{big}"' if quoted else big) if i == 2 else "Bar")
                                     for i in range(10)))
    records = list(read_records(path))
    assert len(records) == 10
    assert [r.number for r in records if r.problem] == [3]
    assert "longer than" in records[2].problem
    rows = batch_rows(path)
    assert [r["outcome"] for r in rows].count("error") == 1 and len(rows) == 10
    decided, code, err = eval_jsonl(str(path))
    assert len(decided) == 10 and code != 0
    assert "10 records" in err
