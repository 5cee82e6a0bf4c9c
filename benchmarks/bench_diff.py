"""Time of the diffs between real versions (the ones with golden files).

    python benchmarks/bench_diff.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import chiprules  # noqa: E402
from chiprules.report.diff import diff  # noqa: E402

PAIRS = [("2022-10-07", "2023-11-17"), ("2023-11-17", "2024-12-02"), ("2025-05-13", "2026-01-15"),
         ("2023-11-17", "2024-03-15"), ("2023-11-17", "2023-11-17")]


def main():
    rules = chiprules.load(ROOT / "rules" / "ear")
    print(f"{'old':>12} {'new':>12} {'seconds':>8} {'classes':>8} {'regions':>8} {'changes':>8}")
    for old, new in PAIRS:
        a = chiprules.Rules([rules.version(old)], rules.catalog)
        b = chiprules.Rules([rules.version(new)], rules.catalog)
        t0 = time.perf_counter()
        report = diff(a, b)
        elapsed = time.perf_counter() - t0
        print(f"{old:>12} {new:>12} {elapsed:8.2f} {report.cells:8,} {len(report.regions):8} {len(report.changes):8}")


if __name__ == "__main__":
    main()
