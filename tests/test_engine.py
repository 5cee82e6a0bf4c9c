"""Decisions on the real rules: exact thresholds, unknowns, the API and the CLI."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

import chiprules
from chiprules.cli import main

from .conftest import ROOT

RULES = chiprules.load(ROOT / "rules" / "ear")
ON = "2024-01-10"
DC_CN = {"datacenter": True, "destination": "CN", "end_user": "Example Cloud Ltd.", "end_user_hq": "CN"}


def decide(**fields):
    return RULES.evaluate(fields, as_of=fields.pop("as_of", ON))


@pytest.mark.parametrize("tpp, pd, dc, expected", [
    ("4800", "1", True, ["3A090.a"]),            # B1
    ("4799.99", "5.92", True, ["3A090.a"]),      # B2
    ("4799.99", "5.91", True, ["3A090.b"]),      # B3
    ("2400", "1.6", True, ["3A090.b"]),          # B4
    ("2399.99", "3.2", True, ["3A090.b"]),       # B5
    ("2399.99", "3.19", True, []),               # B6
    ("1600", "5.92", True, ["3A090.a"]),         # B7
    ("1599.99", "10", True, []),                 # B8
    ("5000", "2", False, ["3A090.a"]),           # B9
    ("4000", "8", False, []),                    # B10: Note 2
])
def test_boundary_cases_of_section_6_2(tpp, pd, dc, expected):
    d = decide(tpp=Decimal(tpp), performance_density=Decimal(pd), datacenter=dc, destination="DE",
               end_user="Contoso Research", end_user_hq="DE")
    assert list(d.classification) == expected


def test_density_from_die_area_is_exact_at_the_threshold():
    # 1605.2672 / 271.16 is exactly 5.92, but in binary floating point the
    # quotient comes out below 5.92: a float engine would call this 3A090.b.
    assert 1605.2672 / 271.16 < 5.92
    d = decide(tpp=1605.2672, die_area=271.16, **DC_CN)
    assert d.classification == ("3A090.a",)
    d = decide(tpp="1605.2671", die_area="271.16", **DC_CN)
    assert d.classification == ("3A090.b",)  # a hair below 5.92: 3A090.b.2


def test_strings_and_floats_are_read_as_written():
    for tpp in ("4800", 4800, 4800.0, "4,800"):
        assert decide(tpp=tpp, die_area="1000", **DC_CN).classification == ("3A090.a",)


def test_missing_die_area_that_cannot_matter_still_decides():
    # no density can reach 3A090 below TPP 1600
    d = decide(tpp=1544, **DC_CN)
    assert d.outcome == "no_license_required" and d.missing == ()


def test_missing_die_area_that_matters_is_indeterminate():
    d = decide(tpp=4400, **DC_CN)
    assert d.outcome == "indeterminate"
    assert "die_area" in d.missing


def test_h100_to_china_from_the_catalog():
    d = decide(chip="NVIDIA H100 SXM", **DC_CN)
    assert d.outcome == "license_required"
    assert d.classification == ("3A090.a",)
    assert d.review_policy == "presumption_of_denial"
    rules = {r.rule for r in d.reasons}
    assert {"3A090.a", "regional_stability", "headquartered"} <= rules


def test_given_fields_win_over_the_catalog():
    d = decide(chip="NVIDIA H100 SXM", tpp=100, **DC_CN)
    assert d.classification == () and d.record["tpp"] == Decimal(100)


def test_unknown_chip_warns_with_a_suggestion():
    d = decide(chip="NVIDA H100 SXM", tpp=15832, die_area=814, **DC_CN)
    assert any("did you mean" in w for w in d.warnings)


def test_hong_kong_is_treated_as_china():
    d = decide(chip="NVIDIA H100 SXM", datacenter=True, destination="HK", end_user="X Ltd.", end_user_hq="HK")
    assert d.outcome == "license_required" and d.review_policy == "presumption_of_denial"


def test_entity_list_party_needs_a_licence_even_for_an_uncontrolled_chip():
    d = decide(tpp=100, die_area=100, datacenter=False, destination="CN",
               end_user="Huawei Technologies Co., Ltd.", end_user_hq="CN")
    assert d.outcome == "license_required" and d.classification == ()
    reason = next(r for r in d.reasons if r.rule == "entity_list")
    assert "Huawei" in " ".join(reason.conditions)


def test_malformed_record_is_one_error_row():
    d = decide(tpp="abc", destination="CN")
    assert d.outcome == "error" and "`tpp`" in d.errors[0]


def test_date_before_first_version_is_an_error():
    d = RULES.evaluate({"tpp": 5000, "destination": "CN"}, as_of="2001-01-01")
    assert d.outcome == "error" and "before the first version" in d.errors[0]


def test_decision_names_its_ruleset():
    d = decide(chip="NVIDIA H100 SXM", **DC_CN)
    assert d.ruleset.version and len(d.ruleset.content_hash) == 16 and d.ruleset.timeline == "enforced"


def test_evaluate_many_streams_one_decision_per_record():
    records = iter([{"tpp": 1}, {"tpp": "x"}, {"tpp": 5000, "datacenter": True, "destination": "DE",
                                              "end_user": "A", "end_user_hq": "DE"}])
    out = list(RULES.evaluate_many(records, as_of=ON))
    assert [d.id for d in out] == ["1", "2", "3"] and out[1].outcome == "error"


def test_cli_eval_jsonl_and_exit_codes(tmp_path):
    src = tmp_path / "r.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "chip": "NVIDIA H100 SXM", "destination": "CN", "datacenter": True, "end_user": "X",
         "end_user_hq": "CN", "export_date": "2024-01-10"},
        {"id": "b", "tpp": "abc", "export_date": "2024-01-10"},
    ]) + "\n")
    res = CliRunner().invoke(main, ["eval", str(ROOT / "rules" / "ear"), str(src), "--format", "jsonl"])
    assert res.exit_code == 2
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["outcome"] for r in rows] == ["license_required", "error"]
    assert set(rows[0]) >= {"id", "outcome", "classification", "review_policy", "license_exceptions",
                            "reasons", "missing", "ruleset"}
    res = CliRunner().invoke(main, ["eval", str(ROOT / "rules" / "ear"), str(src), "--format", "jsonl",
                                    "--fail-on", "license_required"])
    assert res.exit_code == 3


def test_cli_eval_bad_rules_is_clean(tmp_path):
    bad = tmp_path / "bad.rules"
    bad.write_text("ruleset x effective 2024-01-01\nclassify 3A090.a cite \"c\" when tpp_score >= 1\n")
    recs = tmp_path / "r.csv"
    recs.write_text("id,tpp\n1,5\n")
    res = CliRunner().invoke(main, ["eval", str(bad), str(recs)])
    assert res.exit_code == 5 and "E203" in res.output and "Traceback" not in res.output
