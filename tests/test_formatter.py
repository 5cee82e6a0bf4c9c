"""The formatter: golden files, safety checks, and properties over generated rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from chiprules.cli import main
from chiprules.core.errors import RulesError
from chiprules.lang import ast as A
from chiprules.lang import formatter
from chiprules.lang.formatter import format_file, format_module, format_text
from chiprules.lang.parser import lark_parser, parse_text

HERE = Path(__file__).parent
GOLDEN = HERE / "golden" / "fmt"
RULES = HERE.parent / "rules"
CASES = sorted(p.name[: -len(".rules")] for p in GOLDEN.glob("*.rules")
               if not p.name.endswith(".expected.rules"))
RULES_FILES = sorted(RULES.rglob("*.rules"))


def codes(exc: RulesError) -> list[str]:
    return [d.code for d in exc.diagnostics]


# ---- golden files --------------------------------------------------------------------


def test_enough_golden_cases():
    assert len(CASES) >= 10


@pytest.mark.parametrize("name", CASES)
def test_golden(name, golden):
    messy = (GOLDEN / f"{name}.rules").read_text(encoding="utf-8")
    out = format_text(messy, f"{name}.rules")
    golden(GOLDEN / f"{name}.expected.rules", out)
    assert format_text(out) == out
    assert parse_text(out) == parse_text(messy)


@pytest.mark.parametrize("name", CASES)
def test_golden_expected_is_canonical(name):
    expected = GOLDEN / f"{name}.expected.rules"
    if not expected.exists():
        pytest.skip("golden file not written yet")
    text = expected.read_text(encoding="utf-8")
    assert format_text(text) == text


@pytest.mark.parametrize("path", RULES_FILES, ids=lambda p: str(p.relative_to(RULES)))
def test_rules_files_format_stably(path):
    text = path.read_text(encoding="utf-8")
    once = format_text(text, str(path))
    assert format_text(once, str(path)) == once
    assert parse_text(once) == parse_text(text)
    assert [c.text for c in parse_text(once).comments] == [c.text for c in parse_text(text).comments]


# ---- layout details ------------------------------------------------------------------


def test_empty_and_comment_only_inputs():
    assert format_text("") == ""
    assert format_text("  \n\n") == ""
    assert format_text("# only\n\n\n# comments") == "# only\n\n# comments\n"


def test_condition_that_fits_stays_on_one_line():
    out = format_text("condition c = a\n  or b\n")
    assert out == "condition c\n  = a or b\n"


def test_long_condition_breaks_before_top_level_operators():
    names = " or ".join(f"name_number_{i} > 1" for i in range(8))
    out = format_text(f"exception X when {names}")
    lines = out.splitlines()
    assert lines[1].startswith("  when name_number_0 > 1")
    assert all(line.startswith("    or ") for line in lines[2:])
    assert len(lines) == 9


def test_set_literal_wraps_aligned_after_brace():
    items = ", ".join(f"C{i:02d}" for i in range(40))
    out = format_text(f"group G = {{{items}}}")
    lines = out.splitlines()
    assert lines[1].startswith("  = {C00, ")
    assert all(len(line) <= 100 for line in lines)
    assert all(line.startswith("     C") for line in lines[2:])


def test_trailing_comment_is_kept_on_its_line():
    out = format_text("include   \"a\"   # note\n")
    assert out == 'include "a"  # note\n'


def test_comment_before_an_operator_breaks_the_condition():
    out = format_text("exception X\n  when a # note\n    and b\n")
    assert out == "exception X\n  when a  # note\n    and b\n"
    out = format_text("exception X\n  when (a # note\n    and b) or c\n")
    assert out == "exception X\n  when (a  # note\n        and b)\n    or c\n"


def test_comment_that_cannot_stay_moves_before_its_line():
    out = format_text("exception X\n  when x == # note\n 1\n")
    assert out == "exception X\n  # note\n  when x == 1\n"


def test_reordered_clauses_keep_comments_in_order():
    text = 'classify 3A090\n  when a  # one\n  cite "c"  # two\n'
    out = format_text(text)
    assert out == 'classify 3A090\n  # one\n  cite "c"  # two\n  when a\n'


def test_numbers_and_units_are_kept_as_written():
    out = format_text("condition c = x >= 007.50 TPP/mm2 and y < 1E+3")
    assert "007.50 TPP/mm2" in out and "1E+3" in out


def test_version_written_as_string_date_becomes_a_date():
    out = format_text('ruleset r version "2024-01-01" supersedes "draft 2"')
    assert out == 'ruleset r\n  version 2024-01-01\n  supersedes "draft 2"\n'


def test_format_module_without_source():
    module = A.Module((
        A.FieldDecl(A.Ident("a"), A.FieldType("text")),
        A.FieldDecl(A.Ident("b"), A.FieldType("bool")),
        A.ConditionDecl(A.Ident("c"), None, A.Truth(A.Ident("b"))),
    ))
    assert format_module(module) == "field a: text\nfield b: bool\n\ncondition c\n  = b\n"


# ---- errors and safety ---------------------------------------------------------------


def test_syntax_error_carries_parser_diagnostics():
    with pytest.raises(RulesError) as info:
        format_text("group = {A}", "bad.rules")
    assert info.value.diagnostics
    assert all(code.startswith("E") and code != "E300" for code in codes(info.value))


def test_repeated_clause_is_refused():
    with pytest.raises(RulesError) as info:
        format_text('classify 3A090 cite "a" cite "b"')
    assert codes(info.value) == ["E301"]
    diag = info.value.diagnostics[0]
    assert diag.span is not None and diag.span.start == len("classify 3A090 ")


@pytest.mark.parametrize("text", [
    'ruleset r title "a" title "b"',
    'list L entry "e" country CN country US',
    'example "e" record {} expect error review listed review case_by_case',
])
def test_repeated_clause_anywhere_is_refused(text):
    with pytest.raises(RulesError) as info:
        format_text(text)
    assert codes(info.value) == ["E301"]


def test_lost_comment_is_reported_not_returned(monkeypatch):
    real = formatter.format_module

    def drop_comments(module):
        return "\n".join(line for line in real(module).splitlines() if "#" not in line) + "\n"

    monkeypatch.setattr(formatter, "format_module", drop_comments)
    with pytest.raises(RulesError) as info:
        format_text("field a: text  # keep me\n", "x.rules")
    assert codes(info.value) == ["E300"]
    assert info.value.diagnostics[0].location == "x.rules"


def test_changed_meaning_is_reported(monkeypatch):
    real = formatter.format_module
    monkeypatch.setattr(formatter, "format_module", lambda m: real(m).replace(">", "<"))
    with pytest.raises(RulesError) as info:
        format_text("condition c = a > 1\n")
    assert codes(info.value) == ["E300"]


def test_unstable_output_is_reported(monkeypatch):
    real = formatter.format_module
    calls = []

    def wobble(module):
        calls.append(1)
        return real(module) + "\n" * (len(calls) % 2)

    monkeypatch.setattr(formatter, "format_module", wobble)
    with pytest.raises(RulesError) as info:
        format_text("field a: text\n")
    assert codes(info.value) == ["E300"]


def test_format_file(tmp_path):
    path = tmp_path / "a.rules"
    path.write_text("field a:text\r\nfield b:bool", encoding="utf-8")
    old, new = format_file(path)
    assert old == "field a:text\r\nfield b:bool"
    assert new == "field a: text\nfield b: bool\n"
    with pytest.raises(RulesError) as info:
        format_file(tmp_path / "missing.rules")
    assert codes(info.value) == ["E001"]


def test_cli_fmt_check_and_write(tmp_path):
    path = tmp_path / "a.rules"
    path.write_text("field a:text", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["fmt", "--check", str(path)])
    assert result.exit_code == 1
    result = runner.invoke(main, ["fmt", str(path)])
    assert result.exit_code == 0
    assert path.read_text(encoding="utf-8") == "field a: text\n"
    result = runner.invoke(main, ["fmt", "--check", str(path)])
    assert result.exit_code == 0


def test_cli_fmt_diff_prints_and_writes_nothing(tmp_path):
    path = tmp_path / "a.rules"
    path.write_text("field a:text", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["fmt", "--diff", str(path)])
    assert result.exit_code == 0
    assert "-field a:text" in result.stdout and "+field a: text" in result.stdout
    assert f"would reformat {path}" in result.stderr
    assert path.read_text(encoding="utf-8") == "field a:text"
    result = runner.invoke(main, ["fmt", "--check", "--diff", str(path)])
    assert result.exit_code == 1
    assert "+field a: text" in result.stdout
    assert path.read_text(encoding="utf-8") == "field a:text"


# ---- generated modules ---------------------------------------------------------------

NAMES = ["a", "b", "tpp", "die_area", "x_1", "Flag", "datacenter", "end_user", "destination",
         "a_rather_long_field_name", "another_long_condition_name"]
COUNTRIES = ["CN", "US", "MO", "HK", "AE", "RU", "D5", "A1", "KP", "IR", "SY", "VN"]
ECCNS = ["3A090", "3A090.a", "4A090.b", "5A992.c.1"]
UNITS = ["TPP", "TOPS", "GB/s", "TB/s", "mm2", "bits", "bit", "transistors", "TPP/mm2", "GB/s/mm2"]
NUMBERS = ["0", "1", "4800", "5.92", "1e3", "2.5E-2", "007", "10.0"]
DATES = ["2023-11-17", "2024-01-01", "1999-12-31"]
POLICIES = ["presumption_of_denial", "policy_of_denial", "case_by_case", "presumption_of_approval",
            "listed"]
OUTCOMES = ["license_required", "license_exception", "no_license_required", "indeterminate", "error"]

idents = st.sampled_from(NAMES).map(A.Ident)
countries = st.sampled_from(COUNTRIES).map(A.Ident)
eccns = st.sampled_from(ECCNS).map(A.Ident)
texts = st.text(st.sampled_from(list('ab Z"\\\n\t#{}é,')), max_size=14)
strs = texts.map(A.Str)
dates = st.sampled_from(DATES).map(A.DateLit)
policies = st.sampled_from(POLICIES)
units = st.sampled_from(UNITS)
quantities = st.builds(A.Quantity, st.sampled_from(NUMBERS), st.none() | units)
values = st.one_of(
    idents.map(A.Ref), quantities, dates, strs.map(A.StrLit),
)


def opt(strategy):
    return st.none() | strategy


def some(strategy, lo=1, hi=4):
    return st.lists(strategy, min_size=lo, max_size=hi).map(tuple)


def _paren_set(e):
    return A.SetGroup(e) if isinstance(e, A.SetOp) and e.op is not A.SetOpKind.INTER else e


def _paren_set_atom(e):
    return A.SetGroup(e) if isinstance(e, A.SetOp) else e


set_atoms = st.one_of(idents.map(A.SetRef), some(countries, 0, 30).map(A.SetLit))
set_exprs = st.recursive(set_atoms, lambda inner: st.one_of(
    inner.map(A.SetGroup),
    st.builds(A.SetOp, st.sampled_from([A.SetOpKind.UNION, A.SetOpKind.DIFF]), inner,
              inner.map(_paren_set)),
    st.builds(A.SetOp, st.just(A.SetOpKind.INTER), inner.map(_paren_set),
              inner.map(_paren_set_atom)),
), max_leaves=5)


def _paren_arith(e):
    return A.ArithGroup(e) if isinstance(e, A.Arith) and e.op in (A.ArithOp.ADD, A.ArithOp.SUB) else e


def _paren_arith_atom(e):
    return A.ArithGroup(e) if isinstance(e, A.Arith) else e


arith_atoms = st.one_of(idents.map(A.Ref), quantities)
ariths = st.recursive(arith_atoms, lambda inner: st.one_of(
    inner.map(A.ArithGroup),
    st.builds(A.Arith, st.sampled_from([A.ArithOp.ADD, A.ArithOp.SUB]), inner,
              inner.map(_paren_arith)),
    st.builds(A.Arith, st.sampled_from([A.ArithOp.MUL, A.ArithOp.DIV]), inner.map(_paren_arith),
              inner.map(_paren_arith_atom)),
), max_leaves=5)

comparisons = st.builds(
    lambda operands, ops: A.Comparison(tuple(operands), tuple(ops[: len(operands) - 1])),
    st.lists(values, min_size=2, max_size=3),
    st.lists(st.sampled_from(list(A.Compare)), min_size=2, max_size=2),
)
cond_atoms = st.one_of(
    comparisons,
    st.builds(A.Membership, values, set_exprs, st.booleans()),
    idents.map(A.Truth),
    eccns.map(A.ClassifiedAs),
)


def _not_operand(e):
    return A.Group(e) if isinstance(e, (A.And, A.Or)) else e


def _and_item(e):
    return A.Group(e) if isinstance(e, (A.And, A.Or)) else e


def _or_item(e):
    return A.Group(e) if isinstance(e, A.Or) else e


conditions = st.recursive(cond_atoms, lambda inner: st.one_of(
    inner.map(A.Group),
    inner.map(_not_operand).map(A.Not),
    some(inner.map(_and_item), 2, 4).map(A.And),
    some(inner.map(_or_item), 2, 4).map(A.Or),
), max_leaves=10)

field_types = st.one_of(
    units.map(lambda u: A.FieldType("number", unit=u)),
    st.sampled_from(["integer", "bool", "country", "date", "text", "party"]).map(A.FieldType),
    some(idents).map(lambda vs: A.FieldType("enum", values=vs)),
)
headers = st.builds(
    A.Header, idents, title=opt(strs), version=opt(st.sampled_from(DATES) | texts),
    effective=opt(dates), until=opt(dates), source=opt(strs),
    supersedes=opt(st.sampled_from(DATES) | texts), timeline=opt(st.sampled_from(["enforced", "written"])),
)
entries = st.builds(
    A.Entry, strs, aliases=some(strs, 0, 6), country=opt(countries), review=opt(policies),
    cite=opt(strs), added=opt(dates), removed=opt(dates), requirement=opt(strs),
)
reviews = st.one_of(
    st.builds(lambda policy: A.Review((), policy), policies),
    st.builds(lambda arms, policy: A.Review(tuple(A.ReviewArm(p, c) for p, c in arms), policy),
              some(st.tuples(policies, conditions), 1, 3), policies),
)


rules = st.sampled_from(list(A.RuleKind)).flatmap(lambda kind: st.builds(
    A.Rule, st.just(kind), eccns if kind is A.RuleKind.CLASSIFY else idents, opt(strs), opt(strs),
    opt(dates), opt(dates), opt(some(eccns)), opt(conditions),
    some(st.builds(A.ExceptWhen, opt(strs), conditions), 0, 2), opt(reviews),
    st.none() | st.just(()) | some(idents), some(st.builds(A.Notify, strs, opt(conditions)), 0, 2),
))
expects = st.builds(
    A.Expect, st.sampled_from(OUTCOMES), classified=st.none() | st.just(()) | some(eccns),
    review=opt(policies), exceptions=st.none() | st.just(()) | some(idents), missing=opt(some(idents)),
    notify=st.none() | st.just(()) | some(idents),
)
periods = st.one_of(st.just({"period": "year"}), st.just({"period": "all"}),
                    st.builds(lambda a, b: {"period": "span", "start": a, "end": b}, dates, dates))
limits = st.one_of(quantities.map(lambda q: {"limit": q}),
                   st.sampled_from(NUMBERS).map(lambda n: {"share": A.Quantity(n)}))
governs = st.one_of(idents.map(lambda i: {"governs": "exception", "governed": i}),
                    st.builds(lambda i, p: {"governs": "license", "governed": i, "otherwise": p}, idents, policies))
quotas = st.builds(
    lambda name, title, cite, gov, when, counts, per, period, limit, fed: A.Quota(
        name, title, cite, when=when, counts=counts, per=per, fed=fed, **(gov or {}), **(period or {}),
        **(limit or {})),
    idents, opt(strs), opt(strs), opt(governs), opt(conditions), opt(ariths), opt(some(idents)), opt(periods),
    opt(limits), opt(conditions))
statements = st.one_of(
    headers,
    quotas,
    st.builds(A.Include, strs),
    st.builds(A.GroupDecl, idents, opt(strs), opt(strs), set_exprs),
    st.builds(A.Treat, countries, countries, opt(strs)),
    st.builds(A.PartyListDecl, idents, opt(strs), opt(strs),
              some(st.builds(A.ListFrom, strs, st.booleans()), 0, 2), some(entries, 0, 3)),
    st.builds(A.FieldDecl, idents, field_types, opt(strs), opt(values)),
    st.builds(A.DeriveDecl, idents, opt(units), ariths, opt(strs)),
    st.builds(A.ConditionDecl, idents, opt(strs), conditions),
    rules,
    st.builds(A.Example, strs, some(st.builds(A.Pair, idents, values), 0, 9), expects),
)
modules = some(statements, 0, 6).map(A.Module)

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.slow
@SETTINGS
@given(modules)
def test_generated_modules_round_trip(module):
    text = format_module(module)
    assert parse_text(text) == module
    assert format_text(text) == text


# text made messy: the canonical tokens joined by random spacing, blank lines and comments
SEPARATORS = [" ", " ", "\n", "   ", "\n\n", "\t", "\n    ", "  # note\n", "\n# own line\n  ",
              "\n\n# after a blank line\n\n", " #\n"]


@st.composite
def messy_texts(draw):
    module = draw(modules)
    tokens = [tok.value for tok in lark_parser().lex(format_module(module))]
    seps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(tokens) + 1,
                         max_size=len(tokens) + 1))
    return seps[0] + "".join(tok + sep for tok, sep in zip(tokens, seps[1:], strict=True))


@pytest.mark.slow
@SETTINGS
@given(messy_texts())
def test_messy_text_formats_idempotently(text):
    once = format_text(text)
    assert format_text(once) == once
    assert parse_text(once) == parse_text(text)
    assert [c.text for c in parse_text(once).comments] == [c.text for c in parse_text(text).comments]


# random sentences of the grammar itself

def _grammar_text_strategy():
    explicit = {}
    for term in lark_parser().terminals:
        if term.pattern.type == "str":
            explicit[term.name] = st.just(term.pattern.value + " ")
    explicit.update(
        NAME=st.sampled_from(NAMES).map(lambda s: s + " "),
        STRING=texts.map(lambda s: formatter.quote(s) + " "),
        NUMBER=st.sampled_from(NUMBERS).map(lambda s: s + " "),
        DATE=st.sampled_from(DATES).map(lambda s: s + " "),
        ECCN=st.sampled_from(ECCNS).map(lambda s: s + " "),
        UNIT=units.map(lambda s: s + " "),
        COMPARE=st.sampled_from([c.value + " " for c in A.Compare]),
        COMMENT=st.sampled_from(["# c\n", "#\n", "# a # b\n"]),
        WS=st.sampled_from([" ", "\n", "\n\n", "\n  "]),
    )
    return from_lark(lark_parser(), explicit=explicit)


@pytest.mark.slow
@SETTINGS
@given(_grammar_text_strategy())
def test_grammar_sentences_format_safely(text):
    try:
        module = parse_text(text)
    except RulesError:
        event("does not parse")
        with pytest.raises(RulesError):
            format_text(text)
        return
    try:
        out = format_text(text)
    except RulesError as exc:
        assert codes(exc) == ["E301"], exc.render()
        event("repeated clause")
        return
    event("formatted")
    assert parse_text(out) == module
    assert format_text(out) == out
