"""ECCN 4E091, the weights of AI models trained with 10^26 operations or more (rules/weights).

What must hold: the line at exactly 10^26 operations; each exclusion at its own line (2.5e25
added operations, 25 %); the worldwide licence only as written, from the compliance date,
never as enforced; a record missing a fact that decides is undecided, never cleared; the
batch engine decides the exponents of training operations as the per-record engine does.
"""

from __future__ import annotations

import csv

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chiprules

from .conftest import ROOT

WEIGHTS = ROOT / "rules" / "weights"
WRITTEN = chiprules.load(WEIGHTS, timeline="written")
ENFORCED = chiprules.load(WEIGHTS)
BASE = {"export_date": "2025-06-02", "destination": "IN", "end_user": "Example AI Lab", "end_user_hq": "IN"}
CLEARED = {"no_license_required", "license_exception"}


@pytest.mark.parametrize("ops,outcome", [("1e26", "license_required"), ("9.999e25", "no_license_required"),
                                         ("100000000000000000000000000", "license_required")])
def test_the_line_at_ten_to_the_26(ops, outcome):
    assert WRITTEN.evaluate({**BASE, "training_ops": ops}).outcome == outcome


@pytest.mark.parametrize("added,share,controlled", [
    ("2.5e25", "90", False),  # at the operations line
    ("2.51e25", "25", False),  # at the share line
    ("2.51e25", "25.01", True),  # above both
    ("1e30", "24", False),
])
def test_trained_from_published_weights(added, share, controlled):
    d = WRITTEN.evaluate({**BASE, "training_ops": "3e26", "from_published": "yes", "added_ops": added,
                          "added_share": share})
    assert (d.classification == ("4E091",)) is controlled


def test_as_enforced_no_licence_ever_and_as_written_from_the_compliance_date():
    record = {**BASE, "destination": "CN", "end_user_hq": "CN", "training_ops": "5e26"}
    assert ENFORCED.evaluate(record).outcome == "no_license_required"
    assert ENFORCED.evaluate(record).classification == ("4E091",)
    assert WRITTEN.evaluate({**record, "export_date": "2025-05-14"}).outcome == "no_license_required"
    d = WRITTEN.evaluate({**record, "export_date": "2025-05-15"})
    assert (d.outcome, d.review_policy) == ("license_required", "presumption_of_denial")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({}, optional={
    "training_ops": st.sampled_from(["9.99e25", "1e26", "3e26"]),
    "weights_published": st.booleans(), "from_published": st.booleans(), "below_frontier": st.booleans(),
    "added_ops": st.sampled_from(["2.5e25", "2.6e25", "1e26"]),
    "added_share": st.sampled_from(["25", "25.01", "10"]),
    "destination": st.sampled_from(["IN", "CN", "JP", "US", "KH"]),
    "end_user_hq": st.sampled_from(["IN", "CN", "JP", "US"]),
}), st.sampled_from(["training_ops", "added_ops", "added_share", "destination"]))
def test_leaving_out_a_fact_never_clears_an_undecided_record(facts, name):
    record = {"export_date": "2025-06-02", "end_user": "Example AI Lab", **facts}
    full = WRITTEN.evaluate(record)
    partial = WRITTEN.evaluate({k: v for k, v in record.items() if k != name})
    if full.outcome == "indeterminate":
        assert partial.outcome not in CLEARED, (record, name)
    if partial.outcome in CLEARED:
        assert full.outcome == partial.outcome, (record, name)


def test_the_batch_engine_reads_the_exponents(tmp_path):
    path = tmp_path / "weights.csv"
    path.write_text(
        "id,training_ops,from_published,added_ops,added_share,destination,end_user,end_user_hq,export_date\n"
        "A,1e26,,,,IN,Example AI Lab,IN,2025-06-02\n"
        "B,9.99e25,,,,CN,Example AI Lab,CN,2025-06-02\n"
        "C,3e26,yes,6e25,30,JP,Example AI Lab,JP,2025-06-02\n"
        "D,3e26,yes,,30,CN,Example AI Lab,CN,2025-06-02\n"
        "E,300000000000000000000000000,,,,KH,Example AI Lab,KH,2026-02-03\n",
        encoding="utf-8")
    batch = WRITTEN.decide_table(str(path)).to_pylist()
    with open(path, encoding="utf-8") as f:  # the text of each cell, exactly
        record = list(WRITTEN.evaluate_many({k: v for k, v in row.items() if v} for row in csv.DictReader(f)))
    assert [r["outcome"] for r in batch] == [d.outcome for d in record] == [
        "license_required", "no_license_required", "license_exception", "indeterminate", "license_required"]
    assert [r["review_policy"] for r in batch] == [d.review_policy for d in record]
