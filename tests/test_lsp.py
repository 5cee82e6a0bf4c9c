"""`chiprules lsp` driven over stdio by a client speaking JSON-RPC, on files from rules/.

One session: initialize, open a version file, hover, definition, references, completion,
outline, an edit that makes an error and its quick fix, formatting, rename, shutdown. Every
response is compared with tests/golden/lsp/session.json (file URIs written relative to the
repository as `file:///ROOT/...`).
"""

from __future__ import annotations

import json

import pytest

from .conftest import GOLDEN, ROOT
from .lsp_client import Client, position, uri

VERSION_FILE = ROOT / "rules/ear/2026-07-14.rules"
FRAGMENT = ROOT / "rules/ear/common/h20.rules"


def _at(text: str, snippet: str, into: int = 1, nth: int = 0) -> int:
    """The offset ``into`` characters into the ``nth`` occurrence of ``snippet``."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(snippet, i + 1)
    return i + into


def _relative(value):
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return json.loads(text.replace(ROOT.as_uri(), "file:///ROOT"))


@pytest.fixture(scope="module")
def session():
    client = Client(ROOT, ROOT)
    transcript: list[dict] = []

    def ask(label: str, method: str, params: dict) -> dict:
        res = client.request(method, params)
        assert "error" not in res, res
        transcript.append({"step": label, "method": method, "result": _relative(res.get("result"))})
        return res.get("result")

    yield client, ask, transcript
    if client.proc.poll() is None:
        client.proc.kill()


def test_a_whole_session_over_stdio_answers_as_recorded(session, golden):
    client, ask, transcript = session
    init = client.request("initialize", {"processId": None, "rootUri": uri(ROOT), "capabilities": {}})
    caps = init["result"]["capabilities"]
    client.notify("initialized", {})
    transcript.append({"step": "initialize", "method": "initialize",
                       "result": {k: caps.get(k) for k in sorted(caps) if k.endswith("Provider") or k in
                                  ("textDocumentSync", "positionEncoding")}})
    text = VERSION_FILE.read_text(encoding="utf-8")
    doc = {"uri": uri(VERSION_FILE)}
    client.open(VERSION_FILE, text)
    client.sync()
    transcript.append({"step": "diagnostics on open", "method": "textDocument/publishDiagnostics",
                       "result": _relative(client.diagnostics[uri(VERSION_FILE)])})

    def pos(snippet, into=1, nth=0, t=None):
        return position(t or text, _at(t or text, snippet, into, nth))

    for label, snippet, into in [
        ("group with members and history", "in RS_SCOPE", 5),
        ("field with type and unit", "memory_bw_density >", 3),
        ("quantity in base units", "< 3.3 GB/s/mm2", 4),
        ("rule with citation, dates and examples", "require license regional_stability", 18),
        ("rule that no example exercises", "exception NAC", 11),
        ("classification id", "classify 3A090.c", 10),
        ("country code", "{AE}", 1),
        ("example with the rules' decision", 'example "H200 SXM to the UAE', 10),
    ]:
        ask(f"hover: {label}", "textDocument/hover", {"textDocument": doc, "position": pos(snippet, into)})
    for label, snippet, into in [
        ("condition in an included file", "and meets_3a090_a", 6),
        ("included file", 'include "../fields.rules"', 12),
        ("group in the groups file", "in RS_SCOPE", 5),
    ]:
        ask(f"definition: {label}", "textDocument/definition",
            {"textDocument": doc, "position": pos(snippet, into)})
    ask("references: a group across the workspace", "textDocument/references",
        {"textDocument": doc, "position": pos("in MACAU_D5", 5), "context": {"includeDeclaration": True}})
    ask("outline", "textDocument/documentSymbol", {"textDocument": doc})

    # completion, after edits that leave the cursor where a value or a set goes
    edited = text + "\ncondition probe = destination == \n"
    client.notify("textDocument/didChange", {"textDocument": {**doc, "version": 2},
                                             "contentChanges": [{"text": edited}]})
    got = ask("completion: country codes with names", "textDocument/completion",
              {"textDocument": doc, "position": pos("destination == ", 15, t=edited)})
    assert any(i["label"] == "CN" and i["detail"] == "China" for i in got["items"])
    ask("completion: groups after `in`", "textDocument/completion",
        {"textDocument": doc, "position": pos("destination in ", 15)})
    edited = text + "\ncondition probe = interconnect_bw >= 600 \n"
    client.notify("textDocument/didChange", {"textDocument": {**doc, "version": 3},
                                             "contentChanges": [{"text": edited}]})
    ask("completion: units of the field's dimension", "textDocument/completion",
        {"textDocument": doc, "position": pos(">= 600 ", 7, t=edited)})
    ask("completion: keywords in a rule", "textDocument/completion",
        {"textDocument": doc, "position": {"line": 35, "character": 2}})

    # an error as the user types, and the quick fix the checker suggests
    start = position(text, _at(text, "in RS_SCOPE", 11))
    client.notify("textDocument/didChange", {"textDocument": {**doc, "version": 4}, "contentChanges": [
        {"text": text}, {"range": {"start": start, "end": start}, "text": "X"}]})
    client.sync()
    diags = client.diagnostics[uri(VERSION_FILE)]
    transcript.append({"step": "diagnostics after a typo", "method": "textDocument/publishDiagnostics",
                       "result": _relative(diags)})
    assert [d["code"] for d in diags] == ["E202"]
    fixes = ask("code action: did you mean", "textDocument/codeAction", {
        "textDocument": doc, "range": diags[0]["range"], "context": {"diagnostics": diags}})
    assert fixes[0]["edit"]["changes"][uri(VERSION_FILE)][0]["newText"] == "RS_SCOPE"

    # formatting a fragment written in one long line per statement gives the file back
    fragment = FRAGMENT.read_text(encoding="utf-8")
    squashed = fragment.replace("\n    or", " or").replace("\n  =", " =")
    client.open(FRAGMENT, squashed)
    edits = ask("formatting", "textDocument/formatting", {
        "textDocument": {"uri": uri(FRAGMENT)}, "options": {"tabSize": 2, "insertSpaces": True}})
    assert edits[0]["newText"] == fragment

    ask("rename: a condition across the workspace", "textDocument/rename", {
        "textDocument": doc, "position": pos("when note_2", 6), "newName": "note_2_applies"})
    ask("prepare rename: a field is not renamed", "textDocument/prepareRename", {
        "textDocument": doc, "position": pos("memory_bw_density >", 3)})

    assert client.shutdown() == 0
    golden(GOLDEN / "lsp" / "session.json", json.dumps(transcript, indent=1, ensure_ascii=False) + "\n")


def test_the_server_outlives_text_that_is_not_rules(tmp_path):
    client = Client(ROOT, ROOT)
    try:
        client.initialize(ROOT)
        path = tmp_path / "odd.rules"
        odd = "classify 3A090.a when tpp >= 4800 TB/s\x00\nexample \"😀\" record {"
        client.open(path, odd)
        at = {"textDocument": {"uri": uri(path)}, "position": {"line": 0, "character": 30}}
        for method, extra in [
            ("textDocument/hover", {}), ("textDocument/definition", {}), ("textDocument/completion", {}),
            ("textDocument/references", {"context": {"includeDeclaration": True}}),
            ("textDocument/rename", {"newName": "x"}), ("textDocument/formatting", {"options": {
                "tabSize": 2, "insertSpaces": True}}), ("textDocument/documentSymbol", {}),
        ]:
            params = {**at, **extra}
            if method.endswith(("formatting", "documentSymbol")):
                del params["position"]
            assert "error" not in client.request(method, params)
        codes = [d["code"] for d in client.diagnostics[uri(path)]]
        assert codes == ["E003"]
        assert client.shutdown() == 0
    finally:
        if client.proc.poll() is None:
            client.proc.kill()
