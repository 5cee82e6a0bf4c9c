"""The reference interpreter: the oracle for the compiler, and the explainer.

Three-valued logic: a missing fact is unknown (None), not false. When an
unknown decides a rule, the interpreter splits the cases: it tries one
representative value from every class of values the rules tell apart
(threshold intervals, set-membership classes, list match or not) for each
missing field. If every completion gives the same outcome, the record is
decided; otherwise it is `indeterminate`, naming the fields whose value
changes the outcome.
"""

from __future__ import annotations

import datetime as dt
import operator
from decimal import Decimal
from fractions import Fraction

import attrs

from . import model as M
from .countries import all_country_codes
from .decision import ExceptionGrant, Reason, plain

OPS = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne,
}


@attrs.frozen
class Verdict:
    """What the rules decide for a record whose relevant facts are all known."""

    outcome: str
    classification: tuple[str, ...]
    review_policy: str | None
    exceptions: tuple[tuple[str, tuple[str, ...]], ...]  # (name, notification duties)
    fired: tuple[str, ...]  # ids of requirements that fired


class Screen:
    """Party-list look-ups for one ruleset, cached per name."""

    def __init__(self, ruleset: M.CheckedRuleset):
        from .names import PartyIndex

        self.indexes = {name: PartyIndex(lst.entries) for name, lst in ruleset.lists.items()}
        self.cache: dict = {}

    def matches(self, list_name: str, name: str, on: dt.date):
        key = (list_name, name, on)
        hit = self.cache.get(key)
        if hit is None:
            hit = self.cache[key] = tuple(self.indexes[list_name].lookup(name, on=on))
            if len(self.cache) > 100_000:
                self.cache.clear()
        return hit


class Env:
    """A record's values under one ruleset, with derived quantities computed exactly."""

    def __init__(self, ruleset: M.CheckedRuleset, record: dict, on: dt.date, screen: Screen,
                 overrides: dict | None = None):
        self.rs = ruleset
        self.record = record
        self.on = on
        self.screen = screen
        self.overrides = overrides or {}
        self.classes: tuple[str, ...] = ()
        self.list_hits: dict = {}
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
        hits = env.screen.matches(node.list, v, env.on)
        if hits:
            env.list_hits[(node.field, node.list)] = hits
        return bool(hits) != node.negated
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
        return Verdict("no_license_required", tuple(classes), None, (), ())
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
        return Verdict("license_exception", tuple(classes), review, tuple(granted), ids)
    return Verdict("license_required", tuple(classes), review, (), ids)


_UNKNOWN = object()


def review_of(rule: M.Rule, env: Env):
    spec = rule.review
    if spec is None:
        return None
    policy = spec.policy
    if spec.condition is not None:
        c = evaluate(spec.condition, env)
        if c is None:
            return _UNKNOWN
        if not c:
            policy = spec.otherwise
    if policy == "listed":
        return listed_policy(rule, env)
    return policy


def listed_policy(rule: M.Rule, env: Env) -> str:
    """The strictest policy of every entry matched by any list test of the rule.

    Every test is looked at, not only the one that made the condition true:
    with `end_user in L or consignee in L`, a stricter consignee entry counts.
    """
    policies = []
    for node in list_atoms(rule.when):
        if node.negated:
            continue
        value = env.value(node.field)
        if value is None:
            continue
        hits = env.screen.matches(node.list, value, env.on)
        if hits:
            env.list_hits[(node.field, node.list)] = hits
        for hit in hits:
            policies.append(hit.entry.review_policy if hit.entry.review_policy in M.STRICTNESS
                            else "presumption_of_denial")
    return strictest(policies) or "presumption_of_denial"


def list_atoms(node):
    if isinstance(node, M.InList):
        yield node
    elif isinstance(node, (M.And, M.Or)):
        for i in node.items:
            yield from list_atoms(i)
    elif isinstance(node, M.Not):
        yield from list_atoms(node.operand)
    elif isinstance(node, M.CondRef):
        yield from list_atoms(node.expr)


# ---- variables and their classes of values --------------------------------------------


@attrs.frozen
class Variable:
    name: str
    kind: str
    representatives: tuple


def atoms(node):
    t = type(node)
    if t in (M.And, M.Or):
        for i in node.items:
            yield from atoms(i)
    elif t is M.Not:
        yield from atoms(node.operand)
    elif t is M.CondRef:
        yield from atoms(node.expr)
    elif t is not M.TrueCond:
        yield node


def all_conditions(rs: M.CheckedRuleset):
    for rule in rs.rules:
        yield rule.when
        for e in rule.excepts:
            yield e.expr
        if rule.review is not None and rule.review.condition is not None:
            yield rule.review.condition
        for n in rule.notify:
            if n.condition is not None:
                yield n.condition


def numeric_representatives(points) -> tuple:
    pts = sorted(set(points))
    if not pts:
        return (Decimal(1),)
    reps = list(pts)
    for a, b in zip(pts, pts[1:], strict=False):
        reps.append((a + b) / 2)
    lo, hi = pts[0], pts[-1]
    reps.append(lo / 2 if lo > 0 else lo - 1)
    reps.append(hi * 2 if hi > 0 else hi + 1)
    return tuple(sorted(set(reps)))


def date_representatives(points) -> tuple:
    pts = sorted(set(points))
    reps = set(pts)
    for p in pts:
        reps.add(p - dt.timedelta(days=1))
        reps.add(p + dt.timedelta(days=1))
    return tuple(sorted(reps)) or (dt.date(2024, 1, 1),)


def country_classes(sets) -> dict[tuple, list[str]]:
    """Countries grouped by their membership in each set the rules use."""
    sets = list(sets)
    classes: dict[tuple, list[str]] = {}
    for code in sorted(all_country_codes()):
        sig = tuple(code in s for s in sets)
        classes.setdefault(sig, []).append(code)
    return classes


UNLISTED = "Unlisted Example Trading Ltd."


@attrs.define
class VariableTable:
    """For one ruleset: every variable the rules read, with one value per class."""

    variables: dict[str, Variable]

    @classmethod
    def build(cls, rs: M.CheckedRuleset, on: dt.date | None = None) -> VariableTable:
        points: dict[str, list] = {}
        sets: dict[str, list] = {}
        lists: dict[str, set] = {}
        bools: set = set()
        for cond in all_conditions(rs):
            for a in atoms(cond):
                if isinstance(a, M.Cmp):
                    for side, other in ((a.left, a.right), (a.right, a.left)):
                        if isinstance(side, M.FieldRef):
                            bucket = points.setdefault(side.name, [])
                            if isinstance(other, M.Const):
                                bucket.append(other.value)
                elif isinstance(a, M.InSet):
                    sets.setdefault(a.field, []).append(a.members)
                elif isinstance(a, M.InList):
                    lists.setdefault(a.field, set()).add(a.list)
                elif isinstance(a, M.IsTrue):
                    bools.add(a.field)
        variables: dict[str, Variable] = {}
        for name, pts in points.items():
            kind = _kind_of(rs, name)
            if kind == "number":
                reps = numeric_representatives([p for p in pts if isinstance(p, (Decimal, int))])
                reps = tuple(r for r in reps if r >= 0) or (Decimal(0),)
            elif kind == "date":
                reps = date_representatives([p for p in pts if isinstance(p, dt.date)])
            elif kind in ("country", "enum", "text", "party"):
                values = {p for p in pts if isinstance(p, str)}
                values.add(_other(kind, rs, name, values))
                reps = tuple(sorted(values))
            else:
                continue
            variables[name] = Variable(name, kind, reps)
        for name, member_sets in sets.items():
            kind = _kind_of(rs, name)
            prior = set(variables[name].representatives) if name in variables else set()
            if kind == "country":
                for members in country_classes(member_sets).values():
                    prior.add(members[0])
            else:
                field = rs.fields.get(name)
                prior.update(field.values if field is not None else ())
                for m in member_sets:
                    prior.update(m)
            variables[name] = Variable(name, kind, tuple(sorted(prior)))
        for name, lnames in lists.items():
            reps = {UNLISTED}
            for lname in sorted(lnames):
                for entry in rs.lists[lname].entries:
                    if on is None or entry.in_force(on):
                        reps.add(entry.name)
                        break
            variables[name] = Variable(name, "party", tuple(sorted(reps)))
        for name in bools:
            variables[name] = Variable(name, "bool", (False, True))
        return cls(variables)


def _kind_of(rs: M.CheckedRuleset, name: str) -> str:
    f = rs.fields.get(name)
    if f is not None:
        return "number" if f.kind in ("number", "integer") else f.kind
    return "number" if name in rs.derived else "text"


def _other(kind, rs, name, values) -> str:
    if kind == "enum":
        f = rs.fields.get(name)
        rest = [v for v in (f.values if f else ()) if v not in values]
        return rest[0] if rest else next(iter(values), "")
    if kind == "country":
        return next(c for c in sorted(all_country_codes()) if c not in values)
    return "(another value)"


def _on_date(var: Variable, rs: M.CheckedRuleset, on: dt.date) -> Variable:
    """For a party field: an unlisted name and one entry of each list in force on ``on``."""
    if var.kind != "party":
        return var
    lists = {a.list for cond in all_conditions(rs) for a in atoms(cond)
             if isinstance(a, M.InList) and a.field == var.name}
    reps = {UNLISTED}
    for lname in sorted(lists):
        entry = next((e for e in rs.lists[lname].entries if e.in_force(on)), None)
        if entry is not None:
            reps.add(entry.name)
    return Variable(var.name, "party", tuple(sorted(reps)))


def missing_inputs(rs: M.CheckedRuleset, record: dict, name: str) -> list[str]:
    """The record fields to supply so that ``name`` becomes known."""
    f = rs.fields.get(name)
    if f is not None and isinstance(f.default, M.FieldRef) and record.get(f.default.name) is None:
        return missing_inputs(rs, record, f.default.name)  # consignee: give the end user
    d = rs.derived.get(name)
    if d is None or name in record and record[name] is not None:
        return [name]
    return [i for i in d.inputs if record.get(i) is None] or [name]


# ---- the full decision -------------------------------------------------------------------


@attrs.frozen
class Outcome:
    verdict: Verdict | None  # None: indeterminate
    missing: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


SPLIT_ORDER = ("item_kind", "chip", "tpp", "performance_density", "datacenter", "interconnect_bw", "dram_bw",
               "memory_bw_density", "destination", "end_user_hq", "transaction", "exported_from", "end_user",
               "consignee", "end_user_parent", "export_date")
MAX_NODES = 5000


class _TooMany(Exception):
    pass


def decide(rs: M.CheckedRuleset, record: dict, on: dt.date, screen: Screen,
           table: VariableTable | None = None) -> Outcome:
    """Decide a record; where missing facts leave rules undecided, split the cases.

    The split goes one missing field at a time, on a field that left an
    undecided rule unknown, trying one value from each class the rules tell
    apart, and stops in every branch as soon as the verdict is decided. If all
    branches agree the record is decided; otherwise it is indeterminate, and
    the fields on which branches part ways are the ones reported missing.
    """
    env = Env(rs, record, on, screen)
    v = partial_verdict(env)
    if v is not None:
        return Outcome(v)
    table = table or VariableTable.build(rs, on)
    reps = {name: _on_date(var, rs, on).representatives for name, var in table.variables.items()}
    rank = {name: i for i, name in enumerate(SPLIT_ORDER)}
    leaves: list = []
    mixed: set = set()
    seen: set = set()
    budget = [MAX_NODES]

    def explore(overrides: dict) -> set:
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooMany
        e = Env(rs, record, on, screen, overrides)
        e.unknowns = set()
        verdict = partial_verdict(e)
        if verdict is not None:
            leaves.append(verdict)
            return {verdict.outcome}
        candidates = [u for u in e.unknowns if u in reps and u not in overrides]
        seen.update(candidates)
        if not candidates:  # unknown for a reason no split can settle
            leaves.append(None)
            return {"indeterminate"}
        name = min(candidates, key=lambda n: (rank.get(n, len(rank)), n))
        outcomes: set = set()
        for value in reps[name]:
            overrides[name] = value
            outcomes |= explore(overrides)
        del overrides[name]
        if len(outcomes) > 1:
            mixed.add(name)
        return outcomes

    try:
        outcomes = explore({})
    except _TooMany:
        missing = sorted({m for n in seen for m in missing_inputs(rs, record, n)})
        return Outcome(None, tuple(missing))
    if len(outcomes) == 1 and "indeterminate" not in outcomes:
        first = leaves[0]
        if all(r == first for r in leaves):
            return Outcome(first)
        common = set(first.classification)
        granted = set(first.exceptions)
        for r in leaves[1:]:
            common &= set(r.classification)
            granted &= set(r.exceptions)
        reviews = {r.review_policy for r in leaves}
        unsure = sorted({m for n in seen for m in missing_inputs(rs, record, n)})
        warn = (f"details depend on missing {', '.join(f'`{m}`' for m in unsure)}: the outcome does not, "
                "but the classification, review policy or exceptions may",)
        merged = Verdict(first.outcome, tuple(c for c in first.classification if c in common),
                         strictest(reviews) if len(reviews) > 1 else first.review_policy,
                         tuple(g for g in first.exceptions if g in granted), first.fired)
        return Outcome(merged, (), warn)
    missing = sorted({m for n in (mixed or seen) for m in missing_inputs(rs, record, n)})
    return Outcome(None, tuple(missing))


# ---- explanations ------------------------------------------------------------------------


def show(value) -> str:
    v = plain(value)
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        return f"{float(value):.4g}"
    if v is True:
        return "yes"
    if v is False:
        return "no"
    return str(v)


def held(node, env: Env) -> list[str]:
    """The parts of a condition that held, with the values that made them hold."""
    t = type(node)
    if t is M.Or:
        out = []
        for i in node.items:
            if evaluate(i, env) is True:
                out.extend(held(i, env))
                break
        return out
    if t is M.And:
        out = []
        for i in node.items:
            out.extend(held(i, env))
        return out
    if t is M.CondRef:
        inner = held(node.expr, env)
        return [f"{node.name}: " + "; ".join(inner)] if inner else [node.name]
    if t is M.Not:
        inner = node.operand
        if isinstance(inner, M.IsTrue):
            return [f"{node.text} ({inner.field} = {show(env.value(inner.field))})"]
        if isinstance(inner, M.CondRef):
            return [f"not {inner.name}"]
        return [node.text]
    if t is M.Cmp:
        vals = []
        for side in (node.left, node.right):
            if isinstance(side, M.FieldRef):
                vals.append(value_text(side.name, env))
        return [f"{node.text} ({', '.join(vals)})" if vals else node.text]
    if t is M.InSet:
        v = env.value(node.field)
        extra = ""
        target = env.rs.treat.get(v)
        if target is not None:
            extra = f", treated as {target}"
        return [f"{node.text} ({node.field} = {v}{extra})"]
    if t is M.IsTrue:
        return [f"{node.text} ({node.field} = {show(env.value(node.field))})"]
    if t is M.InList:
        hits = env.list_hits.get((node.field, node.list)) or ()
        if node.negated or not hits:
            return [f"{node.text} ({node.field} = {env.value(node.field)!s})"]
        h = hits[0]
        e = h.entry
        how = "name" if h.kind == "name" else f"alias `{h.matched_form}`"
        added = f", added {e.added.isoformat()}" if e.added else ""
        return [f"{node.text}: `{env.value(node.field)}` matches entry `{e.name}` by {how} "
                f"(score {h.score}; {e.citation or 'no citation'}{added}; review {e.review_policy})"]
    if t is M.Classified:
        return [f"{node.text} (classified {', '.join(env.classes)})"]
    if t is M.TrueCond:
        return []
    return [getattr(node, "text", "?")]


def value_text(name: str, env: Env) -> str:
    v = env.value(name)
    d = env.rs.derived.get(name)
    if d is not None and env.record.get(name) is None and env.overrides.get(name) is None:
        parts = " / ".join(f"{i} {show(env.value(i))}" for i in d.inputs)
        return f"{name} = {show(v)} from {parts}"
    return f"{name} = {show(v)}"


def trace(rs: M.CheckedRuleset, record: dict, on: dt.date, screen: Screen,
          verdict: Verdict) -> list[Reason]:
    """Reasons for a verdict: every rule that fired, with what held."""
    env = Env(rs, record, on, screen)
    env.classes = verdict.classification
    out = []
    for rule in rs.classify:
        if rule.id in verdict.classification:
            out.append(Reason(rule.id, "classify", rule.title, rule.cite, tuple(held(rule.when, env))))
    for rule in rs.requirements:
        if rule.id in verdict.fired:
            evaluate(rule.when, env)  # fills list hits
            policy = review_of(rule, env)
            detail = f"review {policy}" if isinstance(policy, str) else None
            out.append(Reason(rule.id, "require", rule.title, rule.cite, tuple(held(rule.when, env)), detail))
    granted = {name for name, _ in verdict.exceptions}
    for rule in rs.exceptions:
        if rule.id in granted:
            out.append(Reason(rule.id, "exception", rule.title, rule.cite, tuple(held(rule.when, env))))
    if not verdict.classification:
        # why no classification applied: the tests that failed, or the note that excluded the item
        for rule in rs.classify:
            if not in_force(rule, on):
                continue
            if evaluate(rule.when, env) is False:
                out.append(Reason(rule.id, "not-classified", rule.title, rule.cite, tuple(failed(rule.when, env))))
            else:
                for e in rule.excepts:
                    if evaluate(e.expr, env) is True:
                        why = tuple(held(e.expr, env))
                        out.append(Reason(rule.id, "excluded", rule.title, rule.cite, why, e.label))
                        break
    return out


def failed(node, env: Env) -> list[str]:
    """The parts of a condition that did not hold, with the values that failed them."""
    t = type(node)
    if t is M.And:
        for i in node.items:
            if evaluate(i, env) is False:
                return failed(i, env)
        return []
    if t is M.Or:
        out = []
        for i in node.items:
            out.extend(failed(i, env))
        return out
    if t is M.CondRef:
        inner = failed(node.expr, env)
        return [f"{node.name}: " + "; ".join(inner)] if inner else [node.name]
    if t is M.Not:
        return [f"{node.text}: " + "; ".join(held(node.operand, env))]
    return [f"not {h}" for h in held(node, env)]


def grants(rs: M.CheckedRuleset, verdict: Verdict) -> tuple[ExceptionGrant, ...]:
    out = []
    for name, duties in verdict.exceptions:
        rule = rs.rule(name)
        out.append(ExceptionGrant(name, rule.title if rule else None, rule.cite if rule else None, duties))
    return tuple(out)
