"""Whatever is typed into a file from rules/, `chiprules lsp` stays up and reports exactly what
`chiprules check --format json` reports for the same text saved to the file.

The edits are inserts of rules-like fragments (and of characters that are not rules at all)
and deletions, at any position, sent as the protocol's incremental changes (lines and
UTF-16 columns). The rules tree is a copy, so that `check` can read the edited text from
the file the server has open.
"""

from __future__ import annotations

import contextlib
import json
import shutil

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chiprules.cli import main

from .conftest import ROOT
from .lsp_client import Client, position, uri

FILES = [
    "ear/2026-07-14.rules", "ear/2023-11-17.rules", "ear/common/3a090.rules", "ear/common/h20.rules",
    "groups/2024-03-15.rules", "fields.rules", "lists/entity_list.rules",
]
FRAGMENTS = [
    " ", "\n", "{", "}", "(", ")", '"', "#", ",", "=", "in ", " and ", " or not ", "CN", "XX", "tpp",
    "tpp >= 4800", "3A090", "3A090.z", "RS_SCOPE", "D5 | {MO}", "classify ", "include \"nowhere.rules\"\n",
    "field x: number TB/s\n", "1.2 TB/s", "2024-02-30", "when ", "é", "😀", "\t", "\x00", "\ufeff",
]

edit = st.tuples(st.booleans(), st.floats(0, 1), st.sampled_from(FRAGMENTS), st.integers(1, 60))


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("lsp") / "rules"
    shutil.copytree(ROOT / "rules", root)
    client = Client(root.parent, ROOT)
    client.initialize(root)
    yield root, client
    client.shutdown()


def _check_json(path, cwd) -> list[dict]:
    with contextlib.chdir(cwd):
        res = CliRunner().invoke(main, ["check", "--format", "json", str(path)])
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout)


def _published(client: Client) -> list[dict]:
    return [d["data"] for diags in client.diagnostics.values() for d in diags]


def _key(d: dict) -> str:
    return json.dumps(d, sort_keys=True, ensure_ascii=False)


def _run(tree, name: str, edits) -> None:
    root, client = tree
    path = root / name
    original = path.read_text(encoding="utf-8")
    text = original
    client.open(path, text)
    try:
        for version, (insert, where, fragment, length) in enumerate(edits, 2):
            a = int(where * len(text))
            if insert:
                b, new = a, fragment
            else:
                b, new = min(len(text), a + length), ""
            change = {"range": {"start": position(text, a), "end": position(text, b)}, "text": new}
            text = text[:a] + new + text[b:]
            client.notify("textDocument/didChange", {"textDocument": {"uri": uri(path), "version": version},
                                                     "contentChanges": [change]})
            client.sync()
            path.write_bytes(text.encode("utf-8"))
            expected = _check_json(path, root.parent)
            assert sorted(map(_key, _published(client))) == sorted(map(_key, expected)), text
    finally:
        path.write_text(original, encoding="utf-8")
        client.notify("textDocument/didClose", {"textDocument": {"uri": uri(path)}})
        client.sync()
    assert client.proc.poll() is None, "the server stopped"


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FILES), edits=st.lists(edit, min_size=1, max_size=3))
def test_edits_keep_the_server_up_and_its_diagnostics_those_of_check(tree, name, edits):
    _run(tree, name, edits)


@pytest.mark.slow
@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FILES), edits=st.lists(edit, min_size=1, max_size=6))
def test_many_edit_sequences_keep_the_server_up_and_its_diagnostics_those_of_check(tree, name, edits):
    _run(tree, name, edits)
