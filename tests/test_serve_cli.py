"""`chiprules serve`: one command starts the service; rules that do not check stop it before it
starts, with the diagnostics of `chiprules check`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
from click.testing import CliRunner

from chiprules.cli import main

from .conftest import ROOT
from .serving import small_rules


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_answers_and_stops(tmp_path):
    ear = small_rules(tmp_path)
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), CHIPRULES_TOKEN="t0ken")
    proc = subprocess.Popen([sys.executable, "-m", "chiprules", "serve", str(ear), "--port", str(port)],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)
        auth = {"Authorization": "Bearer t0ken"}  # the token from the environment
        assert httpx.get(url + "/ready").status_code == 401
        res = httpx.post(url + "/v1/decisions", headers=auth, json={"record": {
            "chip": "NVIDIA H100 SXM", "destination": "CN", "export_date": "2024-04-01"}})
        (d,) = res.json()["decisions"]
        assert d["outcome"] == "license_required" and d["ruleset"]["version"] == "2024-03-15"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"serving 1 version of {ear}" in err and f"at http://127.0.0.1:{port}/" in err
    assert '"event": "access", ' in err and '"path": "/v1/decisions", "status": 200' in err
    assert "Traceback" not in err and out == ""


def test_serve_refuses_rules_that_do_not_check(tmp_path):
    ear = small_rules(tmp_path)
    version = ear / "2024-03-15.rules"
    version.write_text(version.read_text(encoding="utf-8") + '\nclassify 3A090.z "x"\n  cite "c"\n  when tpp >= 1 GB/s\n',
                       encoding="utf-8")
    res = CliRunner().invoke(main, ["serve", str(ear)])
    assert res.exit_code == 5  # the rules do not load
    assert "error[E204]: cannot compare TPP with GB/s" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["serve", str(tmp_path / "nowhere")])
    assert res.exit_code == 64 and "does not exist" in res.output  # the command line names no rules


def test_serve_refuses_a_decision_log_it_cannot_open(tmp_path):
    ear = small_rules(tmp_path)
    res = CliRunner().invoke(main, ["serve", str(ear), "--decision-log", str(tmp_path / "no" / "such" / "x.jsonl")])
    assert res.exit_code == 4  # the log file cannot be written
    assert res.output.startswith("error: cannot open the decision log") and "Traceback" not in res.output
