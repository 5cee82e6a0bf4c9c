"""The checked model: names resolved, units canonical, sets resolved.

Only :mod:`chiprules.checker` builds these. The evaluator, the compiler, the
semantic diff and the plots work on this model, never on the surface AST.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import attrs

from chiprules.core.source import Span, span_field


class Outcome(enum.StrEnum):
    """What the rules decide for a record (a `str`: it compares and prints as its value)."""

    LICENSE_REQUIRED = "license_required"
    LICENSE_EXCEPTION = "license_exception"
    NO_LICENSE_REQUIRED = "no_license_required"
    #: the item is not subject to the EAR (no `jurisdiction` rule reaches it)
    NOT_SUBJECT = "not_subject"
    INDETERMINATE = "indeterminate"
    ERROR = "error"


class Policy(enum.StrEnum):
    """A licence review policy, in order of strictness (the least strict first)."""

    PRESUMPTION_OF_APPROVAL = "presumption_of_approval"
    CASE_BY_CASE = "case_by_case"
    PRESUMPTION_OF_DENIAL = "presumption_of_denial"
    POLICY_OF_DENIAL = "policy_of_denial"

    @property
    def strictness(self) -> int:
        return STRICTNESS[self]


class RuleKind(enum.StrEnum):
    CLASSIFY = "classify"
    JURISDICTION = "jurisdiction"
    REQUIRE = "require"
    EXCEPTION = "exception"


class FieldKind(enum.StrEnum):
    NUMBER = "number"
    INTEGER = "integer"
    BOOL = "bool"
    COUNTRY = "country"
    DATE = "date"
    TEXT = "text"
    PARTY = "party"
    ENUM = "enum"


#: `review listed`: the policy is the matched list entry's own
LISTED = "listed"

OUTCOMES = tuple(Outcome)
POLICIES = tuple(Policy)
STRICTNESS = {p: i for i, p in enumerate(POLICIES)}
KINDS = tuple(FieldKind)


def _policy_or_listed(value):
    return value if value is None or value == LISTED else Policy(value)


def _optional(kind):
    return lambda value: None if value is None else kind(value)


# ---- fields ----------------------------------------------------------------------


@attrs.frozen
class FieldDef:
    name: str
    kind: FieldKind = attrs.field(converter=FieldKind)
    unit: str | None = None  # canonical unit name for numbers
    values: tuple[str, ...] = ()  # for enums
    doc: str | None = None
    default: object = None  # a typed value, or a FieldRef to copy from
    span: Span | None = span_field()


@attrs.frozen
class AField:
    name: str


@attrs.frozen
class AConst:
    value: Decimal


@attrs.frozen
class ABin:
    op: str  # + - * /
    left: object
    right: object


@attrs.frozen
class Derived:
    name: str
    unit: str
    expr: object  # AField | AConst | ABin
    inputs: tuple[str, ...]  # record fields it is computed from
    doc: str | None = None
    span: Span | None = span_field()


# ---- conditions ----------------------------------------------------------------------


@attrs.frozen
class FieldRef:
    name: str


@attrs.frozen
class Const:
    value: object  # Decimal | date | str
    shown: str  # as written, with its unit


@attrs.frozen
class Cmp:
    left: FieldRef | Const
    op: str  # >= > <= < == !=
    right: FieldRef | Const
    text: str
    span: Span | None = span_field()


@attrs.frozen
class InSet:
    field: str
    members: frozenset[str]
    negated: bool
    set_text: str
    text: str
    span: Span | None = span_field()


@attrs.frozen
class InList:
    field: str
    list: str
    negated: bool
    text: str
    span: Span | None = span_field()


@attrs.frozen
class IsTrue:
    field: str
    text: str
    span: Span | None = span_field()


@attrs.frozen
class Classified:
    eccn: str
    text: str
    span: Span | None = span_field()


@attrs.frozen
class IsProduct:
    """`chip is "NAME"`: the record is the catalog's product ``product``. True when ``field``
    names it (the catalog's own name: records' names and aliases are resolved to it before
    evaluation), false when it names another; without a name, false when a figure the record
    gives differs from the product's catalog ``figures`` ((field, value) pairs), else
    unknown: the record could be the product."""

    field: str
    product: str
    figures: tuple[tuple[str, object], ...]
    text: str
    span: Span | None = span_field()


@attrs.frozen
class CondRef:
    name: str
    expr: object
    text: str
    span: Span | None = span_field()


@attrs.frozen
class Not:
    operand: object
    text: str
    span: Span | None = span_field()


@attrs.frozen
class And:
    items: tuple
    text: str
    span: Span | None = span_field()


@attrs.frozen
class Or:
    items: tuple
    text: str
    span: Span | None = span_field()


@attrs.frozen
class Unsettled:
    """Where the public law does not decide a condition: always unknown, never split.

    `condition NAME = E unsettled "why" cite "..." when W` is checked as
    `(not W and E) or (W and Unsettled(NAME))`: E outside the zone, unknown inside it,
    and unknown where W itself is. ``key`` names the zone (the condition's name, with
    ``#2``, ``#3`` for its later zones).
    """

    key: str
    why: str
    cite: str
    text: str
    span: Span | None = span_field()


@attrs.frozen
class TrueCond:
    """An absent `when`: the rule always applies."""

    text: str = "always"


# ---- rules -------------------------------------------------------------------------------


@attrs.frozen
class Except:
    label: str | None
    expr: object
    span: Span | None = span_field()


@attrs.frozen
class ReviewArm:
    """`POLICY if CONDITION`, one arm of a review."""

    policy: Policy | str = attrs.field(converter=_policy_or_listed)  # a Policy, or LISTED
    condition: object
    span: Span | None = span_field()


@attrs.frozen
class ReviewSpec:
    """A requirement's review: the first arm whose condition holds gives the policy, and
    ``otherwise`` where none does (`review P` alone has no arms). Where an arm's condition
    is unknown, the policy is unknown unless every policy still possible is the same."""

    arms: tuple[ReviewArm, ...]
    otherwise: Policy | str = attrs.field(converter=_policy_or_listed)  # a Policy, or LISTED

    @property
    def policies(self) -> tuple:
        """Every policy the review can give, in order, the `otherwise` last."""
        return (*(a.policy for a in self.arms), self.otherwise)


@attrs.frozen
class NotifyDuty:
    text: str
    condition: object | None = None


@attrs.frozen
class Rule:
    kind: RuleKind = attrs.field(converter=RuleKind)
    id: str
    title: str | None
    cite: str | None
    effective: dt.date | None
    until: dt.date | None
    items: tuple[str, ...] | None
    when: object
    excepts: tuple[Except, ...] = ()
    review: ReviewSpec | None = None
    allows: frozenset[str] = frozenset()
    notify: tuple[NotifyDuty, ...] = ()
    span: Span | None = span_field()


@attrs.frozen
class Quota:
    """A running total over shipments: what each record draws (``counts``, in ``unit``), per
    which key, over which period, up to which limit, and the exception or licence path it
    governs. Decided by a run (``chiprules.ledger``), not by one record alone."""

    name: str
    title: str | None
    cite: str | None
    governs: str  # exception | license
    governed: str  # the exception's or the requirement's id
    otherwise: Policy | None  # for a requirement: the review policy past the limit
    when: object  # which records draw (TrueCond: every record the governed rule applies to)
    counts: object  # AField | AConst | ABin
    reads: tuple[str, ...]  # the record fields the amount is computed from
    unit: str  # the amount's unit ("" for a count)
    per: tuple[str, ...]  # key fields
    period: str  # year | span | all
    start: dt.date | None = None
    end: dt.date | None = None
    limit: Decimal | None = None  # in ``unit``
    share: Decimal | None = None  # a percentage of what the ``fed`` records count
    fed: object | None = None
    span: Span | None = span_field()


@attrs.frozen
class PartyList:
    name: str
    title: str | None
    cite: str | None
    entries: tuple  # tuple[parties.PartyEntry, ...]
    match_score: float = 90.0  # a name scoring at least this matches an entry
    possible_score: float = 75.0  # from here up to match_score: a possible match
    span: Span | None = span_field()


@attrs.frozen
class ExpectSpec:
    outcome: Outcome = attrs.field(converter=Outcome)
    classified: tuple[str, ...] | None = None
    review: Policy | None = attrs.field(default=None, converter=_optional(Policy))
    exceptions: tuple[str, ...] | None = None
    missing: tuple[str, ...] | None = None
    possible: tuple[str, ...] | None = None
    unsettled: tuple[str, ...] | None = None
    notify: tuple[str, ...] | None = None  # the available exceptions that carry a notification duty
    jurisdiction: tuple[str, ...] | None = None  # the jurisdiction rules that hold


@attrs.frozen
class ExampleCase:
    name: str
    record: dict = attrs.field(eq=False)
    expect: ExpectSpec
    span: Span | None = span_field()


@attrs.frozen
class CheckedRuleset:
    name: str
    title: str | None
    version: str
    effective: dt.date | None
    until: dt.date | None
    source: str | None
    supersedes: str | None
    timeline: str | None  # None: both timelines; "enforced" or "written"
    fields: dict = attrs.field(eq=False)  # name -> FieldDef
    derived: dict = attrs.field(eq=False)  # name -> Derived
    groups: dict = attrs.field(eq=False)  # name -> frozenset of codes
    group_titles: dict = attrs.field(eq=False)
    treat: dict = attrs.field(eq=False)  # alias code -> target code
    lists: dict = attrs.field(eq=False)  # name -> PartyList
    conditions: dict = attrs.field(eq=False)  # name -> expr
    classify: tuple[Rule, ...] = ()
    #: what brings an item under the EAR; none: every item is (the rules say nothing of it)
    jurisdiction: tuple[Rule, ...] = ()
    requirements: tuple[Rule, ...] = ()
    exceptions: tuple[Rule, ...] = ()
    examples: tuple[ExampleCase, ...] = ()
    quotas: tuple[Quota, ...] = ()
    files: tuple[str, ...] = ()
    content_hash: str = ""
    root: str | None = None
    catalog_path: str | None = None
    path: str | None = None

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self.classify + self.jurisdiction + self.requirements + self.exceptions

    def rule(self, rule_id: str) -> Rule | None:
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None


def eccn_covers(parent: str, child: str) -> bool:
    """`3A090` covers `3A090.a` and `3A090.a.1`; `3A090.a` covers itself."""
    return child == parent or child.startswith(parent + ".")


__all__ = [
    "Outcome",
    "Policy",
    "RuleKind",
    "FieldKind",
    "LISTED",
    "OUTCOMES",
    "POLICIES",
    "STRICTNESS",
    "KINDS",
    "FieldDef",
    "Unsettled",
    "AField",
    "AConst",
    "ABin",
    "Derived",
    "FieldRef",
    "Const",
    "Cmp",
    "InSet",
    "InList",
    "IsProduct",
    "IsTrue",
    "Classified",
    "CondRef",
    "Not",
    "And",
    "Or",
    "TrueCond",
    "Except",
    "ReviewArm",
    "ReviewSpec",
    "NotifyDuty",
    "Rule",
    "PartyList",
    "Quota",
    "ExpectSpec",
    "ExampleCase",
    "CheckedRuleset",
    "eccn_covers",
]
