"""Party lists in the rules: screening scores, three-valued list tests, explanations.

The screener itself (normalisation, scores, the variant and innocent tables) is
tested in test_screening.py; here it is wired into rules and decisions.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chiprules
from chiprules.cli import main
from chiprules.eval.reference import decide
from chiprules.model.classes import VariableTable
from chiprules.report.diff_render import render

from .conftest import GOLDEN, ROOT

WATCH = """
ruleset watch_demo
  version 2025-01-01
  effective 2025-01-01
  source "test"

field destination: country
field end_user: party
field consignee: party default end_user
field end_user_parent: party
field end_user_hq: country
field tpp: number TPP

list watch "Watch list"
  cite "test list"
  {scores}
  entry "Huawei Technologies Co., Ltd."
    aka "Huawei"
    country CN
    review presumption_of_denial
    cite "84 FR 22963"
    added 2019-05-16
  entry "Zeta Compute Laboratories"
    country RU
    review policy_of_denial
    cite "99 FR 1"
    added 2025-03-01
  entry "Example Semiconductor Co., Ltd."
    country CN
    review case_by_case
    cite "99 FR 2"
    added 2020-01-01

classify 3A090.a
  cite "test"
  when tpp >= 4800

require license regional "big chips to China"
  cite "test"
  for 3A090
  when destination == CN
  review presumption_of_denial

require license watch "Listed parties"
  cite "15 CFR 744.11"
  when end_user in watch or consignee in watch
  review listed
"""


def _rules(tmp_path, scores="match >= 90\n  possible >= 75"):
    (tmp_path / "chiprules.toml").write_text("")
    path = tmp_path / "watch.rules"
    path.write_text(WATCH.replace("{scores}", scores))
    return chiprules.load(path)


def _eval(rules, **record):
    record.setdefault("export_date", "2025-06-01")
    return rules.evaluate(record)


# ---- scores in the language -------------------------------------------------------------


def test_scores_reach_the_model(tmp_path):
    rules = _rules(tmp_path, "match >= 92.5\n  possible >= 80")
    lst = rules.latest.lists["watch"]
    assert (lst.match_score, lst.possible_score) == (92.5, 80.0)


def test_default_scores_are_90_and_75(tmp_path):
    lst = _rules(tmp_path, "").latest.lists["watch"]
    assert (lst.match_score, lst.possible_score) == (90.0, 75.0)


def test_a_match_score_below_the_default_possible_closes_the_band(tmp_path):
    lst = _rules(tmp_path, "match >= 70").latest.lists["watch"]
    assert (lst.match_score, lst.possible_score) == (70.0, 70.0)


# ---- the three answers --------------------------------------------------------------------


def test_exact_match_applies_the_entry_policy(tmp_path):
    d = _eval(_rules(tmp_path), tpp=100, destination="DE", end_user="Example Semiconductor Co Ltd")
    assert (d.outcome, d.review_policy) == ("license_required", "case_by_case")
    req = next(r for r in d.reasons if r.rule == "watch" and r.kind == "require")
    m = req.matches[0]
    assert (m.status, m.entry, m.score, m.cite, m.added) == (
        "match", "Example Semiconductor Co., Ltd.", 95.0, "99 FR 2", dt.date(2020, 1, 1))


def test_alias_match_names_the_alias(tmp_path):
    d = _eval(_rules(tmp_path), tpp=100, destination="CN", end_user="HUAWEI")
    assert d.outcome == "license_required"
    m = next(r for r in d.reasons if r.kind == "require").matches[0]
    assert (m.form, m.form_kind, m.score) == ("Huawei", "alias", 100.0)
    assert "by alias `Huawei`, score 100" in d.explain()


def test_possible_match_makes_the_record_indeterminate_with_the_candidate(tmp_path):
    d = _eval(_rules(tmp_path), tpp=100, destination="CN", end_user="Huawai Technologies Co Ltd",
              consignee="Acme Freight Ltd.")
    assert d.outcome == "indeterminate"
    assert d.missing == ()
    (m,) = d.possible_matches
    assert (m.field, m.status, m.entry) == ("end_user", "possible", "Huawei Technologies Co., Ltd.")
    assert 75 <= m.score < 90
    assert m.why and "Huawei Technologies" in m.why
    assert "if the match is real: licence required (presumption of denial); if not: no licence required" \
        in d.explain()


def test_possible_match_that_cannot_change_the_outcome_is_decided(tmp_path):
    # a big chip to China needs a licence with a presumption of denial either way
    d = _eval(_rules(tmp_path), tpp=5000, destination="CN", end_user="Huawai Technologies Co Ltd")
    assert (d.outcome, d.review_policy) == ("license_required", "presumption_of_denial")
    assert d.possible_matches == ()
    assert any(r.kind == "possible-match" for r in d.reasons)


def test_possible_stricter_entry_leaves_the_policy_open(tmp_path):
    # the end user matches a case-by-case entry; the consignee possibly matches a
    # policy-of-denial one: the outcome is settled, the policy is not
    d = _eval(_rules(tmp_path), tpp=100, destination="RU", end_user="Example Semiconductor Co., Ltd.",
              consignee="Zeta Compute Trading")
    assert d.outcome == "license_required"
    assert d.review_policy == "policy_of_denial"  # the strictest of the two cases
    assert any("whether `consignee` is really on `watch`" in w for w in d.warnings)


def test_no_match_is_reported_as_no_listed_party_found_never_as_clearance(tmp_path):
    d = _eval(_rules(tmp_path), tpp=100, destination="CN", end_user="Hua Wei Noodle House")
    assert d.outcome == "no_license_required"
    text = d.explain()
    assert "no listed party found for end_user and consignee `Hua Wei Noodle House` on watch" in text
    assert "clear" not in text.lower()
    note = next(r for r in d.reasons if r.kind == "screened")
    assert {m.status for m in note.matches} == {"none"}


def test_not_in_a_list_is_unknown_for_a_possible_match(tmp_path):
    rules = _rules(tmp_path)
    model = rules.latest
    from chiprules import model as M
    from chiprules.eval.reference import Env, evaluate
    from chiprules.eval.screens import Screens

    env = Env(model, {"end_user": "Huawai Technologies Co Ltd", "destination": "CN"},
              dt.date(2025, 6, 1), Screens(model))
    assert evaluate(M.InList("end_user", "watch", False, "end_user in watch"), env) is None
    assert evaluate(M.InList("end_user", "watch", True, "end_user not in watch"), env) is None
    env = Env(model, {"end_user": "Hua Wei Noodle House"}, dt.date(2025, 6, 1), Screens(model))
    assert evaluate(M.InList("end_user", "watch", True, "end_user not in watch"), env) is True


def test_entries_apply_only_from_their_added_date(tmp_path):
    rules = _rules(tmp_path)
    before = _eval(rules, tpp=100, destination="RU", end_user="Zeta Compute Laboratories",
                   export_date="2025-02-28")
    after = _eval(rules, tpp=100, destination="RU", end_user="Zeta Compute Laboratories",
                  export_date="2025-03-01")
    assert before.outcome == "no_license_required"
    assert (after.outcome, after.review_policy) == ("license_required", "policy_of_denial")


def test_the_destination_is_evidence_for_the_name(tmp_path):
    # without a country "Huawei Tech Co." scores 95; listed in CN: +3, elsewhere: -5
    rules = _rules(tmp_path, "match >= 93\n  possible >= 75")
    scores = {}
    for dest in ("CN", "DE", None):
        record = {"tpp": 100, "end_user": "Huawei Tech Co.", "consignee": "Acme Freight Ltd."}
        if dest:
            record["destination"] = dest
        d = _eval(rules, **record)
        m = ([m for r in d.reasons for m in r.matches] + list(d.possible_matches))[0]
        scores[dest] = (d.outcome, m.score)
    assert scores == {"CN": ("license_required", 98.0), "DE": ("indeterminate", 90.0),
                      None: ("license_required", 95.0)}


def test_an_address_sharing_a_listed_place_adds_to_the_score(ear):
    base = {"chip": "NVIDIA A10", "destination": "CN", "end_user": "Huawai Technologies Co Ltd",
            "consignee": "Acme Freight Ltd.", "export_date": "2026-07-20"}
    plain = ear.evaluate(base).possible_matches[0]
    near = ear.evaluate(dict(base, end_user_address="Bantian, Longgang District, Shenzhen")).possible_matches[0]
    far = ear.evaluate(dict(base, end_user_address="1 Main Street, Berlin")).possible_matches[0]
    assert near.score == plain.score + 2
    assert "address agrees (Bantian, Longgang, Shenzhen)" in near.why
    assert far.score == plain.score and "address" not in far.why


def test_higher_scores_turn_matches_into_possible_ones(tmp_path):
    loose = _eval(_rules(tmp_path), tpp=100, destination="CN", end_user="Huawei Tech Co.")
    strict = _eval(_rules(tmp_path, "match >= 99\n  possible >= 75"), tpp=100, destination="CN",
                   end_user="Huawei Tech Co.")
    assert loose.outcome == "license_required"
    assert strict.outcome == "indeterminate"


def test_no_possible_band_when_possible_equals_match(tmp_path):
    d = _eval(_rules(tmp_path, "match >= 90\n  possible >= 90"), tpp=100, destination="CN",
              end_user="Huawai Technologies Co Ltd")
    assert d.outcome == "no_license_required"


def test_json_output_carries_the_possible_matches(tmp_path):
    rules = _rules(tmp_path)
    d = _eval(rules, tpp=100, destination="CN", end_user="Huawai Technologies Co Ltd",
              consignee="Acme Freight Ltd.")
    obj = json.loads(json.dumps(d.to_json(), default=str))
    (m,) = obj["possible_matches"]
    assert set(m) >= {"field", "name", "list", "status", "entry", "form", "form_kind", "score", "why",
                      "cite", "added", "review_policy"}
    assert m["added"] == "2019-05-16" and m["cite"] == "84 FR 22963"
    assert obj["reasons"][0]["kind"] == "possible-match"


# ---- explanations (golden) ----------------------------------------------------------------


def test_explanations_golden(tmp_path, golden):
    rules = _rules(tmp_path)
    cases = [
        dict(id="match", tpp=100, destination="CN", end_user="Huawei Tech Co."),
        dict(id="possible", tpp=100, destination="CN", end_user="Huawai Technologies Co Ltd",
             consignee="Acme Freight Ltd."),
        dict(id="none", tpp=100, destination="CN", end_user="Hua Wei Noodle House"),
        dict(id="not-yet-listed", tpp=100, destination="RU", end_user="Zeta Compute Laboratories",
             export_date="2025-02-28"),
        dict(id="decided-anyway", tpp=5000, destination="CN", end_user="Huawai Technologies Co Ltd"),
    ]
    text = "\n\n".join(_eval(rules, **c).explain() for c in cases)
    golden(GOLDEN / "eval" / "screening.explain.txt", text.replace(str(tmp_path), "<tmp>") + "\n")


# ---- the compiled path agrees with the interpreter -------------------------------------------

NAMES = [
    "Huawei Technologies Co., Ltd.", "Huawei Tech Co.", "Huawai Technologies Co Ltd", "HUAWEI",
    "华为技术有限公司", "Hua Wei Noodle House", "SMIC", "SMIC Beijing", "Moore Threads Fashion",
    "Inspur Electronic Information Industry Co., Ltd.", "Inspur Group", "Example Cloud Co.",
    "Sophgo Technologies Pte Ltd", "Sugon Information Industry", "Pacific Electronics Ltd.",
]


@pytest.fixture(scope="module")
def ear():
    return chiprules.load(ROOT / "rules" / "ear")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(end_user=st.sampled_from(NAMES), consignee=st.one_of(st.none(), st.sampled_from(NAMES)),
       parent=st.one_of(st.none(), st.sampled_from(NAMES)),
       destination=st.sampled_from(["CN", "SG", "DE", "RU", "AE"]),
       chip=st.sampled_from(["NVIDIA A10", "NVIDIA H100 SXM", "NVIDIA H20", "NVIDIA B200"]),
       day=st.sampled_from(["2023-08-21", "2025-06-01", "2026-07-20", "2026-11-10"]))
def test_compiled_and_interpreted_decisions_agree_on_screened_names(
        ear, end_user, consignee, parent, destination, chip, day):
    record = {"end_user": end_user, "destination": destination, "chip": chip, "export_date": day,
              "end_user_hq": destination}
    if consignee:
        record["consignee"] = consignee
    if parent:
        record["end_user_parent"] = parent
    d = ear.evaluate(record)
    # re-decide with the reference interpreter alone, on the record as the engine typed it
    on = dt.date.fromisoformat(day)
    version = ear.compiled(ear.in_force(on, "enforced"), "enforced")
    outcome = decide(version.model, d.record, on, version.screens, VariableTable.build(version.model))
    expected = outcome.verdict.outcome if outcome.verdict else "indeterminate"
    assert d.outcome == expected
    if outcome.verdict is not None:
        assert d.review_policy == outcome.verdict.review_policy
    else:
        assert {m.field for m in d.possible_matches} | set(d.missing) \
            == {f for f, _ in outcome.possible} | set(outcome.missing)


def test_the_bundled_shipments_flag_a_possible_match(tmp_path):
    res = CliRunner().invoke(main, ["eval", "rules/ear", "examples/shipments.csv", "--format", "jsonl"])
    rows = [json.loads(line) for line in res.output.splitlines() if line.startswith("{")]
    flagged = {r["id"]: r for r in rows if r["possible_matches"]}
    assert "S-0010" in flagged
    assert flagged["S-0010"]["outcome"] == "indeterminate"
    assert {m["entry"] for m in flagged["S-0010"]["possible_matches"]} == {"Inspur Group Co., Ltd."}


# ---- the diff ----------------------------------------------------------------------------------


def test_diff_reports_score_changes_with_a_caveat(tmp_path):
    (tmp_path / "chiprules.toml").write_text("")
    a = tmp_path / "a.rules"
    b = tmp_path / "b.rules"
    a.write_text(WATCH.replace("{scores}", "match >= 90"))
    b.write_text(WATCH.replace("{scores}", "match >= 95\n  possible >= 80")
                 .replace("version 2025-01-01", "version 2025-02-01")
                 .replace("effective 2025-01-01", "effective 2025-02-01")
                 .replace('aka "Huawei"', 'aka "Huawei", "HW"'))
    report = chiprules.diff(chiprules.load(a), chiprules.load(b))
    (change,) = [c for c in report.changes if c.subject == "watch"]
    assert change.details == (
        "entry changed: Huawei Technologies Co., Ltd. (aliases Huawei -> Huawei, HW)",
        "match score 90 -> 95: names scoring from 90 to 95 screen differently",
        "possible score 75 -> 80: names scoring from 75 to 80 screen differently",
    )
    assert report.caveats and "watch" in report.caveats[0]
    assert "Caveat: the screening scores of list `watch` changed" in render(report)


# ---- chiprules screen --------------------------------------------------------------------------


def test_screen_command_golden(golden):
    res = CliRunner().invoke(main, ["screen", "rules/ear", "Huawai Technologies Co Ltd", "SMIC",
                                    "Hua Wei Noodle House", "华为技术有限公司", "Contoso Research",
                                    "--as-of", "2026-07-20", "--country", "CN"])
    assert res.exit_code == 0, res.output
    golden(GOLDEN / "eval" / "screen.txt", res.output)


def test_screen_command_jsonl_and_fail_on(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("Sugon\n\nHuawai Technologies Co Ltd\n", encoding="utf-8")
    args = ["screen", "rules/ear", "--file", str(names), "--as-of", "2026-07-20", "--format", "jsonl"]
    res = CliRunner().invoke(main, args)
    rows = [json.loads(line) for line in res.output.splitlines() if line.startswith("{")]
    assert [(r["name"], r["status"]) for r in rows] == [
        ("Sugon", "match"), ("Huawai Technologies Co Ltd", "possible")]
    assert rows[0]["explanation"].startswith("`Sugon` matches `Sugon` on entity_list by its name, score 100")
    assert CliRunner().invoke(main, args + ["--fail-on", "match"]).exit_code == 3
    assert CliRunner().invoke(main, ["screen", "rules/ear", "Huawai Technologies Co Ltd", "--as-of",
                                     "2026-07-20", "--fail-on", "match"]).exit_code == 0
    assert CliRunner().invoke(main, ["screen", "rules/ear", "Huawai Technologies Co Ltd", "--as-of",
                                     "2026-07-20", "--fail-on", "possible"]).exit_code == 3


@pytest.mark.parametrize("args, message, code", [
    (["--list", "nope", "x"], "error: no list `nope` in version", 64),
    ([], "error: no names to screen", 64),
    (["x", "--as-of", "2026-13-01"], "is not a date", 64),
    (["x", "--as-of", "2020-01-01"], "no version of these rules is in force on 2020-01-01", 64),
    (["--file", "/nonexistent/names.txt"], "cannot read", 4),
    (["Sugon", "!!!"], "error: '!!!' has no name to screen", 64),
    (["Sugon", "--country", "Chian"], "did you mean `CN`", 64),
])
def test_screen_command_bad_input_is_a_clean_error(args, message, code):
    res = CliRunner().invoke(main, ["screen", "rules/ear", *args])
    assert res.exit_code == code
    assert message in res.output
    assert "Traceback" not in res.output
