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
import functools
import operator
from decimal import Decimal
from fractions import Fraction

import attrs

from chiprules import model as M
from chiprules.data.countries import all_country_codes
from chiprules.eval.decision import OUTCOME_WORDS, ExceptionGrant, ListMatch, Reason, plain, words

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


#: The record fields that support the screening of a party field: the country the
#: party should be in, and an optional address. A consignee and an end user sit in
#: the destination; an ultimate parent sits where the end user is headquartered.
EVIDENCE = {
    "end_user": ("destination", "end_user_address"),
    "consignee": ("destination", "consignee_address"),
    "end_user_parent": ("end_user_hq", "end_user_parent_address"),
}


_NO_EVIDENCE = (None, None)
_UNSEEN = object()
PARTY_ORDER = {name: i for i, name in enumerate(EVIDENCE)}


@functools.lru_cache(maxsize=32)
def screener_for(entries: tuple, match: float, possible: float):
    """One fuzzy screener per list content and scores, shared by the versions that use it."""
    from chiprules.screening.screener import Screener

    return Screener(entries, match_score=match, possible_score=possible)


class Screen:
    """Party-list screening for one ruleset: each list's screener, results cached per name.

    A name's screening is three-valued: a match (True), a possible match (unknown:
    only a reviewer can settle it) or no listed party found (False).
    """

    def __init__(self, ruleset: M.CheckedRuleset, evidence: bool = True):
        self.lists = ruleset.lists
        self.evidence = evidence  # False: names alone (the semantic diff compares listed names)
        self.screeners: dict = {}
        self.cache: dict = {}
        self.flags: dict = {}  # the status of a name, as `flag` gives it, per key of `cache`

    def screener(self, list_name: str):
        s = self.screeners.get(list_name)
        if s is None:
            lst = self.lists[list_name]
            s = self.screeners[list_name] = screener_for(lst.entries, lst.match_score, lst.possible_score)
        return s

    def result(self, list_name: str, name, on: dt.date, country=None, address=None):
        """The ``ScreenResult`` of ``name`` against a list on a date, with the evidence given."""
        key = (list_name, name, on, country, address)
        hit = self.cache.get(key)
        if hit is None:
            hit = self.screener(list_name).screen(
                str(name), on=on, country=country if isinstance(country, str) else None,
                address=address if isinstance(address, str) and address.strip() else None)
            if len(self.cache) > 100_000:
                self.cache.clear()
            self.cache[key] = hit
        return hit

    def of_field(self, list_name: str, field: str, value, on: dt.date, lookup):
        """Screen a party field's value; ``lookup(name)`` reads the evidence fields."""
        country_field, address_field = EVIDENCE.get(field, (None, None)) if self.evidence else (None, None)
        country = lookup(country_field) if country_field else None
        address = lookup(address_field) if address_field else None
        return self.result(list_name, value, on, country, address)

    def status(self, list_name: str, field: str, value, on: dt.date, record: dict):
        """True (a match), None (a possible match) or False (no listed party found)."""
        country_field, address_field = EVIDENCE.get(field, _NO_EVIDENCE) if self.evidence else _NO_EVIDENCE
        country = record.get(country_field) if country_field else None
        address = record.get(address_field) if address_field else None
        return self.flag(list_name, value, on, country, address)

    def flag(self, list_name: str, value, on: dt.date, country, address):
        """`status` with the evidence values given: remembered as a plain True, None or False.

        The compiled functions call this once per list test and record, with the
        evidence fields already read (None when this screen takes no evidence).
        """
        key = (list_name, value, on, country, address)
        found = self.flags.get(key, _UNSEEN)
        if found is _UNSEEN:
            status = self.result(list_name, value, on, country, address).status
            found = True if status == "match" else None if status == "possible" else False
            if len(self.flags) > 100_000:
                self.flags.clear()
            self.flags[key] = found
        return found

    def matches(self, list_name: str, name, on: dt.date) -> tuple:
        """The best candidate when ``name`` matches the list on ``on`` (no evidence), else ()."""
        res = self.result(list_name, name, on)
        return (res.best,) if res.status == "match" else ()


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


def possible_var(field: str, list_name: str) -> str:
    """The split-search name of "the possible match of `field` on `list` is real"."""
    return f"{field}~{list_name}"


def split_possible(name: str) -> tuple[str, str] | None:
    field, sep, list_name = name.partition("~")
    return (field, list_name) if sep else None


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
    #: (field, list) of the possible matches on which the outcome turns
    possible: tuple[tuple[str, str], ...] = ()


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
        for u in e.unknowns:
            if u not in reps and split_possible(u):
                reps[u] = (True, False)  # a possible match: real, or not
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

    def inputs(names) -> tuple[list[str], tuple[tuple[str, str], ...]]:
        """The record fields to supply, and the possible matches to settle, behind ``names``."""
        fields = sorted({m for n in names if not split_possible(n) for m in missing_inputs(rs, record, n)})
        found = {p for n in names if (p := split_possible(n))}
        return fields, tuple(sorted(found, key=lambda p: (PARTY_ORDER.get(p[0], len(PARTY_ORDER)), p)))

    try:
        outcomes = explore({})
    except _TooMany:
        missing, possible = inputs(seen)
        return Outcome(None, tuple(missing), possible=possible)
    if len(outcomes) == 1 and "indeterminate" not in outcomes:
        first = leaves[0]
        if all(r == first for r in leaves):
            return Outcome(first)
        if all((r.classification, r.review_policy, r.exceptions)
               == (first.classification, first.review_policy, first.exceptions) for r in leaves):
            # only which requirements fired differs: the decision does not
            fired = tuple(f for f in first.fired if all(f in r.fired for r in leaves))
            return Outcome(attrs.evolve(first, fired=fired))
        common = set(first.classification)
        granted = set(first.exceptions)
        for r in leaves[1:]:
            common &= set(r.classification)
            granted &= set(r.exceptions)
        reviews = {r.review_policy for r in leaves}
        unsure, open_ = inputs(seen)
        what = [f"missing {', '.join(f'`{m}`' for m in unsure)}"] if unsure else []
        what += [f"whether `{f}` is really on `{lname}` (a possible match)" for f, lname in open_]
        warn = (f"details depend on {' and '.join(what)}: the outcome does not, "
                "but the classification, review policy or exceptions may",)
        merged = Verdict(first.outcome, tuple(c for c in first.classification if c in common),
                         strictest(reviews) if len(reviews) > 1 else first.review_policy,
                         tuple(g for g in first.exceptions if g in granted),
                         tuple(f for f in first.fired if all(f in r.fired for r in leaves)))
        return Outcome(merged, (), warn)
    missing, possible = inputs(mixed or seen)
    return Outcome(None, tuple(missing), possible=possible)


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
        v = env.value(node.field)
        if v is None:
            return [f"{node.text} ({node.field} not given)"]
        res = env.screened.get((node.field, node.list)) or env.screen_field(node.list, node.field, v)
        return [f"{node.text}: {screening_words(list_match(node.field, v, node.list, res))}"]
    if t is M.Classified:
        return [f"{node.text} (classified {', '.join(env.classes)})"]
    if t is M.TrueCond:
        return []
    return [getattr(node, "text", "?")]


def list_match(field: str, name, list_name: str, res) -> ListMatch:
    """A ``ListMatch`` from a ``ScreenResult`` (the best candidate, or the nearest miss)."""
    c = res.best or (res.candidates[0] if res.candidates else None)
    if c is None:
        return ListMatch(field, str(name), list_name, res.status)
    e = c.entry
    return ListMatch(field, str(name), list_name, res.status, e.name, c.form, c.kind, c.score, c.why,
                     e.citation or None, e.added, e.removed, entry_policy(e), e.license_requirement or None)


def screening_sentences(found) -> tuple[str, ...]:
    """One sentence per distinct screening: a consignee that is the end user is said once."""
    groups: dict = {}
    for m in found:
        groups.setdefault(attrs.evolve(m, field=""), []).append(m.field)
    return tuple(screening_words(attrs.evolve(m, field=" and ".join(fields))) for m, fields in groups.items())


def screening_words(m: ListMatch) -> str:
    """One sentence on a screening, for explanations."""
    who = f"{m.field} `{m.name}`" if m.field else f"`{m.name}`"
    if m.status == "none":
        text = f"no listed party found for {who} on {m.list}"
        if m.entry is not None:
            text += f" (nearest: `{m.entry}`, score {m.score:g}, below the possible-match score)"
        return text
    how = "its name" if m.form_kind == "name" else f"{m.form_kind} `{m.form}`"
    listed = []
    if m.added:
        listed.append(f"added {m.added.isoformat()}")
    listed.append(m.cite or "no citation given")
    verb = "matches" if m.status == "match" else "is a possible match for"
    text = (f"{who} {verb} `{m.entry}` on {m.list} by {how}, score {m.score:g} ({m.why}); "
            f"{', '.join(listed)}; review {words(m.review_policy)}")
    if m.status == "possible":
        text += "; a reviewer must confirm or rule out the match"
    elif m.requirement:
        text += f"; listed licence requirement: {m.requirement}"
    return text


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
    explained: set = set()
    for rule in rs.requirements:
        if rule.id in verdict.fired:
            evaluate(rule.when, env)  # screens the parties the rule names
            policy = review_of(rule, env)
            detail = f"review {policy}" if isinstance(policy, str) else None
            found = _screenings(rule, env, ("match", "possible"))
            explained.update((m.field, m.list) for m in found)
            out.append(Reason(rule.id, "require", rule.title, rule.cite, tuple(held(rule.when, env)), detail,
                              found))
    granted = {name for name, _ in verdict.exceptions}
    for rule in rs.exceptions:
        if rule.id in granted:
            out.append(Reason(rule.id, "exception", rule.title, rule.cite, tuple(held(rule.when, env))))
    out += screening_notes(rs, env, explained)
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


def _screenings(rule: M.Rule, env: Env, statuses) -> tuple[ListMatch, ...]:
    out = []
    for node in list_atoms(rule.when):
        res = env.screened.get((node.field, node.list))
        if res is not None and res.status in statuses:
            m = list_match(node.field, env.value(node.field), node.list, res)
            if m not in out:
                out.append(m)
    return tuple(out)


def screening_notes(rs: M.CheckedRuleset, env: Env, explained=frozenset()) -> list[Reason]:
    """Every party screened by a rule in force and not already explained by a requirement,
    as one reason per list.

    No match is said as "no listed party found", which is what screening can say;
    it is not a clearance of the party.
    """
    seen = set(explained)
    by_list: dict[str, list[ListMatch]] = {}
    for rule in rs.requirements:
        if not in_force(rule, env.on) or not covers_any(rule.items, env.classes):
            continue
        for node in list_atoms(rule.when):
            key = (node.field, node.list)
            v = env.value(node.field)
            if key in seen or v is None:
                continue
            seen.add(key)
            res = env.screened.get(key) or env.screen_field(node.list, node.field, v)
            by_list.setdefault(node.list, []).append(list_match(node.field, v, node.list, res))
    out = []
    for list_name, found in by_list.items():
        lst = rs.lists[list_name]
        possible = any(m.status == "possible" for m in found)
        # a decided record: its possible matches did not change the outcome
        detail = "the outcome is the same whether or not the match is real" if possible else None
        sentences = screening_sentences(found) + _out_of_force(env, list_name, found)
        out.append(Reason(list_name, "possible-match" if possible else "screened", lst.title, lst.cite,
                          sentences, detail, tuple(found)))
    return out


def _out_of_force(env: Env, list_name: str, found) -> tuple[str, ...]:
    """For names with no listed party on the day: an entry they match on other days."""
    out = []
    for name in dict.fromkeys(m.name for m in found if m.status == "none"):
        best = env.screen.result(list_name, name, None).best
        if best is None or best.score < env.screen.lists[list_name].match_score:
            continue
        e = best.entry
        when = (f"is listed only from {e.added.isoformat()}" if e.added and env.on < e.added
                else f"was removed on {e.removed.isoformat()}" if e.removed else None)
        if when:
            out.append(f"`{name}` matches `{e.name}`, which {when}: not in force on {env.on.isoformat()}")
    return tuple(out)


def possible_reasons(rs: M.CheckedRuleset, record: dict, on: dt.date, screen: Screen,
                     possible: tuple[tuple[str, str], ...]) -> list[Reason]:
    """Reasons for an indeterminate outcome that turns on possible list matches: the
    candidates, and the outcome if they are real and if they are not."""
    env = Env(rs, record, on, screen)
    by_list: dict[str, list[ListMatch]] = {}
    for field, list_name in possible:
        v = env.value(field)
        res = env.screen_field(list_name, field, v)
        by_list.setdefault(list_name, []).append(list_match(field, v, list_name, res))
    branches = []
    for real in (True, False):
        overrides = {possible_var(f, lname): real for f, lname in possible}
        verdict = partial_verdict(Env(rs, record, on, screen, overrides))
        outcome = ("undecided (other facts are missing)" if verdict is None
                   else OUTCOME_WORDS.get(verdict.outcome, verdict.outcome))
        if verdict is not None and verdict.review_policy:
            outcome += f" ({words(verdict.review_policy)})"
        branches.append(outcome)
    detail = f"if the match is real: {branches[0]}; if not: {branches[1]}"
    out = []
    for list_name, found in by_list.items():
        lst = rs.lists[list_name]
        out.append(Reason(list_name, "possible-match", lst.title, lst.cite,
                          screening_sentences(found), detail, tuple(found)))
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
