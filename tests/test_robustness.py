"""No input, however broken, gets anything but a clean diagnostic."""

from __future__ import annotations

import os
import random

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chiprules.cli import main
from chiprules.core.errors import ChiprulesError
from chiprules.core.source import Source
from chiprules.lang.checker import check_file
from chiprules.lang.parser import parse_source


def run_check(path):
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def test_random_bytes(tmp_path):
    rng = random.Random(7)
    for i in range(20):
        p = tmp_path / f"r{i}.rules"
        p.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000))))
        res = run_check(p)
        assert res.exit_code == 1


def test_empty_file_is_clean(tmp_path):
    p = tmp_path / "empty.rules"
    p.write_text("")
    res = run_check(p)
    assert res.exit_code == 0


def test_binary_file(tmp_path):
    p = tmp_path / "a.rules"
    p.write_bytes(b"\x00\x01\x02PK\x03\x04")
    res = run_check(p)
    assert res.exit_code == 1 and "binary" in res.output


def test_invalid_utf8(tmp_path):
    p = tmp_path / "a.rules"
    p.write_bytes(b'classify 3A090.a cite "\xff\xfe" when tpp >= 1\n')
    res = run_check(p)
    assert res.exit_code == 1 and "not valid UTF-8" in res.output and ":1:24:" in res.output


def test_ten_megabyte_file(tmp_path):
    p = tmp_path / "big.rules"
    line = 'group G = {CN, HK, MO}  # filler\n'
    p.write_text(line * (10 * 1024 * 1024 // len(line) + 1))
    assert os.path.getsize(p) > 10 * 1024 * 1024
    res = run_check(p)
    assert res.exit_code == 1 and "E002" in res.output


def test_ten_thousand_nested_parentheses(tmp_path):
    p = tmp_path / "deep.rules"
    p.write_text('classify 3A090.a cite "x" when ' + "(" * 10_000 + "datacenter" + ")" * 10_000 + "\n")
    res = run_check(p)
    assert res.exit_code == 1 and "E004" in res.output


def test_unbalanced_deep_brackets(tmp_path):
    p = tmp_path / "deep.rules"
    p.write_text("{" * 5000)
    res = run_check(p)
    assert res.exit_code == 1


def test_missing_path():
    res = CliRunner().invoke(main, ["check", "no/such/file.rules"])
    assert res.exit_code == 1 and "cannot read" in res.output


def test_directory_without_rules(tmp_path):
    res = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert res.exit_code == 1 and "no .rules files" in res.output


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text):
    module, diags = parse_source(Source("t.rules", text))
    assert module is not None or diags


KEYWORDS = ["ruleset", "classify", "require", "license", "when", "cite", "group", "=", "{", "}", "(", ")",
            "tpp", ">=", "4800", "3A090.a", '"x"', "and", "or", "not", "in", "CN", "example", "record",
            "expect", "license_required", ",", ":", "field", "number", "TPP", "mm2", "review",
            "presumption_of_denial", "allows", "NAC", "exception", "\n", "#c\n", "5.92", "TPP/mm2"]


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(KEYWORDS), max_size=40))
def test_token_soup_never_raises(tokens):
    text = " ".join(tokens)
    module, diags = parse_source(Source("t.rules", text))
    assert module is not None or diags


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(KEYWORDS), max_size=40))
def test_checker_never_raises_on_token_soup(tmp_path, tokens):
    p = tmp_path / "soup.rules"
    p.write_text(" ".join(tokens))
    try:
        check_file(p)
    except ChiprulesError:
        pass
