"""Parse and check time for a generated rules file of about 5,000 lines.

    python benchmarks/bench_check.py [--lines N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chiprules.core.source import Source  # noqa: E402
from chiprules.lang.checker import check_file  # noqa: E402
from chiprules.lang.parser import parse_source  # noqa: E402

FIELDS = (ROOT / "rules" / "fields.rules").read_text()
CODES = ["CN", "MO", "VN", "AE", "SA", "IL", "IN", "SG", "DE", "JP", "GB", "BR", "RU", "KH", "NI"]


def build(lines: int) -> str:
    out = ['ruleset bench version 2024-01-01 effective 2024-01-01 source "generated"', FIELDS]
    n = 0
    while sum(s.count("\n") + 1 for s in out) < lines:
        codes = ", ".join(CODES[(n + i) % len(CODES)] for i in range(5))
        out.append(f"""
# group and rules number {n}
group G{n} "generated group {n}"
  cite "15 CFR 740 Supp. 1"
  = {{{codes}}}

classify 3A{n:03d}.a "generated paragraph {n}"
  cite "15 CFR 774 Supp. 1"
  when item_kind == ic and (tpp >= {4800 + n} or (tpp >= 1600 and performance_density >= 5.92 TPP/mm2))
  except "note" when not datacenter and tpp < 4800

require license r{n} "generated requirement {n}"
  cite "15 CFR 742.6"
  for 3A{n:03d}
  when destination in G{n} - {{US}} and dram_bw < {6500 + n} GB/s
  review presumption_of_denial if destination in {{CN, MO}} otherwise case_by_case
  allows none
""")
        n += 1
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=5000)
    args = ap.parse_args()
    text = build(args.lines)
    n_lines = text.count("\n") + 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.rules"
        path.write_text(text)
        t0 = time.perf_counter()
        module, diags = parse_source(Source("bench.rules", text))
        t_parse = time.perf_counter() - t0
        assert module is not None, diags[:3]
        t0 = time.perf_counter()
        model, diags = check_file(path)
        t_check = time.perf_counter() - t0
        assert model is not None, [d.message for d in diags[:3]]
    print(f"lines:                 {n_lines:,}")
    print(f"parse:                 {t_parse:.3f} s  ({n_lines / t_parse:,.0f} lines/s)")
    print(f"parse + check:         {t_check:.3f} s  ({len(model.rules)} rules, {len(model.groups)} groups)")


if __name__ == "__main__":
    main()
