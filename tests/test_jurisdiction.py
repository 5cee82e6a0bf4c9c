"""Whether an item is subject to the EAR at all: the jurisdiction rules and `not_subject`.

What must always hold: an item made and shipped in the United States is never
`not_subject`; leaving out a jurisdiction fact without a default (the US content,
whether the item is a direct product of US technology) never turns an undecided
record into a clearance; a record that names no jurisdiction fact decides as it did
before the facts existed (US origin); the diff across Cambodia's date shows exactly
its moves.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chiprules
from chiprules.report.diff import diff
from chiprules.report.diff_render import render

from .conftest import ROOT

EAR = ROOT / "rules" / "ear"
ENFORCED = chiprules.load(EAR)
WRITTEN = chiprules.load(EAR, timeline="written")
COUNTRIES = ["CN", "HK", "MO", "VN", "AE", "SA", "IN", "SG", "DE", "US", "NI", "KH", "RU", "JP", "MY", "IR", "TH"]
CHIPS = ["NVIDIA H100 SXM", "NVIDIA H20", "NVIDIA A800 SXM", "NVIDIA GeForce RTX 4090", "NVIDIA A10",
         "NVIDIA L40S", "NVIDIA L4"]
NAMES = ["Example Cloud Co.", "Sugon", "Huawei Technologies Co., Ltd.", "Inspur Group Co., Ltd."]
DAYS = st.dates(min_value=dt.date(2022, 10, 7), max_value=dt.date(2026, 12, 31))
CLEARANCES = {"no_license_required", "not_subject"}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def content():
    """US content exactly at the de minimis lines, a step either side, and anywhere."""
    pts = [Decimal(p) + d for p in ("10", "25") for d in (Decimal("-0.01"), Decimal(0), Decimal("0.01"))]
    return st.sampled_from(pts) | st.decimals(min_value=0, max_value=100, places=2)


@st.composite
def shipments(draw, **fixed):
    fields = {
        "chip": st.sampled_from(CHIPS), "destination": st.sampled_from(COUNTRIES),
        "end_user_hq": st.sampled_from(COUNTRIES), "end_user": st.sampled_from(NAMES),
        "end_user_parent": st.sampled_from(NAMES), "item_kind": st.sampled_from(["ic", "computer"]),
        "transaction": st.sampled_from(["export", "reexport", "transfer"]),
        "made_in": st.sampled_from(["US", "TW", "KR"]), "exported_from": st.sampled_from(["US", "TW", "MY"]),
        "us_content": content(), "us_direct_product": st.booleans(),
    }
    record = {name: draw(s) for name, s in fields.items() if draw(st.integers(0, 9)) < 7}
    record.update(fixed)
    return record


@SETTINGS
@given(shipments(made_in="US", exported_from="US"), DAYS, st.sampled_from([ENFORCED, WRITTEN]))
def test_made_and_shipped_in_the_us_is_never_not_subject(record, on, rules):
    d = rules.evaluate(record, as_of=on)
    assert d.outcome != "not_subject"
    assert d.jurisdiction in ((), ("us_origin",)), d.jurisdiction


@SETTINGS
@given(shipments(), DAYS, st.sampled_from(["us_content", "us_direct_product"]))
def test_leaving_out_a_jurisdiction_fact_never_clears_an_undecided_record(record, on, name):
    """Without the fact, the record is decided as with some value of it, or undecided: an
    undecided record stays undecided, and a record that was not cleared is not cleared."""
    full = ENFORCED.evaluate(record, as_of=on)
    partial = ENFORCED.evaluate({k: v for k, v in record.items() if k != name}, as_of=on)
    if full.outcome == "indeterminate":
        assert partial.outcome not in CLEARANCES, (record, on, name)
    if partial.outcome in CLEARANCES:
        assert full.outcome == partial.outcome, (record, on, name)


@SETTINGS
@given(shipments(), DAYS)
def test_no_jurisdiction_facts_decides_as_a_us_origin_item(record, on):
    """A record naming none of the jurisdiction facts means what it meant before they existed."""
    bare = {k: v for k, v in record.items() if k not in ("made_in", "us_content", "us_direct_product")}
    stated = {**bare, "made_in": "US"}
    a, b = ENFORCED.evaluate(bare, as_of=on), ENFORCED.evaluate(stated, as_of=on)
    assert (a.outcome, a.classification, a.review_policy, a.missing) == (
        b.outcome, b.classification, b.review_policy, b.missing)
    assert a.outcome != "not_subject"


@pytest.mark.parametrize("content,outcome", [("25", "not_subject"), ("25.000001", "license_required"),
                                             ("24.99", "not_subject"), ("60", "license_required")])
def test_de_minimis_exactly_at_25_percent(content, outcome):
    record = {"item_kind": "computer", "chip": "NVIDIA H100 SXM", "made_in": "TW", "exported_from": "TW",
              "transaction": "reexport", "us_content": content, "us_direct_product": False,
              "destination": "MY", "end_user": "Example Cloud Co.", "end_user_hq": "CN"}
    d = ENFORCED.evaluate(record, as_of="2025-12-01")
    assert d.outcome == outcome
    assert d.jurisdiction == (("not_subject",) if outcome == "not_subject" else ("de_minimis",))


def test_not_subject_in_every_output():
    d = ENFORCED.evaluate({"chip": "NVIDIA L40S", "made_in": "KR", "exported_from": "KR", "us_content": 8,
                           "us_direct_product": False, "destination": "VN", "end_user": "Example Cloud Co.",
                           "end_user_hq": "VN"}, as_of="2025-12-01")
    assert d.outcome == "not_subject" and d.classification == ("3A090.a",)
    assert d.to_json()["jurisdiction"] == "not_subject"
    text = d.explain()
    assert "not subject to the EAR" in text and "not reached by `de_minimis`" in text
    assert "us_content > 25 percent (us_content = 8)" in text


def test_missing_us_content_is_named_not_silently_not_subject():
    d = ENFORCED.evaluate({"chip": "NVIDIA H100 SXM", "made_in": "TW", "exported_from": "TW",
                           "us_direct_product": False, "destination": "MY", "end_user": "Example Cloud Co.",
                           "end_user_hq": "MY"}, as_of="2025-12-01")
    assert d.outcome == "indeterminate" and d.missing == ("us_content",)


def test_a_fact_that_cannot_matter_does_not_block():
    """A US-origin item needs neither its US content nor whether it is a direct product."""
    d = ENFORCED.evaluate({"chip": "NVIDIA H100 SXM", "destination": "JP", "end_user": "Example Cloud Co.",
                           "end_user_hq": "JP"}, as_of="2025-12-01")
    assert d.outcome == "no_license_required" and d.jurisdiction == ("us_origin",)


def test_cambodia_on_the_enforced_timeline():
    record = {"chip": "NVIDIA L40S", "destination": "KH", "end_user": "Example University", "end_user_hq": "KH",
              "end_user_parent": "Example University"}
    before = ENFORCED.evaluate(record, as_of="2025-11-06")
    after = ENFORCED.evaluate(record, as_of="2025-11-07")
    assert (before.review_policy, after.review_policy) == ("presumption_of_denial", "presumption_of_approval")
    assert after.ruleset.version == "2025-11-07"
    # the law as written keeps the printed table until BIS conformed it on 2026-02-03
    written = WRITTEN.evaluate(record, as_of="2026-02-02")
    assert written.review_policy == "presumption_of_denial"


@pytest.fixture(scope="module")
def cambodia():
    return diff(chiprules.Rules([ENFORCED.version("2025-05-13")], ENFORCED.catalog),
                chiprules.Rules([ENFORCED.version("2025-11-07")], ENFORCED.catalog))


def test_the_cambodia_diff_moves_only_cambodia(cambodia, golden):
    assert len({r.causes for r in cambodia.regions}) == 1  # one cause: the country groups
    assert cambodia.regions and all(r.verified for r in cambodia.regions)
    for r in cambodia.regions:  # every region is about Cambodia: shipped there, or for a firm from there
        w = r.witness
        assert "KH" in (w.get("destination"), w.get("end_user_hq")), r
    moved = [r for r in cambodia.regions if {r.old, r.new} == {"subject", "not_subject"}]
    assert moved and all(r.witness.get("end_user_hq") == "KH" for r in moved)
    golden(ROOT / "tests" / "golden" / "diff" / "2025-05-13_2025-11-07.txt", render(cambodia, "text"))
