"""The lowered form of a ruleset version: one small frozen tree for every backend.

The checked model keeps what an explanation needs (the text of every condition,
the names of groups and named conditions). The lowered form keeps only what a
decision needs, in a handful of node types with a fixed meaning:

Values (``None`` when unknown)
    `Var` a field of the rules: the record's value, or for a derived quantity
    not given, its definition computed exactly; `Const`; `Arith` exact
    arithmetic (unknown when an operand is, or a divisor is zero); `OnDate` the
    day the record is decided on.

Truths (three-valued: true, false, unknown; Kleene's logic)
    `Lit`, `Compare`, `InSet`, `IsTrue`, `Product` (a catalog product, by name or
    else by figures), `Listed` (a party's screening: a match
    is true, no listed party false, a possible match unknown), `Classified` and
    `Fired` (which classification rules and requirements held: always known
    where they are read), `Not`, `And`, `Or`.

Review policies
    `PolicyConst`, `PolicyIf` (``then`` where the condition holds, ``otherwise``
    where it fails; where it is unknown, the policy both give if they give the same
    one, else unknown), `PolicyListed` (the strictest policy of the list entries
    matched by the rule's list tests). A review's arms are nested `PolicyIf`.

Every node is hashable and compared by value, so a condition used by several
rules is one node, met several times: a backend computes it once per record.
A rule's dates and the classifications it is for are part of its `applies`
truth, so a backend needs no other rule logic than the order of the stages:
classification, requirements, review, exceptions and their duties.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from chiprules.model.checked import Policy

# ---- values ----------------------------------------------------------------------------------


@attrs.frozen
class Var:
    """A field of the rules. ``derived`` is the definition of a derived quantity
    (used when the record does not give the value), over other values."""

    name: str
    derived: object = None  # Arith | Var | Const | None


@attrs.frozen
class Const:
    value: Decimal | dt.date | str | bool


@attrs.frozen
class Arith:
    op: str  # + - * /
    left: object
    right: object


@attrs.frozen
class OnDate:
    """The day the record is decided on (its export date, or the date asked for)."""


# ---- truths ------------------------------------------------------------------------------------


@attrs.frozen
class Lit:
    value: bool | None


@attrs.frozen
class Compare:
    op: str  # >= > <= < == !=
    left: object
    right: object


@attrs.frozen
class InSet:
    var: Var
    members: frozenset[str]


@attrs.frozen
class IsTrue:
    var: Var


@attrs.frozen
class Product:
    """The record is the catalog product ``name``: ``var`` (the chip named) equals it when
    given; else false if a figure given differs from the product's (``figures``: (Var,
    value) pairs), and unknown (``var`` noted) when every figure given is the product's."""

    var: Var
    name: str
    figures: tuple[tuple[Var, object], ...]


@attrs.frozen
class Listed:
    """The party named in ``field`` is on ``list``. The screening takes the
    record's evidence fields (`chiprules.eval.screens.EVIDENCE`)."""

    field: str
    list: str


@attrs.frozen
class Classified:
    """One of these classification rules held (known once classification is done)."""

    ids: frozenset[str]


@attrs.frozen
class Unsettled:
    """Where the public law does not decide: unknown, and no missing fact can settle it.

    The unknown is noted as ``?KEY`` (KEY the zone's key in the checked model)."""

    key: str


@attrs.frozen
class Fired:
    """One of these licence requirements fired (known once requirements are decided)."""

    ids: frozenset[str]


@attrs.frozen
class Not:
    operand: object


@attrs.frozen
class And:
    items: tuple


@attrs.frozen
class Or:
    items: tuple


TRUE = Lit(True)
FALSE = Lit(False)

# ---- review policies ------------------------------------------------------------------------------


@attrs.frozen
class PolicyConst:
    policy: Policy


@attrs.frozen
class PolicyIf:
    condition: object
    then: object
    otherwise: object


@attrs.frozen
class PolicyListed:
    """The strictest review policy of the entries matched by ``tests`` ((field, list)
    pairs, the rule's own list tests), presumption of denial when none states one.
    Unknown while a possible match could make it stricter."""

    tests: tuple[tuple[str, str], ...]


# ---- rules and programs -------------------------------------------------------------------------


@attrs.frozen
class Origin:
    """Where a rule or clause is written: for messages and for generated code's line map."""

    file: str
    line: int


@attrs.frozen
class Duty:
    """A notification duty of an exception, owed when ``when`` holds."""

    text: str
    when: object


@attrs.frozen
class Rule:
    """One rule: it holds where ``applies`` is true (its dates, the classifications
    it is for and, for an exception, the requirements that allow it, included)."""

    id: str
    applies: object
    review: object = None  # licence requirements: a policy expression
    duties: tuple[Duty, ...] = ()  # exceptions
    fields: tuple[str, ...] = ()  # every field its conditions read, in the analyses' order
    origin: Origin | None = attrs.field(default=None, eq=False)
    clause_origins: tuple = attrs.field(default=(), eq=False)  # (truth node, Origin) of when/except


@attrs.frozen
class Program:
    """A ruleset version, lowered."""

    name: str
    version: str
    classify: tuple[Rule, ...]
    require: tuple[Rule, ...]
    exceptions: tuple[Rule, ...]
    #: the lists the rules screen against, and the fields with a literal default
    #: (always present in a prepared record: tests of them are never unknown)
    lists: tuple[str, ...] = ()
    always_known: frozenset[str] = frozenset()
    file: str | None = attrs.field(default=None, eq=False)
    #: what brings an item under the EAR, decided after classification: where the
    #: program has such rules and none holds, the item is not subject to the EAR
    jurisdiction: tuple[Rule, ...] = ()


__all__ = [
    "FALSE", "TRUE", "And", "Arith", "Classified", "Compare", "Const", "Duty", "Fired", "InSet", "IsTrue",
    "Listed", "Product", "Lit", "Not", "OnDate", "Or", "Origin", "PolicyConst", "PolicyIf", "PolicyListed", "Program",
    "Rule", "Var",
]
