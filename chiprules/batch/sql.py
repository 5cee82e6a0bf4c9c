"""The SQL backend: lowered programs (`chiprules.ir`) -> one relational plan, as sqlglot trees.

The plan reads a relation ``prepared`` with one row per record: a typed column per
field (NULL when not given; defaults and catalog figures already filled in),
``__row`` (the record's position), ``__on`` (the day it is decided on), ``__v`` (the
index of the version in force that day, NULL for none) and, per party field and
list, its screening: ``__st__<field>__<list>`` (true a match, false no listed party,
NULL a possible match or no name) and ``__pol__<field>__<list>`` (the review policy of
the entry found, as a rank of strictness).

SQL's NULL is the unknown of three-valued logic, and its AND, OR and NOT are
Kleene's: a condition lowers to SQL as it is written. Thresholds are exact: numbers
are DECIMAL, and a ratio compared with a constant is cross-multiplied
(``tpp >= 5.92 * die_area``). Every identifier and literal is quoted by sqlglot; no
text of a rules file is ever pasted into SQL.

Each version is one select over its own rows (``__v``), in stages (classification;
requirements and their review; exceptions and their duties; a summary), whose
final projection gives the decision columns; the versions' selects are joined by
UNION ALL. A row whose facts leave a
rule unknown gets a NULL outcome and a *signature*: the class of every value the
rules read, as `chiprules.eval.split.Signer` defines it. Rows with one signature
share one answer, which the caller works out once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
from sqlglot import exp

from chiprules import model as M
from chiprules.ir import nodes as I
from chiprules.ir.lower import fixed_policies, rule_exprs, walk
from chiprules.model.classes import VariableTable, field_tests

POLICY_RANK = {p: i for i, p in enumerate(M.Policy)}
_CMP = {">=": exp.GTE, ">": exp.GT, "<=": exp.LTE, "<": exp.LT, "==": exp.EQ, "!=": exp.NEQ}
_FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}
#: Record numbers in the plan: 12 digits before the point, 6 after (64-bit, fast). A value
#: outside them is decided by the per-record engine, which has no limit.
NUMBER = "DECIMAL(18,6)"
NUMBER_DIGITS = (12, 6)


class UnsupportedInSql(Exception):
    """A construct this backend cannot decide exactly in SQL (the caller decides such rows in Python)."""


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def status_col(field: str, list_name: str) -> str:
    return f"__st__{field}__{list_name}"


def policy_col(field: str, list_name: str) -> str:
    return f"__pol__{field}__{list_name}"


def note_col(field: str, list_name: str) -> str:
    return f"__note__{field}__{list_name}"


def literal(value) -> exp.Expression:
    """A constant as a typed SQL literal."""
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, Decimal | int):
        return cast(exp.Literal.string(format(value, "f")), decimal_type(Decimal(value)))
    if isinstance(value, dt.date):
        return cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise UnsupportedInSql(f"a constant of type {type(value).__name__}")


def decimal_type(value: Decimal) -> str:
    """The narrowest exact DECIMAL type of a constant (its digits, no fewer than a record's)."""
    sign, digits, exponent = value.normalize().as_tuple()
    scale = max(-exponent, 0) if isinstance(exponent, int) else 0
    whole = max(len(digits) + (exponent if isinstance(exponent, int) else 0), 1)
    scale = max(scale, NUMBER_DIGITS[1])
    precision = max(whole, NUMBER_DIGITS[0]) + scale
    if precision > 38:
        raise UnsupportedInSql(f"the constant {value} has more digits than SQL's DECIMAL holds")
    return f"DECIMAL({precision},{scale})"


def null_bool() -> exp.Expression:
    return cast(exp.null(), "BOOLEAN")


def paren(e: exp.Expression) -> exp.Expression:
    return exp.Paren(this=e)


def and_(items) -> exp.Expression:
    items = list(items)
    if not items:
        return exp.true()
    out = paren(items[0])
    for i in items[1:]:
        out = exp.And(this=out, expression=paren(i))
    return out


def or_(items) -> exp.Expression:
    items = list(items)
    if not items:
        return exp.false()
    out = paren(items[0])
    for i in items[1:]:
        out = exp.Or(this=out, expression=paren(i))
    return out


def not_(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=paren(e))


def is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=paren(e), expression=exp.null())


def is_true(e: exp.Expression) -> exp.Expression:
    """Two-valued: the truth is known and true."""
    return coalesce(paren(e), exp.false())


def is_false(e: exp.Expression) -> exp.Expression:
    """Two-valued: the truth is known and false."""
    return not_(coalesce(paren(e), exp.true()))


def case(pairs, default=None) -> exp.Expression:
    return exp.Case(ifs=[exp.If(this=cond, true=value) for cond, value in pairs], default=default)


_TYPES: dict = {}


def cast(e: exp.Expression, to: str) -> exp.Expression:
    """``CAST(e AS to)``, the type built once (sqlglot's builders copy their arguments)."""
    dtype = _TYPES.get(to)
    if dtype is None:
        dtype = _TYPES[to] = exp.DataType.build(to)
    return exp.Cast(this=e, to=dtype)


def coalesce(first: exp.Expression, *rest: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=first, expressions=list(rest))


def alias(e: exp.Expression, name: str) -> exp.Expression:
    return exp.Alias(this=e, alias=exp.to_identifier(name, quoted=True))


def text_list(pairs) -> exp.Expression:
    """The texts whose condition is true, as a list (in order)."""
    items = [case([(is_true(cond), exp.Literal.string(text))]) for cond, text in pairs]
    if not items:
        return cast(exp.Array(expressions=[]), "VARCHAR[]")
    lam = exp.Lambda(this=not_(is_null(exp.column("x"))), expressions=[exp.to_identifier("x")])
    return exp.ArrayFilter(this=exp.Array(expressions=items), expression=lam)


@attrs.frozen
class VersionColumns:
    """The names of one version's stage columns."""

    v: int

    def c(self, i: int) -> str:
        return f"__c{self.v}_{i}"

    def j(self, i: int) -> str:
        return f"__j{self.v}_{i}"

    def r(self, j: int) -> str:
        return f"__r{self.v}_{j}"

    def p(self, j: int) -> str:
        return f"__p{self.v}_{j}"

    def e(self, k: int) -> str:
        return f"__e{self.v}_{k}"

    def d(self, k: int, m: int) -> str:
        return f"__d{self.v}_{k}_{m}"

    def fired(self) -> str:
        return f"__fa{self.v}"

    def undecided(self) -> str:
        return f"__und{self.v}"

    def granted(self, k: int) -> str:
        return f"__g{self.v}_{k}"


class VersionSql:
    """One version's part of the plan, emitted from its lowered program by a visitor."""

    def __init__(self, v: int, program: I.Program, model: M.CheckedRuleset):
        self.v = v
        self.program = program
        self.model = model
        self.names = VersionColumns(v)
        self.classify_index = {r.id: i for i, r in enumerate(program.classify)}
        self.require_index = {r.id: j for j, r in enumerate(program.require)}

    # ---- values
    def value(self, node) -> exp.Expression:
        t = type(node)
        if t is I.Const:
            return literal(node.value)
        if t is I.OnDate:
            return col("__on")
        if t is I.Var:
            if node.derived is None:
                return col(node.name)
            if type(node.derived) is I.Arith and node.derived.op == "/":
                raise UnsupportedInSql(f"`{node.name}` is a ratio: it is compared by cross-multiplying")
            return coalesce(col(node.name), self.value(node.derived))
        if t is I.Arith:
            if node.op == "/":
                raise UnsupportedInSql("division outside a comparison with a constant")
            cls = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}[node.op]
            return paren(cls(this=self.value(node.left), expression=self.value(node.right)))
        raise UnsupportedInSql(f"the value {t.__name__}")

    # ---- truths
    def truth(self, node) -> exp.Expression:
        return getattr(self, "visit_" + type(node).__name__)(node)

    def visit_Lit(self, node: I.Lit) -> exp.Expression:  # noqa: N802 - visit_<Node>
        return null_bool() if node.value is None else exp.true() if node.value else exp.false()

    def visit_Not(self, node: I.Not) -> exp.Expression:  # noqa: N802
        return not_(self.truth(node.operand))

    def visit_And(self, node: I.And) -> exp.Expression:  # noqa: N802
        return and_(self.truth(i) for i in node.items)

    def visit_Or(self, node: I.Or) -> exp.Expression:  # noqa: N802
        return or_(self.truth(i) for i in node.items)

    def visit_InSet(self, node: I.InSet) -> exp.Expression:  # noqa: N802
        members = sorted(node.members)
        if not members:
            return case([(is_null(self.value(node.var)), null_bool())], exp.false())
        return exp.In(this=self.value(node.var), expressions=[exp.Literal.string(m) for m in members])

    def visit_IsTrue(self, node: I.IsTrue) -> exp.Expression:  # noqa: N802
        return self.value(node.var)

    def visit_Product(self, node: I.Product) -> exp.Expression:  # noqa: N802
        # CASE WHEN chip IS NOT NULL THEN chip = name WHEN a figure given differs THEN FALSE END
        chip = self.value(node.var)
        differs = [and_([not_(is_null(self.value(var))),
                         exp.NEQ(this=self.value(var), expression=literal(value))])
                   for var, value in node.figures]
        pairs = [(not_(is_null(chip.copy())), exp.EQ(this=chip, expression=literal(node.name)))]
        if differs:
            pairs.append((or_(differs), exp.false()))
        return case(pairs, null_bool())

    def visit_Listed(self, node: I.Listed) -> exp.Expression:  # noqa: N802
        return col(status_col(node.field, node.list))

    def visit_Classified(self, node: I.Classified) -> exp.Expression:  # noqa: N802
        flags = [col(self.names.c(self.classify_index[i])) for i in sorted(node.ids)]
        return or_(flags) if flags else exp.false()

    def visit_Unsettled(self, node: I.Unsettled) -> exp.Expression:  # noqa: N802
        return null_bool()  # unknown: the row is settled in Python, which names the zone

    def visit_Fired(self, node: I.Fired) -> exp.Expression:  # noqa: N802
        flags = [col(self.names.r(self.require_index[i])) for i in sorted(node.ids)]
        return or_(flags) if flags else exp.false()

    def visit_Compare(self, node: I.Compare) -> exp.Expression:  # noqa: N802
        op, left, right = node.op, node.left, node.right
        if type(left) is I.Const and type(right) is not I.Const:
            left, right, op = right, left, _FLIP[op]
        ratio = _ratio(left)
        if ratio is not None and type(right) is I.Const:
            return self.ratio_compare(left, op, right.value, *ratio)
        return _CMP[op](this=self.value(left), expression=self.value(right))

    def ratio_compare(self, var: I.Var, op: str, c, num: str, den: str) -> exp.Expression:
        """``var op c`` for ``var = num / den``: the record's value when given, else
        ``num op c * den`` (turned round for a negative ``den``), unknown for 0."""
        f, a, b, k = col(var.name), col(num), col(den), literal(c)
        product = exp.Mul(this=k, expression=b)
        zero = literal(Decimal(0))
        return case([
            (exp.Not(this=is_null(f)), _CMP[op](this=f, expression=k)),
            (exp.GT(this=b, expression=zero), _CMP[op](this=a, expression=product)),
            (exp.LT(this=b, expression=zero), _CMP[_FLIP[op]](this=a, expression=product)),
        ], null_bool())

    # ---- review policies (ranks of strictness; NULL: unknown)
    def policy(self, node) -> exp.Expression:
        t = type(node)
        if t is I.PolicyConst:
            return exp.Literal.number(POLICY_RANK[node.policy])
        if t is I.PolicyIf:
            # an unknown condition: the policy both branches give, if the same (NULL: unknown)
            cond = self.truth(node.condition)
            then, otherwise = self.policy(node.then), self.policy(node.otherwise)
            a, b = fixed_policies(node.then), fixed_policies(node.otherwise)
            either = (cast(exp.null(), "INTEGER") if a is not None and b is not None and not a & b
                      else case([(exp.EQ(this=then.copy(), expression=otherwise.copy()), then.copy())],
                                cast(exp.null(), "INTEGER")))
            return case([(is_null(cond), either), (cond, then)], otherwise)
        return self.listed_policy(node.tests)

    def listed_policy(self, tests) -> exp.Expression:
        """The strictest entry policy among the matched tests; unknown while a possible match
        would be stricter; presumption of denial when no matched entry states one."""
        known, open_ = [], []
        for field, list_name in tests:
            st, pol = col(status_col(field, list_name)), col(policy_col(field, list_name))
            known.append(case([(is_true(st), pol)]))
            open_.append(case([(exp.And(this=is_null(st), expression=exp.Not(this=is_null(col(field)))), pol)]))
        k = _greatest(known)
        o = _greatest(open_)
        denial = exp.Literal.number(POLICY_RANK[M.Policy.PRESUMPTION_OF_DENIAL])
        return case([
            (exp.And(this=exp.Not(this=is_null(o)), expression=paren(or_([is_null(k), exp.GT(this=o, expression=k)]))),
             cast(exp.null(), "INTEGER")),
        ], coalesce(k, denial))

    # ---- stages
    def on_version(self, e: exp.Expression) -> exp.Expression:
        """A column of this version: the plan selects each version's own rows, so it is the
        expression itself."""
        return e

    def stage_classify(self) -> list[exp.Expression]:
        return [alias(self.on_version(self.truth(r.applies)), self.names.c(i))
                for i, r in enumerate(self.program.classify)]

    def stage_require(self) -> list[exp.Expression]:
        # the jurisdiction rules read classifications only: they are computed beside the requirements
        out = [alias(self.on_version(self.truth(r.applies)), self.names.j(i))
               for i, r in enumerate(self.program.jurisdiction)]
        for j, r in enumerate(self.program.require):
            out.append(alias(self.on_version(self.truth(r.applies)), self.names.r(j)))
            out.append(alias(self.on_version(self.policy(r.review)), self.names.p(j)))
        return out

    def stage_exceptions(self) -> list[exp.Expression]:
        out = []
        for k, r in enumerate(self.program.exceptions):
            out.append(alias(self.on_version(self.truth(r.applies)), self.names.e(k)))
            for m, duty in enumerate(r.duties):
                out.append(alias(self.on_version(self.truth(duty.when)), self.names.d(k, m)))
        return out

    # ---- the decision, from the stage columns
    def stage_summary(self) -> list[exp.Expression]:
        """Per row: whether a requirement fired, each exception granted, and whether the row is
        undecided (computed once; the decision columns read them)."""
        out = [alias(self.on_version(self._fired_any()), self.names.fired()),
               alias(self.on_version(self._undecided()), self.names.undecided())]
        out += [alias(self.on_version(self._granted(k)), self.names.granted(k))
                for k in range(len(self.program.exceptions))]
        return out

    def fired_any(self) -> exp.Expression:
        return is_true(col(self.names.fired()))

    def undecided(self) -> exp.Expression:
        return is_true(col(self.names.undecided()))

    def granted(self, k: int) -> exp.Expression:
        return is_true(col(self.names.granted(k)))

    def _fired_any(self) -> exp.Expression:
        return or_([self.fired(j) for j in range(len(self.program.require))])

    def fired(self, j: int) -> exp.Expression:
        """Requirement ``j`` fired: it holds, for an item subject to the EAR."""
        held = is_true(col(self.names.r(j)))
        return and_([self.subject(), held]) if self.program.jurisdiction else held

    def _undecided(self) -> exp.Expression:
        n, p = self.names, self.program
        parts = [is_null(col(n.c(i))) for i in range(len(p.classify))]
        # jurisdiction: undecided where the first rule not known to be false is unknown
        for i in range(len(p.jurisdiction)):
            parts.append(and_([*(is_false(col(n.j(k))) for k in range(i)), is_null(col(n.j(i)))]))
        rest = []
        for j in range(len(p.require)):
            rest.append(is_null(col(n.r(j))))
            rest.append(and_([is_true(col(n.r(j))), is_null(col(n.p(j)))]))
        later = []
        for k, r in enumerate(p.exceptions):
            later.append(is_null(col(n.e(k))))
            for m in range(len(r.duties)):
                later.append(and_([is_true(col(n.e(k))), is_null(col(n.d(k, m)))]))
        if later:
            rest.append(and_([self._fired_any(), or_(later)]))
        if rest:  # an item not subject to the EAR is decided whatever its requirements say
            parts.append(and_([self.subject(), or_(rest)]) if p.jurisdiction else or_(rest))
        return or_(parts) if parts else exp.false()

    def subject(self) -> exp.Expression:
        """Some jurisdiction rule holds (true where the program has none)."""
        flags = [is_true(col(self.names.j(i))) for i in range(len(self.program.jurisdiction))]
        return or_(flags) if flags else exp.true()

    def _granted(self, k: int) -> exp.Expression:
        return and_([self._fired_any(), is_true(col(self.names.e(k)))])

    # ---- the decision as compact codes (stored per row), and as the columns users read
    def codes(self) -> list[exp.Expression]:
        """The decision of a row as numbers: outcome code (NULL: undecided), review rank, and
        bit masks of the classifications held, requirements fired, exceptions granted and
        notification duties owed (flat, exception by exception)."""
        p = self.program
        if max(len(p.classify), len(p.require), len(p.exceptions), self.duty_count()) > 62:
            raise UnsupportedInSql("more than 62 rules of one kind")
        granted = or_([self.granted(k) for k in range(len(p.exceptions))])
        outcome = case([(self.undecided(), cast(exp.null(), "TINYINT")),
                        *([(not_(self.subject()), n(OUTCOME_CODE[M.Outcome.NOT_SUBJECT]))] if p.jurisdiction
                          else []),
                        (not_(self.fired_any()), n(OUTCOME_CODE[M.Outcome.NO_LICENSE_REQUIRED])),
                        (granted, n(OUTCOME_CODE[M.Outcome.LICENSE_EXCEPTION]))],
                       n(OUTCOME_CODE[M.Outcome.LICENSE_REQUIRED]))
        ranks = [case([(self.fired(j), col(self.names.p(j)))]) for j in range(len(p.require))]
        duties = [and_([self.granted(k), is_true(col(self.names.d(k, m)))])
                  for k, r in enumerate(p.exceptions) for m in range(len(r.duties))]
        return [alias(outcome, "outcome_code"), alias(_greatest(ranks), "review_rank"),
                alias(mask([is_true(col(self.names.c(i))) for i in range(len(p.classify))]), "cmask"),
                alias(mask([self.fired(j) for j in range(len(p.require))]), "rmask"),
                alias(mask([self.granted(k) for k in range(len(p.exceptions))]), "emask"),
                alias(mask(duties), "dmask"),
                alias(case([(is_true(col(self.names.j(i))), n(i)) for i in range(len(p.jurisdiction))],
                           cast(exp.null(), "TINYINT")) if p.jurisdiction else cast(exp.null(), "TINYINT"),
                      "jrule")]

    def duty_count(self) -> int:
        return sum(len(r.duties) for r in self.program.exceptions)

    def expand(self, what: str, m) -> exp.Expression:
        """A decision column from the codes (``m(name)``: the column holding code ``name``)."""
        p, rs = self.program, self.model
        if what == "classification":
            return text_list([(bit(m("cmask"), i), r.id) for i, r in enumerate(p.classify)])
        if what == "license_exceptions":
            return text_list([(bit(m("emask"), k), r.id) for k, r in enumerate(p.exceptions)])
        if what == "jurisdiction":  # the first jurisdiction rule that holds, or not subject
            arms = [(exp.EQ(this=m("outcome_code"), expression=n(OUTCOME_CODE[M.Outcome.NOT_SUBJECT])),
                     exp.Literal.string("not_subject"))]
            arms += [(exp.EQ(this=m("jrule"), expression=n(i)), exp.Literal.string(r.id))
                     for i, r in enumerate(p.jurisdiction)]
            return case(arms, cast(exp.null(), "VARCHAR"))
        if what == "notifications":
            flat = [(r.id, d.text) for r in p.exceptions for d in r.duties]
            return text_list([(bit(m("dmask"), i), f"{rid}: {text}") for i, (rid, text) in enumerate(flat)])
        fired = [(bit(m("cmask"), i), rs.rule(r.id)) for i, r in enumerate(p.classify)]
        fired += [(bit(m("rmask"), j), rs.rule(r.id)) for j, r in enumerate(p.require)]
        fired += [(bit(m("emask"), k), rs.rule(r.id)) for k, r in enumerate(p.exceptions)]
        if what == "rules_fired":
            return text_list([(held, rule.id) for held, rule in fired])
        if what == "citations":
            return text_list([(held, f"{rule.id}: {rule.cite}") for held, rule in fired if rule.cite])
        raise ValueError(what)


#: Outcomes as the codes the plan stores.
OUTCOME_CODE = {M.Outcome.NO_LICENSE_REQUIRED: 0, M.Outcome.LICENSE_EXCEPTION: 1, M.Outcome.LICENSE_REQUIRED: 2,
                M.Outcome.INDETERMINATE: 3, M.Outcome.ERROR: 4, M.Outcome.NOT_SUBJECT: 5}


def n(value: int) -> exp.Expression:
    return exp.Literal.number(value)


def mask(flags: list) -> exp.Expression:
    """The flags as the bits of one BIGINT (flag i is bit i)."""
    if not flags:
        return cast(n(0), "BIGINT")
    terms = [case([(f, n(1 << i))], n(0)) for i, f in enumerate(flags)]
    out = terms[0]
    for term in terms[1:]:
        out = exp.Add(this=out, expression=term)
    return cast(paren(out), "BIGINT")


def bit(m: exp.Expression, i: int) -> exp.Expression:
    """Is bit ``i`` of mask ``m`` set?"""
    return exp.NEQ(this=paren(exp.BitwiseAnd(this=m, expression=n(1 << i))), expression=n(0))


def outcome_name(code: exp.Expression) -> exp.Expression:
    return case([(exp.EQ(this=code, expression=n(c)), exp.Literal.string(str(o))) for o, c in OUTCOME_CODE.items()],
                cast(exp.null(), "VARCHAR"))


def review_name(rank: exp.Expression) -> exp.Expression:
    return case([(exp.EQ(this=rank, expression=n(i)), exp.Literal.string(str(p))) for p, i in POLICY_RANK.items()],
                cast(exp.null(), "VARCHAR"))


def _ratio(var) -> tuple[str, str] | None:
    if type(var) is not I.Var or type(var.derived) is not I.Arith or var.derived.op != "/":
        return None
    a, b = var.derived.left, var.derived.right
    if type(a) is I.Var and a.derived is None and type(b) is I.Var and b.derived is None:
        return a.name, b.name
    return None


def _greatest(items) -> exp.Expression:
    """The greatest known value (NULL when none is known)."""
    items = list(items)
    if not items:
        return cast(exp.null(), "INTEGER")
    if len(items) == 1:
        return items[0]
    return exp.Greatest(this=items[0], expressions=items[1:], ignore_nulls=True)


# ---- the signature of undecided rows ------------------------------------------------------------


def signature_columns(v: int, model: M.CheckedRuleset, program: I.Program, day_points,
                      evidence: dict) -> list[exp.Expression]:
    """One version's signature of a row, as `chiprules.eval.split.Signer` defines it (or finer):
    the class of each value the rules read, which inputs are given, the parties'
    screening, and the day's class among every date where rules or list entries change."""
    table = VariableTable.build(model)
    tests = field_tests(model)
    derived = {node.name: node for rule in program.classify + program.require + program.exceptions
               for node in _vars(rule) if node.derived is not None}
    out: list[exp.Expression] = [_interval(col("__on"), day_points)]
    for name, var in sorted(table.variables.items()):
        ft = tests.get(name)
        if var.kind in ("number", "date"):
            points = sorted({p for p in ft.constants if isinstance(p, (Decimal, int, dt.date))})
            d = derived.get(name)
            ratio = _ratio(d) if d is not None else None
            if ratio is not None:
                out.append(_ratio_interval(name, ratio, points))
            else:
                out.append(_interval(col(name), points))
        elif var.kind == "country":
            for s in ft.sets:
                members = sorted(s)
                out.append(exp.In(this=col(name), expressions=[exp.Literal.string(m) for m in members])
                           if members else case([(is_null(col(name)), null_bool())], exp.false()))
            for c in ft.constants:
                out.append(exp.EQ(this=col(name), expression=literal(c)))
        elif var.kind == "party":
            country_field, address_field = evidence.get(name, (None, None))
            out.append(is_null(col(name)))
            for list_name in ft.lists:
                out.append(col(status_col(name, list_name)))
                out.append(col(policy_col(name, list_name)))
            if country_field is not None:
                out.append(case([(is_null(col(name)), col(country_field))]))
                out.append(case([(is_null(col(country_field)), col(name))]))
            if address_field is not None:
                cond = is_null(col(name)) if country_field is None else or_(
                    [is_null(col(name)), is_null(col(country_field))])
                out.append(case([(cond, col(address_field))]))
        elif var.kind == "bool":
            out.append(col(name))
        else:
            named = sorted({c for c in ft.constants if isinstance(c, str)} | {m for s in ft.sets for m in s})
            out.append(case([(is_null(col(name)), cast(exp.null(), "VARCHAR")),
                              (exp.In(this=col(name), expressions=[exp.Literal.string(x) for x in named]),
                               col(name))], exp.Literal.string(""))
                       if named else case([(is_null(col(name)), cast(exp.null(), "VARCHAR"))],
                                          exp.Literal.string("")))
    given = set()
    for d in model.derived.values():
        given.update(d.inputs)
    for f in model.fields.values():
        if isinstance(f.default, M.FieldRef):
            given.add(f.default.name)
    out += [is_null(col(g)) for g in sorted(given)]
    return out


def _vars(rule: I.Rule):
    for expr in rule_exprs(rule):
        for node in walk(expr):
            if type(node) is I.Var:
                yield node


def _interval(value: exp.Expression, points) -> exp.Expression:
    """`chiprules.model.classes.interval_index` in SQL: 2k below points[k], 2k + 1 at it."""
    pairs = [(is_null(value), cast(exp.null(), "INTEGER"))]
    for k, p in enumerate(points):
        pairs.append((exp.LT(this=value, expression=literal(p)), exp.Literal.number(2 * k)))
        pairs.append((exp.EQ(this=value, expression=literal(p)), exp.Literal.number(2 * k + 1)))
    return case(pairs, exp.Literal.number(2 * len(points)))


def _ratio_interval(name: str, ratio: tuple[str, str], points) -> exp.Expression:
    """The interval class of a ratio: the record's value, else ``num / den`` by cross-multiplying."""
    num, den = col(ratio[0]), col(ratio[1])
    pairs = [(exp.Not(this=is_null(col(name))), _interval(col(name), points)),
             (or_([is_null(num), is_null(den), exp.LTE(this=den, expression=literal(Decimal(0)))]),
              cast(exp.null(), "INTEGER"))]
    for k, p in enumerate(points):
        product = exp.Mul(this=literal(p), expression=den)
        pairs.append((exp.LT(this=num, expression=product), exp.Literal.number(2 * k)))
        pairs.append((exp.EQ(this=num, expression=product), exp.Literal.number(2 * k + 1)))
    return case(pairs, exp.Literal.number(2 * len(points)))


__all__ = ["OUTCOME_CODE", "bit", "mask", "outcome_name", "review_name", "NUMBER", "NUMBER_DIGITS", "decimal_type", "POLICY_RANK", "UnsupportedInSql", "VersionSql", "col", "literal", "note_col", "policy_col",
           "signature_columns", "status_col"]
