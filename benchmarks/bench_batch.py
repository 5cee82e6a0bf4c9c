"""The batch engine beside the per-record engine and the hand-written 2023 rules, in one run.

    python benchmarks/bench_batch.py --rows 1000000
    python benchmarks/bench_batch.py --rows 1000000 --lists sample,big --spark
    python benchmarks/bench_batch.py --rows 10000000 --kinds realistic --record-rows 0

For each kind of records (``realistic``: catalog chips and unnamed ones, 10 % missing a
needed fact, 2 % listed buyers, half the names distinct; ``complete``: every fact given,
no listed buyer) and each screening list (``sample``: the 78 entries of
``rules/lists/entity_list_sample.csv``; ``big``: 50,000 entries in the screening-list
format, from ``gen_csl.py``), it runs, each in its own process so that peak memory is its
own, Parquet in and Parquet out:

* ``batch``: ``chiprules eval RULES IN.parquet -o OUT.parquet`` (DuckDB), as of 2024-01-10
  (the 2023-11-17 version, the one the hand-written function encodes), and again by each
  record's own date (every version);
* ``record``: the same command with ``--engine record`` on the first ``--record-rows``
  rows (the per-record engine is slow enough that a sample gives its rate);
* ``baseline``: the 2023-11-17 rules written by hand (``baseline_2023.make_baseline``),
  screening each (name, country) once, reading the Parquet file into dicts and writing
  the outcomes to Parquet, as the engines do; a record missing a fact the function reads
  (destination, end user, headquarters, item kind, TPP, datacenter) is ``indeterminate``
  to it (it gives up, where the engines split cases);
* ``spark`` (with ``--spark``): ``--engine spark`` on a local session, as of 2024-01-10.

It prints wall and CPU seconds (user + system of the process and its children, from
``wait4``), records per second, peak resident memory, each engine's speed as a multiple
of the baseline's, and checks the answers: the batch engine's outcomes must equal the
per-record engine's on the sample rows, and the baseline's wherever the baseline decides.
The data and the big list are generated once into ``--dir`` and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = "2024-01-10"
#: the facts the hand-written function needs; a record without one is `indeterminate` to it
NEEDED = ("destination", "end_user", "end_user_hq", "item_kind", "tpp", "datacenter")


def run(cmd: list[str], log: Path) -> dict:
    """Run ``cmd``; its wall time, CPU time (with its children) and peak memory."""
    start = time.perf_counter()
    with open(log, "w") as err:
        proc = subprocess.Popen(cmd, stdout=err, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1, 2, 3, 4, 5):
        sys.exit(f"{' '.join(cmd)} failed ({code}); see {log}")
    # ru_maxrss of wait4 is the child's own peak (and of its waited-for children), in KiB
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024}


def ensure_records(folder: Path, kind: str, rows: int) -> Path:
    path = folder / f"{kind}-{rows}.parquet"
    if not path.exists():
        print(f"generating {rows:,} {kind} records into {path} ...", flush=True)
        cmd = [sys.executable, str(HERE / "gen_shipments.py"), "--rows", str(rows), "-o", str(path)]
        if kind == "complete":
            cmd.append("--complete")
        run(cmd, folder / f"gen-{kind}-{rows}.log")
    return path


def ensure_big_rules(folder: Path) -> Path:
    copy = folder / "rules-big"
    if not (copy / "lists" / "big.csv").exists():
        print(f"writing a 50,000-entry list and a copy of rules/ into {copy} ...", flush=True)
        run([sys.executable, str(HERE / "gen_csl.py"), "--rules-copy", str(copy)], folder / "gen-csl.log")
    return copy / "ear"


def head(path: Path, rows: int, folder: Path) -> Path:
    import pyarrow.parquet as pq

    out = folder / f"{path.stem}-head{rows}.parquet"
    if not out.exists():
        import pyarrow as pa

        source, batches, n = pq.ParquetFile(path), [], 0
        for batch in source.iter_batches(batch_size=min(rows, 65_536)):
            batches.append(batch.slice(0, rows - n))
            n += len(batches[-1])
            if n >= rows:
                break
        pq.write_table(pa.Table.from_batches(batches), out)
    return out


def outcomes(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=["outcome"]).column("outcome").to_pylist()


def baseline_main(rules: str, src: str, dst: str) -> None:
    """One process: read ``src``, decide every record by hand, write the outcomes to ``dst``."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    sys.path.insert(0, str(HERE))
    from baseline_2023 import make_baseline

    import chiprules

    model = chiprules.load(rules).version("2023-11-17")
    decide = make_baseline(model, on=dt.date.fromisoformat(AS_OF))
    cpu = time.process_time()
    out = []
    for batch in pq.ParquetFile(src).iter_batches(batch_size=100_000):
        for row in batch.to_pylist():
            r = {k: v for k, v in row.items() if v is not None}
            if any(k not in r for k in NEEDED):  # the function reads these without a default
                out.append("indeterminate")
                continue
            try:
                out.append(decide(r)[0])
            except (KeyError, TypeError, ArithmeticError):  # a fact the function needs is missing
                out.append("indeterminate")
    pq.write_table(pa.table({"outcome": out}), dst)
    print(json.dumps({"decide_cpu": time.process_time() - cpu, "screened": len(decide.screened)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--kinds", default="realistic,complete")
    ap.add_argument("--lists", default="sample", help="sample, big, or both (sample,big)")
    ap.add_argument("--record-rows", type=int, default=50_000,
                    help="rows for the per-record engine (0: skip it)")
    ap.add_argument("--spark", action="store_true", help="also time --engine spark")
    ap.add_argument("--no-dated", action="store_true", help="skip the run by each record's own date")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/chiprules-bench"))
    ap.add_argument("--baseline-run", nargs=3, metavar=("RULES", "IN", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.baseline_run:
        baseline_main(*args.baseline_run)
        return
    folder = args.dir
    folder.mkdir(parents=True, exist_ok=True)
    eval_cmd = [sys.executable, "-m", "chiprules", "eval"]
    rows_out = []
    for lst in args.lists.split(","):
        rules = str(ROOT / "rules" / "ear") if lst == "sample" else str(ensure_big_rules(folder))
        for kind in args.kinds.split(","):
            data = ensure_records(folder, kind, args.rows)
            tag = f"{kind}/{lst}"
            res: dict[str, dict] = {}
            out = folder / f"out-{kind}-{lst}"
            print(f"\n== {args.rows:,} {kind} records, {lst} list ==", flush=True)
            for stale in folder.glob(f"out-{kind}-{lst}-*.parquet"):
                stale.unlink()
            res["batch"] = run([*eval_cmd, rules, str(data), "-o", f"{out}-batch.parquet", "--as-of", AS_OF],
                               folder / "batch.log")
            res["batch"]["n"] = args.rows
            if not args.no_dated:
                res["batch, own dates"] = run([*eval_cmd, rules, str(data), "-o", f"{out}-dated.parquet"],
                                              folder / "dated.log")
                res["batch, own dates"]["n"] = args.rows
            base = run([sys.executable, str(HERE / "bench_batch.py"), "--baseline-run", rules, str(data),
                        f"{out}-base.parquet"], folder / "base.log")
            base.update(json.loads((folder / "base.log").read_text().strip().splitlines()[-1]))
            base["n"] = args.rows
            res["baseline"] = base
            if args.record_rows:
                sample = head(data, args.record_rows, folder)
                res["record"] = run([*eval_cmd, rules, str(sample), "-o", f"{out}-record.parquet",
                                     "--as-of", AS_OF, "--engine", "record"], folder / "record.log")
                res["record"]["n"] = args.record_rows
            if args.spark:
                res["spark"] = run([*eval_cmd, rules, str(data), "-o", f"{out}-spark.parquet", "--as-of", AS_OF,
                                    "--engine", "spark"], folder / "spark.log")
                res["spark"]["n"] = args.rows
            # the answers: batch == record on the sample; batch == baseline where the baseline decides
            batch = outcomes(Path(f"{out}-batch.parquet"))
            assert len(batch) == args.rows, f"{len(batch)} output rows for {args.rows} input rows"
            checks = []
            if args.record_rows:
                rec = outcomes(Path(f"{out}-record.parquet"))
                diff = sum(a != b for a, b in zip(batch, rec, strict=False))
                checks.append(f"batch vs record engine on {len(rec):,} rows: {diff} differences")
            basel = outcomes(Path(f"{out}-base.parquet"))
            decided = [(a, b) for a, b in zip(batch, basel, strict=True) if b != "indeterminate"]
            diff = sum(a != b for a, b in decided)
            checks.append(f"batch vs baseline on the {len(decided):,} rows the baseline decides: "
                          f"{diff} differences")
            if args.spark and Path(f"{out}-spark.parquet").exists():
                sp = outcomes(Path(f"{out}-spark.parquet"))
                checks.append(f"spark vs batch: {sum(a != b for a, b in zip(batch, sp, strict=True))} differences")
            elif args.spark:
                checks.append(f"spark wrote no output: see {folder / 'spark.log'}")
                del res["spark"]
            counts = Counter(batch)
            print("batch outcomes as of " + AS_OF + ": " + ", ".join(f"{k} {v:,}" for k, v in counts.most_common()))
            for c in checks:
                print(c)
            b_rate = base["n"] / base["wall"]
            print(f"{'engine':<20}{'rows':>12}{'wall s':>9}{'CPU s':>9}{'rows/s wall':>13}"
                  f"{'rows/CPU s':>12}{'peak MB':>9}{'x baseline':>11}")
            for name, r in res.items():
                rate = r["n"] / r["wall"]
                print(f"{name:<20}{r['n']:>12,}{r['wall']:>9.1f}{r['cpu']:>9.1f}{rate:>13,.0f}"
                      f"{r['n'] / r['cpu']:>12,.0f}{r['rss']:>9,.0f}{rate / b_rate:>11.2f}")
            print(f"(baseline: {base['decide_cpu']:.1f} s CPU deciding, {base['screened']:,} names screened; "
                  "x baseline compares rows per wall second, reading and writing Parquet included)")
            rows_out.append((tag, res))


if __name__ == "__main__":
    main()
