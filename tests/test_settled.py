"""What an undecided record still settles: the parts every completion of it shares.

A record missing one fact is `indeterminate` when the fact could change the outcome; its
classification, review policy, exceptions and requirements are still reported where every
way of completing it agrees. These tests complete the record with one value of every class
the rules tell apart for the missing field (the values the case split tries), decide each
completion, and hold the undecided decision to them: nothing it reports is contradicted by
a completion, and what all completions share is reported.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chiprules.model.classes import VariableTable, on_date

from .test_differential import ENFORCED, near, reference_parts

#: fields whose absence the split settles by trying the field's own classes (no derived input)
DROPPED = ("destination", "end_user_hq", "end_user", "datacenter", "item_kind", "tpp", "performance_density")
DAYS = (dt.date(2022, 11, 1), dt.date(2023, 6, 1), dt.date(2024, 1, 10), dt.date(2024, 6, 1),
        dt.date(2025, 3, 1), dt.date(2025, 6, 1), dt.date(2026, 3, 1), dt.date(2026, 8, 1))
COUNTRIES = ["CN", "HK", "MO", "VN", "AE", "SA", "IN", "SG", "DE", "US", "NI", "RU", "MY"]
NAMES = ["Huawei Technologies Co., Ltd.", "Contoso Research", "Example Cloud Ltd.", "Inspur Group Co., Ltd."]


@st.composite
def complete_records(draw):
    record = {
        "item_kind": draw(st.sampled_from(["ic", "computer", "hbm"])),
        "tpp": draw(near([1600, 2400, 4800, 5000])),
        "performance_density": draw(near(["1.6", "3.2", "5.92"])),
        "datacenter": draw(st.booleans()),
        "destination": draw(st.sampled_from(COUNTRIES)),
        "end_user_hq": draw(st.sampled_from(COUNTRIES)),
        "end_user": draw(st.sampled_from(NAMES)),
        "end_user_parent": "Contoso Research",
        "interconnect_bw": draw(near([600, 900])),
        "dram_bw": draw(near([1400, 4000])),
        "memory_bw_density": Decimal("1"),
        "chip": "Example accelerator",
    }
    return record


def completions(record: dict, field: str, on: dt.date):
    """The record completed with one value of each class of ``field`` on ``on``."""
    model = ENFORCED.in_force(on)
    var = VariableTable.build(model).variables.get(field)
    if var is None:  # the version does not read the field
        return []
    return [{**record, field: value} for value in on_date(var, model, on).representatives]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(complete_records(), st.sampled_from(DAYS))
def test_settled_parts_hold_in_every_completion(record, on):
    for field in DROPPED:
        check_settled(record, field, on)


def check_settled(record: dict, field: str, on: dt.date) -> None:
    partial = {k: v for k, v in record.items() if k != field}
    d = ENFORCED.evaluate(partial, as_of=on)
    if d.outcome != "indeterminate":
        return
    done = [ENFORCED.evaluate(c, as_of=on) for c in completions(partial, field, on)]
    decided = [c for c in done if c.outcome != "indeterminate"]
    granted = {g.name for g in d.license_exceptions}
    for c in decided:  # nothing reported as settled is contradicted by a completion
        assert set(d.classification) <= set(c.classification), (partial, field, c.record.get(field))
        assert granted <= {g.name for g in c.license_exceptions}
        if d.review_policy is not None:
            assert c.review_policy == d.review_policy
        assert set(d.settled_fired) <= set(c.rules_fired)
    if done and len(decided) == len(done):  # and what every completion shares is reported
        shared = set.intersection(*(set(c.classification) for c in decided))
        assert set(d.classification) == shared, (partial, field)
        reviews = {c.review_policy for c in decided}
        assert d.review_policy == (reviews.pop() if len(reviews) == 1 else None)
    # the reference interpreter settles the same parts
    assert (d.classification, d.review_policy) == reference_parts(ENFORCED, partial, on)[1:3]


def test_a_chip_without_its_buyer_keeps_its_eccn():
    # TPP 2896 at 4.76 TPP/mm2 is 3A090.b whoever the buyer is; the buyer decides the outcome
    d = ENFORCED.evaluate({"tpp": "2896", "die_area": "609", "datacenter": "yes", "item_kind": "ic",
                           "destination": "CN"}, as_of="2024-01-10")
    assert d.outcome == "indeterminate"
    assert d.missing == ("end_user", "end_user_hq")
    assert d.classification == ("3A090.b",)
    assert d.review_policy == "presumption_of_denial"
    assert d.rules_fired == ("3A090.b", "regional_stability")
    assert "settled whatever the missing facts are: classified 3A090.b; licence required by " \
           "`regional_stability`; review presumption of denial" in d.explain()


def test_nothing_settled_when_the_classification_turns_on_the_missing_fact():
    d = ENFORCED.evaluate({"die_area": "609", "datacenter": "yes", "item_kind": "ic", "destination": "CN",
                           "end_user": "Contoso Research", "end_user_hq": "US"}, as_of="2024-01-10")
    assert d.outcome == "indeterminate" and d.missing == ("tpp",)
    assert d.classification == () and d.review_policy is None and d.rules_fired == ()
    assert "settled" not in d.explain()


def test_the_batch_engine_reports_the_same_settled_parts(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("id,export_date,tpp,die_area,datacenter,item_kind,destination\n"
                    "A,2024-01-10,2896,609,yes,ic,CN\nB,2024-01-10,2896,609,yes,ic,CN\n")
    rows = ENFORCED.decide_table(path).to_pylist()
    assert [(r["outcome"], r["classification"], r["review_policy"], r["rules_fired"]) for r in rows] == [
        ("indeterminate", ["3A090.b"], "presumption_of_denial", ["3A090.b", "regional_stability"])] * 2
