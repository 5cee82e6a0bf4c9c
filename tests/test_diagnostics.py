"""Golden diagnostics: every error code and every hand-written syntax message.

Each `tests/golden/diagnostics/NAME.rules` sits beside `NAME.err`, the exact
text `chiprules check` prints for it. `pytest --update-goldens` rewrites them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chiprules.core.diagnostics import render_all
from chiprules.lang.checker import check_file
from chiprules.lang.syntax_errors import MISTAKES

from .conftest import GOLDEN, ROOT

DIR = GOLDEN / "diagnostics"
CASES = sorted(p for p in DIR.glob("*.rules") if p.name != "fields.rules")


def rendered(path: Path, fmt: str = "text") -> str:
    _, diags = check_file(path.relative_to(ROOT))
    return render_all(diags, fmt) + "\n"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_diagnostic_golden(path, golden, monkeypatch):
    monkeypatch.chdir(ROOT)
    golden(path.with_suffix(".err"), rendered(path))


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_golden_names_its_code(path, monkeypatch):
    """A case named after a code really produces that code (so goldens cannot drift silently)."""
    monkeypatch.chdir(ROOT)
    code = path.stem.split("_")[0]
    if not re.fullmatch(r"[EW]\d{3}", code):
        return
    _, diags = check_file(path.relative_to(ROOT))
    assert code in {d.code for d in diags}, [d.code for d in diags]


def test_every_syntax_mistake_has_a_golden():
    have = {p.stem.split("_")[0] for p in CASES}
    for m in MISTAKES.values():
        assert m.code in have, f"no golden for {m.code} ({m.message})"


def test_all_errors_reported_not_just_the_first(monkeypatch):
    monkeypatch.chdir(ROOT)
    _, diags = check_file((DIR / "syntax_several_errors.rules").relative_to(ROOT))
    assert [d.code for d in diags] == ["E101", "E108", "E115"]


def test_json_rendering_is_structured(monkeypatch):
    monkeypatch.chdir(ROOT)
    data = json.loads(rendered(DIR / "E203_unknown_field.rules", "json"))
    (d,) = data
    assert d["code"] == "E203" and d["severity"] == "error"
    assert d["line"] == 4 and d["column"] == 8 and d["end_column"] == 17
    assert d["help"] == "did you mean `tpp`?"


def test_a_misspelled_field_gets_a_caret_and_a_suggestion(monkeypatch):
    monkeypatch.chdir(ROOT)
    text = rendered(DIR / "E203_unknown_field.rules")
    assert "error[E203]: unknown field `tpp_score`" in text
    assert "^^^^^^^^^" in text and "did you mean `tpp`?" in text
