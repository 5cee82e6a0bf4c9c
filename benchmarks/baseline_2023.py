"""The 2023-11-17 rules written by hand in Python, checked against the engine and timed.

    python benchmarks/baseline_2023.py --check 20000
    python benchmarks/baseline_2023.py --bench 1000000 [--records FILE.parquet] [--stage S]

``make_baseline(model)`` returns ``decide(record)``: a plain Python function of
``rules/ear/2023-11-17.rules`` that takes a typed record (a dict of ``Decimal``, ``bool``,
ISO country codes, as ``Rules.evaluate_many`` takes them) and returns ``(outcome,
classification, review_policy, exceptions)``, with ``exceptions`` a tuple of ``(name,
notification duties)``, the shape of a ``Decision``:

* classification 3A090.a/.b (item_kind ``ic``) and 4A090.a/.b (``computer``): TPP of 4800
  or more, or 1600 or more at a density of 5.92 TPP/mm2; .b: TPP 2400 to 4800 at a
  density of 1.6 to 5.92, or TPP 1600 or more at 3.2 to 5.92, and not .a; Notes 2 and 3
  exclude items not for datacenters below TPP 4800. The density is the record's
  ``performance_density`` when it gives one, else ``tpp / die_area`` compared by
  cross-multiplication (``tpp >= 5.92 * die_area``), exact in ``Decimal``;
* the RS licence for 3A090/4A090 items to RS_SCOPE (D:1, D:4, D:5 less A:5 and A:6),
  presumption of denial to Macau and D:5, else of approval; the headquarters rule
  (end user headquartered in Macau or D:5: presumption of denial); the Entity List rule
  (end user or consignee listed; the strictest review policy of the matched entries);
  the strictest review wins;
* License Exception NAC for .a items not for datacenters and .b items for datacenters,
  unless the Entity List rule fired, with the prior notification when the destination
  or the headquarters is in Macau or D:5.

The country sets (with Hong Kong treated as China), the party list and its scores, and
the notification text are read from the checked model of the version, so they are the
rules' own. Names are screened with the project's ``Screener`` (destination as evidence,
on the evaluation date), one result remembered per (name, country). A possible match is
tried both ways, real (with its entry's review policy) and not, as the engine's case
split does: ``indeterminate`` when the outcome differs, else the decision, with the
classification and exceptions common to both and the stricter review.

``--check N`` decides N complete records of ``gen_shipments.py`` with the baseline and
with ``chiprules.load("rules/ear").evaluate_many(..., as_of="2024-01-10")``, then the
same records with one buyer in 30 replaced by a name or alias of the Entity List sample
(complete records name no listed party, and the Entity List rule would go untested),
and prints every record where the two disagree (a bug in one of them).

``--bench N`` times, in one process on the same typed complete records (generated, or
read from ``--records FILE.parquet`` written by ``gen_shipments.py --complete``): the
baseline; the baseline again over names it has screened already (the rules alone,
without party screening); ``evaluate_many`` as of 2024-01-10 on the records as they
are; on the same records without their ``chip`` name (every figure is in the record; a
record naming a chip takes the engine's general path, which looks the name up in the
catalog); and by each record's own date (every version of ``rules/ear``). It prints
records per CPU second of the process (``time.process_time``, which other work on a
shared machine disturbs less than the wall clock; the wall time is printed too), the
engine's time as a multiple of the baseline's, and the peak resident memory after each
stage. Each stage starts with empty screening caches, as the baseline does (the rules
are loaded again and the engine's shared screeners dropped). ``--stage`` runs one stage
only, for a clean peak.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import itertools
import resource
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import chiprules  # noqa: E402
from chiprules.eval.screens import screener_for  # noqa: E402
from chiprules.screening.screener import Screener  # noqa: E402

AS_OF = dt.date(2024, 1, 10)
STRICTNESS = {"presumption_of_approval": 0, "case_by_case": 1, "presumption_of_denial": 2,
              "policy_of_denial": 3}
PoA, PoD = "presumption_of_approval", "presumption_of_denial"
K1600, K2400, K4800 = Decimal(1600), Decimal(2400), Decimal(4800)
D16, D32, D592 = Decimal("1.6"), Decimal("3.2"), Decimal("5.92")


def make_baseline(model, on: dt.date = AS_OF):
    """``decide(record)`` for the 2023-11-17 version (see the module documentation)."""
    treat = model.treat

    def countries(name: str) -> frozenset:  # a group with the codes treated as its members
        members = model.groups[name]
        return frozenset(members) | {a for a, t in treat.items() if t in members}

    rs_scope, macau_d5 = countries("RS_SCOPE"), countries("MACAU_D5")
    (nac,) = [e for e in model.exceptions if e.id == "NAC"]
    notice = (nac.notify[0].text,)
    lst = model.lists["entity_list"]
    screener = Screener(lst.entries, match_score=lst.match_score, possible_score=lst.possible_score)
    screened: dict = {}

    def screen(name, country):
        """(status, review policy of the best candidate), remembered per name and country."""
        key = (name, country)
        hit = screened.get(key)
        if hit is None:
            res = screener.screen(name, on=on, country=country)
            policy = None
            if res.status != "none":
                policy = res.best.entry.review_policy
                policy = policy if policy in STRICTNESS else PoD
            hit = screened[key] = (res.status, policy)
        return hit

    def verdict(r, classes, listed):
        """The decision once it is known which parties are listed (their policies)."""
        dest, hq = r.get("destination"), r.get("end_user_hq")
        reviews = []
        if classes:
            if dest in rs_scope:
                reviews.append(PoD if dest in macau_d5 else PoA)
            if hq in macau_d5:
                reviews.append(PoD)
        if listed:
            reviews.append(max(listed, key=STRICTNESS.__getitem__))
        if not reviews:
            return ("no_license_required", classes, None, ())
        review = max(reviews, key=STRICTNESS.__getitem__)
        paragraph = classes[0][-1] if classes else None
        if not listed and ((paragraph == "a" and not r["datacenter"])
                           or (paragraph == "b" and r["datacenter"])):
            duty = notice if dest in macau_d5 or hq in macau_d5 else ()
            return ("license_exception", classes, review, (("NAC", duty),))
        return ("license_required", classes, review, ())

    def decide(r: dict):
        kind = r.get("item_kind", "ic")
        classes: tuple = ()
        if kind == "ic" or kind == "computer":
            tpp = r["tpp"]
            density = r.get("performance_density")
            area = r.get("die_area")

            def dense(c):  # performance density >= c
                return density >= c if density is not None else tpp >= c * area

            if r["datacenter"] or tpp >= K4800:  # Notes 2 and 3 exclude the rest
                if tpp >= K4800 or (tpp >= K1600 and dense(D592)):
                    classes = ("3A090.a",) if kind == "ic" else ("4A090.a",)
                # not .a: TPP below 4800, and below density 5.92 from TPP 1600 up
                elif tpp >= K1600 and ((tpp >= K2400 and dense(D16)) or dense(D32)):
                    classes = ("3A090.b",) if kind == "ic" else ("4A090.b",)
        dest = r.get("destination")
        end_user = r.get("end_user")
        consignee = r.get("consignee") or end_user
        listed, open_ = [], []
        for name in (end_user, consignee) if consignee != end_user else (end_user,):
            status, policy = screen(name, dest)
            if status == "match":
                listed.append(policy)
            elif status == "possible":
                open_.append(policy)
        if not open_:
            return verdict(r, classes, listed)
        # possible matches: a reviewer settles each; decided only if no answer matters
        leaves = [verdict(r, classes, listed + [p for p, real in zip(open_, reals, strict=True)
                                                if real])
                  for reals in itertools.product((True, False), repeat=len(open_))]
        first = leaves[0]
        if any(leaf[0] != first[0] for leaf in leaves):
            return ("indeterminate", (), None, ())
        if all(leaf == first for leaf in leaves):
            return first
        reviews = {leaf[2] for leaf in leaves}
        return (first[0], tuple(c for c in first[1] if all(c in leaf[1] for leaf in leaves)),
                max(reviews, key=STRICTNESS.__getitem__) if len(reviews) > 1 else first[2],
                tuple(g for g in first[3] if all(g in leaf[3] for leaf in leaves)))

    decide.screened = screened
    return decide


def decision_tuple(d) -> tuple:
    return (d.outcome, tuple(d.classification), d.review_policy,
            tuple((g.name, tuple(g.notify)) for g in d.license_exceptions))


def typed(records) -> list[dict]:
    """Records without their missing values (as a caller of evaluate_many passes them)."""
    return [{k: v for k, v in r.items() if v is not None} for r in records]


def complete_records(n: int, seed: int, path: Path | None) -> list[dict]:
    if path is not None:
        import pyarrow.parquet as pq

        out = []
        for batch in pq.ParquetFile(path).iter_batches(batch_size=100_000):
            out.extend({k: v for k, v in row.items() if v is not None}
                       for row in batch.to_pylist())
            if len(out) >= n:
                break
        return out[:n]
    from gen_shipments import ShipmentGenerator

    return typed(ShipmentGenerator(seed=seed, complete=True).records(n))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def with_listed(records: list[dict], entries, every: int = 30) -> list[dict]:
    """Copies of the records where one buyer in ``every`` is a listed name or alias."""
    out = []
    for i, r in enumerate(records):
        r = dict(r)
        if i % every == 0:
            e = entries[(i // every) % len(entries)]
            forms = (e.name, *e.aliases)
            r["end_user"] = r["end_user_parent"] = forms[(i // every) % len(forms)]
            if r.get("consignee") == records[i].get("end_user") or i % (2 * every) == 0:
                r["consignee"] = r["end_user"]
            r["destination"] = r["end_user_hq"] = e.country
        out.append(r)
    return out


def at_thresholds(r: dict) -> bool:
    """A record exactly at a TPP or density threshold of the 2023 rules."""
    tpp, area, density = r.get("tpp"), r.get("die_area"), r.get("performance_density")
    if tpp is None:
        return False
    if tpp in (K1600, K2400, K4800):
        return True
    if density is None and area:
        density = tpp / area
    return density in (D16, D32, D592)


def check(n: int, seed: int, path: Path | None) -> int:
    rules = chiprules.load(ROOT / "rules" / "ear")
    model = rules.version("2023-11-17")
    records = complete_records(n, seed, path)
    disagree = 0
    for title, recs in (("complete records", records),
                        ("the same, one buyer in 30 listed", with_listed(
                            records, model.lists["entity_list"].entries))):
        decide = make_baseline(model)
        outcomes: Counter = Counter()
        for r, d in zip(recs, rules.evaluate_many(recs, as_of=AS_OF), strict=True):
            mine, theirs = decide(r), decision_tuple(d)
            outcomes[theirs[0]] += 1
            if mine != theirs:
                disagree += 1
                if disagree <= 20:
                    print(f"DISAGREE {r.get('id')}: baseline {mine}\n  engine   {theirs}\n"
                          f"  record   {r}")
        print(f"{len(recs):,} {title} as of {AS_OF}: "
              + ", ".join(f"{k} {v:,}" for k, v in outcomes.most_common())
              + f"; {len(decide.screened):,} names screened")
    edge = sum(map(at_thresholds, records))
    print(f"{edge:,} records exactly at a TPP or density threshold; "
          f"{disagree} disagreement(s) in all")
    return disagree


def bench(n: int, seed: int, path: Path | None, stage: str | None) -> None:
    start = time.perf_counter()
    records = complete_records(n, seed, path)
    print(f"{len(records):,} typed complete records ready in {time.perf_counter() - start:.1f} s; "
          f"peak RSS {peak_mb():,.0f} MB")
    rules = chiprules.load(ROOT / "rules" / "ear")
    model = rules.version("2023-11-17")
    prepared = {"engine-nochip": None}

    fresh = {}

    def engine(as_of, recs=records):
        return Counter(d.outcome for d in fresh["rules"].evaluate_many(recs, as_of=as_of))

    def baseline():
        decide = make_baseline(model)
        return Counter(x[0] for x in map(decide, records))

    warm = {}

    def baseline_warm():
        return Counter(x[0] for x in map(warm["decide"], records))

    stages = {
        "baseline": ("hand-written baseline (2023-11-17)", baseline),
        "baseline-warm": ("the same, every name screened before", baseline_warm),
        "engine": ("evaluate_many as of 2024-01-10", lambda: engine(AS_OF)),
        "engine-nochip": ("evaluate_many as of 2024-01-10, no chip key",
                          lambda: engine(AS_OF, prepared["engine-nochip"])),
        "engine-dated": ("evaluate_many, each record's own date", lambda: engine(None)),
    }
    took = {}
    for key, (title, fn) in stages.items():
        if stage not in (None, key):
            continue
        if key.startswith("engine"):  # rules loaded again, screening caches empty: a cold start
            screener_for.cache_clear()
            fresh["rules"] = chiprules.load(ROOT / "rules" / "ear")
        if key == "engine-nochip":  # the copy without chip names is made before the clock
            prepared[key] = [{k: v for k, v in r.items() if k != "chip"} for r in records]
        if key == "baseline-warm":  # a first pass, untimed, fills the screening cache
            warm["decide"] = make_baseline(model)
            for r in records:
                warm["decide"](r)
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        counts = fn()
        took[key] = time.process_time() - cpu
        wall = time.perf_counter() - start
        prepared[key] = None
        print(f"{title:<46} {len(records) / took[key]:>10,.0f} records per CPU second "
              f"({took[key]:.1f} s CPU, {wall:.1f} s wall; peak RSS {peak_mb():,.0f} MB) "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    if "baseline" in took:
        for key, t in took.items():
            if key.startswith("engine"):
                print(f"ratio {key}: the engine takes {t / took['baseline']:.2f} times the "
                      "baseline's CPU time")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", type=int, metavar="N", help="compare with the engine on N records")
    ap.add_argument("--bench", type=int, metavar="N", help="time the engine and the baseline")
    ap.add_argument("--records", type=Path, help="complete records from a Parquet file")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--stage", choices=("baseline", "baseline-warm", "engine", "engine-nochip",
                                        "engine-dated"))
    args = ap.parse_args()
    if not args.check and not args.bench:
        ap.error("give --check N or --bench N")
    if args.check:
        if check(args.check, args.seed, args.records):
            sys.exit(1)
    if args.bench:
        bench(args.bench, args.seed, args.records, args.stage)


if __name__ == "__main__":
    main()
