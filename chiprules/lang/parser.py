"""Text -> surface AST, with located, hand-written syntax errors."""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedEOF, UnexpectedInput, UnexpectedToken

from chiprules.core.diagnostics import Diagnostic, error
from chiprules.core.errors import RulesError
from chiprules.core.source import Source, Span
from chiprules.lang import ast as A
from chiprules.lang.syntax_errors import describe_syntax_error

MAX_FILE_BYTES = 1024 * 1024  # 60 times the largest version file; parsing runs at about 60 KB a second
MAX_NESTING = 100
MAX_SYNTAX_ERRORS = 20

TOP_KEYWORDS = (
    "ruleset", "include", "group", "treat", "list", "field", "derive", "condition",
    "classify", "jurisdiction", "require", "exception", "quota", "example",
)
_STATEMENT_START = re.compile(r"(?m)^[ \t]*(?:" + "|".join(TOP_KEYWORDS) + r")\b")


def grammar_text() -> str:
    """The grammar, from the installed package (a copy of grammar/chiprules.lark)."""
    return resources.files("chiprules.lang").joinpath("chiprules.lark").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def lark_parser() -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        maybe_placeholders=True,
    )


# ---- the transformer --------------------------------------------------------


def _unescape(raw: str) -> str:
    body = raw[1:-1]
    if "\\" not in body:
        return body
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class _Build(Transformer):
    """Lark tree -> AST nodes. One method per grammar rule."""

    def __init__(self, source: Source, offset: int = 0):
        super().__init__(visit_tokens=False)
        self.src = source
        self.offset = offset  # where the parsed text starts in the source

    # helpers
    def _span(self, meta) -> Span | None:
        if getattr(meta, "empty", True):
            return None
        return Span(self.src, meta.start_pos + self.offset, meta.end_pos + self.offset)

    def _tspan(self, tok: Token) -> Span:
        return Span(self.src, tok.start_pos + self.offset, tok.end_pos + self.offset)

    def _ident(self, tok: Token | None) -> A.Ident | None:
        if tok is None:
            return None
        return A.Ident(str(tok), span=self._tspan(tok))

    def _str(self, tok: Token | None) -> A.Str | None:
        if tok is None:
            return None
        return A.Str(_unescape(str(tok)), span=self._tspan(tok))

    def _date(self, tok: Token) -> A.DateLit:
        return A.DateLit(str(tok), span=self._tspan(tok))

    # ---- module
    def start(self, items):
        return list(items)

    # ---- header
    @v_args(meta=True)
    def header(self, meta, children):
        name, *clauses = children
        kw, repeated = {}, []
        for key, val, span in clauses:
            if key in kw:
                repeated.append((key, span))
            kw[key] = val
        return A.Header(self._ident(name), span=self._span(meta), repeated=tuple(repeated), **kw)

    @v_args(meta=True)
    def title(self, meta, c):
        return ("title", self._str(c[0]), self._span(meta))

    @v_args(meta=True)
    def version(self, meta, c):
        tok = c[0]
        return ("version", _unescape(tok) if tok.type == "STRING" else str(tok), self._span(meta))

    @v_args(meta=True)
    def effective(self, meta, c):
        return ("effective", self._date(c[0]), self._span(meta))

    @v_args(meta=True)
    def until(self, meta, c):
        return ("until", self._date(c[0]), self._span(meta))

    @v_args(meta=True)
    def source(self, meta, c):
        return ("source", self._str(c[0]), self._span(meta))

    @v_args(meta=True)
    def supersedes(self, meta, c):
        tok = c[0]
        return ("supersedes", _unescape(tok) if tok.type == "STRING" else str(tok), self._span(meta))

    def policy(self, c):
        return str(c[0])

    outcome = timeline_kind = policy

    @v_args(meta=True)
    def timeline(self, meta, c):
        return ("timeline", str(c[0]), self._span(meta))

    @v_args(meta=True)
    def include(self, meta, c):
        return A.Include(self._str(c[0]), span=self._span(meta))

    # ---- groups
    @v_args(meta=True)
    def group(self, meta, c):
        name, title, cite, expr = c
        return A.GroupDecl(self._ident(name), self._str(title), cite, expr, span=self._span(meta))

    @v_args(meta=True)
    def treat(self, meta, c):
        alias, target, cite = c
        return A.Treat(self._ident(alias), self._ident(target), cite, span=self._span(meta))

    @v_args(meta=True)
    def set_ref(self, meta, c):
        return A.SetRef(self._ident(c[0]), span=self._span(meta))

    @v_args(meta=True)
    def set_lit(self, meta, c):
        return A.SetLit(tuple(self._ident(t) for t in c if t is not None), span=self._span(meta))

    @v_args(meta=True)
    def set_union(self, meta, c):
        return A.SetOp(A.SetOpKind.UNION, c[0], c[1], span=self._span(meta))

    @v_args(meta=True)
    def set_diff(self, meta, c):
        return A.SetOp(A.SetOpKind.DIFF, c[0], c[1], span=self._span(meta))

    @v_args(meta=True)
    def set_inter(self, meta, c):
        return A.SetOp(A.SetOpKind.INTER, c[0], c[1], span=self._span(meta))

    @v_args(meta=True)
    def set_paren(self, meta, c):
        return A.SetGroup(c[0], span=self._span(meta))

    # ---- party lists
    @v_args(meta=True)
    def party_list(self, meta, c):
        name, title, *clauses = c
        cite, sources, entries, scores = None, [], [], []
        for cl in clauses:
            if isinstance(cl, _Cite):
                cite = cl.value
            elif isinstance(cl, A.ListFrom):
                sources.append(cl)
            elif isinstance(cl, A.ScoreClause):
                scores.append(cl)
            else:
                entries.append(cl)
        return A.PartyListDecl(
            self._ident(name), self._str(title), cite, tuple(sources), tuple(entries), tuple(scores),
            span=self._span(meta),
        )

    @v_args(meta=True)
    def list_match(self, meta, c):
        return A.ScoreClause("match", str(c[0]), str(c[1]), span=self._span(meta))

    @v_args(meta=True)
    def list_possible(self, meta, c):
        return A.ScoreClause("possible", str(c[0]), str(c[1]), span=self._span(meta))

    @v_args(meta=True)
    def list_from(self, meta, c):
        csl, path, footnotes = c
        return A.ListFrom(self._str(path), csl is not None, span=self._span(meta), footnotes=footnotes or ())

    def list_footnotes(self, c):
        return tuple(str(t) for t in c)

    @v_args(meta=True)
    def entry(self, meta, c):
        name, *clauses = c
        kw: dict = {}
        for cl in clauses:
            key, val = ("cite", cl.value) if isinstance(cl, _Cite) else cl
            kw[key] = val
        return A.Entry(self._str(name), span=self._span(meta), **kw)

    def aka(self, c):
        return ("aliases", tuple(self._str(t) for t in c))

    def entry_country(self, c):
        return ("country", self._ident(c[0]))

    def entry_review(self, c):
        return ("review", str(c[0]))

    def added(self, c):
        return ("added", self._date(c[0]))

    def removed(self, c):
        return ("removed", self._date(c[0]))

    def entry_requirement(self, c):
        return ("requirement", self._str(c[0]))

    def cite(self, c):
        # as a clause of a rule or entry it is tagged; a bare Str serves group/list
        return _Cite(self._str(c[0]))

    # ---- fields
    @v_args(meta=True)
    def field(self, meta, c):
        name, ftype, default, doc = c
        return A.FieldDecl(self._ident(name), ftype, self._str(doc), default, span=self._span(meta))

    @v_args(meta=True)
    def t_number(self, meta, c):
        return A.FieldType("number", unit=str(c[0]), span=self._span(meta))

    @v_args(meta=True)
    def t_enum(self, meta, c):
        return A.FieldType("enum", values=tuple(self._ident(t) for t in c), span=self._span(meta))

    def _simple(kind):  # noqa: N805 - a factory used in the class body
        @v_args(meta=True)
        def build(self, meta, c):
            return A.FieldType(kind, span=self._span(meta))

        return build

    t_integer = _simple("integer")
    t_bool = _simple("bool")
    t_country = _simple("country")
    t_date = _simple("date")
    t_text = _simple("text")
    t_party = _simple("party")
    del _simple

    @v_args(meta=True)
    def derive(self, meta, c):
        name, unit, expr, doc = c
        return A.DeriveDecl(
            self._ident(name), str(unit) if unit is not None else None, expr, self._str(doc),
            span=self._span(meta),
        )

    @v_args(meta=True)
    def condition(self, meta, c):
        name, doc, expr, *unsettled = c
        return A.ConditionDecl(self._ident(name), self._str(doc), expr, span=self._span(meta),
                               unsettled=tuple(unsettled))

    @v_args(meta=True)
    def unsettled(self, meta, c):
        why, cite, when = c
        return A.Unsettled(self._str(why), self._str(cite), when, span=self._span(meta))

    def _arith(op):  # noqa: N805
        @v_args(meta=True)
        def build(self, meta, c):
            return A.Arith(op, c[0], c[1], span=self._span(meta))

        return build

    add = _arith(A.ArithOp.ADD)
    sub = _arith(A.ArithOp.SUB)
    mul = _arith(A.ArithOp.MUL)
    div = _arith(A.ArithOp.DIV)
    del _arith

    @v_args(meta=True)
    def arith_paren(self, meta, c):
        return A.ArithGroup(c[0], span=self._span(meta))

    # ---- rules
    def _rule(self, kind, meta, ident, title, clauses):
        kw: dict = {}
        seen: dict[str, Span] = {}
        repeated = []
        excepts, notifies = [], []
        for key, val, span in clauses:
            if key == "excepts":
                excepts.append(val)
                continue
            if key == "notify":
                notifies.append(val)
                continue
            if key in seen:
                repeated.append((key, span))
            seen[key] = span
            kw[key] = val
        return A.Rule(
            kind, ident, self._str(title), excepts=tuple(excepts), notify=tuple(notifies),
            span=self._span(meta), repeated=tuple(repeated), **kw,
        )

    def _clauses(self, raw):
        out = []
        for cl in raw:
            if isinstance(cl, _Cite):
                out.append(("cite", cl.value, cl.value.span))
            else:
                out.append(cl)
        return out

    @v_args(meta=True)
    def classify(self, meta, c):
        eccn, title, *clauses = c
        return self._rule(A.RuleKind.CLASSIFY, meta, self._ident(eccn), title, self._clauses(clauses))

    @v_args(meta=True)
    def jurisdiction(self, meta, c):
        name, title, *clauses = c
        return self._rule(A.RuleKind.JURISDICTION, meta, self._ident(name), title, self._clauses(clauses))

    @v_args(meta=True)
    def requirement(self, meta, c):
        name, title, *clauses = c
        return self._rule(A.RuleKind.REQUIRE, meta, self._ident(name), title, self._clauses(clauses))

    @v_args(meta=True)
    def exception(self, meta, c):
        name, title, *clauses = c
        return self._rule(A.RuleKind.EXCEPTION, meta, self._ident(name), title, self._clauses(clauses))

    @v_args(meta=True)
    def rule_effective(self, meta, c):
        return ("effective", self._date(c[0]), self._span(meta))

    @v_args(meta=True)
    def rule_until(self, meta, c):
        return ("until", self._date(c[0]), self._span(meta))

    @v_args(meta=True)
    def for_items(self, meta, c):
        return ("items", tuple(self._ident(t) for t in c), self._span(meta))

    @v_args(meta=True)
    def when(self, meta, c):
        return ("when", c[0], self._span(meta))

    @v_args(meta=True)
    def except_when(self, meta, c):
        label, expr = c
        return ("excepts", A.ExceptWhen(self._str(label), expr, span=self._span(meta)), None)

    @v_args(meta=True)
    def review_plain(self, meta, c):
        return ("review", A.Review((), str(c[0]), span=self._span(meta)), self._span(meta))

    @v_args(meta=True)
    def review(self, meta, c):
        *arms, otherwise = c
        policy, at = otherwise if otherwise is not None else (None, None)
        node = A.Review(tuple(arms), policy, span=self._span(meta), otherwise_span=at)
        return ("review", node, self._span(meta))

    @v_args(meta=True)
    def review_arm(self, meta, c):
        return A.ReviewArm(str(c[0]), c[1], span=self._span(meta))

    @v_args(meta=True)
    def review_otherwise(self, meta, c):
        return (str(c[-1]), self._span(meta))

    @v_args(meta=True)
    def allows(self, meta, c):
        return ("allows", tuple(self._ident(t) for t in c), self._span(meta))

    @v_args(meta=True)
    def allows_none(self, meta, c):
        return ("allows", (), self._span(meta))

    @v_args(meta=True)
    def notify(self, meta, c):
        text, cond = c
        return ("notify", A.Notify(self._str(text), cond, span=self._span(meta)), None)

    # ---- quotas
    @v_args(meta=True)
    def quota(self, meta, c):
        name, title, *clauses = c
        kw: dict = {}
        seen: dict[str, Span] = {}
        repeated, spans = [], []
        for key, val, span in self._clauses(clauses):
            if key in seen:
                repeated.append((key, span))
            seen[key] = span
            spans.append((key, span))
            if key in ("governs", "over", "limit"):
                kw.update(val)
            else:
                kw[key] = val
        return A.Quota(self._ident(name), self._str(title), span=self._span(meta), clauses=tuple(spans),
                       repeated=tuple(repeated), **kw)

    @v_args(meta=True)
    def governs_exception(self, meta, c):
        return ("governs", {"governs": "exception", "governed": self._ident(c[0])}, self._span(meta))

    @v_args(meta=True)
    def governs_license(self, meta, c):
        return ("governs", {"governs": "license", "governed": self._ident(c[0]), "otherwise": str(c[1])},
                self._span(meta))

    @v_args(meta=True)
    def quota_counts(self, meta, c):
        return ("counts", c[0], self._span(meta))

    @v_args(meta=True)
    def quota_per(self, meta, c):
        return ("per", tuple(self._ident(t) for t in c), self._span(meta))

    @v_args(meta=True)
    def over_year(self, meta, c):
        return ("over", {"period": "year"}, self._span(meta))

    @v_args(meta=True)
    def over_span(self, meta, c):
        return ("over", {"period": "span", "start": self._date(c[0]), "end": self._date(c[1])},
                self._span(meta))

    @v_args(meta=True)
    def over_all(self, meta, c):
        return ("over", {"period": "all"}, self._span(meta))

    @v_args(meta=True)
    def limit_amount(self, meta, c):
        return ("limit", {"limit": c[0]}, self._span(meta))

    @v_args(meta=True)
    def limit_share(self, meta, c):
        return ("limit", {"share": A.Quantity(str(c[0]), None, span=self._tspan(c[0]))}, self._span(meta))

    @v_args(meta=True)
    def quota_fed(self, meta, c):
        return ("fed", c[0], self._span(meta))

    # ---- examples
    @v_args(meta=True)
    def example(self, meta, c):
        name, record, expect = c
        return A.Example(self._str(name), record, expect, span=self._span(meta))

    def record(self, c):
        return tuple(p for p in c if p is not None)

    @v_args(meta=True)
    def pair(self, meta, c):
        return A.Pair(self._ident(c[0]), c[1], span=self._span(meta))

    @v_args(meta=True)
    def expect(self, meta, c):
        outcome, *clauses = c
        kw = {}
        for key, val in clauses:
            kw[key] = val
        return A.Expect(str(outcome), span=self._span(meta), **kw)

    def classified(self, c):
        return ("classified", tuple(self._ident(t) for t in c))

    def classified_none(self, c):
        return ("classified", ())

    def expect_jurisdiction(self, c):
        return ("jurisdiction", tuple(self._ident(t) for t in c))

    def expect_review(self, c):
        return ("review", str(c[0]))

    def expect_exceptions(self, c):
        return ("exceptions", tuple(self._ident(t) for t in c))

    def expect_exceptions_none(self, c):
        return ("exceptions", ())

    def expect_notify(self, c):
        return ("notify", tuple(self._ident(t) for t in c))

    def expect_notify_none(self, c):
        return ("notify", ())

    def expect_missing(self, c):
        return ("missing", tuple(self._ident(t) for t in c))

    def expect_possible(self, c):
        return ("possible", tuple(self._ident(t) for t in c))

    def expect_unsettled(self, c):
        return ("unsettled", tuple(self._ident(t) for t in c))

    # ---- conditions
    @v_args(meta=True)
    def or_(self, meta, c):
        left, right = c
        items = (left.items if isinstance(left, A.Or) else (left,)) + (right,)
        return A.Or(items, span=self._span(meta))

    @v_args(meta=True)
    def and_(self, meta, c):
        left, right = c
        items = (left.items if isinstance(left, A.And) else (left,)) + (right,)
        return A.And(items, span=self._span(meta))

    @v_args(meta=True)
    def not_(self, meta, c):
        return A.Not(c[0], span=self._span(meta))

    @v_args(meta=True)
    def paren(self, meta, c):
        return A.Group(c[0], span=self._span(meta))

    @v_args(meta=True)
    def classified_as(self, meta, c):
        return A.ClassifiedAs(self._ident(c[0]), span=self._span(meta))

    @v_args(meta=True)
    def truth(self, meta, c):
        return A.Truth(self._ident(c[0]), span=self._span(meta))

    @v_args(meta=True)
    def comparison(self, meta, c):
        operands = tuple(c[0::2])
        ops = tuple(A.Compare(str(t)) for t in c[1::2] if t is not None)
        operands = tuple(o for o in operands if o is not None)
        return A.Comparison(operands, ops, span=self._span(meta))

    @v_args(meta=True)
    def is_product(self, meta, c):
        return A.IsProduct(self._ident(c[0]), self._str(c[1]), span=self._span(meta))

    @v_args(meta=True)
    def member(self, meta, c):
        return A.Membership(c[0], c[1], False, span=self._span(meta))

    @v_args(meta=True)
    def not_member(self, meta, c):
        return A.Membership(c[0], c[1], True, span=self._span(meta))

    @v_args(meta=True)
    def ref(self, meta, c):
        return A.Ref(self._ident(c[0]), span=self._span(meta))

    @v_args(meta=True)
    def quantity(self, meta, c):
        num, unit = c
        return A.Quantity(str(num), str(unit) if unit is not None else None, span=self._span(meta))

    def date(self, c):
        return self._date(c[0])

    def string(self, c):
        s = self._str(c[0])
        return A.StrLit(s, span=s.span)


class _Cite:
    __slots__ = ("value",)

    def __init__(self, value: A.Str):
        self.value = value


def _fix_cites(items):
    """Group and list declarations take a bare citation string."""
    out = []
    for it in items:
        if isinstance(it, A.GroupDecl) and isinstance(it.cite, _Cite):
            it = A.GroupDecl(it.name, it.title, it.cite.value, it.expr, span=it.span)
        elif isinstance(it, A.Treat) and isinstance(it.cite, _Cite):
            it = A.Treat(it.alias, it.target, it.cite.value, span=it.span)
        out.append(it)
    return out


# ---- syntax errors -------------------------------------------------------------


def _nesting_problem(source: Source) -> Diagnostic | None:
    depth = 0
    deepest = 0
    where = 0
    text = source.text
    in_str = in_comment = False
    for i, ch in enumerate(text):
        if in_comment:
            if ch == "\n":
                in_comment = False
            continue
        if in_str:
            if ch == '"':
                in_str = False
            elif ch == "\n":
                in_str = False
            continue
        if ch == "#":
            in_comment = True
        elif ch == '"':
            in_str = True
        elif ch in "({":
            depth += 1
            if depth > deepest:
                deepest, where = depth, i
        elif ch in ")}":
            depth = max(0, depth - 1)
    if deepest > MAX_NESTING:
        return error(
            "E004",
            f"brackets nested {deepest} levels deep; the limit is {MAX_NESTING}",
            Span(source, where, where + 1),
            help="split the condition into named `condition` declarations",
        )
    return None


def parse_source(source: Source) -> tuple[A.Module | None, list[Diagnostic]]:
    """Parse one source. Returns the module (None on syntax errors) and diagnostics."""
    nest = _nesting_problem(source)
    if nest is not None:
        return None, [nest]
    parser = lark_parser()
    text = source.text
    diags: list[Diagnostic] = []
    while True:
        try:
            tree = parser.parse(text)
        except UnexpectedInput as exc:
            diags.append(describe_syntax_error(exc, source, text, parser))
            if len(diags) >= MAX_SYNTAX_ERRORS:
                break
            pos = _error_pos(exc, text)
            text = _blank_statement(text, pos)
            if text is None:
                break
            continue
        break
    if diags:
        return None, diags
    items = _fix_cites(_Build(source).transform(tree))
    comments = _collect_comments(source)
    return A.Module(tuple(items), tuple(comments), source), []


class StatementTrees:
    """A memory of parse trees by statement text, for parsing a text again after a small edit.

    Statements begin lines with a reserved keyword, so a text splits into statements at
    those lines, each parsed alone (and remembered) and the trees built into one module.
    When any statement fails to parse, the whole text is parsed as :func:`parse_source`
    does, so syntax errors are exactly its errors. An editor re-parses on each keystroke
    only the statement typed in.
    """

    def __init__(self, limit: int = 20_000):
        self.trees: dict[str, object] = {}
        self.limit = limit

    def tree(self, chunk: str):
        hit = self.trees.get(chunk, _MISSING)
        if hit is _MISSING:
            try:
                hit = lark_parser().parse(chunk)
            except UnexpectedInput:
                hit = None
            if len(self.trees) >= self.limit:
                self.trees.clear()
            self.trees[chunk] = hit
        return hit

    def parse(self, source: Source) -> tuple[A.Module | None, list[Diagnostic]]:
        """The module and diagnostics :func:`parse_source` gives, remembering statements."""
        text = source.text
        if _nesting_problem(source) is not None:
            return parse_source(source)
        starts = [0, *(m.end() - len(m.group().lstrip()) for m in _STATEMENT_START.finditer(text))]
        ends = [*starts[1:], len(text)]
        items: list = []
        try:
            for a, b in zip(starts, ends, strict=True):
                if a == b:
                    continue
                tree = self.tree(text[a:b])
                if tree is None:
                    return parse_source(source)
                items.extend(_Build(source, a).transform(tree))
        except RecursionError:
            return parse_source(source)
        return A.Module(tuple(_fix_cites(items)), tuple(_collect_comments(source)), source), []


_MISSING = object()

_COMMENT_OR_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')


def _collect_comments(source: Source) -> list[A.Comment]:
    out = []
    for m in _COMMENT_OR_STRING.finditer(source.text):
        if m.group().startswith("#"):
            out.append(A.Comment(m.group().rstrip(), span=Span(source, m.start(), m.end())))
    return out


def _error_pos(exc: UnexpectedInput, text: str) -> int:
    if isinstance(exc, UnexpectedEOF):
        return len(text)
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        return len(text)
    pos = getattr(exc, "pos_in_stream", None)
    if pos is None:
        tok = getattr(exc, "token", None)
        pos = getattr(tok, "start_pos", None)
    return pos if pos is not None else 0


def _blank_statement(text: str, pos: int) -> str | None:
    """Blank out the statement holding ``pos`` (keeping newlines), to find later errors."""
    starts = [m.end() - len(m.group().lstrip()) for m in _STATEMENT_START.finditer(text)]
    begin = 0
    nxt = len(text)
    for s in starts:
        if s < pos:
            begin = s
        elif s >= pos:
            nxt = s
            break
    # When the unexpected token starts a statement, the broken statement is
    # the one before it: blank that one and keep the next.
    if nxt <= pos or begin >= nxt:
        return None
    chunk = text[begin:nxt]
    blanked = re.sub(r"[^\n]", " ", chunk)
    new = text[:begin] + blanked + text[nxt:]
    if new == text or nxt >= len(text) and not text[nxt:].strip() and not text[:begin].strip():
        return None if not text[nxt:].strip() else new
    return new


def read_source(path: Path, name: str | None = None) -> tuple[Source | None, list[Diagnostic]]:
    """Read a rules file as text, with clean diagnostics for unreadable files."""
    shown = name or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [error("E001", f"cannot read `{shown}`: {exc.strerror or exc}", location=shown)]
    return source_from_bytes(data, shown, path)


def source_from_text(text: str, name: str, path: Path | None = None
                     ) -> tuple[Source | None, list[Diagnostic]]:
    """A source from text held in memory (an editor's buffer), checked exactly as the same
    text saved in a file would be: its UTF-8 bytes go through :func:`source_from_bytes`."""
    return source_from_bytes(text.encode("utf-8", "surrogatepass"), name, path)


def source_from_bytes(data: bytes, shown: str, path: Path | None = None
                      ) -> tuple[Source | None, list[Diagnostic]]:
    """The text of a rules file's bytes, or the diagnostics that say why it is not text."""
    if len(data) > MAX_FILE_BYTES:
        return None, [error(
            "E002",
            f"`{shown}` is {len(data) / 2**20:.1f} MiB; a rules file may be at most "
            f"{MAX_FILE_BYTES // 2**20} MiB",
            location=shown,
            help="split it into files joined with `include`",
        )]
    if b"\x00" in data:
        nul_line = data[: data.index(b"\x00")].count(b"\n") + 1
        return None, [error(
            "E003", f"`{shown}` looks like a binary file, not rules text",
            location=f"{shown}:{nul_line}:1",
            help="rules files are UTF-8 text; check the path",
        )]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [error(
            "E003",
            f"`{shown}` is not valid UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded",
            location=f"{shown}:{line}:{col}",
            help="save the file as UTF-8",
        )]
    return Source(shown, text, path), []


def parse_text(text: str, name: str = "<string>") -> A.Module:
    """Parse rules text; raise :class:`RulesError` with diagnostics on syntax errors."""
    module, diags = parse_source(Source(name, text))
    if module is None:
        raise RulesError(f"{name}: syntax errors", diags)
    return module
