"""Explanations say what each missing fact would decide, and why an allowed licence
exception was not available."""

from __future__ import annotations

import chiprules

from .conftest import ROOT

RULES = chiprules.load(ROOT / "rules" / "ear")


def test_undecided_record_says_what_each_answer_means():
    d = RULES.evaluate({"tpp": 5000, "destination": "CN", "end_user": "Example Cloud Co.", "end_user_hq": "CN"},
                       as_of="2024-05-01")
    assert d.outcome == "indeterminate"
    text = d.explain()
    assert "  `datacenter` is missing:\n" in text
    assert "    if `datacenter` is yes: licence required (presumption of denial)\n" in text
    assert "    if `datacenter` is no: licence exception available (presumption of denial) with NAC" in text


def test_missing_number_is_answered_by_ranges():
    d = RULES.evaluate({"datacenter": True, "die_area": 800, "destination": "CN", "end_user": "Example Cloud Co.",
                        "end_user_hq": "CN"}, as_of="2024-05-01")
    text = d.explain()
    assert "  `tpp` is missing:" in text
    assert "    if `tpp` >= 4800: licence required (presumption of denial)" in text
    assert "no licence required" in text.split("`tpp` is missing:")[1]


def test_exception_not_available_says_why():
    # an RTX 4090 to Vietnam for a buyer headquartered in China: NAC, not ACA
    d = RULES.evaluate({"chip": "NVIDIA GeForce RTX 4090", "destination": "VN", "end_user": "Example Cloud Co.",
                        "end_user_hq": "CN"}, as_of="2024-05-01")
    assert [g.name for g in d.license_exceptions] == ["NAC"]
    text = d.explain()
    assert "  licence exception ACA not available (Advanced Computing Authorized)\n" in text
    assert "    because `end_user_hq` is CN, in MACAU_D5\n" in text
    # a transfer within China: ACA, and NAC is not available because of the transaction
    d = RULES.evaluate({"chip": "NVIDIA GeForce RTX 4090", "destination": "CN", "end_user": "Example Cloud Co.",
                        "end_user_hq": "CN", "transaction": "transfer"}, as_of="2024-05-01")
    assert "  licence exception NAC not available (Notified Advanced Computing)\n    because `transaction` is " \
           "transfer" in d.explain()
