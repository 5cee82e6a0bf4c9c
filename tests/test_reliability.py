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


# --------------------------------------------------------------------------- no number hangs a run


@pytest.mark.parametrize("field,value", [("tpp", "1E+999999999"), ("die_area", "1e-999999999"),
                                         ("tpp", "1e-31"), ("performance_density", "1e31")])
def test_huge_exponent_is_a_located_error(tmp_path, field, value):
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps({"id": "R1", "export_date": "2024-01-10", "destination": "CN",
                                "tpp": "4800", "die_area": "800", field: value}) + "\n"
                    + '{"id": "R2", "export_date": "2024-01-10", "destination": "CN", "tpp": '
                    + value.replace("E+", "e") + "}\n")
    decided, code, _ = eval_jsonl(str(path))
    assert [d["outcome"] for d in decided] == ["error", "error"]
    assert "out of range" in decided[0]["errors"][0] and field in decided[0]["errors"][0]
    assert code != 0
    assert [r["outcome"] for r in batch_rows(path)] == ["error", "error"]


def test_long_json_integer_is_no_internal_message(tmp_path):
    path = tmp_path / "n.jsonl"
    path.write_text('{"id": "R1", "quantity": ' + "9" * 5000 + ', "tpp": ' + "9" * 5000 + "}\n")
    decided, _, _ = eval_jsonl(str(path))
    errors = " ".join(decided[0]["errors"])
    assert "too large" in errors and "out of range" in errors
    assert "set_int_max_str_digits" not in errors


def test_api_decimal_out_of_range():
    from decimal import Decimal
    d = chiprules.load(EAR).evaluate({"tpp": Decimal("1e999999999"), "destination": "CN"}, as_of="2024-01-10")
    assert d.outcome == "error" and "out of range" in d.errors[0]


@pytest.mark.parametrize("command", ["check", "test"])
def test_huge_number_in_rules_is_a_diagnostic(tmp_path, command):
    (tmp_path / "fields.rules").write_text((ROOT / "tests/golden/diagnostics/fields.rules").read_text())
    (tmp_path / "a.rules").write_text(
        'ruleset t version 2024-01-01 effective 2024-01-01 source "test"\ninclude "fields.rules"\n'
        'classify 3A090.a cite "x"\n  when tpp >= 1e999999999 TPP\n')
    res = CliRunner().invoke(main, [command, str(tmp_path)])
    assert res.exit_code != 0 and not isinstance(res.exception, ArithmeticError)
    assert "E228" in res.output + res.stderr
    res = CliRunner().invoke(main, ["eval", str(tmp_path), str(ROOT / "examples/shipments.csv")])
    assert "E228" in res.stderr and "Traceback" not in res.output


# --------------------------------------------------------------------------- no silent defaults

A800_2022 = {"destination": "CN", "chip": "NVIDIA A800 SXM"}


def test_export_date_spelled_as_a_header_is_read_in_the_api():
    rules = chiprules.load(EAR)
    d = rules.evaluate({"Export Date": "2022-11-14", **A800_2022})
    assert d.record["export_date"].isoformat() == "2022-11-14"
    assert d.ruleset.version == "2022-10-07"


def test_misspelled_export_date_is_reported_once_and_decides_nothing():
    rules = chiprules.load(EAR)
    with pytest.warns(chiprules.UnknownFieldWarning, match="did you mean `export_date`") as caught:
        for _ in range(3):
            d = rules.evaluate({"exportdate": "2022-11-14", "notes": "kept", **A800_2022})
    assert len([w for w in caught if issubclass(w.category, chiprules.UnknownFieldWarning)]) == 1
    assert d.outcome == "indeterminate" and d.missing == ("export_date",)
    assert d.record["notes"] == "kept"


@pytest.mark.parametrize("engine", ["record", "batch"])
def test_misspelled_column_is_named_once_on_the_command_line(tmp_path, engine):
    path = tmp_path / "d.csv"
    path.write_text("id,exportdate,destination,chip,end_user,remarks\n"
                    + "".join(f"R{i},2022-11-14,CN,NVIDIA A800 SXM,Tianjin Example Trading,x\n" for i in range(3)))
    decided, _, err = eval_jsonl(str(path), "--engine", engine)
    assert err.count("did you mean `export_date`") == 1
    assert "remarks" not in err
    assert {d["outcome"] for d in decided} == {"indeterminate"}
    assert {tuple(d["missing"]) for d in decided} == {("export_date",)}
    decided, _, _ = eval_jsonl(str(path), "--engine", engine, "--as-of", "2022-11-14")
    assert {d["outcome"] for d in decided} == {"no_license_required"}


@pytest.mark.parametrize("name", ["!!!", "\u200b", "Co Ltd", "Co., Ltd."])
def test_party_with_nothing_to_screen_is_an_error_in_every_engine(tmp_path, name):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + row(1, f'"{name}"') + row(2, "Tianjin Example Trading"), encoding="utf-8")
    for rows in (batch_rows(path), eval_jsonl(str(path))[0]):
        assert [r["outcome"] for r in rows] == ["error", "license_required"]
        assert "no name to screen" in rows[0]["errors"][0]
    res = CliRunner().invoke(main, ["screen", str(EAR), name])
    assert res.exit_code != 0 and "no name to screen" in res.stderr


# --------------------------------------------------------------------------- escaping of every output

FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)"]


def formula_file(tmp_path):
    import csv as _csv
    path = tmp_path / "f.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = _csv.writer(f, lineterminator="\n")
        w.writerow(["id", "export_date", "destination", "chip", "end_user", "note"])
        for i, text in enumerate(FORMULAS):
            w.writerow([text if i % 2 == 0 else f"R{i}", "2024-01-10", "CN", "NVIDIA H100 SXM",
                        text, "-5"])
    return path


def assert_no_formula(text: str):
    import csv as _csv
    import io as _io
    rows = list(_csv.reader(_io.StringIO(text)))
    for cells in rows[1:]:
        for cell in cells:
            assert not cell or cell[0] not in "=+-@\t\r" or cell == "-5", cell
    return rows


@pytest.mark.parametrize("engine", ["record", "batch"])
@pytest.mark.parametrize("explain", [[], ["--explain"]])
def test_csv_output_runs_no_formula(tmp_path, engine, explain):
    path = formula_file(tmp_path)
    res = CliRunner().invoke(main, ["eval", str(EAR), str(path), "--format", "csv", "--engine", engine, *explain])
    rows = assert_no_formula(res.stdout)
    assert len(rows) == 1 + len(FORMULAS)
    assert rows[1][rows[0].index("id")] == "'" + FORMULAS[0]
    out = tmp_path / f"out-{engine}.csv"
    CliRunner().invoke(main, ["eval", str(EAR), str(path), "-o", str(out), "--engine", engine, *explain])
    rows = assert_no_formula(out.read_text(encoding="utf-8"))
    header = rows[0]
    assert [r[header.index("end_user")] for r in rows[1:]] == ["'" + f for f in FORMULAS]
    assert {r[header.index("note")] for r in rows[1:]} == {"-5"}  # a number is no formula


def test_terminal_output_escapes_control_characters(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"id": "A\x1b[2J\x1b]0;pwned\x07", "export_date": "2024-01-10",
                                "destination": "CN", "end_user": "Tianjin Example Trading",
                                "chip": "NVIDIA H100 SXM\n2024-01-10 FORGED license_required"}) + "\n")
    for engine in ("record", "batch"):
        res = CliRunner().invoke(main, ["eval", str(EAR), str(path), "--explain", "--engine", engine])
        assert "\x1b" not in res.stdout and "\x07" not in res.stdout
        assert "\\x1b[2J" in res.stdout
        assert not any(line.startswith("2024-01-10 FORGED") for line in res.stdout.splitlines())
        assert "NVIDIA H100 SXM\\n2024-01-10 FORGED" in res.stdout


@pytest.mark.parametrize("cell,safe", [("=1+1", "'=1+1"), ("+A1", "'+A1"), ("-A1", "'-A1"), ("@x", "'@x"),
                                       ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("-5", "-5"), ("+1.5e3", "+1.5e3"),
                                       ("a=b", "a=b"), ("", ""), (None, None), (3, 3)])
def test_formula_safe(cell, safe):
    from chiprules.core.escape import formula_safe
    assert formula_safe(cell) == safe


def test_printable_escapes_controls_only():
    from chiprules.core.escape import printable
    assert printable("Ünïcödé 华为 ok") == "Ünïcödé 华为 ok"
    assert printable("a\x1b[2Jb\u202ec\nd") == "a\\x1b[2Jb\\u202ec\\nd"
    assert printable("a\nb", keep_newlines=True) == "a\nb"


# --------------------------------------------------------------------------- the hash names every input


def rules_copy(tmp_path):
    import shutil
    root = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", root)
    return root


def test_hash_changes_with_the_catalog_and_the_lists(tmp_path):
    root = rules_copy(tmp_path)
    record = {"chip": "NVIDIA A800 SXM", "destination": "CN", "end_user": "Tianjin Example Trading"}
    before = chiprules.load(root / "ear").evaluate(record, as_of="2022-11-14")
    chips = root / "chips.csv"
    chips.write_text(chips.read_text(encoding="utf-8").replace(
        "A800 SXM4; A800-SXM4-80GB; A800 80GB SXM,2022,yes,1248,624,312,19.5,19.5,826,400",
        "A800 SXM4; A800-SXM4-80GB; A800 80GB SXM,2022,yes,1248,624,312,19.5,19.5,826,600"), encoding="utf-8")
    after = chiprules.load(root / "ear").evaluate(record, as_of="2022-11-14")
    assert before.outcome != after.outcome  # the interconnect figure decides 2022's rule
    assert before.ruleset.content_hash != after.ruleset.content_hash
    lists = sorted((root / "lists").glob("*.csv"))
    if lists:
        lists[0].write_text(lists[0].read_text(encoding="utf-8") + "\n", encoding="utf-8")
        again = chiprules.load(root / "ear").evaluate(record, as_of="2022-11-14")
        assert again.ruleset.content_hash != after.ruleset.content_hash


# --------------------------------------------------------------------------- every path confined


@pytest.mark.parametrize("name", ["../../../../etc/passwd", "../outside.csv", "/etc/passwd"])
def test_catalog_path_is_confined_to_the_rules_root(tmp_path, name):
    root = rules_copy(tmp_path)
    (tmp_path / "outside.csv").write_text("secret first line\n")
    (root / "chiprules.toml").write_text(f'catalog = "{name}"\n')
    with pytest.raises(chiprules.RulesError) as caught:
        chiprules.load(root / "ear")
    assert caught.value.diagnostics[0].code == "E209"
    res = CliRunner().invoke(main, ["eval", str(root / "ear"), str(ROOT / "examples/shipments.csv")])
    assert res.exit_code != 0 and "outside the rules root" in res.stderr
    assert "secret" not in res.output + res.stderr and "root:" not in res.output + res.stderr


# --------------------------------------------------------------------------- the columns say what happened


def test_csv_rules_fired_names_only_rules_that_fired():
    import csv as _csv
    import io as _io
    shipments = ROOT / "examples/shipments.csv"
    res = CliRunner().invoke(main, ["eval", str(EAR), str(shipments), "--format", "csv"])
    rows = list(_csv.DictReader(_io.StringIO(res.stdout)))
    batch = batch_rows(shipments)
    assert [r["rules_fired"] for r in rows] == [";".join(b["rules_fired"] or []) for b in batch]
    by_id = {r["id"]: r for r in rows}
    assert by_id["S-0003"]["outcome"] == "no_license_required" and by_id["S-0003"]["rules_fired"] == ""
    for r in rows:
        fired = r["rules_fired"].split(";") if r["rules_fired"] else []
        assert len(fired) == len(set(fired))
        if r["outcome"] != "license_required":
            assert "entity_list" not in fired


# --------------------------------------------------------------------------- screening


@pytest.mark.parametrize("name", [
    "Huawei Technologies Co., Ltd., Bantian, Longgang District, Shenzhen 518129",
    "Huawei Technologies Co., Ltd.; Bantian, Longgang District, Shenzhen",
])
def test_listed_name_with_an_address_appended_matches(name):
    rules = chiprules.load(EAR)
    (m,) = rules.screen(name, "2024-01-10")
    assert m.status == "match" and m.entry.startswith("Huawei Technologies")
    d = rules.evaluate({"chip": "NVIDIA H100 SXM", "destination": "CN", "end_user": name}, as_of="2024-01-10")
    assert "entity_list" in d.rules_fired


def test_an_address_alone_does_not_make_a_match():
    rules = chiprules.load(EAR)
    (m,) = rules.screen("Tianjin Example Trading Co., Ltd., Bantian, Longgang District, Shenzhen", "2024-01-10")
    assert m.status == "none"


# --------------------------------------------------------------------------- streams stay streams


def test_json_array_is_streamed_one_record_at_a_time():
    read = []

    class Lines:
        def __init__(self, n):
            self.lines = ["[\n"] + [json.dumps({"id": f"R{i}", "tpp": "4800"}) + ",\n" for i in range(n - 1)]
            self.lines += [json.dumps({"id": f"R{n - 1}"}) + "\n", "]\n"]

        def __iter__(self):
            for line in self.lines:
                read.append(line)
                yield line

    source = Lines(200_000)
    records = read_records(source, "json")
    first = next(records)
    assert first.data["id"] == "R0" and len(read) < 20_000
    rest = list(records)
    assert len(rest) == 199_999 and rest[-1].data == {"id": "R199999"}


@pytest.mark.parametrize("content,where", [('[\n  {"id": 1},\n  {"id": 2,,}\n]\n', ":3:12"),
                                            ('[{"id": 1}\n {"id": 2}]', ":2:2"),
                                            ('[{"id": 1},', "never closed")])
def test_json_array_errors_are_located_after_the_good_records(tmp_path, content, where):
    path = tmp_path / "bad.json"
    path.write_text(content)
    got = []
    with pytest.raises(chiprules.RecordError) as caught:
        for rec in read_records(path):
            got.append(rec)
    assert [r.data for r in got] == [{"id": 1}]
    diag = caught.value.diagnostics[0]
    assert diag.code == "R014" and where in diag.location + diag.message


def test_readme_possible_match_line_says_what_the_code_gives():
    import re
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    comment = re.search(r"^m\.field, m\.entry, m\.score.*# '([a-z_]+)', '([^']+)', ([0-9.]+)", readme, re.M)
    d = chiprules.load(EAR).evaluate({"chip": "NVIDIA A10", "destination": "CN",
                                      "end_user": "Huawai Technologies Co Ltd"}, as_of="2026-07-20")
    m = d.possible_matches[0]
    assert (m.field, m.entry, m.score) == (comment[1], comment[2], float(comment[3]))


# --------------------------------------------------------------------------- exit statuses and usage


def invoke(*args: str):
    res = CliRunner().invoke(main, list(args))
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output + res.stderr
    return res


def test_exit_statuses_tell_the_causes_apart(tmp_path):
    clean = tmp_path / "ok.csv"
    clean.write_text(HEADER + row(1, "Tianjin Example Trading") + row(2, "Tianjin Example Trading"))
    shipments = str(clean)
    bad_rules = str(ROOT / "tests/golden/diagnostics/E228_number_range.rules")
    malformed = tmp_path / "m.csv"
    malformed.write_text(HEADER + row(1, '"Foo') + row(2))
    assert invoke("eval", str(EAR), shipments).exit_code == 0
    assert invoke("eval", str(EAR), str(malformed)).exit_code == 2
    assert invoke("eval", str(EAR), shipments, "--fail-on", "license_required").exit_code == 3
    assert invoke("eval", str(EAR), str(tmp_path / "none.csv")).exit_code == 4
    assert invoke("eval", bad_rules, shipments).exit_code == 5
    assert invoke("eval", str(EAR), shipments, "--as-of", "2024-13-01").exit_code == 64
    assert invoke("eval", str(EAR), shipments, "--no-such-option").exit_code == 64
    assert invoke("check", bad_rules).exit_code == 1
    assert invoke("--help").exit_code == 0 and "64" in invoke("--help").output


def test_plot_to_a_missing_folder_is_a_clean_error(tmp_path):
    res = invoke("plot", str(EAR), "-o", str(tmp_path / "no" / "such" / "x.png"))
    assert res.exit_code == 4 and "cannot write" in res.stderr


@pytest.mark.parametrize("command", ["test", "fmt", "check"])
def test_commands_on_an_empty_folder_say_so(tmp_path, command):
    res = invoke(command, str(tmp_path))
    assert res.exit_code == 1 and "no .rules files" in res.stderr


def test_stdin_is_named_in_help():
    assert "`-`" in invoke("eval", "--help").output
    assert "`-`" in invoke("diff", "--help").output
    assert "`-`" in invoke("screen", "--help").output


# --------------------------------------------------------------------------- the Python API


def test_evaluate_many_gives_a_row_for_anything():
    items = [None, {"chip": "NVIDIA H100 SXM", "destination": "CN"}, 5, "text"]
    got = list(chiprules.load(EAR).evaluate_many(items, as_of="2024-01-10"))
    assert [d.outcome for d in got] == ["error", "license_required", "error", "error"]
    assert "not a mapping" in got[0].errors[0]


def test_as_of_takes_a_datetime():
    import datetime as dt
    rules = chiprules.load(EAR)
    rec = {"chip": "NVIDIA H100 SXM", "destination": "CN"}
    on = rules.evaluate(rec, as_of=dt.datetime(2024, 1, 10, 15, 30))
    assert on.ruleset.version == rules.evaluate(rec, as_of="2024-01-10").ruleset.version
    assert list(rules.evaluate_many([rec], as_of=dt.datetime(2024, 1, 10)))[0].outcome == on.outcome


def test_unknown_timeline_is_refused_everywhere():
    rules = chiprules.load(EAR)
    with pytest.raises(chiprules.ChiprulesError, match="unknown timeline"):
        rules.evaluate({"destination": "CN"}, as_of="2024-01-10", timeline="nope")
    with pytest.raises(chiprules.ChiprulesError, match="unknown timeline"):
        list(rules.evaluate_many([{}], timeline="nope"))
    with pytest.raises(chiprules.ChiprulesError, match="unknown timeline"):
        rules.decide_table(str(ROOT / "examples/shipments.csv"), timeline="nope")
    with pytest.raises(chiprules.ChiprulesError, match="unknown timeline"):
        rules.screen("Sugon", "2024-01-10", timeline="nope")


def test_explain_headline_names_the_rule_that_gives_the_review():
    rules = chiprules.load(EAR)
    for d in rules.evaluate_many(read_records(ROOT / "examples/shipments.csv")):
        if d.review_policy:
            head = d.explain().splitlines()[0]
            giving = [r.rule for r in d.reasons if r.kind == "require" and r.detail == f"review {d.review_policy}"]
            assert giving and all(f"`{rule}`" in head for rule in giving), head


def test_a_huge_rules_file_is_refused_quickly(tmp_path):
    import time
    path = tmp_path / "big.rules"
    line = "group G = {CN, HK, MO}  # filler\n"
    path.write_text(line * (2 * 1024 * 1024 // len(line)))
    start = time.monotonic()
    res = invoke("check", str(path))
    assert res.exit_code == 1 and "E002" in res.stderr
    assert time.monotonic() - start < 10


def test_unclosed_quote_before_a_quoted_cell_costs_one_record(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(HEADER + row(1, '"Foo') + row(2, '"Bar, Inc."') + row(3, '"Multi\nline"') + row(4))
    records = list(read_records(path))
    assert [r.problem is not None for r in records] == [True, False, False, False]
    assert [r.data.get("end_user") for r in records[1:]] == ["Bar, Inc.", "Multi\nline", "Bar"]
