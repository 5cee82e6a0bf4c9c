"""A bounded load test on loopback: 8 concurrent clients send 2,000 shipments, one per request,
and every decision equals the one `chiprules eval --format jsonl` gives the same records."""

from __future__ import annotations

import csv
import io
import json
import statistics
import threading
import time

import httpx
import pytest
from click.testing import CliRunner

from chiprules.cli import main
from chiprules.serve import Logs, Served, Settings, create_app

from .conftest import ROOT
from .serving import running

CLIENTS, DECISIONS = 8, 2_000


def shipments(n: int) -> list[dict]:
    with (ROOT / "examples" / "shipments.csv").open(newline="", encoding="utf-8") as f:
        rows = [{k: v for k, v in r.items() if v != ""} for r in csv.DictReader(f)]
    out = []
    for i in range(n):
        r = dict(rows[i % len(rows)])
        r["id"] = f"L-{i:05d}"
        if i % 3 == 0 and "end_user" in r:  # names the screening has not met before
            r["end_user"] = f"{r['end_user']} {i % 97}"
        out.append(r)
    return out


@pytest.mark.slow
def test_eight_clients_two_thousand_decisions_equal_to_eval(tmp_path):
    records = shipments(DECISIONS)
    path = tmp_path / "load.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    res = CliRunner().invoke(main, ["eval", str(ROOT / "rules" / "ear"), str(path), "--format", "jsonl"])
    assert res.exit_code in (0, 2), res.output
    expected = {}
    for line in res.stdout.splitlines():
        obj = json.loads(line)
        obj.pop("location")
        expected[obj["id"]] = obj

    app = create_app(Served(ROOT / "rules" / "ear", interval=0), Settings(), Logs(io.StringIO()))
    got, latencies, failures = {}, [], []
    lock = threading.Lock()

    def client(mine: list[dict]) -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            for rec in mine:
                t = time.perf_counter()
                r = c.post("/v1/decisions", json={"record": rec})
                elapsed = time.perf_counter() - t
                with lock:
                    latencies.append(elapsed)
                    if r.status_code != 200:
                        failures.append(f"{rec['id']}: {r.status_code} {r.text[:200]}")
                        continue
                    (d,) = r.json()["decisions"]
                    d.pop("location")
                    got[rec["id"]] = d

    with running(app) as url:
        threads = [threading.Thread(target=client, args=(records[k::CLIENTS],)) for k in range(CLIENTS)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        wall = time.perf_counter() - start
    assert not any(t.is_alive() for t in threads), "a client did not finish in time"
    assert not failures, failures[:3]
    assert len(got) == DECISIONS
    for rid, d in expected.items():
        assert got[rid] == d, rid
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    print(f"\n{DECISIONS} decisions from {CLIENTS} clients in {wall:.1f} s: {DECISIONS / wall:.0f} requests/s, "
          f"p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms")
    assert wall < 240
