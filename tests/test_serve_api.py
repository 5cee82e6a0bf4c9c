"""The decision service's routes over HTTP (httpx against uvicorn on loopback): answers equal
to the command line's, and clear JSON refusals for everything a client can get wrong."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
from click.testing import CliRunner

from chiprules.cli import main
from chiprules.serve import Logs, Served, Settings, create_app

from .conftest import ROOT
from .serving import running

EAR = ROOT / "rules" / "ear"
SHIPMENTS = ROOT / "examples" / "shipments.csv"
H100_CN = {"id": "o-1", "chip": "NVIDIA H100 SXM", "destination": "CN", "export_date": "2024-01-10",
           "end_user": "Example Cloud Ltd.", "end_user_hq": "CN"}


@pytest.fixture(scope="module")
def served():
    return Served(EAR, interval=0)


@pytest.fixture(scope="module")
def service(served, tmp_path_factory):
    """The service over the bundled rules, with its access log and decision log kept for reading."""
    log = io.StringIO()
    decision_log = tmp_path_factory.mktemp("logs") / "decisions.jsonl"
    logs = Logs(log, decision_log)
    app = create_app(served, Settings(max_body=200_000, max_records=50), logs)
    with running(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        client.log, client.decision_log = log, decision_log
        yield client
    logs.close()


def refused(res, status: int, field: str | None = None) -> str:
    assert res.status_code == status, res.text
    assert res.headers["content-type"] == "application/json"
    err = res.json()["error"]
    assert err["status"] == status
    if field is not None:
        assert err.get("field") == field, err
    assert "Traceback" not in res.text
    return err["message"]


# ---- health, readiness, versions ------------------------------------------------------------


def test_health_and_ready(service, served):
    assert service.get("/health").json() == {"status": "ok"}
    ready = service.get("/ready").json()
    assert ready["ready"] is True and ready["stale"] is False and ready["reload"] is None
    assert ready["rules"]["hash"] == served.current.hash
    assert ready["rules"]["versions"] == len(served.rules.models) == 16


def test_versions_name_dates_hashes_and_timelines(service, served):
    body = service.get("/v1/versions").json()
    by_id = {v["version"]: v for v in body["versions"]}
    v = by_id["2024-03-15"]
    assert v["effective"] == "2024-03-15" and v["file"] == "ear/2024-03-15.rules"
    assert v["hash"] == served.rules.version("2024-03-15").content_hash
    assert v["examples"] > 0 and "entity_list" in v["lists"]
    assert "2025-01-15-written" in body["timelines"]["written"]["versions"]
    assert "2025-01-15-written" not in body["timelines"]["enforced"]["versions"]
    assert "NVIDIA H100 SXM" in body["chips"]
    assert body["editable"] is False


def test_the_source_of_a_version_and_no_writing_without_allow_edit(service):
    src = service.get("/v1/versions/2024-03-15/source").json()
    assert src["text"] == (EAR / "2024-03-15.rules").read_text(encoding="utf-8")
    assert "no version `1999-01-01`" in refused(service.get("/v1/versions/1999-01-01/source"), 404, "version")
    message = refused(service.put("/v1/versions/2024-03-15/source", json={"text": "x"}), 403)
    assert "--allow-edit" in message
    assert (EAR / "2024-03-15.rules").read_text(encoding="utf-8") == src["text"]


# ---- decisions --------------------------------------------------------------------------------


def test_decisions_are_those_of_eval_jsonl_on_the_same_records(service):
    with SHIPMENTS.open(newline="", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    res = CliRunner().invoke(main, ["eval", str(EAR), str(SHIPMENTS), "--format", "jsonl"])
    assert res.exit_code == 2, res.output  # the sample holds malformed records, reported as errors
    expected = [json.loads(line) for line in res.stdout.splitlines()]
    got = []
    for start in range(0, len(records), 50):
        body = service.post("/v1/decisions", json={"records": records[start:start + 50]}).json()
        got += body["decisions"]
    assert len(got) == len(expected) == 67
    for g, e in zip(got, expected, strict=True):
        assert g.pop("location").startswith("request: record ")
        assert e.pop("location").endswith(tuple(f":{n}" for n in range(2, 80)))
        assert g == e


def test_one_record_with_its_citation_and_explanation(service, served):
    body = service.post("/v1/decisions", json={"record": H100_CN, "explain": True}).json()
    (d,) = body["decisions"]
    assert d["id"] == "o-1" and d["outcome"] == "license_required"
    assert d["classification"] == ["3A090.a"] and d["review_policy"] == "presumption_of_denial"
    assert d["ruleset"]["version"] == "2023-11-17"
    assert d["ruleset"]["hash"] == served.rules.version("2023-11-17").content_hash
    assert any(r["cite"] == "15 CFR 742.6(a)(6)(iii)" for r in d["reasons"])
    assert d["explanation"].startswith("o-1: licence required")
    assert body["rules"]["hash"] == served.current.hash


def test_as_of_timeline_and_a_bare_array(service):
    rec = {"chip": "NVIDIA H20", "destination": "CN", "end_user": "Example Cloud Ltd."}
    enforced = service.post("/v1/decisions", json={"records": [rec], "as_of": "2025-06-01"}).json()
    written = service.post("/v1/decisions", json={"records": [rec], "as_of": "2025-06-01",
                                                  "timeline": "written"}).json()
    assert enforced["decisions"][0]["ruleset"]["timeline"] == "enforced"
    assert written["decisions"][0]["ruleset"]["timeline"] == "written"
    bare = service.post("/v1/decisions", json=[rec, rec]).json()
    assert [d["id"] for d in bare["decisions"]] == ["1", "2"]
    assert bare["decisions"][0]["outcome"] == "indeterminate"
    assert bare["decisions"][0]["missing"] == ["export_date"]


def test_a_malformed_record_is_an_error_decision_naming_the_field(service):
    body = service.post("/v1/decisions", json={"records": [
        {"chip": "NVIDIA H100 SXM", "destination": "CN", "export_date": "2024-01-10", "tpp": "lots"},
        "not a record",
        {"destination": "Atlantis", "export_date": "2024-01-10"},
    ]}).json()
    a, b, c = body["decisions"]
    assert a["outcome"] == b["outcome"] == c["outcome"] == "error"
    assert "tpp" in a["errors"][0] and "lots" in a["errors"][0]
    assert b["errors"] == ["record 2 is not a JSON object (got a string)"]
    assert "Atlantis" in c["errors"][0]


@pytest.mark.parametrize(("body", "status", "field", "words"), [
    ({"record": H100_CN, "as_of": "10/01/2024"}, 422, "as_of", "`as_of` `10/01/2024` is not a date; write YYYY-MM-DD"),
    ({"record": H100_CN, "as_of": 20240110}, 422, "as_of", "`as_of` must be a string, not a number"),
    ({"record": H100_CN, "timeline": "official"}, 422, "timeline", "unknown timeline `official`; use `enforced` or `written`"),
    ({"record": H100_CN, "explain": "yes"}, 422, "explain", "`explain` must be true or false, not a string"),
    ({"records": {"a": 1}}, 422, "records", "`records` must be an array of records, not an object"),
    ({"record": H100_CN, "records": [H100_CN]}, 422, "records", "not both"),
    ({"as_of": "2024-01-10"}, 422, "records", "give `record` (one record) or `records`"),
    ({"recods": [H100_CN]}, 422, "recods", "unknown field `recods` (did you mean `records`?)"),
    ("a string", 422, None, "the request body holds a string"),
    ({"records": [{}] * 51}, 413, "records", "`records` holds 51 items; at most 50"),
])
def test_wrong_requests_are_refused_with_the_field_and_the_problem(service, body, status, field, words):
    assert words in refused(service.post("/v1/decisions", json=body), status, field)


def test_bad_json_empty_bodies_bad_encodings_and_oversized_bodies(service):
    msg = refused(service.post("/v1/decisions", content=b'{"record": {"tpp": 1,}}'), 400)
    assert msg.startswith("the request body is not valid JSON: expecting property name")
    assert "line 1, column 22" in msg
    assert "empty" in refused(service.post("/v1/decisions", content=b""), 400)
    assert "not UTF-8" in refused(service.post("/v1/decisions", content=b'{"record": "\xff"}'), 400)
    assert "nested too deeply" in refused(service.post("/v1/decisions", content=b"[" * 50_000 + b"]" * 50_000), 400)
    big = json.dumps({"records": [{"end_user": "x" * 1000}] * 210})
    assert "at most 200,000 are accepted" in refused(service.post("/v1/decisions", content=big), 413)

    def chunks():  # no Content-Length: the limit still holds as the body streams in
        for _ in range(30):
            yield b" " * 10_000

    assert "over 200,000 bytes" in refused(service.post("/v1/decisions", content=chunks()), 413)


def test_unknown_routes_and_methods_answer_in_json(service):
    assert "no route `GET /v2/decisions`" in refused(service.get("/v2/decisions"), 404)
    assert "does not take GET" in refused(service.get("/v1/decisions"), 405)


def test_an_internal_failure_is_reported_without_a_traceback(service, monkeypatch):
    import chiprules.serve.api as api

    def broken(d, explain=False):
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "decision_json", broken)
    msg = refused(service.post("/v1/decisions", json={"record": H100_CN}), 500)
    assert msg == "the service failed on this request; the log says why"
    assert '"error": "RuntimeError: boom"' in service.log.getvalue()


# ---- logs --------------------------------------------------------------------------------------


def test_access_log_lines_are_json_and_decisions_are_logged(service):
    service.post("/v1/decisions?token=secret", json={"records": [H100_CN, {"tpp": "x"}]})
    lines = [json.loads(line) for line in service.log.getvalue().splitlines()]
    access = [x for x in lines if x["event"] == "access" and x["path"] == "/v1/decisions"]
    assert access and {"time", "request_id", "method", "status", "ms", "bytes", "client"} <= set(access[-1])
    assert "secret" not in service.log.getvalue()  # the query string is never logged
    logged = [json.loads(line) for line in service.decision_log.read_text(encoding="utf-8").splitlines()]
    last = [x for x in logged if x["request_id"] == access[-1]["request_id"]]
    assert [x["outcome"] for x in last] == ["license_required", "error"]
    assert last[0]["ruleset"]["version"] == "2023-11-17" and len(last[0]["input_hash"]) == 64
    assert last[0]["rules_hash"] and last[0]["time"]
    assert "Example Cloud" not in service.decision_log.read_text(encoding="utf-8")  # hashes, not records


# ---- screening ----------------------------------------------------------------------------------


def test_screening_a_name_as_the_screen_command_does(service):
    body = service.post("/v1/screen", json={"name": "Huawai Technologies Co Ltd", "country": "CN",
                                            "as_of": "2026-07-20"}).json()
    res = CliRunner().invoke(main, ["screen", str(EAR), "Huawai Technologies Co Ltd", "--country", "CN",
                                    "--as-of", "2026-07-20", "--format", "jsonl"])
    assert body["results"] == [json.loads(line) for line in res.stdout.splitlines()]
    assert body["results"][0]["status"] == "possible" and body["version"] == "2026-07-14"


def test_screening_refusals(service):
    assert "no letters or digits to screen" in refused(service.post("/v1/screen", json={"names": ["--"]}), 422, "names")
    assert "no names to screen" in refused(service.post("/v1/screen", json={"names": []}), 422, "names")
    assert "must be a string or an array of strings" in refused(
        service.post("/v1/screen", json={"names": [1, 2]}), 422, "names")
    assert "no list `ofac`" in refused(service.post("/v1/screen", json={"name": "Acme", "lists": ["ofac"]}), 422)
    assert "no version of these rules is in force on 2001-01-01" in refused(
        service.post("/v1/screen", json={"name": "Acme", "as_of": "2001-01-01"}), 422)


# ---- rules text ----------------------------------------------------------------------------------

UNIT_MISMATCH = """\
ruleset draft
  version 2030-01-01
  source "a draft"
  effective 2030-01-01

include "../fields.rules"

classify 3A090.a "Fast chips"
  cite "15 CFR 774 Supp. 1, ECCN 3A090.a"
  when tpp >= 600 GB/s
"""


def test_check_gives_the_diagnostics_of_check_json(service, tmp_path):
    res = service.post("/v1/check", json={"text": UNIT_MISMATCH}).json()
    assert res["errors"] == 1 and res["examples"] is None
    (d,) = res["diagnostics"]
    assert (d["file"], d["line"], d["column"], d["end_column"]) == ("rules/ear/untitled.rules", 10, 15, 23)
    assert (d["code"], d["message"]) == ("E204", "cannot compare TPP with GB/s")
    draft = EAR.parent / "ear" / "untitled.rules"
    assert not draft.exists()  # nothing is written
    (tmp_path / "ear").mkdir()
    (tmp_path / "chiprules.toml").write_text("", encoding="utf-8")
    (tmp_path / "fields.rules").write_text((EAR.parent / "fields.rules").read_text(encoding="utf-8"), encoding="utf-8")
    f = tmp_path / "ear" / "untitled.rules"
    f.write_text(UNIT_MISMATCH, encoding="utf-8")
    cli = CliRunner().invoke(main, ["check", "--format", "json", str(f)])
    (e,) = json.loads(cli.stdout)
    for key in ("file", "location"):
        d.pop(key, None), e.pop(key, None)
    assert d == e
    assert res["text"].splitlines()[:4] == [
        "rules/ear/untitled.rules:10:15: error[E204]: cannot compare TPP with GB/s",
        "   |",
        "10 |   when tpp >= 600 GB/s",
        "   |               ^^^^^^^^",
    ]


def test_check_a_version_in_place_runs_its_examples(service):
    text = (EAR / "2024-03-15.rules").read_text(encoding="utf-8")
    res = service.post("/v1/check", json={"text": text, "version": "2024-03-15"}).json()
    assert res["errors"] == 0 and res["version"] == "2024-03-15"
    assert res["examples"] and all(e["ok"] for e in res["examples"])
    broken = text.replace("expect license_required", "expect no_license_required", 1)
    res = service.post("/v1/check", json={"text": broken, "version": "2024-03-15"}).json()
    assert [e["ok"] for e in res["examples"]].count(False) == 1
    failed = next(e for e in res["examples"] if not e["ok"])
    assert failed["expected"].startswith("no_license_required") and failed["actual"].startswith("license_required")


def test_check_and_format_refusals(service):
    assert "`text` is required" in refused(service.post("/v1/check", json={}), 422, "text")
    assert "`text` must be a string, not an array" in refused(service.post("/v1/check", json={"text": []}), 422, "text")
    assert "no version `nope`" in refused(service.post("/v1/check", json={"text": "", "version": "nope"}), 422, "version")
    assert "`examples` must be true or false" in refused(
        service.post("/v1/check", json={"text": "", "examples": 1}), 422, "examples")


def test_format(service):
    text = (EAR / "2024-03-15.rules").read_text(encoding="utf-8")
    messy = text.replace("\n  cite ", "\n        cite   ", 3)
    assert messy != text
    assert service.post("/v1/format", json={"text": messy}).json() == {"text": text, "changed": True}
    assert service.post("/v1/format", json={"text": text}).json() == {"text": text, "changed": False}
    err = service.post("/v1/format", json={"text": "classify when"})
    assert "syntax errors" in refused(err, 422, "text")
    assert err.json()["error"]["diagnostics"][0]["code"].startswith("E1")


# ---- reports ----------------------------------------------------------------------------------


def test_diff_as_the_diff_command_gives_it(service):
    body = service.post("/v1/diff", json={"old": "2023-11-17", "new": "2024-03-15"}).json()
    assert any(c["subject"] == "D5" and "gains Nicaragua (NI)" in c["details"] for c in body["changes"])
    assert body["regions"] and all(r["verified"] for r in body["regions"])
    assert all(r["witness"] for r in body["regions"])
    text = service.post("/v1/diff", json={"old": "2023-11-17", "new": "2024-03-15", "format": "text"})
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    cli = CliRunner().invoke(main, ["diff", str(EAR), "2023-11-17", "2024-03-15"])
    strip = [line for line in cli.stdout.splitlines() if " in " not in line or "s)" not in line]
    assert [line for line in text.text.splitlines() if " in " not in line or "s)" not in line] == strip
    md = service.post("/v1/diff", json={"old": "2023-11-17", "new": "2024-03-15", "format": "md"})
    assert md.headers["content-type"].startswith("text/markdown") and md.text.startswith("#")


def test_diff_replays_records(service):
    body = service.post("/v1/diff", json={"old": "2023-11-17", "new": "2024-03-15", "records": [
        {"id": "n1", "chip": "NVIDIA L40S", "destination": "NI", "export_date": "2024-03-20",
         "end_user": "Universidad Nacional de Ingeniería"}]}).json()
    assert body["replay"]["total"] == 1


def test_diff_refusals(service):
    assert "no version `2023-11-18`; versions: 2022-10-07" in refused(
        service.post("/v1/diff", json={"old": "2023-11-18", "new": "2024-03-15"}), 422, "old")
    assert "`new` is required" in refused(service.post("/v1/diff", json={"old": "2023-11-17"}), 422, "new")
    assert "`format` `pdf` is not one of" in refused(
        service.post("/v1/diff", json={"old": "2023-11-17", "new": "2024-03-15", "format": "pdf"}), 422, "format")


def test_plot_is_an_svg_of_the_version(service):
    res = service.get("/v1/plot", params={"version": "2023-11-17", "destination": "CN"})
    assert res.status_code == 200 and res.headers["content-type"] == "image/svg+xml"
    assert res.content.startswith(b"<?xml") and b"<svg" in res.content
    assert b'id="region:license_required (presumption_of_denial)"' in res.content
    again = service.get("/v1/plot", params={"as_of": "2024-01-10", "destination": "CN"})
    assert again.status_code == 200 and b"2023-11-17" in again.content  # the version in force that day
    changed = service.get("/v1/plot", params={"version": "2023-11-17", "against": "2022-10-07"})
    assert changed.status_code == 200 and changed.content != res.content


def test_plot_refusals(service):
    assert "no version `1999`" in refused(service.get("/v1/plot", params={"version": "1999"}), 422, "version")
    assert "is not a date" in refused(service.get("/v1/plot", params={"as_of": "soon"}), 422, "as_of")
    assert "`datacenter` `maybe`" in refused(service.get("/v1/plot", params={"datacenter": "maybe"}), 422)
    assert "unknown parameter `path`" in refused(service.get("/v1/plot", params={"path": "/etc"}), 422, "path")
    assert "no version or date in force" in refused(service.get("/v1/plot", params={"against": "x"}), 422, "against")
    assert "`plane` `tpp,x`" in refused(service.get("/v1/plot", params={"plane": "tpp,x"}), 422, "plane")


def test_plot_of_the_bandwidth_plane_hatches_the_h20_zone(service):
    res = service.get("/v1/plot", params={"as_of": "2025-06-01", "destination": "CN",
                                          "plane": "dram_bw,interconnect_bw"})
    assert res.status_code == 200 and b'id="region:unsettled: h20_reach' in res.content


def test_openapi_lists_every_route(service):
    doc = service.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert {"/health", "/ready", "/v1/decisions", "/v1/screen", "/v1/versions", "/v1/diff", "/v1/check",
            "/v1/format", "/v1/plot", "/v1/versions/{version}/source", "/", "/openapi.json"} <= set(doc["paths"])


def test_the_workbench_page_is_served(service):
    res = service.get("/")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    assert "<textarea id=\"source\"" in res.text and "/v1/decisions" in res.text
    assert '{"editable": false, "tokenRequired": false}' in res.text


# ---- the token and CORS ------------------------------------------------------------------------


def test_a_token_guards_every_route_but_health(served):
    app = create_app(served, Settings(token="s3cret"), Logs(io.StringIO()))
    with running(app) as url, httpx.Client(base_url=url) as client:
        assert client.get("/health").status_code == 200
        for path in ("/ready", "/v1/versions", "/openapi.json", "/"):
            res = client.get(path)
            assert "needs a bearer token" in refused(res, 401)
            assert res.headers["www-authenticate"] == "Bearer"
        assert client.post("/v1/decisions", json={"record": H100_CN}).status_code == 401
        assert client.get("/ready", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = {"Authorization": "Bearer s3cret"}
        assert client.get("/ready", headers=ok).status_code == 200
        assert client.post("/v1/decisions", json={"record": H100_CN}, headers=ok).status_code == 200
        assert client.get("/", params={"token": "s3cret"}).status_code == 200  # the page, opened in a browser
        assert client.get("/v1/versions", params={"token": "s3cret"}).status_code == 401  # only the page
        assert "bearer" in client.get("/openapi.json", headers=ok).json()["components"]["securitySchemes"]


def test_cors_is_off_unless_an_origin_is_named(service, served):
    pre = {"Origin": "https://erp.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in service.options("/v1/decisions", headers=pre).headers
    app = create_app(served, Settings(cors_origins=("https://erp.example",)), Logs(io.StringIO()))
    with running(app) as url, httpx.Client(base_url=url) as client:
        res = client.options("/v1/decisions", headers=pre)
        assert res.headers["access-control-allow-origin"] == "https://erp.example"


def test_a_request_over_the_time_limit_is_stopped(served):
    app = create_app(served, Settings(time_limit=0.05), Logs(io.StringIO()))
    records = [dict(H100_CN, id=str(i), end_user=f"Buyer {i} Ltd.") for i in range(1000)]
    with running(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        res = client.post("/v1/decisions", json={"records": records, "explain": True})
        assert "took longer than 0.05 s" in refused(res, 503)
        assert res.headers["retry-after"] == "1"
        assert client.get("/health").status_code == 200


def test_check_tries_records_on_the_text_as_it_stands(service):
    text = (EAR / "2024-03-15.rules").read_text(encoding="utf-8")
    rec = {"id": "t1", "chip": "NVIDIA A10", "destination": "DE", "export_date": "2024-04-01",
           "end_user": "Example Cloud Ltd.", "end_user_hq": "DE"}
    saved = service.post("/v1/check", json={"text": text, "version": "2024-03-15", "records": [rec],
                                            "examples": False}).json()
    assert saved["examples"] is None
    assert [d["outcome"] for d in saved["decisions"]] == ["no_license_required"]
    # a draft that classifies every chip of 100 TPP or more: the same record, decided by it
    draft = text + '\nclassify 3A090.z "Any chip"\n  cite "draft"\n  when tpp >= 100\n'
    tried = service.post("/v1/check", json={"text": draft, "version": "2024-03-15", "records": [rec],
                                            "explain": True}).json()
    (d,) = tried["decisions"]
    assert d["classification"] == ["3A090.z"] and d["ruleset"]["hash"] != saved["decisions"][0]["ruleset"]["hash"]
    assert "3A090.z" in d["explanation"]
    # the served rules are not changed by trying a draft
    served = service.post("/v1/decisions", json={"record": rec}).json()["decisions"][0]
    assert served["classification"] == []
    broken = service.post("/v1/check", json={"text": draft.replace(">= 100", ">= 100 GB/s"),
                                             "version": "2024-03-15", "records": [rec]}).json()
    assert broken["errors"] == 1 and broken["decisions"] is None
    assert "`records` must be an array" in refused(service.post("/v1/check", json={"text": "", "records": 1}),
                                                   422, "records")
