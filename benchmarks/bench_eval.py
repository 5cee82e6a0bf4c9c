"""Records per second: the compiled evaluator beside a hand-written function.

Builds 100,000 shipment records, decides them with `Rules.evaluate_many`
under the 2023-11-17 rules, and with a plain Python function that implements
the same rules by hand (classification, RS scope, HQ rule, NAC), in one
process. Prints both rates and their ratio.

    python benchmarks/bench_eval.py [--records N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import chiprules  # noqa: E402
from chiprules.lang.checker import check_file  # noqa: E402

VERSION = ROOT / "rules" / "ear" / "2023-11-17.rules"


def build_records(n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    dests = ["CN", "HK", "MO", "VN", "AE", "SA", "IL", "IN", "SG", "DE", "JP", "GB", "MY", "BR", "RU"]
    hqs = ["CN", "US", "DE", "SG", "JP", "MO", "KR"]
    users = ["Example Cloud Ltd.", "Northwind Compute", "Contoso AI", "Fabrikam Research"]
    records = []
    for i in range(n):
        tpp = Decimal(rng.choice([1544, 2368, 4000, 4707, 4800, 4992, 5285, 15832, rng.randrange(100, 40000)]))
        records.append({
            "id": f"B{i}",
            "destination": rng.choice(dests),
            "end_user": rng.choice(users),
            "end_user_hq": rng.choice(hqs),
            "tpp": tpp,
            "die_area": Decimal(rng.choice([294, 608, 609, 814, 826])),
            "datacenter": rng.random() < 0.7,
        })
    return records


STRICT = {"presumption_of_approval": 0, "case_by_case": 1, "presumption_of_denial": 2, "policy_of_denial": 3}


def make_hand_written(model):
    """The 2023-11-17 rules, written by hand (sets taken from the checked model)."""
    rs_scope = model.groups["RS_SCOPE"] | {a for a, t in model.treat.items() if t in model.groups["RS_SCOPE"]}
    macau_d5 = model.groups["MACAU_D5"] | {a for a, t in model.treat.items() if t in model.groups["MACAU_D5"]}
    # the Entity List test screens the end user (fuzzy, the destination as evidence) as the
    # rules do, with the same screener and a result remembered per name and country
    from chiprules.screening.screener import Screener

    lst = model.lists["entity_list"]
    screener = Screener(lst.entries, match_score=lst.match_score, possible_score=lst.possible_score)
    on = dt.date(2024, 1, 10)
    screened: dict = {}

    def listed(name, country):
        key = (name, country)
        status = screened.get(key)
        if status is None:
            status = screened[key] = screener.screen(name, on=on, country=country).status
        return status == "match"
    k4800, k1600, k2400 = Decimal(4800), Decimal(1600), Decimal(2400)
    k592, k16, k32 = Decimal("5.92"), Decimal("1.6"), Decimal("3.2")

    def decide(r):
        tpp, area, dc = r["tpp"], r["die_area"], r["datacenter"]
        a = tpp >= k4800 or (tpp >= k1600 and tpp >= k592 * area)
        b = ((k2400 <= tpp < k4800 and k16 * area <= tpp < k592 * area)
             or (tpp >= k1600 and k32 * area <= tpp < k592 * area))
        note2 = not dc and tpp < k4800
        cls = "3A090.a" if a and not note2 else ("3A090.b" if b and not note2 else None)
        fired = []
        dest, hq = r["destination"], r["end_user_hq"]
        if cls:
            if dest in rs_scope:
                fired.append(("rs", "presumption_of_denial" if dest in macau_d5 else "presumption_of_approval"))
            if hq in macau_d5:
                fired.append(("hq", "presumption_of_denial"))
        on_list = listed(r["end_user"], dest)
        if on_list:
            fired.append(("el", "presumption_of_denial"))
        if not fired:
            return ("no_license_required", cls)
        review = max((p for _, p in fired), key=STRICT.__getitem__)
        nac = cls and not on_list and ((cls == "3A090.a" and not dc) or (cls == "3A090.b" and dc))
        return ("license_exception" if nac else "license_required", cls, review)

    return decide


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    args = ap.parse_args()
    model, diags = check_file(VERSION)
    if model is None:
        sys.exit("the 2023-11-17 rules do not check:\n" + "\n".join(d.message for d in diags))
    rules = chiprules.load(VERSION)
    records = build_records(args.records)
    hand = make_hand_written(model)

    # warm up both
    for r in records[:2000]:
        hand(r)
    for _ in rules.evaluate_many(records[:2000], as_of="2024-01-10"):
        pass

    t0 = time.perf_counter()
    hand_out = [hand(r) for r in records]
    t_hand = time.perf_counter() - t0

    t0 = time.perf_counter()
    engine_out = list(rules.evaluate_many(records, as_of="2024-01-10"))
    t_engine = time.perf_counter() - t0

    disagree = sum(1 for h, d in zip(hand_out, engine_out, strict=True) if h[0] != d.outcome)
    n = len(records)
    print(f"records:              {n:,}")
    print(f"hand-written:         {n / t_hand:12,.0f} records/s")
    print(f"chiprules (compiled): {n / t_engine:12,.0f} records/s  (evaluate_many: typing, defaults, deciding)")
    print(f"ratio engine/hand:    {t_hand / t_engine:12.3f}")
    print(f"outcome disagreements: {disagree}")
    if disagree:
        sys.exit(1)


if __name__ == "__main__":
    main()
