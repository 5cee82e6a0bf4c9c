"""Rules reloaded while serving: a change is picked up, a broken file on disk keeps the last
good rules serving with its diagnostics at /ready, and the workbench writes only with
`--allow-edit`, only the versions' own files."""

from __future__ import annotations

import io
import json
import os
import time

import httpx
import pytest

from chiprules.serve import Logs, Served, Settings, create_app

from .serving import running, small_rules

RECORD = {"id": "r1", "chip": "NVIDIA H100 SXM", "destination": "NI", "export_date": "2024-04-01",
          "end_user": "Example Cloud Ltd.", "end_user_hq": "NI"}
BROKEN = ("classify 3A090.z \"Broken\"\n  cite \"15 CFR 774 Supp. 1\"\n  when tpp >= 600 GB/s\n")


def touch(path, text: str) -> None:
    """Write ``text`` and move the modification time on, so that even a coarse clock sees it."""
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


@pytest.fixture
def ear(tmp_path):
    return small_rules(tmp_path)


def decide(client) -> dict:
    res = client.post("/v1/decisions", json={"record": RECORD})
    assert res.status_code == 200, res.text
    return res.json()


def test_a_change_on_disk_is_served_and_a_broken_file_keeps_the_last_good_rules(ear):
    log = io.StringIO()
    served = Served(ear, interval=0, log=Logs(log).event)
    version_file = ear / "2024-03-15.rules"
    good = version_file.read_text(encoding="utf-8")
    with running(create_app(served, Settings(), Logs(io.StringIO()))) as url, httpx.Client(base_url=url) as client:
        first = decide(client)
        assert first["decisions"][0]["outcome"] == "license_required"
        assert served.check_now() is False  # nothing changed

        # a new comment changes the text, so the hash of the version and of the rules
        touch(version_file, good + "\n# reviewed\n")
        assert served.check_now() is True
        second = decide(client)
        assert second["rules"]["hash"] != first["rules"]["hash"]
        assert second["decisions"][0]["ruleset"]["hash"] != first["decisions"][0]["ruleset"]["hash"]
        assert client.get("/ready").json()["stale"] is False

        # a unit mismatch on disk: the last good rules go on serving, the diagnostics are at /ready
        touch(version_file, good + "\n" + BROKEN)
        assert served.check_now() is False
        ready = client.get("/ready").json()
        assert ready["ready"] is True and ready["stale"] is True
        assert ready["rules"]["hash"] == second["rules"]["hash"]
        (d,) = ready["reload"]["diagnostics"]
        assert (d["code"], d["message"]) == ("E204", "cannot compare TPP with GB/s")
        assert d["file"].endswith("2024-03-15.rules") and d["line"] == good.count("\n") + 4
        assert "error[E204]: cannot compare TPP with GB/s" in ready["reload"]["text"]
        third = decide(client)
        assert third["rules"] == second["rules"] and third["decisions"] == second["decisions"]

        events = [json.loads(line) for line in log.getvalue().splitlines()]
        assert [e["ok"] for e in events if e["event"] == "reload"] == [True, False]
        assert events[-1]["diagnostics"][0]["code"] == "E204"
        assert events[-1]["serving"] == second["rules"]["hash"]

        # fixed again: served, and /ready is clean
        touch(version_file, good)
        assert served.check_now() is True
        assert client.get("/ready").json()["stale"] is False
        assert decide(client)["decisions"][0]["ruleset"]["hash"] == first["decisions"][0]["ruleset"]["hash"]


def test_the_watcher_thread_reloads_by_itself(ear):
    served = Served(ear, interval=0.05)
    included = ear.parent / "groups" / "2024-03-15.rules"
    with running(create_app(served, Settings(), Logs(io.StringIO()))) as url, httpx.Client(base_url=url) as client:
        before = decide(client)["rules"]["hash"]
        touch(included, included.read_text(encoding="utf-8") + "\n# an included file changes too\n")
        deadline = time.monotonic() + 20
        while client.get("/ready").json()["rules"]["hash"] == before:
            assert time.monotonic() < deadline, "the change was not picked up"
            time.sleep(0.05)
        assert decide(client)["rules"]["hash"] != before


def test_a_reload_that_fails_for_any_reason_keeps_serving(ear, monkeypatch):
    served = Served(ear, interval=0)
    good = served.current

    def failing():
        raise MemoryError("no room")

    monkeypatch.setattr(served, "_load", failing)
    touch(ear / "2024-03-15.rules", (ear / "2024-03-15.rules").read_text(encoding="utf-8") + "\n")
    assert served.check_now() is False
    assert served.current is good
    assert served.failure.message == "the rules could not be loaded: MemoryError: no room"


def test_the_workbench_saves_a_version_only_with_allow_edit(ear):
    served = Served(ear, interval=0)
    version_file = ear / "2024-03-15.rules"
    good = version_file.read_text(encoding="utf-8")
    app = create_app(served, Settings(allow_edit=True), Logs(io.StringIO()))
    with running(app) as url, httpx.Client(base_url=url) as client:
        assert client.get("/v1/versions").json()["editable"] is True
        first = decide(client)["rules"]["hash"]

        res = client.put("/v1/versions/2024-03-15/source", json={"text": good + "\n# saved from the page\n"})
        assert res.status_code == 200, res.text
        body = res.json()
        assert body["saved"] == "ear/2024-03-15.rules" and body["reloaded"] is True and body["reload"] is None
        assert version_file.read_text(encoding="utf-8").endswith("# saved from the page\n")
        assert decide(client)["rules"]["hash"] == body["rules"]["hash"] != first

        res = client.put("/v1/versions/2024-03-15/source", json={"text": good + "\n" + BROKEN})
        body = res.json()
        assert res.status_code == 200 and body["reloaded"] is False
        assert body["reload"]["diagnostics"][0]["code"] == "E204"
        assert decide(client)["rules"]["hash"] != first  # the last good rules, as saved before

        for bad in ("../../../etc/passwd", "..%2F..%2Fchiprules.toml", "2024-03-16"):
            res = client.put(f"/v1/versions/{bad}/source", json={"text": "x"})
            assert res.status_code == 404, res.text
        assert client.put("/v1/versions/2024-03-15/source", json={"path": "/tmp/x"}).status_code == 422
        assert not list(ear.glob(".*.tmp"))  # no temporary files left behind
