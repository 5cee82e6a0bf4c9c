"""Decisions per second over HTTP: `chiprules serve` in its own process on loopback, and
concurrent clients each sending one shipment per request.

    python benchmarks/bench_serve.py [--clients 8] [--requests 20000] [--batch 1]

Prints requests and decisions per second and the latency percentiles a client saw. Only
127.0.0.1 is used; the run is bounded by the number of requests.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def records(n: int) -> list[dict]:
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drive(url: str, recs: list[dict], clients: int, batch: int) -> tuple[list[float], float, list[dict]]:
    """Send ``recs`` from ``clients`` threads, ``batch`` records a request; latencies in seconds."""
    chunks = [recs[i:i + batch] for i in range(0, len(recs), batch)]
    latencies: list[float] = []
    decided: list[dict] = []
    lock = threading.Lock()
    errors: list[str] = []

    def client(mine):
        with httpx.Client(base_url=url, timeout=30) as c:
            for chunk in mine:
                t = time.perf_counter()
                res = c.post("/v1/decisions", json={"records": chunk})
                dt = time.perf_counter() - t
                with lock:
                    latencies.append(dt)
                    if res.status_code != 200:
                        errors.append(f"{res.status_code}: {res.text[:200]}")
                    else:
                        decided.extend(res.json()["decisions"])

    threads = [threading.Thread(target=client, args=(chunks[k::clients],)) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return latencies, elapsed, decided


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(p * 10) - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=1, help="records per request")
    ap.add_argument("--rules", default=str(ROOT / "rules" / "ear"))
    args = ap.parse_args()
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    server = subprocess.Popen([sys.executable, "-m", "chiprules", "serve", args.rules, "--port", str(port),
                               "--max-records", str(max(args.batch, 1000))],
                              env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the service did not start")
            time.sleep(0.1)
        recs = records(args.requests * args.batch)
        drive(url, recs[: 200 * args.batch], args.clients, args.batch)  # warm up: versions, screening
        latencies, elapsed, decided = drive(url, recs, args.clients, args.batch)
    finally:
        server.terminate()
        server.wait(timeout=10)
    n = len(latencies)
    print(json.dumps({
        "clients": args.clients, "requests": n, "records_per_request": args.batch, "decisions": len(decided),
        "seconds": round(elapsed, 2), "requests_per_s": round(n / elapsed, 1),
        "decisions_per_s": round(len(decided) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2), "p99_ms": round(percentile(latencies, 99) * 1000, 2),
    }))


if __name__ == "__main__":
    main()
