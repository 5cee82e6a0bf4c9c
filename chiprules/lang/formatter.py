"""Canonical layout for .rules files, keeping every comment.

``format_module`` renders a parsed module; ``format_text`` and ``format_file``
parse, render and then prove the result safe: the formatted text must parse to
an equal AST, carry the same comments in the same order, and be a fixed point
of formatting. Otherwise they raise :class:`RulesError` instead of returning
text that means something else.

Layout, in short: two-space indentation for clauses, clauses in a fixed order,
one blank line between statements (runs of ``include``, ``field`` and
``treat`` stay together unless the author separated them), conditions on one
line when they fit in 100 columns and otherwise broken before each top-level
``or``/``and``, long set literals filled to 100 columns, long records one field
per line. The author's parentheses and number spellings are kept as written.

Comments are tied to the source tokens around them. A comment on a line of
its own goes before the output line holding the next token; a comment after
code goes at the end of the output line holding that code, when that code ends
the line. A comment that cannot be put back exactly (say, in the middle of a
condition kept on one line) goes on its own line just before the output line
it was in. A comment before an ``and``/``or`` operator, a set item, a record
field or an ``expect`` clause makes that construct break there, so it keeps
its place. When reordered clauses would print comments out of order, the
fewest comments move (next to their neighbours, or up before the statement).
"""

from __future__ import annotations

import bisect
import functools
import re
from pathlib import Path

from chiprules.core.diagnostics import error
from chiprules.core.errors import RulesError
from chiprules.core.source import Source, Span
from chiprules.lang import ast as A
from chiprules.lang.parser import lark_parser, parse_source, read_source

WIDTH = 100
"""Preferred maximum line length."""

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_HEADER_ORDER = ("title", "version", "effective", "until", "source", "supersedes", "timeline")
_GROUPED = (A.Include, A.FieldDecl, A.Treat)  # runs of these keep the author's spacing
_RULE_HEAD = {
    A.RuleKind.CLASSIFY: "classify",
    A.RuleKind.JURISDICTION: "jurisdiction",
    A.RuleKind.REQUIRE: "require license",
    A.RuleKind.EXCEPTION: "exception",
}
_MAX_PASSES = 4


# ---- small renderings --------------------------------------------------------------


def quote(value: str) -> str:
    """A string literal whose unescaped value is ``value``."""
    if not any(c in value for c in '"\\\n\t'):
        return f'"{value}"'
    out = ['"']
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _date_or_string(text: str) -> str:
    return text if _DATE.fullmatch(text) else quote(text)


def _value(v) -> str:
    t = type(v)
    if t is A.Quantity:
        return v.number if v.unit is None else f"{v.number} {v.unit}"
    if t is A.Ref:
        return v.name.text
    if t is A.DateLit:
        return v.text
    if t is A.StrLit:
        return quote(v.value.value)
    raise TypeError(f"not a value: {v!r}")


def flat(e) -> str:
    """An expression (condition, set or arithmetic) on one line."""
    t = type(e)
    if t is A.Or:
        return " or ".join(flat(i) for i in e.items)
    if t is A.And:
        return " and ".join(flat(i) for i in e.items)
    if t is A.Not:
        return "not " + flat(e.operand)
    if t is A.Group or t is A.SetGroup or t is A.ArithGroup:
        return f"({flat(e.inner)})"
    if t is A.Truth:
        return e.name.text
    if t is A.IsProduct:
        return f"{e.field.text} is {quote(e.product.value)}"
    if t is A.ClassifiedAs:
        return f"classified {e.eccn.text}"
    if t is A.Comparison:
        parts = [_value(e.operands[0])]
        for op, operand in zip(e.ops, e.operands[1:], strict=True):
            parts.append(op.value)
            parts.append(_value(operand))
        return " ".join(parts)
    if t is A.Membership:
        return f"{_value(e.value)} {'not in' if e.negated else 'in'} {flat(e.set)}"
    if t is A.SetRef:
        return e.name.text
    if t is A.SetLit:
        return "{" + ", ".join(i.text for i in e.items) + "}"
    if t is A.SetOp or t is A.Arith:
        return f"{flat(e.left)} {e.op.value} {flat(e.right)}"
    return _value(e)


def _field_type(ft: A.FieldType) -> str:
    if ft.kind == "number":
        return f"number {ft.unit}"
    if ft.kind == "enum":
        return "one of " + ", ".join(v.text for v in ft.values)
    return ft.kind


@functools.lru_cache(maxsize=8)
def _tokens(text: str) -> tuple[tuple[int, int, str, str], ...]:
    """The tokens of parsed text (comments and spacing left out)."""
    return tuple((t.start_pos, t.end_pos, t.type, str(t.value)) for t in lark_parser().lex(text))


# ---- output lines --------------------------------------------------------------------


class _Line:
    """One output line: its text, and where its first token was in the source."""

    __slots__ = ("indent", "leading", "start", "text", "trailing")

    def __init__(self, indent: int, text: str, start: int | None):
        self.indent = indent
        self.text = text
        self.start = start
        self.leading: list[A.Comment] = []
        self.trailing: A.Comment | None = None


class _Out:
    def __init__(self) -> None:
        self.lines: list[_Line] = []

    def line(self, indent: int, text: str, start: int | None) -> None:
        self.lines.append(_Line(indent, text, start))

    def write(self, text: str) -> None:
        self.lines[-1].text += text

    @property
    def col(self) -> int:
        last = self.lines[-1]
        return last.indent + len(last.text)


def _start(node) -> int | None:
    span = getattr(node, "span", None)
    return span.start if span is not None else None


# ---- the formatter ---------------------------------------------------------------------


class _Formatter:
    def __init__(self, module: A.Module):
        self.module = module
        src = module.source
        self.text = src.text if src is not None else None
        spans_ok = src is not None and all(getattr(i, "span", None) is not None for i in module.items)
        self.comments = [c for c in module.comments if c.span is not None] if spans_ok else []
        self.cstarts = [c.span.start for c in self.comments]
        self.tstart: list[int] = []
        self.tend: list[int] = []
        self.ttype: list[str] = []
        if src is not None:
            for start, end, kind, _ in _tokens(src.text):
                self.tstart.append(start)
                self.tend.append(end)
                self.ttype.append(kind)

    # ---- source look-ups (all return None without a source)

    def kw_before(self, node) -> int | None:
        """Where the token just before ``node`` starts (the keyword introducing it)."""
        pos = _start(node)
        if pos is None or not self.tstart:
            return None
        i = bisect.bisect_left(self.tstart, pos) - 1
        return self.tstart[i] if i >= 0 else None

    def tok_after(self, pos: int | None) -> int | None:
        if pos is None or not self.tstart:
            return None
        i = bisect.bisect_left(self.tstart, pos)
        return self.tstart[i] if i < len(self.tstart) else None

    def find_kw(self, span: Span | None, word: str) -> int | None:
        """The start of the last keyword ``word`` inside ``span``."""
        if span is None or not self.tstart:
            return None
        kind = word.upper()
        lo = bisect.bisect_left(self.tstart, span.start)
        hi = bisect.bisect_left(self.tstart, span.end)
        for i in range(hi - 1, lo - 1, -1):
            if self.ttype[i] == kind:
                return self.tstart[i]
        return None

    def comment_before(self, pos: int | None) -> bool:
        """Is there a comment between ``pos`` and the token before it?"""
        if pos is None or not self.cstarts:
            return False
        i = bisect.bisect_left(self.tstart, pos) - 1
        lo = self.tend[i] if i >= 0 else 0
        j = bisect.bisect_left(self.cstarts, lo)
        return j < len(self.cstarts) and self.cstarts[j] < pos

    def blank_before(self, pos: int | None) -> bool:
        """Did the author leave a blank line just before ``pos``?"""
        if pos is None or self.text is None:
            return False
        text = self.text
        i = pos - 1
        newlines = 0
        while i >= 0 and text[i] in " \t\r\n\f":
            if text[i] == "\n":
                newlines += 1
                if newlines >= 2:
                    return True
            i -= 1
        return False

    # ---- expressions

    def emit(self, o: _Out, e) -> None:
        """Write an expression, wrapping set literals that run past the width."""
        t = type(e)
        if t is A.SetLit:
            o.write("{")
            items = e.items
            if not items:
                o.write("}")
                return
            pieces = [it.text + ("," if k < len(items) - 1 else "}") for k, it in enumerate(items)]
            self.fill(o, pieces, [_start(it) for it in items])
        elif t is A.Or or t is A.And:
            sep = " or " if t is A.Or else " and "
            for k, item in enumerate(e.items):
                if k:
                    o.write(sep)
                self.emit(o, item)
        elif t is A.Not:
            o.write("not ")
            self.emit(o, e.operand)
        elif t is A.Group or t is A.SetGroup or t is A.ArithGroup:
            o.write("(")
            self.emit(o, e.inner)
            o.write(")")
        elif t is A.Membership:
            o.write(f"{_value(e.value)} {'not in' if e.negated else 'in'} ")
            self.emit(o, e.set)
        elif t is A.SetOp or t is A.Arith:
            self.emit(o, e.left)
            o.write(f" {e.op.value} ")
            self.emit(o, e.right)
        else:
            o.write(flat(e))

    def fill(self, o: _Out, pieces: list[str], starts: list[int | None]) -> None:
        """Write comma-separated pieces, filling lines aligned with the first piece."""
        align = o.col
        for k, piece in enumerate(pieces):
            if k and (self.comment_before(starts[k]) or o.col + 1 + len(piece) > WIDTH):
                o.line(align, piece, starts[k])
                continue
            if k:
                o.write(" ")
            o.write(piece)

    def cond_breaks(self, e) -> bool:
        """Must ``e`` be broken because a comment sits before one of its and/or operators?"""
        if not self.cstarts:
            return False
        t = type(e)
        if t is A.Or or t is A.And:
            return any(self.comment_before(self.kw_before(item)) for item in e.items[1:]) or any(
                self.cond_breaks(item) for item in e.items
            )
        if t is A.Group:
            return self.cond_breaks(e.inner)
        if t is A.Not:
            return self.cond_breaks(e.operand)
        return False

    def emit_cond(self, o: _Out, e, cont: int, tail: int = 0) -> None:
        """A condition: on one line if it fits; else broken before its and/or operators.

        Top-level operators start lines indented ``cont`` (an ``and`` chain
        inside an ``or`` two more); operators inside parentheses that still do
        not fit start lines aligned just inside them.
        ``tail`` is the width of what must follow on the last line.
        """
        t = type(e)
        if o.col + len(flat(e)) + tail <= WIDTH and not self.cond_breaks(e):
            self.emit(o, e)
        elif t is A.Or or t is A.And:
            word = "or " if t is A.Or else "and "
            last = len(e.items) - 1
            for k, item in enumerate(e.items):
                if k:
                    o.line(cont, word, self.kw_before(item))
                inner = cont + 2 if type(item) in (A.Or, A.And) else cont
                self.emit_cond(o, item, inner, tail if k == last else 0)
        elif t is A.Group:
            o.write("(")
            self.emit_cond(o, e.inner, o.col, tail + 1)
            o.write(")")
        elif t is A.Not:
            o.write("not ")
            self.emit_cond(o, e.operand, cont, tail)
        else:
            self.emit(o, e)

    # ---- statements

    def render(self, item) -> list[_Line]:
        o = _Out()
        getattr(self, "_" + type(item).__name__)(o, item)
        return o.lines

    def _Header(self, o: _Out, h: A.Header) -> None:  # noqa: N802
        o.line(0, f"ruleset {h.name.text}", _start(h))
        for key in _HEADER_ORDER:
            v = getattr(h, key)
            if v is None:
                continue
            if key in ("title", "source"):
                text = quote(v.value)
            elif key in ("version", "supersedes"):
                text = _date_or_string(v)
            elif key in ("effective", "until"):
                text = v.text
            else:
                text = v
            o.line(2, f"{key} {text}", self.find_kw(h.span, key))

    def _Include(self, o: _Out, inc: A.Include) -> None:  # noqa: N802
        o.line(0, f"include {quote(inc.path.value)}", _start(inc))

    def _title(self, s: A.Str | None) -> str:
        return "" if s is None else " " + quote(s.value)

    def _GroupDecl(self, o: _Out, g: A.GroupDecl) -> None:  # noqa: N802
        o.line(0, f"group {g.name.text}{self._title(g.title)}", _start(g))
        if g.cite is not None:
            o.line(2, f"cite {quote(g.cite.value)}", self.kw_before(g.cite))
        o.line(2, "= ", self.kw_before(g.expr))
        self.emit(o, g.expr)

    def _Treat(self, o: _Out, t: A.Treat) -> None:  # noqa: N802
        cite = "" if t.cite is None else f" cite {quote(t.cite.value)}"
        o.line(0, f"treat {t.alias.text} as {t.target.text}{cite}", _start(t))

    def _PartyListDecl(self, o: _Out, p: A.PartyListDecl) -> None:  # noqa: N802
        o.line(0, f"list {p.name.text}{self._title(p.title)}", _start(p))
        if p.cite is not None:
            o.line(2, f"cite {quote(p.cite.value)}", self.kw_before(p.cite))
        for f in p.sources:
            notes = f" footnote {', '.join(f.footnotes)}" if f.footnotes else ""
            o.line(2, f"from {'csl ' if f.csl else ''}{quote(f.path.value)}{notes}", _start(f))
        for sc in p.scores:
            o.line(2, f"{sc.kind} {sc.op} {sc.number}", _start(sc))
        for e in p.entries:
            o.line(2, f"entry {quote(e.name.value)}", _start(e))
            if e.aliases:
                o.line(4, "aka ", self.kw_before(e.aliases[0]))
                n = len(e.aliases)
                pieces = [quote(a.value) + ("," if k < n - 1 else "") for k, a in enumerate(e.aliases)]
                self.fill(o, pieces, [_start(a) for a in e.aliases])
            if e.country is not None:
                o.line(4, f"country {e.country.text}", self.kw_before(e.country))
            if e.review is not None:
                o.line(4, f"review {e.review}", self.find_kw(e.span, "review"))
            if e.cite is not None:
                o.line(4, f"cite {quote(e.cite.value)}", self.kw_before(e.cite))
            if e.added is not None:
                o.line(4, f"added {e.added.text}", self.kw_before(e.added))
            if e.removed is not None:
                o.line(4, f"removed {e.removed.text}", self.kw_before(e.removed))
            if e.requirement is not None:
                o.line(4, f"requirement {quote(e.requirement.value)}", self.kw_before(e.requirement))

    def _FieldDecl(self, o: _Out, f: A.FieldDecl) -> None:  # noqa: N802
        text = f"field {f.name.text}: {_field_type(f.type)}"
        if f.default is not None:
            text += f" default {_value(f.default)}"
        o.line(0, text + self._title(f.doc), _start(f))

    def _DeriveDecl(self, o: _Out, d: A.DeriveDecl) -> None:  # noqa: N802
        unit = "" if d.unit is None else f": {d.unit}"
        o.line(0, f"derive {d.name.text}{unit} = ", _start(d))
        self.emit(o, d.expr)
        if d.doc is not None:
            o.line(2, quote(d.doc.value), _start(d.doc))

    def _ConditionDecl(self, o: _Out, c: A.ConditionDecl) -> None:  # noqa: N802
        o.line(0, f"condition {c.name.text}{self._title(c.doc)}", _start(c))
        o.line(2, "= ", self.kw_before(c.expr))
        self.emit_cond(o, c.expr, 4)
        for u in c.unsettled:
            o.line(2, f"unsettled {quote(u.why.value)}", _start(u))
            o.line(4, f"cite {quote(u.cite.value)}", self.kw_before(u.cite))
            o.line(4, "when ", self.kw_before(u.when))
            self.emit_cond(o, u.when, 6)

    def _Rule(self, o: _Out, r: A.Rule) -> None:  # noqa: N802
        o.line(0, f"{_RULE_HEAD[r.kind]} {r.id.text}{self._title(r.title)}", _start(r))
        if r.cite is not None:
            o.line(2, f"cite {quote(r.cite.value)}", self.kw_before(r.cite))
        if r.effective is not None:
            o.line(2, f"effective {r.effective.text}", self.kw_before(r.effective))
        if r.until is not None:
            o.line(2, f"until {r.until.text}", self.kw_before(r.until))
        if r.items is not None:
            o.line(2, "for " + ", ".join(i.text for i in r.items), self.find_kw(r.span, "for"))
        if r.when is not None:
            o.line(2, "when ", self.kw_before(r.when))
            self.emit_cond(o, r.when, 4)
        for ex in r.excepts:
            label = "" if ex.label is None else quote(ex.label.value) + " "
            o.line(2, f"except {label}when ", _start(ex))
            self.emit_cond(o, ex.expr, 4)
        if r.review is not None:
            self._review(o, r.review)
        if r.allows is not None:
            names = ", ".join(i.text for i in r.allows) or "none"
            o.line(2, f"allows {names}", self.find_kw(r.span, "allows"))
        for n in r.notify:
            self._notify(o, n)

    def _Quota(self, o: _Out, q: A.Quota) -> None:  # noqa: N802
        at = dict(q.clauses)

        def pos(key):
            span = at.get(key)
            return span.start if span is not None else None

        o.line(0, f"quota {q.name.text}{self._title(q.title)}", _start(q))
        if q.cite is not None:
            o.line(2, f"cite {quote(q.cite.value)}", self.kw_before(q.cite))
        if q.governs == "exception":
            o.line(2, f"governs exception {q.governed.text}", pos("governs"))
        elif q.governs == "license":
            o.line(2, f"governs license {q.governed.text} otherwise {q.otherwise}", pos("governs"))
        if q.when is not None:
            o.line(2, "when ", pos("when"))
            self.emit_cond(o, q.when, 4)
        if q.counts is not None:
            o.line(2, "counts ", pos("counts"))
            self.emit(o, q.counts)
        if q.per is not None:
            o.line(2, "per " + ", ".join(i.text for i in q.per), pos("per"))
        if q.period == "year":
            o.line(2, "yearly", pos("over"))
        elif q.period == "span":
            o.line(2, f"from {q.start.text} until {q.end.text}", pos("over"))
        elif q.period == "all":
            o.line(2, "cumulative", pos("over"))
        if q.limit is not None:
            o.line(2, f"within {_value(q.limit)}", pos("limit"))
        elif q.share is not None:
            o.line(2, f"within {q.share.number} %", pos("limit"))
        if q.fed is not None:
            o.line(2, "fed when ", pos("fed"))
            self.emit_cond(o, q.fed, 4)

    def _review(self, o: _Out, rv: A.Review) -> None:
        if not rv.arms:
            o.line(2, f"review {rv.otherwise}", _start(rv))
            return
        otherwise = rv.otherwise if rv.otherwise is not None else ""
        otherwise_at = self.find_kw(rv.otherwise_span, "otherwise") if rv.otherwise_span else None
        if len(rv.arms) == 1:
            self._review_one(o, rv, rv.arms[0], otherwise, otherwise_at)
            return
        # several arms: `review P if A, Q if B, otherwise R`, or one arm a line
        tail = f", otherwise {otherwise}" if rv.otherwise is not None else ""
        one = "review " + ", ".join(f"{a.policy} if {flat(a.condition)}" for a in rv.arms) + tail
        broken = (
            2 + len(one) > WIDTH
            or any(self.comment_before(_start(a)) or self.comment_before(self.kw_before(a.condition))
                   or self.cond_breaks(a.condition) for a in rv.arms)
            or self.comment_before(otherwise_at)
        )
        if not broken:
            o.line(2, one, _start(rv))
            return
        o.line(2, "review", _start(rv))
        for k, arm in enumerate(rv.arms):
            o.line(4, f"{arm.policy} if ", _start(arm))
            self.emit_cond(o, arm.condition, 6)
            if k + 1 < len(rv.arms) or rv.otherwise is not None:
                o.write(",")
        if rv.otherwise is not None:
            o.line(4, f"otherwise {otherwise}", otherwise_at)

    def _review_one(self, o: _Out, rv: A.Review, arm: A.ReviewArm, otherwise: str, otherwise_at) -> None:
        head = f"review {arm.policy}"
        tail = f" otherwise {otherwise}" if rv.otherwise is not None else ""
        one = f"{head} if {flat(arm.condition)}{tail}"
        broken = (
            2 + len(one) > WIDTH
            or self.comment_before(self.kw_before(arm.condition))
            or self.comment_before(otherwise_at)
            or self.cond_breaks(arm.condition)
        )
        if not broken:
            o.line(2, one, _start(rv))
            return
        o.line(2, head, _start(rv))
        o.line(4, "if ", self.kw_before(arm.condition))
        self.emit_cond(o, arm.condition, 6)
        if rv.otherwise is not None:
            o.line(4, f"otherwise {otherwise}", otherwise_at)

    def _notify(self, o: _Out, n: A.Notify) -> None:
        head = f"notify {quote(n.text.value)}"
        if n.condition is None:
            o.line(2, head, _start(n))
            return
        one = f"{head} if {flat(n.condition)}"
        broken = (
            2 + len(one) > WIDTH
            or self.comment_before(self.kw_before(n.condition))
            or self.cond_breaks(n.condition)
        )
        if not broken:
            o.line(2, one, _start(n))
            return
        o.line(2, head, _start(n))
        o.line(4, "if ", self.kw_before(n.condition))
        self.emit_cond(o, n.condition, 6)

    def _Example(self, o: _Out, ex: A.Example) -> None:  # noqa: N802
        o.line(0, f"example {quote(ex.name.value)}", _start(ex))
        record_at = self.tok_after(ex.name.span.end) if ex.name.span else None
        close_at = self.kw_before(ex.expect)
        pairs = [f"{p.name.text}: {_value(p.value)}" for p in ex.record]
        one = "record { " + ", ".join(pairs) + " }" if pairs else "record {}"
        broken = (
            2 + len(one) > WIDTH
            or self.comment_before(close_at)
            or any(self.comment_before(_start(p)) for p in ex.record)
        )
        if not broken:
            o.line(2, one, record_at)
        else:
            o.line(2, "record {", record_at)
            for k, (p, text) in enumerate(zip(ex.record, pairs, strict=True)):
                o.line(4, text + ("," if k < len(pairs) - 1 else ""), _start(p))
            o.line(2, "}", close_at)
        self._expect(o, ex.expect)

    def _expect(self, o: _Out, e: A.Expect) -> None:
        clauses = []
        if e.classified is not None:
            clauses.append(("classified", ", ".join(i.text for i in e.classified) or "none"))
        if e.jurisdiction is not None:
            clauses.append(("jurisdiction", ", ".join(i.text for i in e.jurisdiction)))
        if e.review is not None:
            clauses.append(("review", e.review))
        if e.exceptions is not None:
            clauses.append(("exceptions", ", ".join(i.text for i in e.exceptions) or "none"))
        if e.notify is not None:
            clauses.append(("notify", ", ".join(i.text for i in e.notify) or "none"))
        if e.missing is not None:
            clauses.append(("missing", ", ".join(i.text for i in e.missing)))
        if e.possible is not None:
            clauses.append(("possible", ", ".join(i.text for i in e.possible)))
        if e.unsettled is not None:
            clauses.append(("unsettled", ", ".join(i.text for i in e.unsettled)))
        head = f"expect {e.outcome}"
        starts = [self.find_kw(e.span, kw) for kw, _ in clauses]
        one = " ".join([head] + [f"{kw} {text}" for kw, text in clauses])
        if 2 + len(one) <= WIDTH and not any(self.comment_before(s) for s in starts):
            o.line(2, one, _start(e))
            return
        o.line(2, head, _start(e))
        for (kw, text), at in zip(clauses, starts, strict=True):
            o.line(4, f"{kw} {text}", at)

    # ---- comments

    def place(self, blocks: list[list[_Line]]) -> tuple[list[list[A.Comment]], list[A.Comment]]:
        """Attach every comment to an output line.

        Returns, per statement, the comments moved up before it to keep source
        order, and the comments after the last token of the file.
        """
        items = self.module.items
        top: list[list[A.Comment]] = [[] for _ in blocks]
        eof: list[A.Comment] = []
        if not self.comments:
            return top, eof
        stmt_starts = [it.span.start for it in items]
        line_starts: list[list[int]] = []
        line_index: list[list[int]] = []
        for lines in blocks:
            pairs = sorted((ln.start, k) for k, ln in enumerate(lines) if ln.start is not None)
            line_starts.append([p for p, _ in pairs])
            line_index.append([k for _, k in pairs])

        def locate(pos: int) -> _Line:
            s = max(0, bisect.bisect_right(stmt_starts, pos) - 1)
            k = max(0, bisect.bisect_right(line_starts[s], pos) - 1)
            return blocks[s][line_index[s][k] if line_index[s] else 0]

        text = self.text
        ntok = len(self.tstart)
        for c in self.comments:
            nxt = bisect.bisect_left(self.tstart, c.span.end)
            line_begin = text.rfind("\n", 0, c.span.start) + 1
            if nxt == 0 or not text[line_begin : c.span.start].strip():
                # on a line of its own: before the line holding the next token
                if nxt >= ntok or not items:
                    eof.append(c)
                else:
                    locate(self.tstart[nxt]).leading.append(c)
                continue
            # after code: at the end of the line holding that code, if that code ends the line
            line = locate(self.tstart[nxt - 1])
            if line.trailing is None and (nxt >= ntok or locate(self.tstart[nxt]) is not line):
                line.trailing = c
            else:
                line.leading.append(c)
        for s, lines in enumerate(blocks):
            top[s] = self._keep_order(lines)
        return top, eof

    @staticmethod
    def _keep_order(lines: list[_Line]) -> list[A.Comment]:
        """Make a statement's comments print in source order.

        Clauses are reordered, so their comments can come out of order. The
        longest run already in order stays; each other comment moves just
        before the next comment that stays (or after the last one). When no
        such place exists, the fewest comments move up before the statement;
        those are returned.
        """

        def pos(c: A.Comment) -> int:
            return c.span.start

        def increasing(seq: list[A.Comment]) -> bool:
            return all(pos(a) < pos(b) for a, b in zip(seq, seq[1:], strict=False))

        def printed() -> list[A.Comment]:
            seq: list[A.Comment] = []
            for ln in lines:
                seq.extend(ln.leading)
                if ln.trailing is not None:
                    seq.append(ln.trailing)
            return seq

        seq = printed()
        if increasing(seq):
            return []
        saved = [(list(ln.leading), ln.trailing) for ln in lines]
        if _Formatter._move_to_order(lines, seq) and increasing(printed()):
            return []
        for ln, (leading, trailing) in zip(lines, saved, strict=True):
            ln.leading, ln.trailing = leading, trailing
        ordered = sorted(seq, key=pos)
        for j in range(1, len(ordered) + 1):
            up = {id(c) for c in ordered[:j]}
            if increasing(ordered[:j] + [c for c in seq if id(c) not in up]):
                break
        for ln in lines:
            ln.leading = [c for c in ln.leading if id(c) not in up]
            if ln.trailing is not None and id(ln.trailing) in up:
                ln.trailing = None
        return ordered[:j]

    @staticmethod
    def _move_to_order(lines: list[_Line], seq: list[A.Comment]) -> bool:
        """Keep a longest in-order run of ``seq``; move the others next to it."""
        n = len(seq)
        best = [1] * n
        link = [-1] * n
        for i in range(n):
            for j in range(i):
                if seq[j].span.start < seq[i].span.start and best[j] + 1 > best[i]:
                    best[i], link[i] = best[j] + 1, j
        end = max(range(n), key=lambda i: (best[i], -i))
        keep: set[int] = set()
        while end >= 0:
            keep.add(id(seq[end]))
            end = link[end]
        moving = sorted((c for c in seq if id(c) not in keep), key=lambda c: c.span.start)
        where: dict[int, tuple[int, str]] = {}
        for k, ln in enumerate(lines):
            ln.leading = [c for c in ln.leading if id(c) in keep]
            for c in ln.leading:
                where[id(c)] = (k, "leading")
            if ln.trailing is not None:
                if id(ln.trailing) in keep:
                    where[id(ln.trailing)] = (k, "trailing")
                else:
                    ln.trailing = None
        kept = [c for c in seq if id(c) in keep]
        for c in moving:
            after = [k for k in kept if k.span.start > c.span.start]
            if after:
                k, slot = where[id(after[0])]
                if slot == "leading":
                    lines[k].leading.insert(lines[k].leading.index(after[0]), c)
                else:
                    lines[k].leading.append(c)
                continue
            k, slot = where[id(kept[-1])]
            if slot == "leading":
                lines[k].leading.append(c)
            elif k + 1 < len(lines):
                lines[k + 1].leading.append(c)
            else:
                return False
        return True

    # ---- the whole module

    def run(self) -> str:
        items = self.module.items
        blocks = [self.render(it) for it in items]
        hoisted, eof = self.place(blocks)
        rows: list[str] = []

        def blank() -> None:
            if rows and rows[-1] != "":
                rows.append("")

        prev = None
        for item, lines, up in zip(items, blocks, hoisted, strict=True):
            first = lines[0]
            # comments written before the statement keep their blank lines;
            # comments moved up from inside it come right before it
            begin = _start(item)
            lead = [c for c in up + first.leading if c.span.start < begin]
            moved = [c for c in up + first.leading if c.span.start >= begin]
            if prev is not None:
                at = lead[0].span.start if lead else begin
                grouped = type(prev) is type(item) and isinstance(item, _GROUPED)
                if not grouped or self.blank_before(at):
                    blank()
            for k, c in enumerate(lead):
                if k and self.blank_before(c.span.start):
                    blank()
                rows.append(c.text)
            if lead and self.blank_before(begin):
                blank()
            rows.extend(c.text for c in moved)
            for ln in lines:
                pad = " " * ln.indent
                if ln is not first:
                    rows.extend(pad + c.text for c in ln.leading)
                row = pad + ln.text
                if ln.trailing is not None:
                    row += "  " + ln.trailing.text
                rows.append(row)
            prev = item
        for k, c in enumerate(eof):
            if (k or rows) and self.blank_before(c.span.start):
                blank()
            rows.append(c.text)
        return "\n".join(rows) + "\n" if rows else ""


def format_module(module: A.Module) -> str:
    """Render a module in the canonical layout, with its comments when it has a source."""
    return _Formatter(module).run()


# ---- checked formatting -------------------------------------------------------------


def _unsafe(name: str, why: str) -> RulesError:
    diag = error(
        "E300", "formatting would change the meaning; please report this",
        location=name, help=why,
    )
    return RulesError(f"{name}: formatting would change the meaning", [diag])


def _keywords(module: A.Module) -> list[dict[str, list[int]]]:
    """Per statement: its keyword tokens, by keyword, with their offsets."""
    starts = [it.span.start for it in module.items]
    out: list[dict[str, list[int]]] = [{} for _ in starts]
    for start, _, kind, word in _tokens(module.source.text):
        if kind == word.upper() and kind != "NAME":
            k = bisect.bisect_right(starts, start) - 1
            out[k].setdefault(word, []).append(start)
    return out


def _check_repeats(before: A.Module, after: A.Module) -> None:
    """A clause given twice keeps only its last value in the AST: refuse to drop the other."""
    for had, has in zip(_keywords(before), _keywords(after), strict=True):
        for word, where in had.items():
            if len(where) > len(has.get(word, ())):
                span = Span(before.source, where[0], where[0] + len(word))
                diag = error(
                    "E301", f"`{word}` is given more than once here; formatting would keep only the last",
                    span, help="remove the clause you do not mean, then format again",
                )
                raise RulesError(f"{before.source.name}: repeated clause", [diag])


def _format_source(source: Source) -> str:
    name = source.name
    try:
        module, diags = parse_source(source)
        if module is None:
            raise RulesError(f"{name}: syntax errors", diags)
        out = format_module(module)
        for _ in range(_MAX_PASSES):
            again, diags = parse_source(Source(name, out))
            if again is None:
                raise _unsafe(name, "the formatted text does not parse")
            if len(again.items) == len(module.items) and module.items:
                _check_repeats(module, again)
            if again != module:
                raise _unsafe(name, "the formatted text parses to different rules")
            if [c.text for c in again.comments] != [c.text for c in module.comments]:
                raise _unsafe(name, "comments would be lost or reordered")
            text = format_module(again)
            if text == out:
                return out
            out = text
        raise _unsafe(name, "formatting the result again changes it")
    except RecursionError:
        raise _unsafe(name, "the rules are nested too deeply to format") from None


def format_text(text: str, name: str = "<string>") -> str:
    """Format rules text; raise :class:`RulesError` if it does not parse or cannot be formatted safely."""
    return _format_source(Source(name, text))


def format_file(path) -> tuple[str, str]:
    """Read and format one file; return its text as read and as formatted."""
    path = Path(path)
    source, diags = read_source(path)
    if source is None:
        raise RulesError(f"cannot read {path}", diags)
    return source.text, _format_source(source)
