"""Quotas, licences and the ledger: running totals over shipments decided in order.

Properties (hypothesis) on the real rules: what a quota grants per key and period never
passes its limit; splitting a shipment cannot evade a limit; shuffling the input gives the
same decisions; running again with the ledger draws nothing twice. A run killed while it
writes the ledger leaves the ledger as it was. Licence examples from practice: a licence
for N units shipped in three parts, the third over the balance; a licence that expires
between two shipments. Goldens for the eval summary, `ledger show` and the errors.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chiprules
from chiprules.cli import main
from chiprules.data.records import read_records
from chiprules.ledger import Ledger

from .conftest import GOLDEN, ROOT

EAR = ROOT / "rules" / "ear"
ENFORCED = chiprules.load(EAR)
WRITTEN = chiprules.load(EAR, timeline="written")
DATA = ROOT / "tests" / "data" / "ledger"
LICENCES = chiprules.load_licences(DATA / "licences.csv")
H100_TPP = 15832
LPP_LIMIT = Decimal(26_900_000)


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.chdir(ROOT)

    def run(*args: str) -> tuple[int, str, str]:
        res = CliRunner().invoke(main, list(args))
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            raise res.exception
        return res.exit_code, res.stdout, res.stderr

    return run


def lpp_shipment(n: int, day: dt.date, quantity: int, consignee: str, dest: str = "IN") -> dict:
    return {"id": f"R{n:03d}", "export_date": day.isoformat(), "chip": "NVIDIA H100 SXM", "destination": dest,
            "end_user": consignee, "end_user_hq": dest, "quantity": quantity}


DAYS = [dt.date(2025, 6, 1) + dt.timedelta(days=k * 37) for k in range(16)]  # 2025 and 2026

shipments = st.lists(
    st.tuples(st.sampled_from(DAYS), st.integers(1, 1800), st.sampled_from(["Example Cloud Pvt. Ltd.", "Acme AI"]),
              st.sampled_from(["IN", "BR"])),
    min_size=1, max_size=12)


def records_of(drawn) -> list[dict]:
    return [lpp_shipment(n, day, q, c, d) for n, (day, q, c, d) in enumerate(drawn)]


def lpp_use(decisions) -> dict:
    """TPP shipped under LPP per (consignee, year), from the decisions and their records alone."""
    use: dict = {}
    for d in decisions:
        if any(g.name == "LPP" for g in d.license_exceptions):
            key = (d.record["consignee"], d.record["export_date"].year)
            use[key] = use.get(key, 0) + d.record["tpp"] * d.record["quantity"]
    return use


def summary(decisions) -> list[tuple]:
    return sorted((d.id, str(d.outcome), d.review_policy, tuple(g.name for g in d.license_exceptions), d.licence,
                   tuple((u.name, u.status, u.draw) for u in d.quota_uses)) for d in decisions)


# ---- properties ---------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shipments)
def test_what_a_quota_grants_never_passes_its_limit(drawn):
    decisions = list(WRITTEN.evaluate_many(records_of(drawn)))
    assert len(decisions) == len(drawn)
    for key, used in lpp_use(decisions).items():
        assert used <= LPP_LIMIT, key
    for d in decisions:  # and each draw says so itself
        for u in d.quota_uses:
            if u.status == "drawn" and u.limit is not None:
                assert u.used + u.draw <= u.limit


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shipments, st.data())
def test_splitting_a_shipment_never_evades_the_limit(drawn, data):
    """A shipment split in two with the same total: the exception never covers more than the
    limit allows, never more than the unsplit run plus the shipment itself, and when the whole
    shipment fitted, nothing changes at all."""
    k = data.draw(st.integers(0, len(drawn) - 1))
    day, q, consignee, dest = drawn[k]
    if q < 2:
        return
    part = data.draw(st.integers(1, q - 1))
    whole = list(WRITTEN.evaluate_many(records_of(drawn)))
    split_records = records_of(drawn)
    first = dict(split_records[k], quantity=part)
    second = dict(split_records[k], id=split_records[k]["id"] + "b", quantity=q - part)
    split_records[k:k + 1] = [first, second]
    split = list(WRITTEN.evaluate_many(split_records))
    before, after = lpp_use(whole), lpp_use(split)
    key = (consignee, day.year)
    for used in after.values():
        assert used <= LPP_LIMIT
    assert after.get(key, 0) <= before.get(key, 0) + H100_TPP * q
    if any(g.name == "LPP" for g in whole[k].license_exceptions):
        assert after == before
        assert summary(d for d in split if not d.id.startswith(whole[k].id)) == \
            summary(d for d in whole if d.id != whole[k].id)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shipments, st.randoms(use_true_random=False))
def test_shuffling_the_input_gives_the_same_decisions(drawn, rnd):
    records = records_of(drawn)
    shuffled = records[:]
    rnd.shuffle(shuffled)
    a = list(WRITTEN.evaluate_many(records))
    b = list(WRITTEN.evaluate_many(shuffled))
    assert [d.id for d in b] == [r["id"] for r in shuffled]  # output stays in input order
    assert summary(a) == summary(b)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(shipments)
def test_running_again_with_the_ledger_draws_nothing_twice(tmp_path_factory, drawn):
    path = tmp_path_factory.mktemp("ledger") / "ledger.db"
    records = records_of(drawn)
    book = chiprules.open_ledger(path, WRITTEN, "written")
    first = list(WRITTEN.evaluate_many(records, ledger=book))
    balances = book.balances()
    again = list(WRITTEN.evaluate_many(records, ledger=book))
    assert summary(first) == summary(again)
    assert book.balances() == balances
    assert book.last_run is None  # nothing new to record
    book.close()


def test_the_ledger_seeds_the_next_run(tmp_path):
    """Two runs with a ledger decide as one run without it."""
    records = records_of([(DAYS[0], 1000, "Acme AI", "IN"), (DAYS[1], 600, "Acme AI", "IN"),
                          (DAYS[2], 500, "Acme AI", "IN")])
    book = chiprules.open_ledger(tmp_path / "l.db", WRITTEN, "written")
    one = list(WRITTEN.evaluate_many(records[:2], ledger=book))
    two = list(WRITTEN.evaluate_many(records[2:], ledger=book))
    whole = list(WRITTEN.evaluate_many(records))
    assert summary(one + two) == summary(whole)
    assert [str(d.outcome) for d in whole] == ["license_exception", "license_exception", "license_required"]


def test_ties_on_the_day_are_broken_by_record_id():
    day = DAYS[0]
    a = lpp_shipment(2, day, 1000, "Acme AI")
    b = lpp_shipment(1, day, 1000, "Acme AI")  # R001 comes first, wherever it is in the input
    decisions = list(WRITTEN.evaluate_many([a, b]))
    assert [d.id for d in decisions] == ["R002", "R001"]
    assert [str(d.outcome) for d in decisions] == ["license_required", "license_exception"]


def test_a_record_without_quantity_keeps_no_lpp_and_says_why():
    rec = lpp_shipment(1, DAYS[0], 1, "Acme AI")
    del rec["quantity"]
    d = WRITTEN.evaluate(rec)
    assert str(d.outcome) == "license_required" and d.review_policy == "case_by_case"
    assert any("`quantity` not given" in w and "LPP is not available" in w for w in d.warnings)


def test_records_without_quotas_stream_as_before():
    """The enforced rules' only quota needs `end_user_in_us`: records without it decide alone,
    streamed, exactly as the rules say."""
    records = list(read_records(ROOT / "examples" / "shipments.csv"))
    a = [d.to_json() for d in ENFORCED.evaluate_many(records)]
    b = [d.to_json() for d in ENFORCED.evaluate_many(records, tally=False)]
    assert a == b
    assert not ENFORCED.quotas_in_play(records[0].data)


# ---- the written timeline's Tier 2 allocation ---------------------------------------------------


def test_tier2_allocation_past_its_limit_is_reviewed_under_denial():
    # B200s to Brazil need a licence (datacenter, no LPP past its yearly amount): 790 million
    # TPP is about 21,944 B200s (36,000 TPP each)
    recs = [{"id": f"B{n}", "export_date": "2025-07-01", "chip": "NVIDIA B200", "destination": "BR",
             "end_user": f"Buyer {n}", "end_user_hq": "BR", "quantity": 10_000} for n in range(3)]
    ds = list(WRITTEN.evaluate_many(recs))
    assert [d.review_policy for d in ds] == ["case_by_case", "case_by_case", "presumption_of_denial"]
    use = next(u for u in ds[2].quota_uses if u.name == "tier2_allocation")
    assert (use.status, use.used, use.draw, use.limit) == ("over", Decimal(720_000_000), Decimal(360_000_000),
                                                           Decimal(790_000_000))


# ---- the 2026 China ceiling ---------------------------------------------------------------------


def test_china_shipments_draw_on_half_of_us_shipments():
    ds = {d.id: d for d in ENFORCED.evaluate_many(read_records(DATA / "china_half.jsonl"))}
    assert ds["CN-1"].review_policy == "case_by_case"  # 300 of 500
    assert ds["CN-2"].review_policy == "presumption_of_denial"  # 600 would pass 500
    assert ds["CN-3"].review_policy == "case_by_case"  # 1,400 fed: 600 of 700
    assert ds["CN-4"].review_policy == "case_by_case" and not ds["CN-4"].quota_uses  # does not say: as today
    use = ds["CN-3"].quota_uses[0]
    assert (use.limit, use.used, use.draw, use.remaining) == (700, 300, 300, 100)


def test_exactly_half_is_within():
    recs = [{"id": "U", "export_date": "2026-01-20", "chip": "NVIDIA H200 SXM", "destination": "US",
             "end_user_in_us": True, "quantity": 1001, "end_user": "A", "end_user_hq": "US"},
            {"id": "C", "export_date": "2026-01-21", "chip": "NVIDIA H200 SXM", "destination": "CN",
             "end_user_in_us": False, "quantity": "500.5", "end_user": "B", "end_user_hq": "CN"}]
    ds = list(ENFORCED.evaluate_many(recs))
    assert str(ds[1].outcome) == "error"  # a count of units is whole
    recs[1]["quantity"] = 500
    recs[0]["quantity"] = 1000
    assert list(ENFORCED.evaluate_many(recs))[1].review_policy == "case_by_case"  # 500 of 500
    recs[1]["quantity"] = 501
    assert list(ENFORCED.evaluate_many(recs))[1].review_policy == "presumption_of_denial"


# ---- licences -----------------------------------------------------------------------------------


def test_a_licence_shipped_in_three_parts_the_third_over_the_balance():
    ds = list(ENFORCED.evaluate_many(read_records(DATA / "three_parts.jsonl"), licences=LICENCES))
    assert [d.licence for d in ds] == ["D1001", "D1001", None]
    assert all(str(d.outcome) == "license_required" for d in ds)  # the law's answer stays
    third = ds[2].quota_uses[0]
    assert (third.status, third.limit, third.used, third.draw) == ("over", 1000, 800, 300)
    text = ds[2].explain()
    assert "licence D1001" in text and "used before this shipment 800 units" in text
    assert "this shipment 300 units, over the 200 units remaining" in text


def test_a_licence_that_expires_between_two_shipments():
    ds = {d.id: d for d in ENFORCED.evaluate_many(read_records(DATA / "expiry.jsonl"), licences=LICENCES)}
    assert ds["SA-1"].licence == "D1002"
    use = ds["SA-1"].quota_uses[0]
    assert (use.unit, use.draw, use.remaining) == ("TPP", 200 * H100_TPP, 20_000_000 - 200 * H100_TPP)
    assert ds["SA-2"].licence is None
    assert "expired on 2024-06-30" in ds["SA-2"].explain()


def test_licence_file_errors_are_located(cli, golden):
    code, out, err = cli("eval", "rules/ear", "tests/data/ledger/expiry.jsonl", "--licences",
                         "tests/data/ledger/bad_licences.csv")
    assert code == 4 and out == ""
    golden(GOLDEN / "ledger" / "bad_licences.err", err)


# ---- the command line ---------------------------------------------------------------------------


def test_eval_with_a_ledger_ends_with_the_balances(cli, golden, tmp_path):
    book = tmp_path / "ledger.db"
    code, out, err = cli("eval", "rules/ear", "tests/data/ledger/three_parts.jsonl", "--licences",
                         "tests/data/ledger/licences.csv", "--ledger", str(book))
    assert code == 0, err
    golden(GOLDEN / "ledger" / "three_parts.table.txt", out)
    golden(GOLDEN / "ledger" / "three_parts.stderr.txt", err.replace(str(book), "LEDGER"))
    code, out, err = cli("eval", "rules/ear", "tests/data/ledger/china_half.jsonl", "--ledger", str(tmp_path / "c.db"),
                         "--format", "csv")
    assert code == 0, err
    golden(GOLDEN / "ledger" / "china_half.csv", out)
    golden(GOLDEN / "ledger" / "china_half.stderr.txt", err.replace(str(tmp_path / "c.db"), "LEDGER"))
    code, out, _ = cli("eval", "rules/ear", "tests/data/ledger/three_parts.jsonl", "--licences",
                       "tests/data/ledger/licences.csv", "--format", "jsonl", "--explain")
    golden(GOLDEN / "ledger" / "three_parts.explain.jsonl", out)


def test_ledger_show_and_undo(cli, golden, tmp_path):
    book = tmp_path / "ledger.db"
    cli("eval", "rules/ear", "tests/data/ledger/three_parts.jsonl", "--licences", "tests/data/ledger/licences.csv",
        "--ledger", str(book))
    cli("eval", "rules/ear", "tests/data/ledger/china_half.jsonl", "--ledger", str(book))
    code, out, _ = cli("ledger", "show", str(book))
    assert code == 0
    shown = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", "TIME", out.replace(str(book), "LEDGER"))
    golden(GOLDEN / "ledger" / "show.txt", shown)
    code, out, _ = cli("ledger", "show", str(book), "--format", "json")
    assert [r["run"] for r in json.loads(out)["runs"]] == [1, 2]
    code, out, _ = cli("ledger", "undo", str(book))
    assert code == 0 and out == "removed run 2: 5 records, 5 draws\n"
    _, out, _ = cli("ledger", "show", str(book), "--format", "json")
    assert [r["run"] for r in json.loads(out)["runs"]] == [1]
    assert not any(b["name"] == "china_half" for b in json.loads(out)["balances"])
    code, _, err = cli("ledger", "undo", str(book), "--run", "7")
    assert code == 1 and "no run 7" in err


def test_a_ledger_for_other_rules_or_damaged_is_refused(cli, golden, tmp_path):
    book = tmp_path / "ledger.db"
    cli("eval", "rules/ear", "tests/data/ledger/three_parts.jsonl", "--ledger", str(book))
    code, out, err = cli("eval", "rules/ear", "tests/data/ledger/three_parts.jsonl", "--ledger", str(book),
                         "--timeline", "written")
    assert code == 4 and out == ""
    golden(GOLDEN / "ledger" / "other_rules.err", err.replace(str(book), "LEDGER"))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database, it only has a name like one\n" * 40)
    code, out, err = cli("eval", "rules/ear", "tests/data/ledger/three_parts.jsonl", "--ledger", str(junk))
    assert code == 4 and out == ""
    golden(GOLDEN / "ledger" / "damaged.err", err.replace(str(junk), "LEDGER"))
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    code, _, err = cli("ledger", "show", str(other))
    assert code == 4 and "not a chiprules ledger" in err


def test_the_batch_engine_is_not_used_with_quotas(cli, tmp_path):
    code, _, err = cli("eval", "rules/ear", "tests/data/ledger/three_parts.jsonl", "--engine", "batch",
                       "--ledger", str(tmp_path / "l.db"))
    assert code == 64 and "--engine batch decides no licences, quotas or ledgers" in err
    out = tmp_path / "out.csv"
    code, _, err = cli("eval", "rules/ear", "tests/data/ledger/three_parts.jsonl", "--licences",
                       "tests/data/ledger/licences.csv", "-o", str(out))
    assert code == 0, err
    text = out.read_text()
    assert "licence" in text.splitlines()[0] and "D1001" in text  # decided by the per-record engine
    assert WRITTEN.quotas_in_play(["id", "chip", "destination"], "written")
    assert not ENFORCED.quotas_in_play(["id", "chip", "destination"])
    assert ENFORCED.quotas_in_play(["id", "chip", "destination", "end_user_in_us"])


# ---- a run killed while it writes ---------------------------------------------------------------


def _run(book, records, pause=None, capture=False):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if pause is not None:
        env["CHIPRULES_LEDGER_PAUSE"] = str(pause)
    return subprocess.Popen([sys.executable, "-m", "chiprules", "eval", str(EAR), str(records), "--timeline",
                             "written", "--ledger", str(book), "--format", "jsonl"],
                            env=env, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_a_run_killed_while_writing_the_ledger_leaves_it_whole(tmp_path):
    rng = random.Random(5)
    first = tmp_path / "first.jsonl"
    second = tmp_path / "second.jsonl"
    recs = records_of([(rng.choice(DAYS), rng.randint(1, 900), rng.choice(["A", "B", "C"]), "IN")
                       for _ in range(60)])
    first.write_text("".join(json.dumps(r) + "\n" for r in recs[:30]))
    second.write_text("".join(json.dumps(r) + "\n" for r in recs[30:]))
    book = tmp_path / "ledger.db"
    p = _run(book, first)
    assert p.wait(120) == 0
    before = Ledger.open_existing(book).balances()
    # killed inside the transaction (held open), then at random moments of a run
    p = _run(book, second, pause=30)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if Ledger.open_existing(book).db.execute("SELECT count(*) FROM runs").fetchone()[0] >= 1 and \
                (tmp_path / "ledger.db-journal").exists():
            break
        time.sleep(0.05)
    assert (tmp_path / "ledger.db-journal").exists(), "the run never reached its commit"
    p.send_signal(signal.SIGKILL)
    p.wait(10)
    assert Ledger.open_existing(book).balances() == before
    for delay in (0.3, 0.8, 1.5, 2.5):
        p = _run(book, second)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        now = Ledger.open_existing(book).balances()
        runs = Ledger.open_existing(book).runs()
        assert now == before or len(runs) == 2  # the old state or the whole new run, never a part
        if len(runs) == 2:
            Ledger(book, "ear_advanced_computing", "written").undo()
    p = _run(book, second, capture=True)
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 0
    fresh = chiprules.open_ledger(tmp_path / "fresh.db", WRITTEN, "written")  # the same two runs, never killed
    list(WRITTEN.evaluate_many(recs[:30], ledger=fresh))
    expected = [json.loads(json.dumps(d.to_json(), default=str)) for d in WRITTEN.evaluate_many(recs[30:], ledger=fresh)]
    got = [json.loads(line) for line in out.decode().splitlines()]
    assert [(g["id"], g["outcome"], g.get("quotas")) for g in got] == \
        [(e["id"], e["outcome"], e.get("quotas")) for e in expected]
    assert Ledger.open_existing(book).balances() == fresh.balances()


def test_plot_draws_a_quotas_use_over_time(cli, tmp_path):
    pytest.importorskip("matplotlib")
    from chiprules.report.quota_plot import quota_series

    book = tmp_path / "ledger.db"
    cli("eval", "rules/ear", "tests/data/ledger/three_parts.jsonl", "--licences", "tests/data/ledger/licences.csv",
        "--ledger", str(book))
    series = quota_series(Ledger.open_existing(book), "D1001")
    assert [(s.label, s.limit, s.points, s.over) for s in series] == [
        ("2024-06-01 to 2025-05-31 (units)", 1000,
         ((dt.date(2024, 7, 1), 400), (dt.date(2024, 10, 1), 800)), (dt.date(2025, 2, 3),))]
    code, _, err = cli("plot", "rules/ear", "--ledger", str(book), "--quota", "D1001", "-o", str(tmp_path / "d.svg"))
    assert code == 0, err
    assert "<svg" in (tmp_path / "d.svg").read_text()
    code, _, err = cli("plot", "rules/ear", "--ledger", str(book), "--quota", "nothing", "-o", str(tmp_path / "n.svg"))
    assert code == 4 and "no draws on `nothing`" in err
    code, _, _ = cli("plot", "rules/ear", "--quota", "D1001", "-o", str(tmp_path / "n.svg"))
    assert code == 64


china_runs = st.lists(st.tuples(st.integers(0, 40), st.booleans(), st.integers(1, 400),
                                st.sampled_from(["NVIDIA H200 SXM", "AMD Instinct MI325X"])), min_size=1, max_size=10)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(china_runs)
def test_china_shipments_never_pass_half_of_those_before_them_to_us_end_users(drawn):
    recs = [{"id": f"C{n:02d}", "export_date": (dt.date(2026, 1, 20) + dt.timedelta(days=day)).isoformat(),
             "chip": chip, "destination": "US" if us else "CN", "end_user": "Example Co.",
             "end_user_hq": "US" if us else "CN", "end_user_in_us": us, "quantity": q}
            for n, (day, us, q, chip) in enumerate(drawn)]
    decisions = list(ENFORCED.evaluate_many(recs))
    fed: dict = {}
    allowed: dict = {}
    for d in sorted(decisions, key=lambda d: (d.record["export_date"], d.id)):
        chip = d.record["chip"]
        if d.record["end_user_in_us"]:
            fed[chip] = fed.get(chip, 0) + d.record["quantity"]
        elif d.review_policy == "case_by_case":
            allowed[chip] = allowed.get(chip, 0) + d.record["quantity"]
            assert 2 * allowed[chip] <= fed.get(chip, 0), d.id
        else:
            assert d.review_policy == "presumption_of_denial"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(DAYS[:4]), st.integers(1, 600)), min_size=1, max_size=10))
def test_a_licence_never_covers_more_than_its_quantity(drawn):
    recs = [{"id": f"L{n:02d}", "export_date": (day - dt.timedelta(days=365)).isoformat(), "chip": "NVIDIA H100 SXM",
             "destination": "AE", "end_user": "Example AI Ltd.", "end_user_hq": "AE", "quantity": q}
            for n, (day, q) in enumerate(drawn)]
    decisions = list(ENFORCED.evaluate_many(recs, licences=LICENCES))
    covered = sum(d.record["quantity"] for d in decisions if d.licence == "D1001")
    assert covered <= 1000
    for d in decisions:
        if d.licence is None and d.record["export_date"] <= dt.date(2025, 5, 31):
            assert any(u.status == "over" for u in d.quota_uses)
