"""The diff between versions: goldens on real pairs, and properties on generated ones."""

from __future__ import annotations

import random
import re
import shutil
from decimal import Decimal

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chiprules
from chiprules.lang.formatter import format_text
from chiprules.report.diff import diff
from chiprules.report.diff_render import render

from .conftest import GOLDEN, ROOT

EAR = ROOT / "rules" / "ear"
RULES = chiprules.load(EAR)
PAIRS = [("2022-10-07", "2023-11-17"), ("2023-11-17", "2024-12-02"), ("2025-05-13", "2026-01-15"),
         ("2023-11-17", "2024-03-15"), ("2024-12-02", "2025-04-09"), ("2025-05-13", "2025-11-07")]
# the memo goldens (md and text): the real diffs an analyst reads, and the three-change pair
MEMO_PAIRS = [("2023-11-17", "2024-03-15"), ("2024-12-02", "2025-04-09"), ("2025-05-13", "2026-01-15")]


def one(version: str) -> chiprules.Rules:
    return chiprules.Rules([RULES.version(version)], RULES.catalog)


@pytest.fixture(scope="module")
def reports():
    return {pair: diff(one(pair[0]), one(pair[1])) for pair in PAIRS}


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p[0]}_{p[1]}")
def test_golden_text(pair, reports, golden):
    golden(GOLDEN / "diff" / f"{pair[0]}_{pair[1]}.txt", render(reports[pair], "text"))


def test_golden_memo(reports, golden):
    golden(GOLDEN / "diff" / "2022-10-07_2023-11-17.md", render(reports[PAIRS[0]], "md"))


@pytest.mark.parametrize("pair", MEMO_PAIRS, ids=lambda p: f"{p[0]}_{p[1]}")
def test_golden_memo_by_cause(pair, reports, golden):
    golden(GOLDEN / "diff" / f"{pair[0]}_{pair[1]}.md", render(reports[pair], "md"))


# ---- a three-change version, as an analyst would write it ----------------------------------------

THREE_CHANGES = [
    # 1. the 3A090.a TPP threshold lowered to 4000, in a fragment of the new version's own
    ('include "common/3a090.rules"', 'include "common/3a090-2027.rules"'),
    # 2. Malaysia and Thailand into the licence scope, reviewed with a presumption of approval
    ("  when destination in RS_SCOPE | {AE} | MACAU_D5\n",
     "  when destination in RS_SCOPE | {AE} | MACAU_D5 | {MY, TH}\n"),
    # 3. a licence exception for buyers headquartered in Japan or the Netherlands, with notice
    ("    otherwise presumption_of_approval\n  allows NAC, ACA\n",
     "    otherwise presumption_of_approval\n  allows NAC, ACA, JPNL\n"),
    ("  version 2026-07-14\n  effective 2026-07-14\n", "  version 2027-01-01\n  effective 2027-01-01\n"),
    ("  supersedes 2026-02-03\n", "  supersedes 2026-07-14\n"),
]
JPNL = """
exception JPNL "Buyers headquartered in Japan or the Netherlands"
  cite "hypothetical 15 CFR 740.30"
  for 3A090, 4A090
  when end_user_hq in {JP, NL} and destination not in MACAU_D5
  notify "notify BIS 10 days before the export"
"""


@pytest.fixture(scope="module")
def three_change_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("three") / "rules"
    shutil.copytree(ROOT / "rules", root)
    text = (root / "ear" / "2026-07-14.rules").read_text(encoding="utf-8")
    for old, new in THREE_CHANGES:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    # the examples go (they name the old version); the jurisdiction rules after them stay
    rules_part, _, rest = text.partition("\n# ---- examples")
    jurisdiction = "\n# ---- jurisdiction" + rest.partition("\n# ---- jurisdiction")[2]
    text = rules_part + JPNL + jurisdiction
    (root / "ear" / "2027-01-01.rules").write_text(text, encoding="utf-8")
    fragment = (root / "ear" / "common" / "3a090.rules").read_text(encoding="utf-8")
    assert fragment.count("= tpp >= 4800 or") == 1
    (root / "ear" / "common" / "3a090-2027.rules").write_text(fragment.replace("= tpp >= 4800 or", "= tpp >= 4000 or"),
                                                              encoding="utf-8")
    return diff(chiprules.load(root / "ear" / "2026-07-14.rules"), chiprules.load(root / "ear" / "2027-01-01.rules"))


@pytest.mark.slow  # the diff of the latest version takes some 20 s
@pytest.mark.parametrize("fmt", ["md", "txt"])
def test_golden_memo_three_changes(three_change_report, fmt, golden):
    golden(GOLDEN / "diff" / f"three-changes.{fmt}", render(three_change_report, "text" if fmt == "txt" else fmt))


@pytest.mark.slow  # the diff of the latest version takes some 20 s
def test_three_changes_one_section_each(three_change_report):
    from chiprules.report.diff_render import build_memo

    memo = build_memo(three_change_report)
    titles = [s.title for s in memo.sections]
    alone = [t for t in titles if not t.startswith("Changes ")]
    assert len(alone) == 3, titles  # one section per change; what they do together after them
    assert alone[1] == "Condition `meets_3a090_a` changes (3A090.a, 3A090.b, 4A090.a, 4A090.b)"
    text = render(three_change_report, "md")
    main = text.split("## Appendix A")[0]
    assert "Malaysia (MY)" in main and "Thailand (TH)" in main
    assert '"notify BIS 10 days before the export"' in main  # the new exception's notification, in full
    assert "allows ACA, NAC becomes ACA, JPNL, NAC" in main  # the changed `allows`, old and new


def hybrid_outcome(report, region, catalog) -> str:
    """The region's witness decided by the old version with only the region's causes applied."""
    from chiprules.report.causes import hybrid
    from chiprules.report.diff import SUBJECT_WORDS, _decision_summary, _outcome_subject

    old, new = report.models
    chosen = [c for c in report.causes if c.id in region.causes]
    moved = frozenset().union(*(c.countries for c in report.causes))
    model = hybrid(old, new, chosen, *report.compared_on, moved)
    if SUBJECT_WORDS & {region.old, region.new}:  # a move into or out of the EAR: subject or not
        model = attrs.evolve(model, requirements=(), exceptions=())
        decision = chiprules.Rules([model], catalog).evaluate(region.witness, as_of=max(report.compared_on))
        return _outcome_subject(decision)
    decision = chiprules.Rules([model], catalog).evaluate(region.witness, as_of=max(report.compared_on))
    return _decision_summary(decision)


def assert_attribution_complete(report, catalog):
    """Every changed region names its causes, and the old version with only those causes
    applied decides the region's witness as the new version does (and, without them, as the
    old version does: the witness is verified under both)."""
    ids = {c.id for c in report.causes}
    for region in report.regions:
        assert region.causes and set(region.causes) <= ids, region
        assert hybrid_outcome(report, region, catalog) == region.new, region


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p[0]}_{p[1]}")
def test_attribution_is_complete(pair, reports):
    assert_attribution_complete(reports[pair], RULES.catalog)


@pytest.mark.slow  # the diff of the latest version takes some 20 s
def test_attribution_is_complete_three_changes(three_change_report):
    assert_attribution_complete(three_change_report, RULES.catalog)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p[0]}_{p[1]}")
def test_every_witness_really_flips(pair, reports):
    report = reports[pair]
    assert report.regions and not report.truncated
    for region in report.regions:
        assert region.verified, region


def test_2022_to_2023_names_what_changed(reports):
    report = reports[PAIRS[0]]
    text = render(report, "text")
    assert "condition removed: `interconnect_bw >= 600 GB/s`" in text or "interconnect_bw" in text
    assert "performance_density >= 5.92 TPP/mm2" in text
    # the A800/H800 escape: TPP >= 4800 with the interconnect below 600 GB/s is now controlled
    escape = [r for r in report.regions if "interconnect_bw < 600 GB/s" in r.description
              and r.new.startswith("license_required [3A090.a]")]
    assert escape, "no region for chips with a cut interconnect"
    a800 = RULES.evaluate({"chip": "NVIDIA A800 SXM", "destination": "CN", "datacenter": True,
                           "end_user": "Example Cloud Ltd.", "end_user_hq": "CN"}, as_of="2023-11-17")
    assert a800.classification == ("3A090.a",)


def test_country_only_change_names_the_country(reports):
    report = reports[PAIRS[3]]
    changed = {c.subject: c.details for c in report.changes if c.kind == "group-changed"}
    assert changed["D5"] == ("gains Nicaragua (NI)",)
    assert all("NI" in " ".join(r.description) or r.witness.get("destination") == "NI"
               or r.witness.get("end_user_hq") == "NI" for r in report.regions)


def test_2026_band_is_the_case_by_case_overlay(reports):
    report = reports[PAIRS[2]]
    texts = [" ".join(r.description) for r in report.regions if r.new.endswith("(case_by_case)")]
    assert texts and all("tpp < 21000" in t or "1600 <= tpp" in t or "2400 <= tpp" in t for t in texts)
    # below 6,500 GB/s of DRAM bandwidth (a region may be cut lower, at the H20 letter's 4,000)
    bounds = [re.search(r"dram_bw (?:<|<=|==) (\d+) GB/s", t) for t in texts]
    assert all(b is not None and int(b.group(1)) <= 6500 for b in bounds)


#: The versions whose diff with themselves is computed: the first, the one that rescinded the
#: AI diffusion rule, and the latest on each timeline. The analysis is the same code for every
#: version and costs 15-30 s a version, so the suite runs it on these four rather than on all 16.
SELF_DIFFED = ("2022-10-07", "2025-05-13", "2026-07-14", "2026-07-14-written")


@pytest.mark.slow
@pytest.mark.parametrize("version", SELF_DIFFED)
def test_diff_with_itself_is_empty(version):
    assert version in {m.version for m in RULES.models}
    report = diff(one(version), one(version))
    assert report.equivalent and not report.changes and not report.regions


def test_diff_with_formatted_self_is_empty(tmp_path):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    path = tmp_path / "rules" / "ear" / "2023-11-17.rules"
    path.write_text(format_text(path.read_text()), encoding="utf-8")
    report = diff(one("2023-11-17"), chiprules.load(path))
    assert report.equivalent and not report.changes


def test_replay_lists_flipping_records():
    records = [
        {"id": "a800", "chip": "NVIDIA A800 SXM", "destination": "CN", "datacenter": True,
         "end_user": "Example Cloud Ltd.", "end_user_hq": "CN"},
        {"id": "4090d", "chip": "NVIDIA GeForce RTX 4090 D", "destination": "CN",
         "end_user": "Example Cloud Ltd.", "end_user_hq": "CN"},
    ]
    report = diff(one("2022-10-07"), one("2023-11-17"), records=records)
    assert [f.id for f in report.replay.flips] == ["a800"]
    assert report.replay.total == 2


def test_cli_diff_formats(tmp_path):
    from click.testing import CliRunner

    from chiprules.cli import main

    for fmt in ("text", "md", "json"):
        res = CliRunner().invoke(main, ["diff", str(EAR), "2024-03-15", "2024-04-04", "--format", fmt])
        assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["diff", str(EAR), "2024-03-15", "1999-01-01"])
    assert res.exit_code == 64 and "no version" in res.output


# ---- generated pairs --------------------------------------------------------------------------

POOL = ["CN", "MO", "VN", "DE", "AE", "IL", "US", "SG"]
TEMPLATE = """ruleset gen
  version "{version}"
  effective 2024-01-01
  source "generated"

field tpp: number TPP
field performance_density: number TPP/mm2
field datacenter: bool
field destination: country
field transaction: one of export, reexport, transfer default export

group SCOPE = {{{scope}}}
group DENY = {{{deny}}}

classify 3A090.a
  cite "c"
  when tpp >= {a} or (tpp >= {b} and performance_density >= {pd} TPP/mm2)

classify 3A090.b
  cite "c"
  when {c} <= tpp < {a} and not (tpp >= {b} and performance_density >= {pd} TPP/mm2)

require license rs
  cite "c"
  for 3A090
  when destination in SCOPE {transaction}
  review presumption_of_denial if destination in DENY otherwise {policy}
  {allows}

exception X
  cite "c"
  for 3A090.b
  when datacenter
"""

ruleset_params = st.fixed_dictionaries({
    "a": st.sampled_from([4800, 3000, 6000]),
    "b": st.sampled_from([1600, 1000, 2000]),
    "c": st.sampled_from([2400, 500, 1200]),
    "pd": st.sampled_from(["5.92", "3.2", "8"]),
    "scope": st.sets(st.sampled_from(POOL), min_size=1, max_size=5).map(lambda s: ", ".join(sorted(s))),
    "deny": st.sets(st.sampled_from(POOL), min_size=1, max_size=3).map(lambda s: ", ".join(sorted(s))),
    "policy": st.sampled_from(["presumption_of_approval", "case_by_case"]),
    "allows": st.sampled_from(["allows X", "allows none"]),
    "transaction": st.sampled_from(["", "and transaction != transfer"]),
})


def write(tmp_path, name, params) -> chiprules.Rules:
    path = tmp_path / f"{name}.rules"
    path.write_text(TEMPLATE.format(version=name, **params))
    return chiprules.load(path)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ruleset_params, ruleset_params, st.randoms(use_true_random=False))
def test_generated_pairs_witnesses_flip_and_nothing_flips_outside(tmp_path, p1, p2, rnd: random.Random):
    old, new = write(tmp_path, "old", p1), write(tmp_path, "new", p2)
    report = diff(old, new)
    assert not report.truncated
    for region in report.regions:
        assert region.verified
    assert_attribution_complete(report, None)
    values = [Decimal(v) for v in (0, 499, 500, 999, 1000, 1199, 1200, 1599, 1600, 1999, 2000, 2399, 2400,
                                   2999, 3000, 4799, 4800, 5999, 6000, 9000)]
    for _ in range(60):
        rec = {"tpp": rnd.choice(values), "performance_density": Decimal(rnd.choice(["1", "3.2", "5.91", "5.92",
                                                                                    "7.99", "8", "9"])),
               "datacenter": rnd.random() < 0.5, "destination": rnd.choice(POOL + ["JP"]),
               "transaction": rnd.choice(["export", "reexport", "transfer"])}
        a = old.evaluate(rec, as_of="2024-01-01")
        b = new.evaluate(rec, as_of="2024-01-01")
        from chiprules.report.diff import _decision_summary

        if _decision_summary(a) != _decision_summary(b):
            region = report.region_of(a.record)
            assert region is not None, (rec, _decision_summary(a), _decision_summary(b))
            assert region.transition == f"{_decision_summary(a)} -> {_decision_summary(b)}"
        else:
            assert report.region_of(a.record) is None, rec


def test_changed_notification_shows_old_and_new_text(tmp_path):
    params = {"a": 4800, "b": 1600, "c": 2400, "pd": "5.92", "scope": "CN, VN", "deny": "CN",
              "policy": "presumption_of_approval", "allows": "allows X", "transaction": ""}
    old = tmp_path / "old.rules"
    new = tmp_path / "new.rules"
    base = TEMPLATE.format(version="old", **params)
    old.write_text(base + '  notify "tell BIS"\n', encoding="utf-8")
    new.write_text(base.replace('version "old"', 'version "new"') + '  notify "tell BIS 10 days ahead"\n',
                   encoding="utf-8")
    report = diff(chiprules.load(old), chiprules.load(new))
    (change,) = [c for c in report.changes if c.subject == "X"]
    assert change.details == ('notification removed: "tell BIS"', 'notification added: "tell BIS 10 days ahead"')
    memo = render(report, "md")
    assert 'notification "tell BIS" becomes "tell BIS 10 days ahead"' in memo
    assert "Changes that alter no decision" in memo  # a notice changes no outcome
