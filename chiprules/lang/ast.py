"""The surface AST: a faithful picture of a .rules file.

Frozen attrs classes; children are tuples; spans never take part in equality.
Numbers keep the author's spelling; comments are kept on the module for the
formatter. No behaviour lives on nodes.
"""

from __future__ import annotations

import enum

import attrs

from chiprules.core.source import Source, Span, span_field


@attrs.frozen
class Ident:
    text: str
    span: Span | None = span_field()


@attrs.frozen
class Str:
    """A string literal; ``value`` is the unescaped text."""

    value: str
    span: Span | None = span_field()


@attrs.frozen
class Comment:
    text: str  # including the leading '#'
    span: Span | None = span_field()


# ---- expressions -------------------------------------------------------------


@attrs.frozen
class Quantity:
    number: str  # as written
    unit: str | None = None
    span: Span | None = span_field()


@attrs.frozen
class DateLit:
    text: str
    span: Span | None = span_field()


@attrs.frozen
class Ref:
    name: Ident
    span: Span | None = span_field()


@attrs.frozen
class StrLit:
    value: Str
    span: Span | None = span_field()


Value = Quantity | DateLit | Ref | StrLit


class Compare(enum.Enum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    EQ = "=="
    NE = "!="


@attrs.frozen
class Comparison:
    operands: tuple  # 2 or 3 values
    ops: tuple[Compare, ...]
    span: Span | None = span_field()


@attrs.frozen
class SetRef:
    name: Ident
    span: Span | None = span_field()


@attrs.frozen
class SetLit:
    items: tuple[Ident, ...]
    span: Span | None = span_field()


class SetOpKind(enum.Enum):
    UNION = "|"
    DIFF = "-"
    INTER = "&"


@attrs.frozen
class SetOp:
    op: SetOpKind
    left: object
    right: object
    span: Span | None = span_field()


@attrs.frozen
class Membership:
    value: object
    set: object
    negated: bool = False
    span: Span | None = span_field()


@attrs.frozen
class Truth:
    """A boolean field or a named condition used as a condition."""

    name: Ident
    span: Span | None = span_field()


@attrs.frozen
class IsProduct:
    """`chip is "H20"`: the record is the chip catalog's product of that name."""

    field: Ident
    product: Str
    span: Span | None = span_field()


@attrs.frozen
class ClassifiedAs:
    """True when the item was classified under the ECCN (or a paragraph of it)."""

    eccn: Ident
    span: Span | None = span_field()


@attrs.frozen
class Not:
    operand: object
    span: Span | None = span_field()


@attrs.frozen
class And:
    items: tuple
    span: Span | None = span_field()


@attrs.frozen
class Or:
    items: tuple
    span: Span | None = span_field()


@attrs.frozen
class Group:
    """Parentheses the author wrote around a condition."""

    inner: object
    span: Span | None = span_field()


class ArithOp(enum.Enum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"


@attrs.frozen
class Arith:
    op: ArithOp
    left: object
    right: object
    span: Span | None = span_field()


@attrs.frozen
class ArithGroup:
    inner: object
    span: Span | None = span_field()


@attrs.frozen
class SetGroup:
    inner: object
    span: Span | None = span_field()


# ---- statements ----------------------------------------------------------------


@attrs.frozen
class Header:
    name: Ident
    title: Str | None = None
    version: str | None = None
    effective: DateLit | None = None
    until: DateLit | None = None
    source: Str | None = None
    supersedes: str | None = None
    timeline: str | None = None
    span: Span | None = span_field()
    repeated: tuple[tuple[str, Span], ...] = attrs.field(default=(), eq=False, repr=False)


@attrs.frozen
class Include:
    path: Str
    span: Span | None = span_field()


@attrs.frozen
class GroupDecl:
    name: Ident
    title: Str | None
    cite: Str | None
    expr: object
    span: Span | None = span_field()


@attrs.frozen
class Treat:
    alias: Ident
    target: Ident
    cite: Str | None = None
    span: Span | None = span_field()


@attrs.frozen
class ListFrom:
    path: Str
    csl: bool = False
    span: Span | None = span_field()
    #: only the file's entries with one of these footnote numbers (none: every entry)
    footnotes: tuple[str, ...] = ()


@attrs.frozen
class ScoreClause:
    """`match >= 90` or `possible >= 75` on a party list."""

    kind: str  # match | possible
    op: str  # as written; the checker accepts `>=` only
    number: str  # as written
    span: Span | None = span_field()


@attrs.frozen
class Entry:
    name: Str
    aliases: tuple[Str, ...] = ()
    country: Ident | None = None
    review: str | None = None
    cite: Str | None = None
    added: DateLit | None = None
    removed: DateLit | None = None
    requirement: Str | None = None
    span: Span | None = span_field()


@attrs.frozen
class PartyListDecl:
    name: Ident
    title: Str | None
    cite: Str | None
    sources: tuple[ListFrom, ...]
    entries: tuple[Entry, ...]
    scores: tuple[ScoreClause, ...] = ()
    span: Span | None = span_field()


@attrs.frozen
class FieldType:
    kind: str  # number, integer, bool, country, date, text, party, enum
    unit: str | None = None
    values: tuple[Ident, ...] = ()
    span: Span | None = span_field()


@attrs.frozen
class FieldDecl:
    name: Ident
    type: FieldType
    doc: Str | None = None
    default: object | None = None  # a value, or a Ref naming another field
    span: Span | None = span_field()


@attrs.frozen
class DeriveDecl:
    name: Ident
    unit: str | None
    expr: object
    doc: Str | None = None
    span: Span | None = span_field()


@attrs.frozen
class Unsettled:
    """`unsettled "why" cite "..." when expr`: where the public law does not decide."""

    why: Str
    cite: Str
    when: object
    span: Span | None = span_field()


@attrs.frozen
class ConditionDecl:
    name: Ident
    doc: Str | None
    expr: object
    span: Span | None = span_field()
    unsettled: tuple[Unsettled, ...] = ()


class RuleKind(enum.Enum):
    CLASSIFY = "classify"
    JURISDICTION = "jurisdiction"
    REQUIRE = "require license"
    EXCEPTION = "exception"


@attrs.frozen
class ExceptWhen:
    label: Str | None
    expr: object
    span: Span | None = span_field()


@attrs.frozen
class ReviewArm:
    """`POLICY if CONDITION`: one arm of a review, tried in order."""

    policy: str
    condition: object
    span: Span | None = span_field()


@attrs.frozen
class Review:
    """`review POLICY` (no arms), or arms tried in order and an `otherwise` policy
    (None when it is missing: the checker says so)."""

    arms: tuple[ReviewArm, ...] = ()
    otherwise: str | None = None
    span: Span | None = span_field()
    otherwise_span: Span | None = span_field()


@attrs.frozen
class Notify:
    text: Str
    condition: object | None = None
    span: Span | None = span_field()


@attrs.frozen
class Rule:
    kind: RuleKind
    id: Ident  # the ECCN for classify rules
    title: Str | None = None
    cite: Str | None = None
    effective: DateLit | None = None
    until: DateLit | None = None
    items: tuple[Ident, ...] | None = None  # `for` ECCNs
    when: object | None = None
    excepts: tuple[ExceptWhen, ...] = ()
    review: Review | None = None
    allows: tuple[Ident, ...] | None = None  # None: no clause; () : `allows none`
    notify: tuple[Notify, ...] = ()
    span: Span | None = span_field()
    # clause keyword spans, for diagnostics on repeated clauses
    repeated: tuple[tuple[str, Span], ...] = attrs.field(default=(), eq=False, repr=False)


@attrs.frozen
class Quota:
    """`quota NAME "title"`: a running total that governs an exception or a licence path."""

    name: Ident
    title: Str | None = None
    cite: Str | None = None
    governs: str | None = None  # exception | license
    governed: Ident | None = None  # the exception or requirement governed
    otherwise: str | None = None  # for a requirement: the review policy past the limit
    when: object | None = None
    counts: object | None = None  # arithmetic
    per: tuple[Ident, ...] | None = None
    period: str | None = None  # year | span | all
    start: DateLit | None = None
    end: DateLit | None = None
    limit: Quantity | None = None
    share: Quantity | None = None  # `limit 50 %`: the number, without a unit
    fed: object | None = None
    span: Span | None = span_field()
    # clause keyword positions, for the formatter and for repeated clauses
    clauses: tuple[tuple[str, Span], ...] = attrs.field(default=(), eq=False, repr=False)
    repeated: tuple[tuple[str, Span], ...] = attrs.field(default=(), eq=False, repr=False)


@attrs.frozen
class Pair:
    name: Ident
    value: object  # Quantity | DateLit | Ref | StrLit
    span: Span | None = span_field()


@attrs.frozen
class Expect:
    outcome: str
    classified: tuple[Ident, ...] | None = None  # () for `classified none`
    jurisdiction: tuple[Ident, ...] | None = None  # the jurisdiction rules that hold
    review: str | None = None
    exceptions: tuple[Ident, ...] | None = None  # () for `exceptions none`
    missing: tuple[Ident, ...] | None = None
    possible: tuple[Ident, ...] | None = None  # party fields with a possible list match
    unsettled: tuple[Ident, ...] | None = None  # conditions whose unsettled zone the record is in
    notify: tuple[Ident, ...] | None = None  # exceptions with a notification duty; () for `notify none`
    span: Span | None = span_field()


@attrs.frozen
class Example:
    name: Str
    record: tuple[Pair, ...]
    expect: Expect
    span: Span | None = span_field()


@attrs.frozen
class Module:
    items: tuple
    comments: tuple[Comment, ...] = attrs.field(default=(), eq=False)
    source: Source | None = attrs.field(default=None, eq=False, repr=False)
