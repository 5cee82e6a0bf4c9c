"""The TextMate grammar of editors/vscode tokenises every file in rules/ with no unmatched
span, and scopes the language's words as the parser reads them.

The grammar is run by `vscode-textmate` with `vscode-oniguruma`, the engine VS Code itself
uses, in node; the packages are installed from editors/vscode/package-lock.json on first
use. Without node the test is skipped, saying so.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from chiprules.editor.service import keywords

from .conftest import ROOT

EXT = ROOT / "editors" / "vscode"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the TextMate grammar is run in node")


@pytest.fixture(scope="module")
def tokenizer():
    if not (EXT / "node_modules" / "vscode-textmate").is_dir():
        npm = shutil.which("npm")
        assert npm is not None, "node is installed without npm: cannot install vscode-textmate"
        res = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=EXT, capture_output=True, text=True,
                             timeout=600)
        assert res.returncode == 0, res.stdout + res.stderr

    def run(*args: str, stdin: str | None = None):
        res = subprocess.run([NODE, str(EXT / "test" / "tokenize.js"), *args], input=stdin,
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    return run


def test_every_file_in_rules_is_tokenised_with_no_unmatched_span(tokenizer):
    report = tokenizer(str(ROOT / "rules"))
    assert report["files"] == len(list((ROOT / "rules").rglob("*.rules")))
    assert report["unmatched"] == []


def test_words_are_scoped_as_the_parser_reads_them(tokenizer):
    text = ('classify 3A090.a "x # y" # a comment\n'
            "  when tpp >= 4800 and performance_density >= 5.92 TPP/mm2 and rulesfoo\n"
            "  except when die_area >= 814mm2 or destination in D5 | {CN}\n"
            "example \"e\" record { datacenter: yes, export_date: 2024-01-10 } expect license_required\n")
    scope = dict(tokenizer("--tokens", stdin=text))
    assert scope["classify"] == "keyword.control.statement.chiprules"
    assert scope["3A090.a"] == "entity.name.function.rule.chiprules"
    assert scope["x # y"] == "string.quoted.double.chiprules"
    assert scope[" a comment"] == "comment.line.number-sign.chiprules"
    assert scope["5.92"] == scope["814"] == "constant.numeric.chiprules"
    assert scope["TPP/mm2"] == scope["mm2"] == "keyword.other.unit.chiprules"
    assert scope["rulesfoo"] == scope["tpp"] == "variable.other.chiprules"
    assert scope["2024-01-10"] == "constant.numeric.date.chiprules"
    assert scope["CN"] == "constant.other.country.chiprules"
    assert scope["license_required"] == "constant.language.chiprules"


def test_every_reserved_word_is_highlighted_as_a_word_of_the_language(tokenizer):
    words = sorted(keywords())
    got = tokenizer("--tokens", stdin="\n".join(words) + "\n")  # one a line: `field for` declares
    assert [w for w, _ in got] == words
    plain = [w for w, s in got if s.startswith(("variable", "invalid", "constant.other.country"))]
    assert plain == []
