"""The end-use controls of 15 CFR 744.23 and the supercomputer FDP rule, 734.9(i).

What must always hold: a record that states no end use decides exactly as one that states
`other` (the controls apply on knowledge, and `other` is the default); declaring a
supercomputer or advanced-node end use in the scope never makes a decision less strict,
and a record that names the end use but leaves out a figure its definition needs is never
cleared; the definitions hold exactly at their lines; the diff holds the end use at its
default and says so when an end-use rule changed.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chiprules
from chiprules.report.diff import diff, held_facts

from .conftest import ROOT

EAR = ROOT / "rules" / "ear"
ENFORCED = chiprules.load(EAR)
WRITTEN = chiprules.load(EAR, timeline="written")
COUNTRIES = ["CN", "HK", "MO", "RU", "VN", "AE", "DE", "US", "MY", "KH", "IR"]
CHIPS = ["NVIDIA H100 SXM", "NVIDIA H20", "NVIDIA A10", "NVIDIA L4", "NVIDIA GeForce RTX 4090", "NVIDIA H200 SXM"]
DAYS = st.dates(min_value=dt.date(2022, 10, 7), max_value=dt.date(2026, 12, 31))
CLEARANCES = {"no_license_required", "not_subject", "license_exception"}
STRICTNESS = {"not_subject": 0, "no_license_required": 1, "license_exception": 2, "license_required": 3}
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def around(*lines: str):
    """Each line, and a step of a thousandth of it either side."""
    pts = [Decimal(p) * k for p in lines for k in (Decimal("0.999"), Decimal(1), Decimal("1.001"))]
    return st.sampled_from(pts)


@st.composite
def shipments(draw):
    record = {
        "chip": draw(st.sampled_from(CHIPS)), "destination": draw(st.sampled_from(COUNTRIES)),
        "end_user_hq": draw(st.sampled_from(COUNTRIES)), "end_user": "Example Computing Center",
        "transaction": draw(st.sampled_from(["export", "reexport"])),
    }
    if draw(st.booleans()):
        record["end_use_country"] = draw(st.sampled_from(COUNTRIES))
    return record


@st.composite
def end_uses(draw):
    """A declared end use with figures at and around the definitions' lines, some left out."""
    kind = draw(st.sampled_from(["computer_system", "ic_production"]))
    if kind == "computer_system":
        figures = {"system_fp64": around("100"), "system_fp32": around("200"), "system_volume": around("41600")}
    else:
        figures = {"fab_kind": st.sampled_from(["logic", "nand", "dram"]), "fab_logic_node": around("16"),
                   "fab_nonplanar": st.booleans(), "fab_nand_layers": st.sampled_from([127, 128, 129]),
                   "fab_dram_half_pitch": around("18"), "fab_dram_cell_area": around("0.0026"),
                   "fab_dram_density": around("0.20"), "fab_dram_tsvs": st.sampled_from([2999, 3000, 3001])}
    out = {"end_use": kind}
    for name, s in figures.items():
        if draw(st.integers(0, 9)) < 8:
            out[name] = draw(s)
    return out


@SETTINGS
@given(shipments(), DAYS, st.sampled_from([ENFORCED, WRITTEN]))
def test_no_end_use_decides_as_other(record, on, rules):
    a = rules.evaluate(record, as_of=on)
    b = rules.evaluate({**record, "end_use": "other"}, as_of=on)
    assert (a.outcome, a.classification, a.review_policy, a.missing, a.rules_fired) == (
        b.outcome, b.classification, b.review_policy, b.missing, b.rules_fired)


@SETTINGS
@given(shipments(), end_uses(), DAYS)
def test_a_declared_end_use_never_loosens_a_decision(record, use, on):
    """An end use adds a requirement or nothing: never a clearance where there was none, and
    an undecided record with the end use is never cleared."""
    plain = ENFORCED.evaluate(record, as_of=on)
    declared = ENFORCED.evaluate({**record, **use}, as_of=on)
    if declared.outcome == "indeterminate" or plain.outcome == "indeterminate":
        assert declared.outcome not in CLEARANCES or plain.outcome == "indeterminate", (record, use, on)
        return
    if plain.outcome == "not_subject":  # a US-origin item: it never is
        pytest.fail(f"{record} is not subject")
    assert STRICTNESS[declared.outcome] >= STRICTNESS[plain.outcome], (record, use, on)


@SETTINGS
@given(shipments(), end_uses(), DAYS, st.sampled_from(["system_fp64", "system_fp32", "system_volume", "fab_kind",
                                                        "fab_logic_node", "fab_dram_cell_area", "fab_nand_layers"]))
def test_leaving_out_a_figure_never_clears_an_undecided_record(record, use, on, name):
    full = ENFORCED.evaluate({**record, **use}, as_of=on)
    partial = ENFORCED.evaluate({k: v for k, v in {**record, **use}.items() if k != name}, as_of=on)
    if full.outcome == "indeterminate":
        assert partial.outcome not in CLEARANCES, (record, use, on, name)
    if partial.outcome in CLEARANCES:
        assert full.outcome == partial.outcome, (record, use, on, name)


A10_TO_CHINA = {"chip": "NVIDIA A10", "destination": "CN", "end_user": "Example Computing Center",
                "end_user_hq": "CN"}


@pytest.mark.parametrize("figures,outcome", [
    ({"system_fp64": "100", "system_volume": "41600"}, "license_required"),
    ({"system_fp64": "99.999", "system_fp32": "199.999", "system_volume": "41600"}, "no_license_required"),
    ({"system_fp32": "200", "system_fp64": "1", "system_volume": "1"}, "license_required"),
    ({"system_fp64": "100", "system_fp32": "200", "system_volume": "41600.001"}, "no_license_required"),
])
def test_a_supercomputer_exactly_at_its_lines(figures, outcome):
    d = ENFORCED.evaluate({**A10_TO_CHINA, "end_use": "computer_system", **figures}, as_of="2026-08-01")
    assert d.outcome == outcome
    if outcome == "license_required":
        assert d.rules_fired == ("end_use_supercomputer",) and d.review_policy == "presumption_of_denial"


@pytest.mark.parametrize("on,figures,outcome", [
    ("2024-12-01", {"fab_kind": "dram", "fab_dram_half_pitch": "18"}, "license_required"),
    ("2024-12-01", {"fab_kind": "dram", "fab_dram_half_pitch": "18.01"}, "no_license_required"),
    ("2024-12-02", {"fab_kind": "dram", "fab_dram_half_pitch": "18", "fab_dram_cell_area": "0.0026",
                    "fab_dram_density": "0.2", "fab_dram_tsvs": 3000}, "no_license_required"),
    ("2024-12-02", {"fab_kind": "dram", "fab_dram_cell_area": "0.00259"}, "license_required"),
    ("2024-12-02", {"fab_kind": "logic", "fab_logic_node": "16", "fab_nonplanar": False}, "license_required"),
    ("2024-12-02", {"fab_kind": "logic", "fab_logic_node": "16.01", "fab_nonplanar": False},
     "no_license_required"),
])
def test_an_advanced_node_facility_by_date(on, figures, outcome):
    d = ENFORCED.evaluate({**A10_TO_CHINA, "end_use": "ic_production", **figures}, as_of=on)
    assert d.outcome == outcome


def test_the_reach_moves_from_china_to_macau_and_d5():
    record = {**A10_TO_CHINA, "destination": "RU", "end_user_hq": "RU", "end_use": "computer_system",
              "system_fp64": "150", "system_volume": "20000"}
    assert ENFORCED.evaluate(record, as_of="2023-11-16").outcome == "no_license_required"
    assert ENFORCED.evaluate(record, as_of="2023-11-17").outcome == "license_required"


def test_a_missing_figure_is_named():
    d = ENFORCED.evaluate({**A10_TO_CHINA, "end_use": "computer_system", "system_fp64": "150"},
                          as_of="2026-08-01")
    assert d.outcome == "indeterminate" and d.missing == ("system_volume",)


def test_the_supercomputer_fdp_rule_reaches_a_foreign_direct_product():
    record = {**A10_TO_CHINA, "made_in": "TW", "exported_from": "TW", "us_content": "5",
              "us_direct_product": True}
    assert ENFORCED.evaluate(record, as_of="2026-08-01").outcome == "not_subject"
    d = ENFORCED.evaluate({**record, "end_use": "computer_system", "system_fp64": "150",
                           "system_volume": "20000"}, as_of="2026-08-01")
    assert d.outcome == "license_required" and d.jurisdiction == ("fdp_734_9_i",)
    # Macau is reached by 734.9(i) from 2023-11-17, China from 2022
    mo = {**record, "destination": "MO", "end_user_hq": "MO", "end_use": "computer_system",
          "system_fp64": "150", "system_volume": "20000"}
    assert ENFORCED.evaluate(mo, as_of="2023-11-16").jurisdiction != ("fdp_734_9_i",)
    assert ENFORCED.evaluate(mo, as_of="2023-11-17").jurisdiction == ("fdp_734_9_i",)


@pytest.mark.parametrize("area,outcome", [("0.0025 µm²", "license_required"), ("0.0026 um2", "no_license_required")])
def test_figures_in_their_units_from_text(area, outcome):
    """A record's text may carry the unit; `µm²` is read as `um2`, `PFLOPS` and `ft3` as theirs."""
    d = ENFORCED.evaluate({**A10_TO_CHINA, "end_use": "ic_production", "fab_kind": "dram",
                           "fab_dram_cell_area": area, "fab_dram_density": "0.1 Gb/mm²",
                           "fab_dram_tsvs": "100"}, as_of="2026-08-01")
    assert d.outcome == outcome
    d = ENFORCED.evaluate({**A10_TO_CHINA, "end_use": "computer_system", "system_fp64": "100 PFLOPS",
                           "system_volume": "41,600 ft³"}, as_of="2026-08-01")
    assert d.outcome == "license_required"


def test_the_diff_holds_the_end_use_and_says_when_it_changed():
    old, new = ENFORCED.version("2023-01-17"), ENFORCED.version("2023-11-17")
    assert held_facts(old, new)["end_use"] == "other"
    report = diff(chiprules.Rules([old], ENFORCED.catalog), chiprules.Rules([new], ENFORCED.catalog))
    assert not report.truncated
    caveat = [c for c in report.caveats if "`end_use` other" in c]
    assert caveat and "`end_use_supercomputer`, `end_use_advanced_node`" in caveat[0]
    assert "`fdp_734_9_i`" in caveat[0]
    # no region is described by an end-use fact: they are held, not explored
    assert not any(re.search(r"\bend_use(_country)?\b|\bsystem_|\bfab_", part)
                   for r in report.regions for part in r.description)
    # versions whose end-use rules agree say nothing of them
    same = diff(chiprules.Rules([ENFORCED.version("2025-11-07")], ENFORCED.catalog),
                chiprules.Rules([ENFORCED.version("2026-01-15")], ENFORCED.catalog))
    assert not [c for c in same.caveats if "end_use" in c]
