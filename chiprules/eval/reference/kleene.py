"""The reference interpreter: three-valued evaluation of the checked model.

Written to be read, and written apart from the compiled backends: it walks the
checked model directly and shares none of their code. It is the oracle the
compiled paths are tested against, and the explainer (`trace`).

A missing fact is unknown (None), not false; `and`, `or` and `not` follow
Kleene's logic. `partial_verdict` gives the verdict when the known facts decide
every rule that matters, and None otherwise.
"""

from __future__ import annotations

import datetime as dt
import operator
from fractions import Fraction

from chiprules import model as M
from chiprules.eval.decision import Verdict
from chiprules.eval.screens import Screens
from chiprules.model.classes import possible_var
from chiprules.model.walk import list_atoms

OPS = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne,
}



class Env:
    """A record's values under one ruleset, with derived quantities computed exactly."""

    def __init__(self, ruleset: M.CheckedRuleset, record: dict, on: dt.date, screen: Screens,
                 overrides: dict | None = None):
        self.rs = ruleset
        self.record = record
        self.on = on
        self.screen = screen
        self.overrides = overrides or {}
        self.classes: tuple[str, ...] = ()
        self.screened: dict = {}  # (field, list) -> ScreenResult
        self.unknowns: set | None = None  # when a set, the fields that left an atom unknown

    def value(self, name: str):
        if name in self.overrides:
            return self.overrides[name]
        v = self.record.get(name)
        if v is not None:
            return v
        d = self.rs.derived.get(name)
        if d is not None:
            return self.arith(d.expr)
        return None

    def arith(self, node):
        if isinstance(node, M.AConst):
            return Fraction(node.value)
        if isinstance(node, M.AField):
            v = self.value(node.name)
            if v is None:
                return None
            return Fraction(v) if not isinstance(v, Fraction) else v
        left, right = self.arith(node.left), self.arith(node.right)
        if left is None or right is None:
            return None
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        if right == 0:
            return None
        return left / right

    def screen_field(self, list_name: str, field: str, value):
        res = self.screen.of_field(list_name, field, value, self.on, self.value)
        self.screened[(field, list_name)] = res
        return res

    def listed(self, list_name: str, field: str, value):
        """True (a match), False (no listed party found) or None (a possible match).

        A possible match is an unknown the split search can try both ways, under
        the name ``possible_var(field, list)``.
        """
        res = self.screen_field(list_name, field, value)
        if res.status == "match":
            return True
        if res.status == "none":
            return False
        pseudo = possible_var(field, list_name)
        assumed = self.overrides.get(pseudo)
        if assumed is None and self.unknowns is not None:
            self.unknowns.add(pseudo)
        return assumed

    def operand(self, node):
        if isinstance(node, M.Const):
            return node.value
        return self.value(node.name)


def evaluate(node, env: Env):
    """Kleene three-valued evaluation: True, False or None (unknown)."""
    t = type(node)
    if t is M.Cmp:
        a, b = env.operand(node.left), env.operand(node.right)
        if a is None or b is None:
            if env.unknowns is not None:
                env.unknowns.update(s.name for s, v in ((node.left, a), (node.right, b))
                                    if v is None and isinstance(s, M.FieldRef))
            return None
        return OPS[node.op](a, b)
    if t is M.InSet:
        v = env.value(node.field)
        if v is None:
            if env.unknowns is not None:
                env.unknowns.add(node.field)
            return None
        return (v in node.members) != node.negated
    if t is M.IsProduct:
        name = env.value(node.field)
        if name is not None:
            return name == node.product
        for field, figure in node.figures:
            v = env.value(field)
            if v is not None and v != figure:
                return False  # a figure the product does not have: another product
        if env.unknowns is not None:
            env.unknowns.add(node.field)
        return None  # no name, and the figures given are the product's: it could be
    if t is M.IsTrue:
        v = env.value(node.field)
        if v is None and env.unknowns is not None:
            env.unknowns.add(node.field)
        return None if v is None else bool(v)
    if t is M.InList:
        v = env.value(node.field)
        if v is None:
            if env.unknowns is not None:
                env.unknowns.add(node.field)
            return None
        found = env.listed(node.list, node.field, v)
        return None if found is None else found != node.negated
    if t is M.Classified:
        return any(M.eccn_covers(node.eccn, c) for c in env.classes)
    if t is M.CondRef:
        return evaluate(node.expr, env)
    if t is M.Not:
        v = evaluate(node.operand, env)
        return None if v is None else not v
    if t is M.And:
        unknown = False
        for item in node.items:
            v = evaluate(item, env)
            if v is False:
                return False
            if v is None:
                unknown = True
        return None if unknown else True
    if t is M.Or:
        unknown = False
        for item in node.items:
            v = evaluate(item, env)
            if v is True:
                return True
            if v is None:
                unknown = True
        return None if unknown else False
    if t is M.TrueCond:
        return True
    if t is M.Unsettled:  # the law does not decide here: unknown, unless a reading is assumed
        reading = env.overrides.get("?" + node.key)
        if reading is None and env.unknowns is not None:
            env.unknowns.add("?" + node.key)
        return reading
    raise TypeError(f"unknown condition node {t.__name__}")


def in_force(rule: M.Rule, on: dt.date) -> bool:
    if rule.effective is not None and on < rule.effective:
        return False
    if rule.until is not None and on > rule.until:
        return False
    return True


def rule_applies(rule: M.Rule, env: Env):
    """when and not any except, in three-valued logic."""
    w = evaluate(rule.when, env)
    if w is False:
        return False
    exc = False
    for e in rule.excepts:
        v = evaluate(e.expr, env)
        if v is True:
            return False
        if v is None:
            exc = None
    if w is None or exc is None:
        return None
    return True


def covers_any(items, classes) -> bool:
    if items is None:
        return True
    return any(M.eccn_covers(i, c) for i in items for c in classes)


def strictest(policies) -> str | None:
    best = None
    for p in policies:
        if p is not None and (best is None or M.STRICTNESS[p] > M.STRICTNESS[best]):
            best = p
    return best


def partial_verdict(env: Env) -> Verdict | None:
    """The verdict if the known facts decide every rule that matters, else None."""
    rs, on = env.rs, env.on
    classes = []
    for rule in rs.classify:
        if not in_force(rule, on):
            continue
        v = rule_applies(rule, env)
        if v is None:
            return None
        if v:
            classes.append(rule.id)
    env.classes = tuple(classes)
    # What brings the item under the EAR: the first jurisdiction rule in force that holds,
    # in the order written. With such rules, an item none of them reaches is not subject.
    juris = ()
    for rule in rs.jurisdiction:
        if not in_force(rule, on):
            continue
        v = rule_applies(rule, env)
        if v is None:
            return None
        if v:
            juris = (rule.id,)
            break
    if rs.jurisdiction and not juris:
        return Verdict("not_subject", tuple(classes), None, (), ())
    fired, policies = [], []
    for rule in rs.requirements:
        if not in_force(rule, on) or not covers_any(rule.items, classes):
            continue
        v = rule_applies(rule, env)
        if v is None:
            return None
        if not v:
            continue
        fired.append(rule)
        policy = review_of(rule, env)
        if policy is _UNKNOWN:
            return None
        policies.append(policy)
    if not fired:
        return Verdict("no_license_required", tuple(classes), None, (), (), juris)
    review = strictest(policies)
    granted = []
    for exc in rs.exceptions:
        if not in_force(exc, on) or not covers_any(exc.items, classes):
            continue
        if not all(exc.id in r.allows for r in fired):
            continue
        v = rule_applies(exc, env)
        if v is None:
            return None
        if v:
            duties = []
            for duty in exc.notify:
                d = True if duty.condition is None else evaluate(duty.condition, env)
                if d is None:
                    return None
                if d:
                    duties.append(duty.text)
            granted.append((exc.id, tuple(duties)))
    ids = tuple(r.id for r in fired)
    if granted:
        return Verdict("license_exception", tuple(classes), review, tuple(granted), ids, juris)
    return Verdict("license_required", tuple(classes), review, (), ids, juris)


_UNKNOWN = object()


def review_of(rule: M.Rule, env: Env):
    """The policy of a requirement's review: that of the first arm whose condition holds,
    else `otherwise`. An arm whose condition is unknown leaves its policy and every later
    one possible; the policy is known only if all the possible ones are the same."""
    spec = rule.review
    if spec is None:
        return None
    possible = []
    for arm in spec.arms:
        c = evaluate(arm.condition, env)
        if c is False:
            continue
        possible.append(arm.policy)
        if c is True:
            break
    else:
        possible.append(spec.otherwise)
    found = {listed_policy(rule, env) if p == "listed" else p for p in possible}
    if len(found) != 1 or _UNKNOWN in found:
        return _UNKNOWN
    return found.pop()


def listed_policy(rule: M.Rule, env: Env):
    """The strictest policy of every entry matched by any list test of the rule.

    Every test is looked at, not only the one that made the condition true:
    with `end_user in L or consignee in L`, a stricter consignee entry counts.
    A possible match whose entry would make the policy stricter leaves it
    unknown (``_UNKNOWN``) until the match is settled.
    """
    policies, open_ = [], []
    for node in list_atoms(rule.when):
        if node.negated:
            continue
        value = env.value(node.field)
        if value is None:
            continue
        found = env.listed(node.list, node.field, value)
        res = env.screened[(node.field, node.list)]
        if res.best is None or found is False:
            continue
        policy = entry_policy(res.best.entry)
        (policies if found else open_).append(policy)
    known = strictest(policies)
    if open_ and (known is None or M.STRICTNESS[strictest(open_)] > M.STRICTNESS[known]):
        return _UNKNOWN
    return known or "presumption_of_denial"


def entry_policy(entry) -> str:
    """An entry's review policy; one the list does not state reads as presumption of denial."""
    return entry.review_policy if entry.review_policy in M.STRICTNESS else "presumption_of_denial"




__all__ = ["Env", "entry_policy", "evaluate", "in_force", "partial_verdict", "review_of", "rule_applies",
           "strictest"]
