"""Hand-written messages for common syntax mistakes.

Lark's ``match_examples`` compares the parser state of an error with the states
reached by a table of labelled bad examples; the label picks the message.
Errors that match no example fall back to "expected one of ..." in the user's
words, never in token names.
"""

from __future__ import annotations

import functools
import re

import attrs
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from chiprules.core.diagnostics import Diagnostic, did_you_mean, error
from chiprules.core.source import Source, Span
from chiprules.model.checked import Outcome

UNITS = ("TPP", "TOPS", "GB/s", "TB/s", "mm2", "bits", "transistors", "TPP/mm2", "GB/s/mm2", "percent",
         "PFLOPS", "ft3", "nm", "um2", "Gb/mm2", "ops")
POLICIES = (
    "presumption_of_denial", "policy_of_denial", "case_by_case", "presumption_of_approval", "listed",
)
OUTCOMES = tuple(str(o) for o in Outcome)
STATEMENTS = (
    "ruleset", "include", "group", "treat", "list", "field", "derive", "condition",
    "classify", "jurisdiction", "require", "exception", "example",
)
RULE_CLAUSES = ("cite", "effective", "until", "for", "when", "except", "review", "allows", "notify")
HEADER_CLAUSES = ("title", "version", "effective", "until", "source", "supersedes", "timeline")


@attrs.frozen
class Mistake:
    code: str
    message: str
    help: str | None
    examples: tuple[str, ...]


_R = 'ruleset r version 2023-11-17\n'

MISTAKES: dict[str, Mistake] = {
    "single_equals": Mistake(
        "E101", "`=` is not a comparison; use `==`", "write `destination == CN`, or `>=`/`<=` for thresholds",
        (
            'classify 3A090.a when tpp = 4800',
            'classify 3A090.a when destination = CN',
            'require license x when tpp >= 1 and tpp = 4',
        ),
    ),
    "arrow_compare": Mistake(
        "E102", "write `>=` and `<=`, not `=>` or `=<`", None,
        (),  # told apart from `=` by the next character
    ),
    "c_logic": Mistake(
        "E103", "conditions are joined with `and`, `or` and `not`", "write `tpp >= 4800 and datacenter`",
        (
            'classify 3A090.a when tpp >= 4800 && datacenter',
            'classify 3A090.a when tpp >= 4800 || datacenter',
            'classify 3A090.a when tpp >= 4800 & datacenter',
            'classify 3A090.a when tpp >= 4800 | datacenter',
        ),
    ),
    "missing_unit_type": Mistake(
        "E104", "a `number` field needs a unit", f"write e.g. `field die_area: number mm2`; units: {', '.join(UNITS)}",
        (
            'field die_area: number field',
            'field die_area: number "x"',
            'field die_area: number',
            'field die_area: number xyz',
        ),
    ),
    "unknown_unit": Mistake(
        "E105", "unknown unit after a number", f"units are: {', '.join(UNITS)}",
        (
            'classify 3A090.a when performance_density >= 5.92 TTP',
            'classify 3A090.a when die_area >= 5 cm2',
            'example "x" record { tpp: 4800 tops }',
        ),
    ),
    "unclosed_paren": Mistake(
        "E106", "unclosed `(`", "add the missing `)`",
        (
            'classify 3A090.a when (tpp >= 4800',
            'classify 3A090.a when (tpp >= 4800 classify 3A090.b',
            'classify 3A090.a when (tpp >= 4800 or (datacenter)',
            'group g = (A | B',
            'derive d = (tpp / x',
        ),
    ),
    "unclosed_brace": Mistake(
        "E107", "unclosed `{`", "add the missing `}`",
        (
            'group g = {CN, HK',
            'group g = {CN, HK group',
            'example "x" record { tpp: 4800',
            'example "x" record { tpp: 4800 expect',
        ),
    ),
    "set_needs_commas": Mistake(
        "E108", "separate the members of a set with commas", "write `{CN, HK, MO}`",
        ('group g = {CN HK}', 'group g = {CN, HK MO}', 'classify 3A090.a when destination in {CN HK}'),
    ),
    "record_needs_commas": Mistake(
        "E109", "separate the fields of a record with commas", 'write `record { tpp: 4800, datacenter: yes }`',
        ('example "x" record { tpp: 4800 datacenter: yes }', 'example "x" record { a: CN b: 1 }', 'example "x" record { a: "s" b: 1 }'),
    ),
    "group_needs_equals": Mistake(
        "E110", "a group needs `=` before its members", 'write `group D5 "Country Group D:5" = {AF, BY}`',
        ('group g {CN}', 'group g "t" {CN}', 'group g cite "x" {CN}', 'group g D1'),
    ),
    "cite_needs_string": Mistake(
        "E111", "`cite` needs the citation in double quotes", 'write `cite "15 CFR 774 Supp. 1, ECCN 3A090.a"`',
        (
            'classify 3A090.a cite when', 'classify 3A090.a cite 15', 'classify 3A090.a cite classify',
            'group g cite =', 'require license x cite review', 'classify 3A090.a cite',
        ),
    ),
    "date_format": Mistake(
        "E112", "dates are written YYYY-MM-DD", "write `2023-11-17`",
        (
            _R.replace('version 2023-11-17', 'version 2023/11/17'),
            'ruleset r effective 17',
            'ruleset r effective nov',
            'classify 3A090.a effective 2023',
            'ruleset r until 1',
        ),
    ),
    "unknown_statement": Mistake(
        "E113", "expected a statement", "statements start with: " + ", ".join(STATEMENTS),
        ('clasify 3A090.a', 'rule x', 'xyz', 'classify 3A090.a when tpp >= 1 examples'),
    ),
    "unknown_clause": Mistake(
        "E114", "expected a clause of the rule", "rule clauses start with: " + ", ".join(RULE_CLAUSES),
        (
            'classify 3A090.a wen tpp >= 4800',
            'classify 3A090.a "t" cit "x"',
            'require license x "t" reveiw presumption_of_denial',
            'classify 3A090.a tpp >= 4800',
        ),
    ),
    "bad_policy": Mistake(
        "E115", "unknown review policy", "review policies are: " + ", ".join(POLICIES),
        (
            'require license x review denial',
            'require license x review presumption_denial',
            'require license x review case_by_case if a, denial if b, otherwise presumption_of_denial',
            'require license x review case_by_case if a, otherwise denial',
            'require license x review case_by_case if a otherwise denial',
            'list l entry "x" review denial',
            'example "x" record {} expect license_required review approval',
            'require license x review case_by_case if tpp >= 1 otherwise denial',
        ),
    ),
    "bad_outcome": Mistake(
        "E116", "unknown outcome after `expect`", "outcomes are: " + ", ".join(OUTCOMES),
        ('example "x" record {} expect licence_required', 'example "x" record {} expect denied', 'example "x" record {} expect'),
    ),
    "example_needs_record": Mistake(
        "E117", "an example needs a `record { ... }` and an `expect` clause",
        'write `example "H100 to China" record { chip: "NVIDIA H100 SXM", destination: CN } expect license_required`',
        ('example "x" expect license_required', 'example x', 'example "x" record { tpp: 1 }', 'example "x" record { tpp: 1 } classify'),
    ),
    "eccn_format": Mistake(
        "E118", "expected an ECCN such as `3A090.a`", "ECCNs are a digit, a capital letter A-E, three digits, then `.paragraph`s",
        ('classify 3a090', 'classify x', 'require license x for 3a090', 'require license x for A090', 'example "x" record {} expect license_required classified 3a090'),
    ),
    "incomplete_comparison": Mistake(
        "E119", "the comparison is missing its right-hand side", "write e.g. `tpp >= 4800`",
        ('classify 3A090.a when tpp >=', 'classify 3A090.a when tpp >= and', 'classify 3A090.a when tpp >= classify', 'classify 3A090.a when tpp < )'),
    ),
    "empty_condition": Mistake(
        "E120", "expected a condition", "write e.g. `when tpp >= 4800 and datacenter`",
        ('classify 3A090.a when', 'classify 3A090.a when cite', 'classify 3A090.a when and', 'classify 3A090.a when )', 'classify 3A090.a except when', 'condition c ='),
    ),
    "unterminated_string": Mistake(
        "E121", "unterminated string", 'close the string with `"` on the same line',
        (),  # a lexer error: recognised by its character
    ),
    "field_needs_type": Mistake(
        "E122", "a field needs a type", "types are: number UNIT, integer, bool, country, date, text, party, one of A, B",
        ('field tpp: quantity', 'field tpp', 'field tpp: ', 'field x: string', 'field tpp number TPP'),
    ),
    "single_quotes": Mistake(
        "E124", "strings are written in double quotes", 'write `cite "15 CFR 742.6"`', (),
    ),
    "require_license": Mistake(
        "E123", "write `require license NAME`", 'e.g. `require license regional_stability "RS licence to D:1, D:4, D:5"`',
        ('require x', 'require license', 'require license "x"', 'require 3A090'),
    ),
    "list_score": Mistake(
        "E126", "a screening score is written `match >= N` or `possible >= N`",
        "scores run from 0 to 100: e.g. `match >= 90` and `possible >= 75`",
        tuple(f'list l{head} {clause}' for head in ('', ' "t"', ' cite "c"', ' "t" cite "c"')
              for clause in ('match 90', 'possible 75', 'match', 'possible >=', 'match >= x',
                             'match >= 90 possible 75')),
    ),
}


@functools.lru_cache(maxsize=1)
def _example_table() -> dict[str, list[str]]:
    # Lark compares whole parser states, stack depth included: an error in the
    # first statement and one in a later statement sit at different depths, so
    # every example is also tried after a valid first statement.
    table = {}
    for label, m in MISTAKES.items():
        exs = list(m.examples)
        table[label] = exs + ["include \"x.rules\"\n" + e for e in exs if not e.startswith("ruleset")]
    return table


_TERMINAL_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a quoted string", "DATE": "a date (YYYY-MM-DD)",
    "ECCN": "an ECCN such as 3A090.a", "UNIT": "a unit", "COMPARE": "a comparison (>=, >, <=, <, ==, !=)",
    "LPAR": "`(`", "RPAR": "`)`", "LBRACE": "`{`", "RBRACE": "`}`", "COMMA": "`,`", "COLON": "`:`",
    "EQUAL": "`=`", "VBAR": "`|`", "MINUS": "`-`", "AMPERSAND": "`&`", "PLUS": "`+`", "STAR": "`*`",
    "SLASH": "`/`", "$END": "the end of the file", "CSL": "`csl`",
}


def _words(expected) -> str:
    out = set()
    for name in expected:
        if name in _TERMINAL_WORDS:
            out.add(_TERMINAL_WORDS[name])
        elif name.replace("_", "").isalpha() and name.isupper():
            out.add(f"`{name.lower()}`")
        else:
            out.add(name)
    items = sorted(out)
    if len(items) > 12:
        items = items[:12] + ["..."]
    return ", ".join(items)


def _token_desc(exc: UnexpectedInput, text: str) -> str:
    if isinstance(exc, UnexpectedCharacters):
        return f"`{text[exc.pos_in_stream]}`" if exc.pos_in_stream < len(text) else "the end of the file"
    tok = getattr(exc, "token", None)
    if tok is None or tok.type == "$END":
        return "the end of the file"
    return f"`{tok}`"


def _by_context(exc: UnexpectedInput, text: str) -> str | None:
    """Mistakes recognised from the text around the error, whatever the parser state."""
    if isinstance(exc, UnexpectedCharacters):
        ch = text[exc.pos_in_stream : exc.pos_in_stream + 1]
        if ch == '"':
            return "unterminated_string"
        if ch == "!":
            return "c_logic"
        if ch == "'":
            return "single_quotes"
        return None
    tok = getattr(exc, "token", None)
    if tok is None or tok.type == "$END" or tok.end_pos is None:
        return None
    accepts = getattr(exc, "accepts", None) or getattr(exc, "expected", None) or set()
    if tok.type == "EQUAL" and text[tok.end_pos : tok.end_pos + 1] in (">", "<"):
        return "arrow_compare"
    if tok.type == "NAME" and "PRESUMPTION_OF_DENIAL" in accepts and "CASE_BY_CASE" in accepts:
        return "bad_policy"  # where a review policy goes: first, in a later arm, after `otherwise`
    before = text[: tok.start_pos]
    after = text[tok.end_pos :].lstrip(" \t")
    if tok.type == "NAME" and "COMMA" in accepts and "RBRACE" in accepts and after.startswith(":"):
        return "record_needs_commas"
    if "RBRACE" in accepts and "COMMA" in accepts and tok.type not in ("NAME", "COLON"):
        return "unclosed_brace"
    line_start = before.rfind("\n") + 1
    if tok.type == "NAME" and not before[line_start:].strip() and "CLASSIFY" in accepts:
        indented = line_start < len(before)
        if indented and "WHEN" in accepts:
            return "unknown_clause"
        return "unknown_statement"
    if tok.type == "NAME" and "UNIT" in accepts and re.search(r"[0-9][ \t]*$", before):
        if did_you_mean(str(tok), UNITS) is None and did_you_mean(str(tok), STATEMENTS):
            return "unknown_statement"
        return "unknown_unit"
    return None


def _unmatched_opener(text: str, pos: int, opener: str, closer: str) -> int | None:
    depth = 0
    for i in range(min(pos, len(text)) - 1, -1, -1):
        ch = text[i]
        if ch == closer:
            depth += 1
        elif ch == opener:
            if depth == 0:
                return i
            depth -= 1
    return None


def _better_span(label: str, span: Span, source: Source, text: str) -> Span:
    """Point at the cause rather than at the token after it."""
    if label in ("unclosed_paren", "unclosed_brace"):
        opener, closer = ("(", ")") if label == "unclosed_paren" else ("{", "}")
        at = _unmatched_opener(text, span.start, opener, closer)
        if at is not None:
            return Span(source, at, at + 1)
    if label in ("unknown_statement", "unknown_clause", "unknown_unit", "record_needs_commas",
                 "set_needs_commas", "unterminated_string", "single_quotes", "bad_policy"):
        return span
    before = text[: span.start]
    line_start = before.rfind("\n") + 1
    if span.start < len(text) and before[line_start:].strip():
        return span  # the token is on the same line as what came before: point at it
    end = len(before.rstrip())
    if end == 0:
        return span
    return Span(source, end, end)


_GROUPED_NUMBER = re.compile(r"(?<![\w.])[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?(?![\w.])")


def _grouped_number(source: Source, text: str, pos: int) -> Diagnostic | None:
    """A number written with thousands separators (`4,000`) where the error is."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line_end = len(text) if line_end < 0 else line_end
    for m in _GROUPED_NUMBER.finditer(text, line_start, line_end):
        if m.start() <= pos < m.end():
            plain = m.group().replace(",", "")
            return error("E127", f"numbers are written without thousands separators: `{m.group()}`",
                         Span(source, m.start(), m.end()), help=f"write `{plain}`")
    return None


def describe_syntax_error(exc: UnexpectedInput, source: Source, text: str, parser) -> Diagnostic:
    """A diagnostic for a syntax error; ``parser`` is the Lark parser that raised it (its
    states are matched against the table of labelled mistakes)."""
    if isinstance(exc, UnexpectedCharacters):
        start = exc.pos_in_stream
        end = start + 1
    elif isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        stripped = len(text.rstrip())
        start, end = max(0, stripped - 1), max(1, stripped)
    else:
        tok = exc.token
        start, end = tok.start_pos, tok.end_pos if tok.end_pos is not None else tok.start_pos + 1
    span = Span(source, start, max(end, start + 1) if start < len(source.text) else start)
    grouped = _grouped_number(source, text, start)
    if grouped is not None:
        return grouped

    label = _by_context(exc, text)
    if label is None and not isinstance(exc, UnexpectedCharacters):
        try:
            label = exc.match_examples(parser.parse, _example_table(), use_accepts=True)
        except Exception:  # matching is best effort; never let it hide the real error
            label = None
    found = _token_desc(exc, text)
    if label is None and isinstance(exc, UnexpectedCharacters):
        return error(
            "E125", f"unexpected character {found}", span,
            help="check for a stray character or a missing quote",
        )
    if label is not None:
        span = _better_span(label, span, source, text)
        m = MISTAKES[label]
        msg, help_ = m.message, m.help
        if label in ("unknown_statement", "unknown_clause") and isinstance(exc, UnexpectedToken):
            word = str(exc.token)
            pool = STATEMENTS if label == "unknown_statement" else RULE_CLAUSES + STATEMENTS
            guess = did_you_mean(word, pool)
            msg = f"{m.message}, found {found}"
            if guess:
                help_ = f"did you mean `{guess}`?"
        elif label == "unknown_unit" and isinstance(exc, UnexpectedToken):
            msg = f"unknown unit `{exc.token}`"
            guess = did_you_mean(str(exc.token), UNITS)
            if guess:
                help_ = f"did you mean `{guess}`? units are: {', '.join(UNITS)}"
        elif label == "bad_policy" and isinstance(exc, UnexpectedToken):
            guess = did_you_mean(str(exc.token), POLICIES)
            msg = f"unknown review policy {found}"
            if guess:
                help_ = f"did you mean `{guess}`?"
        elif label == "bad_outcome" and isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
            guess = did_you_mean(str(exc.token), OUTCOMES)
            msg = f"unknown outcome {found}"
            if guess:
                help_ = f"did you mean `{guess}`?"
        return error(m.code, msg, span, help=help_)

    expected = getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ()
    msg = f"unexpected {found}"
    help_ = f"expected {_words(expected)}" if expected else None
    return error("E100", msg, span, help=help_)
