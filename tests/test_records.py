"""Reading shipment records and converting their fields."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import sys
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chiprules.core.diagnostics import Severity
from chiprules.core.errors import RecordError
from chiprules.data.records import (
    DEFAULT_FIELDS,
    DEFAULTS,
    FieldProblem,
    FieldSpec,
    RawRecord,
    convert_record,
    normalize_field_name,
    problems_to_diagnostics,
    read_records,
)

DATA = Path(__file__).parent / "data" / "records"


def convert(data: dict) -> tuple[dict, list[FieldProblem]]:
    return convert_record(data, DEFAULT_FIELDS)


def only_problem(data: dict) -> FieldProblem:
    out, problems = convert(data)
    assert len(problems) == 1, problems
    (field,) = data
    assert field not in out  # a bad value is reported, never passed on
    return problems[0]


def error_of(source, fmt=None) -> RecordError:
    with pytest.raises(RecordError) as info:
        list(read_records(source, fmt))
    assert info.value.diagnostics, "a RecordError must carry a located diagnostic"
    return info.value


# --------------------------------------------------------------------------- the contract


def test_default_fields_follow_the_record_contract():
    kinds = {name: spec.kind for name, spec in DEFAULT_FIELDS.items()}
    assert kinds == {
        "id": "text",
        "export_date": "date",
        "transaction": "enum",
        "exported_from": "country",
        "destination": "country",
        "end_user": "party",
        "end_user_hq": "country",
        "end_user_parent": "party",
        "consignee": "party",
        "chip": "text",
        "item_kind": "enum",
        "tpp": "quantity",
        "die_area": "quantity",
        "performance_density": "quantity",
        "datacenter": "bool",
        "interconnect_bw": "quantity",
        "dram_bw": "quantity",
        "memory_bw_density": "quantity",
        "quantity": "integer",
    }
    assert DEFAULT_FIELDS["transaction"].values == ("export", "reexport", "transfer")
    assert DEFAULT_FIELDS["item_kind"].values == ("ic", "computer", "hbm")
    units = {n: s.unit for n, s in DEFAULT_FIELDS.items() if s.kind == "quantity"}
    assert units == {
        "tpp": "TPP",
        "die_area": "mm2",
        "performance_density": "TPP/mm2",
        "interconnect_bw": "GB/s",
        "dram_bw": "GB/s",
        "memory_bw_density": "GB/s/mm2",
    }
    assert DEFAULTS == {"transaction": "export", "exported_from": "US", "item_kind": "ic"}


def test_field_spec_rejects_unknown_kinds():
    with pytest.raises(ValueError):
        FieldSpec("x", "float")


def test_defaults_are_not_applied_by_convert():
    out, problems = convert({"destination": "CN"})
    assert out == {"destination": "CN"}
    assert not problems


# --------------------------------------------------------------------------- convert


def test_typical_record_converts_to_typed_values():
    out, problems = convert(
        {
            "id": " S-1 ",
            "export_date": "2024-01-10",
            "transaction": "Export",
            "exported_from": "US",
            "destination": "Hong Kong",
            "end_user": "  Acme Cloud ",
            "end_user_hq": "China",
            "chip": "NVIDIA H100 SXM",
            "item_kind": "IC",
            "tpp": "4800",
            "die_area": "814",
            "datacenter": "Yes",
            "dram_bw": "3350",
            "quantity": "8",
        }
    )
    assert not problems
    assert out == {
        "id": "S-1",
        "export_date": dt.date(2024, 1, 10),
        "transaction": "export",
        "exported_from": "US",
        "destination": "HK",
        "end_user": "Acme Cloud",
        "end_user_hq": "CN",
        "chip": "NVIDIA H100 SXM",
        "item_kind": "ic",
        "tpp": Decimal("4800"),
        "die_area": Decimal("814"),
        "datacenter": True,
        "dram_bw": Decimal("3350"),
        "quantity": 8,
    }


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("5.92", Decimal("5.92")),
        (" 5.92 ", Decimal("5.92")),
        (Decimal("5.92"), Decimal("5.92")),
        (5.92, Decimal("5.92")),
        (0.1, Decimal("0.1")),
        (4800, Decimal("4800")),
        ("4,800", Decimal("4800")),
        ("1,234,567.5", Decimal("1234567.5")),
        ("1e3", Decimal("1000")),
        ("4800 TPP", Decimal("4800")),
    ],
)
def test_quantities_are_exact(raw, expected):
    out, problems = convert({"tpp": raw})
    assert not problems
    assert out["tpp"] == expected
    assert isinstance(out["tpp"], Decimal)
    assert str(out["tpp"]) == str(expected) or out["tpp"] == expected


def test_threshold_value_is_not_rounded():
    out, _ = convert({"performance_density": "5.92"})
    assert out["performance_density"] >= Decimal("5.92")
    assert out["performance_density"] == Decimal("5.92")
    out, _ = convert({"performance_density": 5.92})  # a Python float, as written
    assert out["performance_density"] == Decimal("5.92")


@pytest.mark.parametrize(
    "field, raw, expected",
    [
        ("die_area", "814 mm2", Decimal("814")),
        ("die_area", "814mm²", Decimal("814")),
        ("dram_bw", "4800 GB/s", Decimal("4800")),
        ("memory_bw_density", "3.3 GB/s/mm2", Decimal("3.3")),
    ],
)
def test_quantities_may_carry_their_own_unit(field, raw, expected):
    out, problems = convert({field: raw})
    assert not problems
    assert out[field] == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("yes", True), ("YES", True), ("y", True), ("true", True), ("True", True), ("1", True),
        ("on", True), ("ON", True), (True, True), (1, True),
        ("no", False), ("N", False), ("false", False), ("0", False), ("off", False),
        (False, False), (0, False),
    ],
)  # fmt: skip
def test_booleans(raw, expected):
    out, problems = convert({"datacenter": raw})
    assert not problems
    assert out["datacenter"] is expected


@pytest.mark.parametrize(
    "raw", ["", "   ", None, "NA", "na", "N/A", "n/a", "null", "NULL", "-", " - "]
)
def test_missing_is_left_out_not_false(raw):
    data = {name: raw for name in DEFAULT_FIELDS}
    out, problems = convert(data)
    assert out == {}
    assert problems == []


def test_false_is_kept_as_false():
    out, _ = convert({"datacenter": "no", "quantity": "0"})
    assert out == {"datacenter": False, "quantity": 0}


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2024-01-10", dt.date(2024, 1, 10)),
        (" 2024-01-10 ", dt.date(2024, 1, 10)),
        ("2024-01-10T08:30:00", dt.date(2024, 1, 10)),
        (dt.date(2024, 1, 10), dt.date(2024, 1, 10)),
        (dt.datetime(2024, 1, 10, 23, 59), dt.date(2024, 1, 10)),
    ],
)
def test_dates(raw, expected):
    out, problems = convert({"export_date": raw})
    assert not problems
    assert out["export_date"] == expected
    assert type(out["export_date"]) is dt.date


@pytest.mark.parametrize(
    "raw, expected", [("reexport", "reexport"), ("Re-Export", "reexport"), ("TRANSFER", "transfer")]
)
def test_enums(raw, expected):
    out, problems = convert({"transaction": raw})
    assert not problems
    assert out["transaction"] == expected


def test_integers():
    for raw, expected in [("8", 8), (8, 8), ("1,024", 1024), (8.0, 8), (Decimal("16"), 16)]:
        out, problems = convert({"quantity": raw})
        assert not problems, raw
        assert out["quantity"] == expected and type(out["quantity"]) is int


def test_text_from_json_numbers():
    out, problems = convert({"id": 7, "end_user": "  Max Planck Society "})
    assert not problems
    assert out == {"id": "7", "end_user": "Max Planck Society"}


def test_unknown_columns_pass_through_unchanged():
    notes = {"po": 17}
    out, problems = convert(
        {"sales_region": " APAC ", "notes": notes, "weight_kg": "12.5", "tpp": "1"}
    )
    assert not problems
    assert out["sales_region"] == " APAC "
    assert out["notes"] is notes
    assert out["weight_kg"] == "12.5"
    assert list(out) == ["sales_region", "notes", "weight_kg", "tpp"]


def test_custom_specs():
    specs = {"temperature": FieldSpec("temperature", "quantity", unit="C", allow_negative=True)}
    out, problems = convert_record({"temperature": "-40", "tpp": "x"}, specs)
    assert out == {"temperature": Decimal("-40"), "tpp": "x"}
    assert not problems


# fmt: off
@pytest.mark.parametrize(
    "field, raw, message",
    [
        ("tpp", "abc", "`tpp` must be a number in TPP, got `abc`"),
        ("tpp", "twelve", "`tpp` must be a number in TPP, got `twelve`"),
        ("tpp", "NaN", "`tpp` must be a finite number, got `NaN`"),
        ("tpp", "inf", "`tpp` must be a finite number, got `inf`"),
        ("tpp", "-Infinity", "`tpp` must be a finite number, got `-Infinity`"),
        ("tpp", float("nan"), "`tpp` must be a finite number, got `nan`"),
        ("tpp", "-1", "`tpp` must not be negative, got `-1`"),
        ("tpp", "5,92", "`tpp` has a comma that is not a thousands separator: `5,92`"),
        ("tpp", "4800 GB/s", "`tpp` must be a number in TPP, got `4800 GB/s`"),
        ("tpp", True, "`tpp` must be a number, got a boolean"),
        ("tpp", [1], "`tpp` must be a number, got a list"),
        ("die_area", "-814", "`die_area` must not be negative, got `-814`"),
        ("die_area", "0", "`die_area` must be greater than zero, got `0`"),
        ("die_area", 0, "`die_area` must be greater than zero, got `0`"),
        ("dram_bw", "-3350", "`dram_bw` must not be negative, got `-3350`"),
        ("memory_bw_density", "fast", "`memory_bw_density` must be a number in GB/s/mm2, got `fast`"),
        ("quantity", "2.5", "`quantity` must be a whole number, got `2.5`"),
        ("quantity", 2.5, "`quantity` must be a whole number, got `2.5`"),
        ("quantity", "-3", "`quantity` must not be negative, got `-3`"),
        ("quantity", "many", "`quantity` must be a number, got `many`"),
        ("quantity", "1e40", "`quantity` is too large: `1e40`"),
        ("datacenter", "maybe", "`datacenter` must be yes or no, got `maybe`"),
        ("datacenter", 2, "`datacenter` must be yes or no, got `2`"),
        ("destination", "Chian", "unknown country `Chian` in `destination`"),
        ("destination", "XX", "unknown country `XX` in `destination`"),
        ("end_user_hq", "SU", "retired country code `SU` (Soviet Union) in `end_user_hq`"),
        ("exported_from", 840, "`exported_from` must be a country code or name, got a value of type int"),
        ("export_date", "2024-13-01", "`export_date` is not a real date: `2024-13-01` (month must be in 1..12)"),
        ("export_date", "2024-02-30", "`export_date` is not a real date: `2024-02-30` (day is out of range for month)"),
        ("export_date", "01/10/2024", "`export_date` must be a date written YYYY-MM-DD, got `01/10/2024`"),
        ("export_date", "2024-W01-1", "`export_date` must be a date written YYYY-MM-DD, got `2024-W01-1`"),
        ("export_date", 20240110, "`export_date` must be a date, got a value of type int"),
        ("transaction", "sale", "`transaction` must be one of `export`, `reexport`, `transfer`, got `sale`"),
        ("item_kind", "gpu", "`item_kind` must be one of `ic`, `computer`, `hbm`, got `gpu`"),
        ("end_user", ["a", "b"], "`end_user` must be text, got a list"),
        ("chip", {"name": "H100"}, "`chip` must be text, got an object"),
    ],
)
# fmt: on
def test_every_malformed_value_is_a_field_problem(field, raw, message):
    problem = only_problem({field: raw})
    assert problem.field == field
    assert problem.message == message
    assert problem.help
    assert isinstance(problem.value, str)
    assert "\n" not in problem.message


def test_unknown_country_help_suggests_the_code():
    problem = only_problem({"destination": "Chian"})
    assert problem.help == "did you mean `CN` (China)?"


def test_retired_country_help_names_successors():
    problem = only_problem({"destination": "YU"})
    assert "`RS`" in problem.help and "`ME`" in problem.help


def test_enum_help_guesses():
    problem = only_problem({"transaction": "exprot"})
    assert problem.help == "did you mean `export`?"


def test_problem_values_are_printable_and_short():
    problem = only_problem({"tpp": "x\x00y" + "9" * 200})
    assert problem.value.isprintable()
    assert len(problem.value) <= 60


def test_bad_fields_do_not_hide_good_ones():
    out, problems = convert({"tpp": "abc", "die_area": "814", "destination": "Chian", "datacenter": "yes"})
    assert out == {"die_area": Decimal("814"), "datacenter": True}
    assert [p.field for p in problems] == ["tpp", "destination"]


def test_problems_to_diagnostics():
    raw = RawRecord(7, "shipments.csv:7", {"tpp": "abc"}, None)
    _, problems = convert(raw.data)
    (diag,) = problems_to_diagnostics(raw, problems)
    assert diag.code == "R001"
    assert diag.severity is Severity.ERROR
    assert diag.location == "shipments.csv:7"
    assert diag.message == "`tpp` must be a number in TPP, got `abc`"
    assert diag.help

    unreadable = RawRecord(3, "x.jsonl:3", {}, "line 3 is not valid JSON: expecting value at column 1")
    (diag,) = problems_to_diagnostics(unreadable, [])
    assert diag.code == "R002"
    assert diag.location == "x.jsonl:3"


# --------------------------------------------------------------------------- reading


def test_csv_header_normalization_and_locations():
    records = list(read_records(DATA / "shipments.csv"))
    assert [r.number for r in records] == [1, 2, 3, 4]
    name = str(DATA / "shipments.csv")
    # Record 2 spans lines 3-4 (a quoted line break); line 5 is blank, line 6 holds empty cells.
    assert [r.location for r in records] == [f"{name}:{n}" for n in (2, 3, 7, 8)]
    first = records[0]
    assert list(first.data) == [
        "id",
        "export_date",
        "transaction",
        "destination",
        "end_user",
        "tpp",
        "die_area",
        "datacenter",
        "quantity",
        "sales_region",
    ]
    assert first.data["end_user"] == "Acme Cloud, Ltd."
    assert first.problem is None
    assert records[1].data["end_user"] == "Multi\r\nLine Labs"


def test_csv_row_with_more_cells_than_the_header():
    records = list(read_records(DATA / "shipments.csv"))
    third = records[2]
    assert third.problem == "row has 11 cells but the header names 10 columns"
    assert third.data["id"] == "S-3"  # what could be read is kept
    assert len(third.data) == 10


def test_csv_records_convert():
    records = list(read_records(DATA / "shipments.csv"))
    out, problems = convert_record(records[0].data, DEFAULT_FIELDS)
    assert not problems
    assert out["tpp"] == Decimal("5.92")
    assert out["destination"] == "CN"
    assert out["sales_region"] == "APAC"
    out, problems = convert_record(records[1].data, DEFAULT_FIELDS)
    assert out["transaction"] == "reexport" and out["destination"] == "VN"
    assert out["datacenter"] is False and "die_area" not in out
    out, problems = convert_record(records[2].data, DEFAULT_FIELDS)
    assert out["tpp"] == Decimal("4800") and out["destination"] == "HK"
    assert "die_area" not in out and "datacenter" not in out
    out, problems = convert_record(records[3].data, DEFAULT_FIELDS)
    assert {p.field for p in problems} == {"tpp", "die_area", "datacenter", "quantity"}


def test_tsv():
    records = list(read_records(DATA / "shipments.tsv"))
    assert [r.data["id"] for r in records] == ["T-1", "T-2"]
    assert records[1].location == f"{DATA / 'shipments.tsv'}:3"
    out, _ = convert_record(records[1].data, DEFAULT_FIELDS)
    assert out == {"id": "T-2", "export_date": dt.date(2024, 3, 2), "destination": "SA"}


def test_json_array():
    records = list(read_records(DATA / "shipments.json"))
    name = str(DATA / "shipments.json")
    assert [r.location for r in records] == [f"{name}: record {n}" for n in (1, 2, 3, 4)]
    assert records[0].data["tpp"] == Decimal("5.92")
    assert isinstance(records[0].data["tpp"], Decimal)
    assert records[0].data["notes"] == {"po": 17}
    assert records[1].data["export_date"] == "2024-01-11"  # key normalized
    assert records[2].problem == "record 3 is not a JSON object (got a string)"
    assert records[2].data == {}
    out, problems = convert_record(records[0].data, DEFAULT_FIELDS)
    assert out["tpp"] == Decimal("5.92") and out["datacenter"] is True and out["quantity"] == 8
    out, problems = convert_record(records[1].data, DEFAULT_FIELDS)
    assert "datacenter" not in out  # JSON null is missing, not false
    assert [p.message for p in problems] == ["unknown country `Chian` in `destination`"]
    out, _ = convert_record(records[3].data, DEFAULT_FIELDS)
    assert out == {"id": "4", "destination": "MO", "tpp": Decimal("4800.0"), "datacenter": False}


def test_json_object_with_records():
    records = list(read_records(DATA / "wrapped.json"))
    assert [r.data["id"] for r in records] == ["W-1", "W-2"]
    assert records[1].location.endswith("wrapped.json: record 2")


def test_jsonl_bad_lines_still_yield_records():
    records = list(read_records(DATA / "shipments.jsonl"))
    name = str(DATA / "shipments.jsonl")
    assert [r.number for r in records] == [1, 2, 3, 4]
    assert [r.location for r in records] == [f"{name}:{n}" for n in (1, 3, 4, 5)]
    assert records[0].data["tpp"] == Decimal("5.92")
    bad = records[1]
    assert bad.data == {}
    assert bad.problem.startswith("line 3 is not valid JSON")
    assert records[2].problem == "line 4 is not a JSON object (got an array)"
    assert records[3].data["extra_field"] == "kept"
    assert records[3].problem is None


def test_ndjson_extension_and_format_override(tmp_path):
    lines = '{"id": "a", "tpp": 1}\n'
    (tmp_path / "x.ndjson").write_text(lines)
    (tmp_path / "x.txt").write_text(lines)
    assert [r.data["id"] for r in read_records(tmp_path / "x.ndjson")] == ["a"]
    assert [r.data["id"] for r in read_records(tmp_path / "x.txt", fmt="jsonl")] == ["a"]
    assert [r.data["id"] for r in read_records(str(tmp_path / "x.txt"), fmt="NDJSON")] == ["a"]


def test_stdin_is_json_lines(monkeypatch):
    data = b'{"id": "s1", "tpp": 5.92}\nnot json\n{"id": "s3"}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    records = list(read_records("-"))
    assert [r.location for r in records] == ["<stdin>:1", "<stdin>:2", "<stdin>:3"]
    assert records[0].data["tpp"] == Decimal("5.92")
    assert records[1].problem is not None


def test_text_stream():
    stream = io.StringIO('{"id": "t1", "destination": "CN"}\n\n{"id": "t2"}\n')
    records = list(read_records(stream))
    assert [(r.number, r.location) for r in records] == [(1, "<stream>:1"), (2, "<stream>:3")]
    csv_stream = io.StringIO("id,tpp\nc1,4800\n")
    (record,) = read_records(csv_stream, fmt="csv")
    assert record.data == {"id": "c1", "tpp": "4800"}
    assert record.location == "<stream>:2"


def test_gzip(tmp_path):
    path = tmp_path / "x.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("id,tpp\ng1,4800\ng2,1600\n")
    assert [r.data["id"] for r in read_records(path)] == ["g1", "g2"]


def test_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table(
        {
            "ID": ["P-1", "P-2", "P-3"],
            "Export Date": [dt.date(2024, 1, 10), None, dt.date(2025, 5, 20)],
            "destination": ["CN", "Vietnam", None],
            "tpp": pa.array([Decimal("5.92"), Decimal("4800"), None], pa.decimal128(10, 2)),
            "die_area": [814.0, 5.92, None],
            "datacenter": [True, False, None],
            "quantity": [8, 16, None],
            "region": ["APAC", "APAC", "EMEA"],
        }
    )
    path = tmp_path / "x.parquet"
    pq.write_table(table, path, row_group_size=2)
    records = list(read_records(path))
    assert [r.location for r in records] == [f"{path}: row {n}" for n in (1, 2, 3)]
    out, problems = convert_record(records[0].data, DEFAULT_FIELDS)
    assert not problems
    assert out == {
        "id": "P-1",
        "export_date": dt.date(2024, 1, 10),
        "destination": "CN",
        "tpp": Decimal("5.92"),
        "die_area": Decimal("814.0"),
        "datacenter": True,
        "quantity": 8,
        "region": "APAC",
    }
    out, _ = convert_record(records[1].data, DEFAULT_FIELDS)
    assert out["die_area"] == Decimal("5.92")  # a float column, read as written
    assert out["datacenter"] is False and "export_date" not in out
    out, _ = convert_record(records[2].data, DEFAULT_FIELDS)
    assert out == {"id": "P-3", "export_date": dt.date(2025, 5, 20), "region": "EMEA"}


def test_not_a_parquet_file(tmp_path):
    pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "x.parquet"
    path.write_text("id,tpp\n1,2\n")
    exc = error_of(path)
    assert exc.diagnostics[0].code == "R015"


# --------------------------------------------------------------------------- unreadable files


def test_missing_file(tmp_path):
    exc = error_of(tmp_path / "nope.csv")
    diag = exc.diagnostics[0]
    assert diag.code == "R011"
    assert diag.location == str(tmp_path / "nope.csv")
    assert "no such file" in diag.message and diag.help


def test_missing_file_raises_at_the_call(tmp_path):
    with pytest.raises(RecordError):
        read_records(tmp_path / "nope.jsonl")


def test_folder(tmp_path):
    exc = error_of(tmp_path)
    assert "folder" in exc.diagnostics[0].message


def test_unknown_extension(tmp_path):
    path = tmp_path / "records.xlsx"
    path.write_bytes(b"PK")
    exc = error_of(path)
    assert exc.diagnostics[0].code == "R010"
    assert ".csv" in exc.diagnostics[0].help


def test_unknown_format_name(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("id\n1\n")
    exc = error_of(path, fmt="xml")
    assert exc.diagnostics[0].code == "R010"


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json"])
def test_not_utf8_names_the_line(tmp_path, suffix):
    path = tmp_path / f"latin1{suffix}"
    if suffix == ".csv":
        text = "id,end_user\nS-1,Acme\nS-2,Universit\xe9 de Montr\xe9al\n"
    else:
        text = '{"id": "S-1"}\n{"id": "S-2", "end_user": "Universit\xe9"}\n'
    path.write_bytes(text.encode("latin-1"))
    exc = error_of(path)
    diag = exc.diagnostics[0]
    assert diag.code == "R012"
    assert "not UTF-8" in diag.message
    line = 3 if suffix == ".csv" else 2
    assert diag.location == f"{path}:{line}"
    assert "UTF-8" in diag.help


@pytest.mark.parametrize("content", ["", "\n\n", " , ,\n"])
def test_csv_without_header(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_text(content)
    exc = error_of(path)
    assert exc.diagnostics[0].code == "R013"
    assert "header" in exc.diagnostics[0].message


def test_csv_whose_first_line_is_data(tmp_path):
    path = tmp_path / "headless.csv"
    path.write_text("S-1,2024-01-10,CN,4800\nS-2,2024-01-11,HK,1600\n")
    exc = error_of(path)
    assert "names no record field" in exc.diagnostics[0].message
    assert exc.diagnostics[0].location == f"{path}:1"


def test_csv_duplicate_columns(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("id,TPP,tpp\n1,2,3\n")
    exc = error_of(path)
    assert "columns 2 and 3" in exc.diagnostics[0].message


def test_csv_header_only_has_no_records(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("id,destination\n")
    assert list(read_records(path)) == []


@pytest.mark.parametrize(
    "content, fragment",
    [
        ('[{"id": 1},', "not valid JSON"),
        ('{"id": 1}', "without a `records` array"),
        ("42", "holds a number"),
        ("[" * 100_000, "not valid JSON"),
    ],
)
def test_bad_json_files(tmp_path, content, fragment):
    path = tmp_path / "bad.json"
    path.write_text(content)
    exc = error_of(path)
    assert exc.diagnostics[0].code == "R014"
    assert fragment in exc.diagnostics[0].message


def test_json_syntax_error_is_located(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"id": 1},\n  {"id": 2,,}\n]\n')
    exc = error_of(path)
    assert exc.diagnostics[0].location == f"{path}:3:12"


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "raw, name",
    [
        ("Export Date", "export_date"),
        ("  TPP ", "tpp"),
        ("dieArea", "die_area"),
        ("End-User HQ", "end_user_hq"),
        ("endUserHQ", "end_user_hq"),
        ("\ufeffid", "id"),
        ("memory_bw_density", "memory_bw_density"),
        ("DRAM BW (GB/s)", "dram_bw_gb_s"),
    ],
)
def test_normalize_field_name(raw, name):
    assert normalize_field_name(raw) == name


# --------------------------------------------------------------------------- scale


@pytest.mark.slow
def test_memory_stays_flat_on_a_large_csv(tmp_path):
    path = tmp_path / "big.csv"
    rows = 200_000
    with open(path, "w", encoding="utf-8") as f:
        f.write("id,export_date,destination,end_user,chip,tpp,die_area,datacenter,quantity\n")
        row = "S-{0},2024-01-10,CN,Acme Cloud {0},NVIDIA H100 SXM,{0}.5,814,yes,8\n"
        f.writelines(row.format(i) for i in range(rows))
    tracemalloc.start()
    try:
        count = 0
        last = None
        for record in read_records(path):
            count += 1
            last = record
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows
    assert last.location == f"{path}:{rows + 1}"
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


# --------------------------------------------------------------------------- properties

_values = st.one_of(
    st.text(max_size=30),
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.lists(st.integers(), max_size=2),
)


@given(st.dictionaries(st.sampled_from(sorted(DEFAULT_FIELDS)), st.text(max_size=40)))
def test_convert_never_raises_on_text(data):
    out, problems = convert_record(data, DEFAULT_FIELDS)
    for p in problems:
        assert p.field in data and p.message and "\n" not in p.message
        assert p.field not in out
    assert set(out) | {p.field for p in problems} <= set(data)


@given(st.dictionaries(st.sampled_from(sorted(DEFAULT_FIELDS) + ["other"]), _values))
def test_convert_never_raises_on_any_value(data):
    out, problems = convert_record(data, DEFAULT_FIELDS)
    for name, value in out.items():
        spec = DEFAULT_FIELDS.get(name)
        if spec is None:
            assert value is data[name]
        elif spec.kind == "quantity":
            assert isinstance(value, Decimal) and value.is_finite() and value >= 0
        elif spec.kind == "integer":
            assert type(value) is int and value >= 0
        elif spec.kind == "bool":
            assert type(value) is bool
        elif spec.kind == "date":
            assert type(value) is dt.date
        else:
            assert isinstance(value, str)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".tsv", ".jsonl", ".json"]))
def test_reader_yields_records_or_raises_record_error(tmp_path, content, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(content)
    try:
        for record in read_records(path):
            assert isinstance(record, RawRecord)
            convert_record(record.data, DEFAULT_FIELDS)
    except RecordError as exc:
        assert exc.diagnostics


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.text(max_size=40).filter(lambda s: "\n" not in s and "\r" not in s),
            st.dictionaries(st.text(max_size=10), st.text(max_size=10)).map(json.dumps),
        ),
        max_size=10,
    )
)
def test_every_jsonl_line_is_one_record(tmp_path, lines):
    path = tmp_path / "lines.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = list(read_records(path))
    expected = [i for i, line in enumerate(lines, 1) if line.strip()]
    assert [r.location for r in records] == [f"{path}:{n}" for n in expected]
    assert [r.number for r in records] == list(range(1, len(expected) + 1))


def test_unclosed_quote_is_a_record_error(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('id,end_user\nS-1,"Acme\n' + "x" * 200_000 + "\nS-2,Other\n")
    first, second = read_records(path)
    assert first.location == f"{path}:2"
    assert "quote" in first.problem and "never closed" in first.problem
    assert (second.location, second.data, second.problem) == (f"{path}:4", {"id": "S-2", "end_user": "Other"}, None)


def test_binary_stream_not_utf8_names_the_line():
    exc = error_of(io.BytesIO(b'{"id": 1}\n\xff\n'))
    assert exc.diagnostics[0].location == "<stream>:2"
