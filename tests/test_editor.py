"""The language service on its own: statement-wise parsing, positions, quick fixes, rename."""

from __future__ import annotations

import shutil

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chiprules.core.source import Source, Span
from chiprules.editor import complete, hover, service
from chiprules.editor.text import Lines, apply_change
from chiprules.lang.parser import StatementTrees, parse_source

from .conftest import GOLDEN, ROOT


def _spans(node, out: list) -> list:
    if isinstance(node, Span):
        out.append((node.start, node.end))
    elif isinstance(node, (tuple, list)):
        for x in node:
            _spans(x, out)
    elif attrs.has(type(node)):
        for f in attrs.fields(type(node)):
            if f.name != "source":
                _spans(getattr(node, f.name), out)
    return out


def _texts():
    for p in sorted((ROOT / "rules").rglob("*.rules")) + sorted(GOLDEN.rglob("*.rules")):
        try:
            yield p, p.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            continue


def test_statement_wise_parsing_gives_what_parse_source_gives_spans_and_errors_included():
    trees = StatementTrees()
    for path, text in _texts():
        src = Source(path.name, text, path)
        (whole, d1), (pieces, d2) = parse_source(src), trees.parse(src)
        assert whole == pieces, path
        assert _spans(whole, []) == _spans(pieces, []), path
        assert [(d.code, d.message, d.span and d.span.start) for d in d1] == \
               [(d.code, d.message, d.span and d.span.start) for d in d2], path


@settings(max_examples=20)
@given(st.data())
def test_statement_wise_parsing_after_an_edit_is_parsing_the_whole_text(data):
    text = (ROOT / "rules/ear/2024-03-15.rules").read_text(encoding="utf-8")
    trees = StatementTrees()
    trees.parse(Source("v.rules", text))
    at = data.draw(st.integers(0, len(text)))
    piece = data.draw(st.sampled_from(["", "\n", " ", "x", "classify ", "(", "#", '"', "\ngroup G = {CN}\n"]))
    cut = data.draw(st.integers(0, 30))
    edited = text[:at] + piece + text[at + cut:]
    src = Source("v.rules", edited)
    (whole, d1), (pieces, d2) = parse_source(src), trees.parse(src)
    assert whole == pieces
    assert _spans(whole, []) == _spans(pieces, [])
    assert [(d.code, d.message) for d in d1] == [(d.code, d.message) for d in d2]


def test_editor_positions_count_utf16_units_and_every_line_break():
    lines = Lines("ab\r\ncd\ref\n😀x")
    assert lines.position(11) == (3, 2)  # after the emoji: two UTF-16 units
    assert lines.offset(3, 2) == 11
    assert lines.offset(1, 9) == 6  # clamped to the end of the line, before \r
    assert lines.position(4) == (1, 0)
    assert apply_change("tpp >= 1", (0, 7), (0, 8), "4800") == "tpp >= 4800"


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", root)
    return root


def test_a_misspelt_include_is_fixed_in_its_file_name_only(tree):
    path = tree / "ear/2026-07-14.rules"
    text = path.read_text(encoding="utf-8").replace('include "common/h20.rules"', 'include "common/h2O.rules"')
    ws = service.Workspace()
    ws.open(path, text)
    at = text.index("h2O.rules")
    actions = service.code_actions(ws, path, at, at)
    assert [a.title for a in actions] == ["replace `h2O.rules` with `h20.rules`"]
    (edit,) = actions[0].edits
    fixed = text[: edit.start] + edit.new_text + text[edit.end :]
    assert 'include "common/h20.rules"' in fixed


def test_rename_changes_a_group_in_every_file_that_uses_it_and_refuses_what_it_cannot(tree):
    path = tree / "groups/2026-07-14.rules"
    text = path.read_text(encoding="utf-8")
    ws = service.Workspace()
    at = text.index("group MACAU_D5") + len("group ")
    edits = service.rename(ws, path, at, "MACAU_OR_D5")
    files = {e.path.name for e in edits}
    assert "2026-07-14.rules" in files and len(edits) > 3
    assert all(e.path.read_text(encoding="utf-8")[e.start:e.end] == "MACAU_D5" for e in edits)
    with pytest.raises(service.RenameError, match="keyword"):
        service.rename(ws, path, at, "classify")
    with pytest.raises(service.RenameError, match="already declared as a group"):
        service.rename(ws, path, at, "RS_SCOPE")
    fields = tree / "fields.rules"
    with pytest.raises(service.RenameError, match="a field"):
        service.prepare_rename(ws, fields, fields.read_text(encoding="utf-8").index("tpp"))


def test_completion_offers_what_fits_the_place():
    path = ROOT / "rules/ear/2026-07-14.rules"
    text = path.read_text(encoding="utf-8")
    ws = service.Workspace()

    def labels(snippet):
        ws.change(path, text + "\n" + snippet)
        return [c.label for c in complete.completion(ws, path, len(text) + 1 + len(snippet))]

    assert labels("condition c = die_area >= 600 ") == ["mm2"]
    assert labels("condition c = tpp >= 4800 ") == ["TPP"]
    assert labels("condition c = transaction == ") == ["export", "reexport", "transfer"]
    assert "CN" in labels("condition c = destination in {AE, ")
    assert labels("condition c = end_user in ") == ["entity_list", "entity_list_footnote_4"]
    assert "listed" in labels("exception X cite \"c\" when tpp >= 1 review ")
    assert labels("field f: ")[:2] == ["number", "integer"]
    assert labels("example \"e\" record { tpp: 1 } expect ")[:2] == ["license_required", "license_exception"]
    assert labels('condition c = chip == "# not a comment') == []


def test_a_hover_on_a_list_entry_gives_its_names_and_dates(tmp_path):
    path = tmp_path / "watch.rules"
    text = ('list watch "Parties of concern"\n  entry "Example Semiconductor Co., Ltd."\n'
            '    aka "Example Semi", "ESC"\n    country CN\n    added 2024-03-01\n    removed 2024-06-01\n')
    path.write_text(text, encoding="utf-8")
    ws = service.Workspace()
    h = hover.hover(ws, path, text.index("Example Semiconductor"))
    assert h is not None
    assert "also known as Example Semi, ESC" in h.markdown
    assert "country `CN` China" in h.markdown and "added 2024-03-01; removed 2024-06-01" in h.markdown


def test_a_keystroke_parses_only_the_statement_typed_in():
    path = ROOT / "rules/ear/2026-07-14.rules"
    text = path.read_text(encoding="utf-8")
    trees = StatementTrees()
    trees.parse(Source(path.name, text))
    before = len(trees.trees)
    assert before > 40  # one tree a statement
    at = text.index("tpp < 21000") + len("tpp < 2100")
    edited = text[:at] + "1" + text[at:]
    module, _ = trees.parse(Source(path.name, edited))
    assert module is not None
    assert len(trees.trees) == before + 1


PIECES = ["", " ", "\n", "{", "}", "(", '"', "#", ",", ":", "in ", "== ", ">= 1 ", "CN", "tpp", "RS_SCOPE",
          "classify ", "3A090", "example \"e\" record { ", "expect ", "review ", "allows ", "😀", "\x00"]


@settings(max_examples=10)
@given(st.data())
def test_no_request_fails_at_any_place_of_any_text(data):
    _every_request(data)


@pytest.mark.slow
@settings(max_examples=100)
@given(st.data())
def test_no_request_fails_at_any_place_of_many_texts(data):
    _every_request(data)


def _every_request(data):
    path = ROOT / "rules/ear/2026-07-14.rules"
    text = path.read_text(encoding="utf-8")
    for _ in range(data.draw(st.integers(0, 3))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 20))
        text = text[:at] + data.draw(st.sampled_from(PIECES)) + text[at + cut:]
    ws = service.Workspace()
    ws.open(path, path.read_text(encoding="utf-8"))
    service.diagnostics(ws, path)  # the last text that parsed, as after typing
    ws.change(path, text)
    offset = data.draw(st.integers(0, len(text)))
    hover.hover(ws, path, offset)
    service.definition(ws, path, offset)
    complete.completion(ws, path, offset)
    service.symbols(ws, path)
    service.code_actions(ws, path, 0, len(text))
    service.formatting(ws, path)
    try:
        service.prepare_rename(ws, path, offset)
    except service.RenameError:
        pass
