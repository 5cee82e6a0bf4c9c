"""Keystroke latency of the language service on a 2,000-line version file.

The file is `rules/ear/2026-07-14.rules` with generated conditions and requirements added
until it is 2,000 lines long, written beside the original (so its includes resolve) and
removed afterwards. Each keystroke is one digit typed into a threshold near the end (a new text each time);
the service then answers diagnostics (a full check of the text, as `chiprules check` would),
a hover and a completion. Prints the median and the slowest of each.

    python benchmarks/bench_editor.py
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chiprules.editor import complete, hover, service  # noqa: E402


def big_text(lines: int = 2000) -> str:
    text = (ROOT / "rules/ear/2026-07-14.rules").read_text(encoding="utf-8")
    out = [text]
    i = 0
    while sum(t.count("\n") for t in out) < lines - 8:
        out.append(
            f'\ncondition generated_{i} "a generated threshold"\n'
            f"  = tpp >= {4800 + i} and destination in RS_SCOPE | {{AE}}\n\n"
            f'require license generated_rule_{i} "a generated requirement"\n'
            f'  cite "15 CFR 742.6"\n  for 3A090\n  when generated_{i} and not datacenter\n'
            f"  review case_by_case\n"
        )
        i += 1
    return "".join(out)


def main() -> None:
    gc.set_threshold(*service.GC_THRESHOLDS)  # as `chiprules lsp` sets them
    path = ROOT / "rules/ear/bench-2000-lines.rules"
    text = big_text()
    path.write_text(text, encoding="utf-8")
    try:
        ws = service.Workspace()
        ws.open(path, text)
        t = time.perf_counter()
        first = service.diagnostics(ws, path)
        print(f"{text.count(chr(10))} lines; first check {time.perf_counter() - t:.3f} s, "
              f"{len(first)} diagnostics")
        spot = text.index("tpp >= 4900") + len("tpp >= 4900")
        checks, hovers, completions = [], [], []
        for k in range(20):
            text = text[:spot] + str(k % 10) + text[spot:]  # a new text each time: nothing remembered
            t = time.perf_counter()
            ws.change(path, text)
            service.diagnostics(ws, path)
            checks.append(time.perf_counter() - t)
            t = time.perf_counter()
            hover.hover(ws, path, text.index("RS_SCOPE", spot) + 2)
            hovers.append(time.perf_counter() - t)
            t = time.perf_counter()
            complete.completion(ws, path, text.index("destination in ", spot) + len("destination in "))
            completions.append(time.perf_counter() - t)
        for name, xs in (("keystroke to diagnostics", checks), ("hover", hovers), ("completion", completions)):
            print(f"{name}: median {statistics.median(xs) * 1000:.0f} ms, slowest {max(xs) * 1000:.0f} ms")
    finally:
        path.unlink()


if __name__ == "__main__":
    main()
