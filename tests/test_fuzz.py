"""Fuzzing the parts that read what users write: the rules parser and checker, the record
readers (CSV, TSV, JSON, JSON Lines, Parquet), the screener and the evaluator.

Each target starts from a corpus of real inputs (the versions in `rules/ear`, the
diagnostic cases in `tests/golden/diagnostics`, `examples/shipments.csv` and the record
files in `tests/data/records`) and from inputs hypothesis builds, then mutates them
(spans deleted, doubled or moved; quotes, delimiters, line breaks, control characters,
huge numbers and long cells put in). What must hold on every input:

- the parser and checker return diagnostics, each located, and raise nothing but a
  chiprules error;
- a record reader yields records or raises a located `RecordError`, and a file it can
  read gives one decision per record, with the per-record and batch engines agreeing
  on the number of rows;
- a well-formed file (written by a CSV or JSON writer) reads back exactly as written;
- the screener gives a status and a score in range for any name, and `normalize_name` is
  idempotent;
- `Rules.evaluate` gives one of the five outcomes for any mapping of any values.

The suite runs a few dozen examples per target (`FUZZ_EXAMPLES`, default 25).
`scripts/fuzz SECONDS` runs every target with fresh random inputs until the time is up;
see docs/reliability.md.
"""

from __future__ import annotations

import csv
import json
import os
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import chiprules
from chiprules.core.errors import ChiprulesError, RecordError
from chiprules.data.records import read_records
from chiprules.lang.checker import check_file
from chiprules.model.checked import OUTCOMES
from chiprules.screening.names import normalize_name

from .conftest import ROOT

pytestmark = pytest.mark.filterwarnings("ignore::chiprules.UnknownFieldWarning")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])
EAR = ROOT / "rules" / "ear"
RULES = chiprules.load(EAR)
OUTCOME_NAMES = {str(o) for o in OUTCOMES}

RULES_CORPUS = sorted(EAR.glob("*.rules")) + sorted((ROOT / "tests/golden/diagnostics").glob("*.rules"))
RECORD_CORPUS = [ROOT / "examples/shipments.csv"] + sorted(
    p for p in (ROOT / "tests/data/records").glob("*") if p.suffix in (".csv", ".tsv", ".json", ".jsonl"))

# what a hostile or careless writer puts into text
NASTY = ['"', '""', ",", ";", "\t", "\n", "\r\n", "\r", "\x00", "\x1b[2J", "\u200b", "\u202e", "\ufeff",
         "=cmd", "1E+999999999", "1e-999999999", "9" * 5000, "NaN", "-Infinity", "x" * 140_000, "{", "}",
         "[", "]", "(", ")", "#", "\\", "华为", "Co., Ltd.", "\xff", "2024-02-30", "0000-01-01"]


def mutate(text: str, data) -> str:
    """A few edits of ``text``: spans deleted, doubled or moved, nasty pieces put in."""
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        n = len(text)
        i = data.draw(st.integers(0, n), label="at")
        j = data.draw(st.integers(i, min(n, i + 200)), label="to")
        kind = data.draw(st.sampled_from(["delete", "double", "insert", "move"]), label="edit")
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "double":
            text = text[:j] + text[i:j] + text[j:]
        elif kind == "insert":
            piece = data.draw(st.one_of(st.sampled_from(NASTY), st.text(max_size=20)), label="piece")
            text = text[:i] + piece + text[i:]
        else:
            k = data.draw(st.integers(0, n), label="dest")
            piece, rest = text[i:j], text[:i] + text[j:]
            k = min(k, len(rest))
            text = rest[:k] + piece + rest[k:]
    return text


# --------------------------------------------------------------------------- rules


@FUZZ
@given(data=st.data(), source=st.sampled_from(RULES_CORPUS))
def test_fuzz_rules_checker(tmp_path_factory, data, source):
    folder = tmp_path_factory.mktemp("rules")
    for helper in ("fields.rules",):  # what the diagnostic cases include
        (folder / helper).write_text((ROOT / "tests/golden/diagnostics" / helper).read_text(encoding="utf-8"))
    path = folder / "fuzzed.rules"
    path.write_text(mutate(source.read_text(encoding="utf-8", errors="replace"), data), encoding="utf-8", errors="replace")
    try:
        _, diags = check_file(path)
    except ChiprulesError as exc:
        diags = exc.diagnostics
    for d in diags:
        assert d.code and d.message and d.where(), d


# --------------------------------------------------------------------------- records

CELL = st.one_of(st.text(max_size=12), st.sampled_from(NASTY[:20]), st.sampled_from(
    ["NVIDIA H100 SXM", "CN", "2024-01-10", "4800", "yes", "Huawei Technologies Co., Ltd.", ""]))
FIELDS = ["id", "export_date", "destination", "chip", "end_user", "tpp", "die_area", "datacenter", "quantity",
          "notes"]


def decide_all(path: Path, fmt: str | None = None) -> int | None:
    """The number of records read and decided (one decision each), or None for a file the
    reader refuses with a located error."""
    try:
        records = list(read_records(path, fmt))
    except RecordError as exc:
        assert exc.diagnostics and exc.diagnostics[0].location
        return None
    decisions = list(RULES.evaluate_many(records, as_of="2024-01-10"))
    assert len(decisions) == len(records)
    assert {str(d.outcome) for d in decisions} <= OUTCOME_NAMES
    return len(records)


@FUZZ
@given(header=st.lists(st.sampled_from(FIELDS), min_size=1, max_size=8, unique=True),
       rows=st.lists(st.lists(CELL, min_size=0, max_size=8), max_size=12),
       delimiter=st.sampled_from([",", "\t"]))
def test_fuzz_written_csv_reads_back_as_written(tmp_path_factory, header, rows, delimiter):
    assume(any(f in header for f in FIELDS[:-1]))
    rows = [r[: len(header)] for r in rows]
    path = tmp_path_factory.mktemp("csv") / ("w.csv" if delimiter == "," else "w.tsv")
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows([header, *rows])  # \r\n: every line break quoted
    records = list(read_records(path))
    kept = [r for r in rows if any(r) and not (len(r) == 1 and not r[0].strip())]
    long = [r for r in kept if any(len(c) > 131_072 for c in r)]
    assert len(records) == len(kept)
    for rec, row in zip(records, kept, strict=True):
        if row in long:
            assert rec.problem and "longer than" in rec.problem
        else:
            assert rec.problem is None, rec.problem
            assert rec.data == dict(zip(header, row, strict=False))


@FUZZ
@given(data=st.data(), source=st.sampled_from(RECORD_CORPUS))
def test_fuzz_record_files(tmp_path_factory, data, source):
    path = tmp_path_factory.mktemp("records") / f"fuzzed{source.suffix}"
    path.write_text(mutate(source.read_text(encoding="utf-8", errors="replace"), data), encoding="utf-8", errors="replace")
    decide_all(path)


@settings(FUZZ, max_examples=max(3, EXAMPLES // 5))
@given(data=st.data())
def test_fuzz_engines_agree_on_rows(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("engines") / "fuzzed.csv"
    path.write_text(mutate((ROOT / "examples/shipments.csv").read_text(encoding="utf-8"), data), encoding="utf-8")
    n = decide_all(path)
    try:
        table = RULES.decide_table(str(path), as_of="2024-01-10")
    except RecordError:
        assert n is None
        return
    assert n is not None and table.num_rows == n


JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=10), st.sampled_from(["NVIDIA H100 SXM", "CN", "2024-01-10", "1e999999999"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)
JSON_RECORD = st.one_of(st.dictionaries(st.sampled_from(FIELDS), JSON_VALUE, max_size=6), JSON_VALUE)


@FUZZ
@given(items=st.lists(JSON_RECORD, max_size=10), data=st.data(), lines=st.booleans())
def test_fuzz_json_and_json_lines(tmp_path_factory, items, data, lines):
    folder = tmp_path_factory.mktemp("json")
    path = folder / ("r.jsonl" if lines else "r.json")
    text = "".join(json.dumps(i) + "\n" for i in items) if lines else json.dumps(items, indent=1)
    path.write_text(text, encoding="utf-8")
    n = decide_all(path)
    assert n == len(items)  # written by a JSON writer: every item is one record
    broken = folder / path.name.replace("r.", "m.")
    broken.write_text(mutate(text, data), encoding="utf-8", errors="replace")
    decide_all(broken)


@FUZZ
@given(columns=st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(["string", "int", "float", "bool", "date"]),
                               min_size=1, max_size=6),
       n=st.integers(0, 8), data=st.data())
def test_fuzz_parquet(tmp_path_factory, columns, n, data):
    import datetime as dt
    values = {"string": st.one_of(st.none(), CELL), "int": st.one_of(st.none(), st.integers(-2**62, 2**62)),
              "float": st.one_of(st.none(), st.floats()), "bool": st.one_of(st.none(), st.booleans()),
              "date": st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)))}
    types = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
             "date": pa.date32()}
    table = pa.table({k: pa.array([data.draw(values[t]) for _ in range(n)], types[t]) for k, t in columns.items()})
    folder = tmp_path_factory.mktemp("parquet")
    path = folder / "r.parquet"
    pq.write_table(table, path)
    assert decide_all(path) == n
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    broken = folder / "m.parquet"
    broken.write_bytes(bytes(raw))
    decide_all(broken)


# --------------------------------------------------------------------------- screening and evaluation

NAME = st.one_of(st.text(max_size=60), st.builds(lambda a, b: a + b, st.sampled_from(
    ["Huawei Technologies Co., Ltd.", "Sugon", "SMIC", "Inspur Group", "Tencent", "华为技术有限公司"]),
    st.one_of(st.sampled_from(NASTY[:24]), st.text(max_size=30))))


@FUZZ
@given(name=NAME, country=st.one_of(st.none(), st.sampled_from(["CN", "US", "XX", ""])),
       address=st.one_of(st.none(), st.text(max_size=40)))
def test_fuzz_screener(name, country, address):
    for m in RULES.screen(name, "2024-01-10", country=country, address=address):
        assert m.status in ("match", "possible", "none")
        assert m.score is None or 0 <= m.score <= 100
    once = normalize_name(name)
    assert normalize_name(once) == once


ANY_VALUE = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
                      st.decimals(allow_nan=True), st.dates(), st.lists(st.integers(), max_size=2),
                      st.sampled_from(NASTY[:20] + [Decimal("1e999999999"), 10**40, object()]))


@FUZZ
@given(record=st.dictionaries(st.one_of(st.sampled_from(FIELDS + ["Export Date", "exportdate"]), st.text(max_size=8)),
                              ANY_VALUE, max_size=8))
def test_fuzz_evaluate_any_mapping(record):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", chiprules.UnknownFieldWarning)
        d = RULES.evaluate(record, as_of="2024-01-10")
        assert str(d.outcome) in OUTCOME_NAMES
        d.explain()


def test_corpus_is_there():
    assert len(RULES_CORPUS) > 20 and len(RECORD_CORPUS) >= 2
    assert all(p.is_file() for p in RULES_CORPUS + RECORD_CORPUS)

