"""Checked model -> lowered program (`chiprules.ir.nodes`).

Lowering writes out named conditions, resolves `classified` tests to the
classification rules they cover, and folds each rule's dates, the
classifications it is for and (for an exception) the requirements that allow
it into its `applies` truth. It is done once per version; every backend emits
from the result.
"""

from __future__ import annotations

from chiprules import model as M
from chiprules.ir import nodes as I
from chiprules.model.walk import list_atoms, rule_fields

_CMP_FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}


class _Lower:
    def __init__(self, rs: M.CheckedRuleset):
        self.rs = rs
        self.classify_ids = tuple(r.id for r in rs.classify)
        self.vars: dict[str, I.Var] = {}

    # ---- values
    def var(self, name: str) -> I.Var:
        v = self.vars.get(name)
        if v is None:
            d = self.rs.derived.get(name)
            v = self.vars[name] = I.Var(name, None if d is None else self.arith(d.expr))
        return v

    def arith(self, node):
        t = type(node)
        if t is M.AConst:
            return I.Const(node.value)
        if t is M.AField:
            return self.var(node.name)
        return I.Arith(node.op, self.arith(node.left), self.arith(node.right))

    def operand(self, side):
        if type(side) is M.FieldRef:
            return self.var(side.name)
        return I.Const(side.value)

    # ---- truths
    def truth(self, node):
        t = type(node)
        if t is M.TrueCond:
            return I.TRUE
        if t is M.CondRef:
            return self.truth(node.expr)
        if t is M.Not:
            return I.Not(self.truth(node.operand))
        if t is M.And or t is M.Or:
            return (I.And if t is M.And else I.Or)(tuple(self.truth(i) for i in node.items))
        if t is M.Cmp:
            return I.Compare(node.op, self.operand(node.left), self.operand(node.right))
        if t is M.InSet:
            test = I.InSet(self.var(node.field), node.members)
            return I.Not(test) if node.negated else test
        if t is M.IsTrue:
            return I.IsTrue(self.var(node.field))
        if t is M.IsProduct:
            return I.Product(self.var(node.field), node.product,
                             tuple((self.var(f), v) for f, v in node.figures))
        if t is M.InList:
            test = I.Listed(node.field, node.list)
            return I.Not(test) if node.negated else test
        if t is M.Classified:
            return I.Classified(self.covered((node.eccn,)))
        if t is M.Unsettled:
            return I.Unsettled(node.key)
        raise TypeError(f"cannot lower {t.__name__}")

    def covered(self, items) -> frozenset[str]:
        """The classification rules whose ECCN one of ``items`` covers."""
        return frozenset(c for c in self.classify_ids if any(M.eccn_covers(i, c) for i in items))

    # ---- rules
    def origin(self, span) -> I.Origin | None:
        if span is None:
            return None
        source = span.source
        return I.Origin(str(source.path or source.name), span.line)

    def gates(self, rule: M.Rule) -> list:
        out = []
        if rule.effective is not None:
            out.append(I.Compare(">=", I.OnDate(), I.Const(rule.effective)))
        if rule.until is not None:
            out.append(I.Compare("<=", I.OnDate(), I.Const(rule.until)))
        if rule.items is not None and rule.kind is not M.RuleKind.CLASSIFY:
            out.append(I.Classified(self.covered(rule.items)))
        return out

    def rule(self, rule: M.Rule, extra=()) -> I.Rule:
        when = self.truth(rule.when)
        excepts = tuple(self.truth(e.expr) for e in rule.excepts)
        parts = [*self.gates(rule), *extra, when]
        if excepts:
            parts.append(I.Not(excepts[0] if len(excepts) == 1 else I.Or(excepts)))
        applies = parts[0] if len(parts) == 1 else I.And(tuple(parts))
        clauses = [(when, self.origin(getattr(rule.when, "span", None)))]
        clauses += [(x, self.origin(e.span)) for x, e in zip(excepts, rule.excepts, strict=True)]
        review = self.review(rule) if rule.kind is M.RuleKind.REQUIRE else None
        duties = tuple(I.Duty(n.text, I.TRUE if n.condition is None else self.truth(n.condition))
                       for n in rule.notify)
        return I.Rule(rule.id, applies, review, duties, rule_fields(rule), self.origin(rule.span),
                      tuple(c for c in clauses if c[1] is not None))

    def review(self, rule: M.Rule):
        spec = rule.review
        if spec is None:
            return None

        def policy(p):
            if p == M.LISTED:
                return I.PolicyListed(tuple((a.field, a.list) for a in list_atoms(rule.when) if not a.negated))
            return I.PolicyConst(M.Policy(p))

        # arms tried in order: `P if A, Q if B, otherwise R` is `P if A else (Q if B else R)`
        out = policy(spec.otherwise)
        for arm in reversed(spec.arms):
            out = I.PolicyIf(self.truth(arm.condition), policy(arm.policy), out)
        return out

    def program(self) -> I.Program:
        rs = self.rs
        classify = tuple(self.rule(r) for r in rs.classify)
        require = tuple(self.rule(r) for r in rs.requirements)
        exceptions = []
        for r in rs.exceptions:
            refusing = frozenset(q.id for q in rs.requirements if r.id not in q.allows)
            extra = (I.Not(I.Fired(refusing)),) if refusing else ()
            exceptions.append(self.rule(r, extra))
        always = frozenset(f.name for f in rs.fields.values()
                           if f.default is not None and not isinstance(f.default, M.FieldRef))
        jurisdiction = tuple(self.rule(r) for r in rs.jurisdiction)
        return I.Program(rs.name, rs.version, classify, require, tuple(exceptions), tuple(rs.lists), always,
                         rs.path, jurisdiction)


def lower(rs: M.CheckedRuleset) -> I.Program:
    """The lowered program of a checked version."""
    return _Lower(rs).program()


def walk(node):
    """Every node of a truth, value or policy expression, the node itself first."""
    yield node
    t = type(node)
    if t is I.And or t is I.Or:
        for i in node.items:
            yield from walk(i)
    elif t is I.Not:
        yield from walk(node.operand)
    elif t is I.Compare or t is I.Arith:
        yield from walk(node.left)
        yield from walk(node.right)
    elif t is I.InSet or t is I.IsTrue:
        yield from walk(node.var)
    elif t is I.Product:
        yield from walk(node.var)
        for var, _ in node.figures:
            yield from walk(var)
    elif t is I.Var:
        if node.derived is not None:
            yield from walk(node.derived)
    elif t is I.PolicyIf:
        yield from walk(node.condition)
        yield from walk(node.then)
        yield from walk(node.otherwise)


def fixed_policies(node) -> frozenset | None:
    """The policies a policy expression can give, when none comes from a list (else None):
    where two branches of a `PolicyIf` can give no common policy, an unknown condition
    leaves the policy unknown without looking at either branch."""
    t = type(node)
    if t is I.PolicyConst:
        return frozenset((node.policy,))
    if t is I.PolicyIf:
        a, b = fixed_policies(node.then), fixed_policies(node.otherwise)
        return None if a is None or b is None else a | b
    return None


def rule_exprs(rule: I.Rule):
    """The expressions of a rule: `applies`, the review, each duty's condition."""
    yield rule.applies
    if rule.review is not None:
        yield rule.review
    for d in rule.duties:
        yield d.when


def program_rules(program: I.Program):
    return program.classify + program.jurisdiction + program.require + program.exceptions


def flip(op: str) -> str:
    """The comparison with its sides swapped: `a >= b` is `b <= a`."""
    return _CMP_FLIP[op]


__all__ = ["fixed_policies", "flip", "lower", "program_rules", "rule_exprs", "walk"]
