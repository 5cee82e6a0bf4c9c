"""Golden outputs of the command line for every format a tool reads.

`chiprules test` (plain and `-v`), `chiprules eval --format jsonl|csv` (with and without
`--explain`), `chiprules diff --format json` for the pairs with text goldens, and
`chiprules check --format json` for every diagnostics case. Everything runs through the
command line itself (click's CliRunner), from the repository root, so the paths in the
output are the relative ones a user sees. `pytest --update-goldens` rewrites the files.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from chiprules.cli import main

from .conftest import GOLDEN, ROOT

DIAGNOSTICS = GOLDEN / "diagnostics"
CHECK_CASES = sorted(p for p in DIAGNOSTICS.glob("*.rules") if p.name != "fields.rules")
# the pairs of tests/test_diff.py, whose text goldens are in tests/golden/diff/
DIFF_PAIRS = [("2022-10-07", "2023-11-17"), ("2023-11-17", "2024-12-02"), ("2025-05-13", "2026-01-15"),
              ("2023-11-17", "2024-03-15"), ("2024-12-02", "2025-04-09")]


@pytest.fixture
def cli(monkeypatch):
    """Run the command line from the repository root; return (exit code, stdout, stderr)."""
    monkeypatch.chdir(ROOT)

    def run(*args: str) -> tuple[int, str, str]:
        res = CliRunner().invoke(main, list(args))
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            raise res.exception
        return res.exit_code, res.stdout, res.stderr

    return run


# ---- chiprules test -------------------------------------------------------------------------


def test_test_command_golden(cli, golden):
    code, out, _ = cli("test", "rules/")
    assert code == 0, out
    golden(GOLDEN / "test" / "rules.txt", out)


def test_test_command_verbose_golden(cli, golden):
    code, out, _ = cli("test", "-v", "rules/")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[-1] == f"{len(lines) - 1} passed, 0 failed"
    assert all(line.startswith("PASS rules/") for line in lines[:-1])
    golden(GOLDEN / "test" / "rules.verbose.txt", out)


# ---- chiprules eval --format jsonl / csv ----------------------------------------------------

EVAL_CASES = {
    "shipments.jsonl": ("--format", "jsonl"),
    "shipments.explain.jsonl": ("--format", "jsonl", "--explain"),
    "shipments.csv": ("--format", "csv"),
    "shipments.explain.csv": ("--format", "csv", "--explain"),
}


@pytest.mark.parametrize("name", list(EVAL_CASES))
def test_eval_format_golden(name, cli, golden):
    code, out, err = cli("eval", "rules/ear", "examples/shipments.csv", *EVAL_CASES[name])
    assert code == 2, err  # five rows are malformed on purpose; they are reported, not dropped
    assert err.strip().endswith("5 error"), err
    golden(GOLDEN / "eval" / name, out)


def test_eval_jsonl_is_one_object_per_record(cli):
    _, out, _ = cli("eval", "rules/ear", "examples/shipments.csv", "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    data = (ROOT / "examples" / "shipments.csv").read_text(encoding="utf-8").strip().splitlines()
    assert len(rows) == len(data) - 1
    assert [r["location"] for r in rows] == [f"examples/shipments.csv:{n}" for n in range(2, len(data) + 1)]


# ---- chiprules diff --format json ----------------------------------------------------------


@pytest.mark.parametrize("pair", DIFF_PAIRS, ids=lambda p: f"{p[0]}_{p[1]}")
def test_diff_json_golden(pair, cli, golden):
    assert (GOLDEN / "diff" / f"{pair[0]}_{pair[1]}.txt").exists()
    code, out, err = cli("diff", "rules/ear", pair[0], pair[1], "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    # the report carries no timing (DiffReport.seconds stays out of to_json), so the whole
    # text is stable and compared as it is
    assert "seconds" not in report
    assert report["old"]["version"] == pair[0] and report["new"]["version"] == pair[1]
    golden(GOLDEN / "diff" / f"{pair[0]}_{pair[1]}.json", out)


# ---- chiprules check --format json ---------------------------------------------------------


@pytest.mark.parametrize("path", CHECK_CASES, ids=lambda p: p.stem)
def test_check_json_golden(path, cli, golden):
    code, out, err = cli("check", str(path.relative_to(ROOT)), "--format", "json")
    assert err == ""
    diags = json.loads(out)
    assert diags, "a diagnostics case reports something"
    assert code == (1 if any(d["severity"] == "error" for d in diags) else 0)
    golden(path.with_suffix(".json"), out)
