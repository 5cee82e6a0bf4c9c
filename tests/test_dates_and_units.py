"""Boundaries the regulation's text fixes exactly: the days a rule is in force, and units.

- A rule (or a version) with `until D` is in force on D and not on D + 1; one with
  `effective E` is in force on E and not on E - 1 (docs/language.md: "both included").
- Thresholds written in a multiple of the canonical unit are scaled exactly:
  `1.2 TB/s` is 1200 GB/s and `1.2 TB/s/mm2` is 1200 GB/s/mm2, not 1228.8.

Each property is checked on the engine (`Rules.evaluate`, the compiled fast path for
these complete records) and on the reference interpreter (`reference_verdict`, the only
place these tests reach inside the package).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import chiprules
from chiprules.eval.reference import decide
from chiprules.eval.screens import Screens

D = dt.date


def reference_verdict(rules: chiprules.Rules, record: dict, on: dt.date) -> tuple:
    """The reference interpreter's verdict on ``record`` as of ``on``, in the shape of `summary`.

    The interpreter is the oracle of the compiled fast path; this helper is the one
    place that imports it, so it is easy to re-point when the module moves.
    """
    model = rules.in_force(on)
    assert model is not None, f"no version in force on {on}"
    prepared = rules.prepare(record)
    assert not prepared.problems, prepared.problems
    verdict = decide(model, prepared.record, on, Screens(model)).verdict
    if verdict is None:
        return ("indeterminate", (), None, ())
    return (verdict.outcome, tuple(sorted(verdict.classification)), verdict.review_policy,
            tuple(sorted(name for name, _ in verdict.exceptions)))


def summary(d: chiprules.Decision) -> tuple:
    return (d.outcome, tuple(sorted(d.classification)), d.review_policy,
            tuple(sorted(g.name for g in d.license_exceptions)))


def write_rules(root, version_text: str) -> chiprules.Rules:
    """A rules root laid out like rules/: chiprules.toml, shared fields, one version file."""
    (root / "chiprules.toml").write_text("# the rules root\n", encoding="utf-8")
    (root / "fields.rules").write_text(FIELDS, encoding="utf-8")
    (root / "ear").mkdir()
    path = root / "ear" / "2024-01-01.rules"
    path.write_text(version_text, encoding="utf-8")
    return chiprules.load(root / "ear")


FIELDS = """\
# The fields of a record, in canonical units.
field id: text
field export_date: date
field destination: country
field tpp: number TPP
field interconnect_bw: number GB/s
field memory_bw_density: number GB/s/mm2
"""

# ---- effective / until ----------------------------------------------------------------------

# Each kind of rule has a window of its own inside the version, nested so that every
# boundary day changes the outcome:
#   3A090.a classified        2024-03-01 .. 2024-06-30
#   licence `rs` required     2024-04-01 .. 2024-05-31
#   exception X available     2024-04-15 .. 2024-05-15
# and the version itself ends on 2024-09-30.
DATED = """\
ruleset dated
  version 2024-01-01
  effective 2024-01-01
  until 2024-09-30
  source "test rules"

include "../fields.rules"

group SCOPE = {CN}

classify 3A090.a "TPP 4800 or more, for a while"
  cite "c"
  effective 2024-03-01
  until 2024-06-30
  when tpp >= 4800

require license rs "licence for SCOPE, for a shorter while"
  cite "c"
  for 3A090
  effective 2024-04-01
  until 2024-05-31
  when destination in SCOPE
  review presumption_of_denial
  allows X

exception X "an exception, for a shorter while still"
  cite "c"
  for 3A090
  effective 2024-04-15
  until 2024-05-15
  when tpp < 100000
"""

RECORD = {"tpp": Decimal(4800), "destination": "CN"}
NOT_CLASSIFIED = ("no_license_required", (), None, ())
CLASSIFIED = ("no_license_required", ("3A090.a",), None, ())
REQUIRED = ("license_required", ("3A090.a",), "presumption_of_denial", ())
EXCEPTED = ("license_exception", ("3A090.a",), "presumption_of_denial", ("X",))


def expected_on(day: dt.date) -> tuple:
    if not D(2024, 3, 1) <= day <= D(2024, 6, 30):
        return NOT_CLASSIFIED
    if not D(2024, 4, 1) <= day <= D(2024, 5, 31):
        return CLASSIFIED
    if not D(2024, 4, 15) <= day <= D(2024, 5, 15):
        return REQUIRED
    return EXCEPTED


@pytest.fixture(scope="module")
def dated(tmp_path_factory) -> chiprules.Rules:
    return write_rules(tmp_path_factory.mktemp("dated"), DATED)


BOUNDARIES = [
    # (day, what the day is, expected)
    (D(2024, 2, 29), "the day before 3A090.a takes effect", NOT_CLASSIFIED),
    (D(2024, 3, 1), "3A090.a's effective day", CLASSIFIED),
    (D(2024, 3, 31), "the day before rs takes effect", CLASSIFIED),
    (D(2024, 4, 1), "rs's effective day", REQUIRED),
    (D(2024, 4, 14), "the day before X takes effect", REQUIRED),
    (D(2024, 4, 15), "X's effective day", EXCEPTED),
    (D(2024, 5, 15), "X's until day", EXCEPTED),
    (D(2024, 5, 16), "the day after X's until", REQUIRED),
    (D(2024, 5, 31), "rs's until day", REQUIRED),
    (D(2024, 6, 1), "the day after rs's until", CLASSIFIED),
    (D(2024, 6, 30), "3A090.a's until day", CLASSIFIED),
    (D(2024, 7, 1), "the day after 3A090.a's until", NOT_CLASSIFIED),
]


@pytest.mark.parametrize(("day", "what", "expected"), BOUNDARIES, ids=[b[1] for b in BOUNDARIES])
def test_rule_dates_are_inclusive_in_the_engine(dated, day, what, expected):
    assert expected_on(day) == expected
    assert summary(dated.evaluate(RECORD, as_of=day)) == expected, what
    # the record's own export_date picks the same day
    assert summary(dated.evaluate({**RECORD, "export_date": day.isoformat()})) == expected, what


@pytest.mark.parametrize(("day", "what", "expected"), BOUNDARIES, ids=[b[1] for b in BOUNDARIES])
def test_rule_dates_are_inclusive_in_the_reference_interpreter(dated, day, what, expected):
    assert reference_verdict(dated, RECORD, day) == expected, what


def test_every_day_of_the_version_gets_its_window(dated):
    day, seen = D(2024, 1, 1), set()
    while day <= D(2024, 9, 30):
        want = expected_on(day)
        seen.add(want)
        assert summary(dated.evaluate(RECORD, as_of=day)) == want, day
        assert reference_verdict(dated, RECORD, day) == want, day
        day += dt.timedelta(days=1)
    assert seen == {NOT_CLASSIFIED, CLASSIFIED, REQUIRED, EXCEPTED}
    decisions = list(dated.evaluate_many(
        [{**RECORD, "export_date": b[0].isoformat()} for b in BOUNDARIES]))
    assert [summary(d) for d in decisions] == [b[2] for b in BOUNDARIES]


def test_a_version_is_in_force_through_its_until_day(dated):
    last = dated.evaluate(RECORD, as_of="2024-09-30")
    assert last.outcome == "no_license_required" and last.ruleset.version == "2024-01-01"
    after = dated.evaluate(RECORD, as_of="2024-10-01")
    assert after.outcome == "error"
    assert any("no version of these rules is in force on 2024-10-01" in e for e in after.errors), after.errors
    before = dated.evaluate(RECORD, as_of="2023-12-31")
    assert before.outcome == "error"
    assert dated.evaluate(RECORD, as_of="2024-01-01").outcome == "no_license_required"


# ---- units ---------------------------------------------------------------------------------

# Two ECCNs, one per unit, so that each scale is tested on its own.
UNITS_TEMPLATE = """\
ruleset units
  version 2024-01-01
  effective 2024-01-01
  source "test rules"

include "../fields.rules"

classify 3A090.a "fast interconnect"
  cite "c"
  when interconnect_bw >= {bw}

classify 3A090.b "dense memory bandwidth"
  cite "c"
  when memory_bw_density >= {density}
"""

SCALED = {"bw": "1.2 TB/s", "density": "1.2 TB/s/mm2"}
CANONICAL = {"bw": "1200 GB/s", "density": "1200 GB/s/mm2"}


@pytest.fixture(scope="module")
def scaled(tmp_path_factory) -> chiprules.Rules:
    return write_rules(tmp_path_factory.mktemp("scaled"), UNITS_TEMPLATE.format(**SCALED))


@pytest.fixture(scope="module")
def canonical(tmp_path_factory) -> chiprules.Rules:
    return write_rules(tmp_path_factory.mktemp("canonical"), UNITS_TEMPLATE.format(**CANONICAL))


ON = D(2024, 6, 1)
BASE = {"destination": "DE", "interconnect_bw": Decimal(0), "memory_bw_density": Decimal(0)}
UNIT_CASES = [
    # (field, value in the canonical unit, meets the threshold, the ECCN it gives)
    ("interconnect_bw", "1200", True, "3A090.a"),
    ("interconnect_bw", "1200.00", True, "3A090.a"),
    ("interconnect_bw", "1199.99", False, "3A090.a"),
    ("interconnect_bw", "1228.8", True, "3A090.a"),
    ("memory_bw_density", "1200", True, "3A090.b"),
    ("memory_bw_density", "1199.99", False, "3A090.b"),
    ("memory_bw_density", "1228.8", True, "3A090.b"),
]


@pytest.mark.parametrize(("field", "value", "meets", "eccn"), UNIT_CASES,
                         ids=[f"{c[0]}={c[1]}" for c in UNIT_CASES])
@pytest.mark.parametrize("spelling", ["scaled", "canonical"])
def test_thresholds_in_tb_per_second_are_scaled_by_exactly_1000(request, spelling, field, value, meets, eccn):
    rules = request.getfixturevalue(spelling)
    want = (eccn,) if meets else ()
    for v in (Decimal(value), value, float(value)):  # typed, as text, as a Python float
        record = {**BASE, field: v}
        assert rules.evaluate(record, as_of=ON).classification == want, (spelling, record)
    assert reference_verdict(rules, {**BASE, field: Decimal(value)}, ON)[1] == want


def test_a_threshold_in_tb_per_second_equals_the_same_in_gb_per_second(scaled, canonical):
    """The semantic diff proves the two spellings decide every record alike."""
    report = chiprules.diff(scaled, canonical)
    assert report.equivalent and not report.regions, [r.description for r in report.regions]


def test_dimensions_multiply_and_divide_by_adding_exponents():
    from chiprules.lang.units import DIMENSIONLESS, UNITS, dims_name, mul_dims
    tpp, mm2, tops = UNITS["TPP"].dims, UNITS["mm2"].dims, UNITS["TOPS"].dims
    assert mul_dims(tpp, mm2, -1) == UNITS["TPP/mm2"].dims
    assert mul_dims(UNITS["TPP/mm2"].dims, mm2, 1) == tpp
    assert mul_dims(mm2, mm2, 1) == (("mm2", 2),)
    assert mul_dims(mm2, mm2, -1) == DIMENSIONLESS
    assert mul_dims(tpp, tops, -1) == UNITS["bits"].dims
    assert dims_name(mul_dims(mm2, mm2, 1)) == "mm2^2"
    assert dims_name(mul_dims(DIMENSIONLESS, mm2, -1)) == "1/mm2"
    assert dims_name(UNITS["TB/s/mm2"].dims) == "GB/s/mm2"
    assert dims_name(DIMENSIONLESS) == "a plain number"
    assert dims_name(mul_dims(tops, mm2, 1)) == "TOPS*mm2"
    assert dims_name(mul_dims(UNITS["GB/s"].dims, mm2, 1)) == "GB/s*mm2"
    assert dims_name(mul_dims(DIMENSIONLESS, mul_dims(tops, mm2, 1), -1)) == "1/TOPS/mm2"
    assert dims_name(mul_dims(DIMENSIONLESS, mul_dims(mm2, mm2, 1), -1)) == "1/mm2^2"
