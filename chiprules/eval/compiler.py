"""Checked model -> a fast Python function.

The generated code follows the interpreter's three-valued semantics exactly,
but gives up (returns None) as soon as an unknown fact decides a rule; the
engine then asks the reference interpreter, which splits the cases. No user
text is ever pasted into the source: every constant (numbers, sets, dates,
names) is bound in the function's namespace under a generated name.

A comparison of a derived ratio with a constant (`tpp / die_area >= 5.92`) is
compiled as `tpp >= 5.92 * die_area`, which is exact in Decimal arithmetic
where the division is not.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from chiprules import model as M
from chiprules.eval.interpreter import (  # noqa: F401 - strictest used by generated code
    _UNSEEN,
    EVIDENCE,
    Verdict,
    entry_policy,
    in_force,
    strictest,
)

_ZERO = Decimal(0)  # compared with a Decimal faster than the int 0, and equal to it


class _Gen:
    def __init__(self, rs: M.CheckedRuleset, partial: bool = False, repeated: frozenset = frozenset()):
        self.rs = rs
        self.partial = partial
        # per record, once: guard tests (``g``), memos of ratio tests (``a``) and of conditions
        # met in several rules (``m``, for the fast forms in ``repeated``), set at the top
        self.repeated = repeated
        self.seen: dict[str, int] = {}
        self.hoisted: dict[str, str] = {}
        self.head: list[str] = []
        self.current_rule: M.Rule | None = None
        self.consts: dict[str, object] = {}
        self.const_ids: dict = {}
        self.lines: list[str] = []
        self.tmp = 0
        self.loaded: dict[str, str] = {}
        self.reads_evidence = False  # a list test reads `ev = screen.evidence`

    def const(self, value) -> str:
        key = (type(value).__name__, value if not isinstance(value, (set, frozenset)) else tuple(sorted(value)))
        name = self.const_ids.get(key)
        if name is None:
            name = f"K{len(self.consts)}"
            self.consts[name] = value
            self.const_ids[key] = name
        return name

    def var(self, field: str) -> str:
        name = self.loaded.get(field)
        if name is None:
            name = f"f{len(self.loaded)}"
            self.loaded[field] = name
        return name

    def hoist(self, prefix: str, key: str, line: str) -> str:
        """A per-record variable set once at the top of the function (``line`` formats ``{}``)."""
        name = self.hoisted.get(key)
        if name is None:
            name = self.hoisted[key] = f"{prefix}{len(self.hoisted)}"
            self.head.append(line.format(name))
        return name

    def fresh(self) -> str:
        self.tmp += 1
        return f"t{self.tmp}"

    # ---- values
    def value(self, name: str) -> str:
        """An expression for a field or derived value (None when unknown)."""
        f = self.var(name)
        d = self.rs.derived.get(name)
        if d is None:
            return f
        # a derived quantity: the record's value if given, else computed exactly
        return f"({f} if {f} is not None else _derived({self.const(name)}, r))"

    def cond(self, node) -> str:
        t = type(node)
        if t is M.TrueCond:
            return "True"
        if t is M.CondRef:
            return self.cond(node.expr)
        if t is M.Not:
            tv = self.fresh()
            return f"(None if ({tv} := {self.cond(node.operand)}) is None else not {tv})"
        if t in (M.And, M.Or):
            stop = "False" if t is M.And else "True"
            go = "True" if t is M.And else "False"
            # build right-to-left: a and (b and c) with early exit on the dominant value
            parts = [self.cond(i) for i in node.items]
            temps = [self.fresh() for _ in parts]
            tail = f"(None if ({' or '.join(f'{x} is None' for x in temps)}) else {go})"
            expr = tail
            for p, x in reversed(list(zip(parts, temps, strict=True))):
                expr = f"({stop} if ({x} := {p}) is {stop} else {expr})"
            return expr
        if t is M.Cmp:
            return self.cmp(node)
        if t is M.InSet:
            v = self.var(node.field)
            op = "not in" if node.negated else "in"
            return f"(None if {v} is None else {v} {op} {self.const(node.members)})"
        if t is M.IsTrue:
            v = self.var(node.field)
            return f"(None if {v} is None else bool({v}))"
        if t is M.InList:
            v = self.var(node.field)
            fn = "_notlist" if node.negated else "_inlist"
            return (f"(None if {v} is None else {fn}(screen, {self.const(node.list)}, "
                    f"{self.const(node.field)}, {v}, on, r))")
        if t is M.Classified:
            return f"(not {self.const(self.covered(node.eccn))}.isdisjoint(cs))"
        raise TypeError(f"cannot compile {t.__name__}")

    def fast(self, node):
        """A two-valued expression and the guards under which it is exact.

        When every guard holds (the facts it reads are known), the plain
        Python expression gives the same answer as the three-valued one, much
        faster. Returns None where no such form exists.
        """
        t = type(node)
        if t is M.TrueCond:
            return "True", set()
        if t is M.CondRef:
            return self.fast(node.expr)
        if t is M.Not:
            inner = self.fast(node.operand)
            return None if inner is None else (f"(not {inner[0]})", inner[1])
        if t in (M.And, M.Or):
            parts = [self.fast(i) for i in node.items]
            if any(p is None for p in parts):
                return None
            joiner = " and " if t is M.And else " or "
            guards = set().union(*(p[1] for p in parts))
            return "(" + joiner.join(p[0] for p in parts) + ")", guards
        if t is M.InSet:
            v = self.var(node.field)
            op = "not in" if node.negated else "in"
            return f"({v} {op} {self.const(node.members)})", {f"{v} is not None"}
        if t is M.IsTrue:
            v = self.var(node.field)
            return f"{v}", {f"{v} is not None"}
        if t is M.InList:
            # the screen's remembered status, the evidence fields read here (none when the
            # screen takes no evidence); a possible match raises _Possible
            v = self.var(node.field)
            country_field, address_field = EVIDENCE.get(node.field, (None, None))
            country = f"({self.var(country_field)} if ev else None)" if country_field else "None"
            address = f"({self.var(address_field)} if ev else None)" if address_field else "None"
            self.reads_evidence = True
            tv, tk = self.fresh(), self.fresh()
            # the remembered flag read straight from the screen's table (see `Screen.flag`)
            args = f"{self.const(node.list)}, {v}, on, {country}, {address}"
            flag = (f"({tk} if ({tk} := flags_get(({args}), _UNSEEN)) is not _UNSEEN "
                    f"else screen.flag({args}))")
            found = f"({tv} if ({tv} := {flag}) is not None else _possible({self.const(node.field)}))"
            return (f"(not {found})" if node.negated else found), {f"{v} is not None"}
        if t is M.Classified:
            return f"(not {self.const(self.covered(node.eccn))}.isdisjoint(cs))", set()
        if t is M.Cmp:
            left, right, op = node.left, node.right, node.op
            if isinstance(left, M.FieldRef) and isinstance(right, M.Const) and isinstance(right.value, Decimal):
                ratio = self.ratio(left.name)
                if ratio is not None:
                    fv, fa, fb = self.var(left.name), self.var(ratio[0]), self.var(ratio[1])
                    c, z = self.const(right.value), self.const(_ZERO)
                    # the same ratio test recurs across rules: computed on first use, remembered
                    atom = f"({fv} {op} {c} if {fv} is not None else {fa} {op} {c} * {fb})"
                    a = self.hoist("a", "atom " + atom, "{} = None")
                    return (f"({a} if {a} is not None else ({a} := {atom}))",
                            {f"({fv} is not None or ({fa} is not None and {fb} is not None and {fb} > {z}))"})
            guards, sides = set(), []
            for side in (left, right):
                if isinstance(side, M.Const):
                    sides.append(self.const(side.value))
                elif side.name in self.rs.derived:
                    return None
                else:
                    v = self.var(side.name)
                    guards.add(f"{v} is not None")
                    sides.append(v)
            return f"({sides[0]} {op} {sides[1]})", guards
        return None

    def cond_best(self, node) -> str:
        """The fast form under its guards, else the three-valued form."""
        f = self.fast(node)
        slow = self.cond(node)
        if f is None:
            return slow
        expr, guards = f
        if not guards:
            return expr
        g = " and ".join(sorted(guards))
        g = self.hoist("g", "guard " + g, "{} = " + g)
        return f"({expr} if {g} else {slow})"

    def assign(self, target: str, node) -> list[str]:
        """Lines setting ``target`` to a condition's value. Where the condition tests a
        party list, a possible match on the two-valued path falls back to the
        three-valued form, in which it is unknown."""
        best = self.cond_best(node)
        if not _tests_list(node):
            f = self.fast(node)
            if f is not None:
                key = f"{f[0]} if {' and '.join(sorted(f[1]))}"
                self.seen[key] = self.seen.get(key, 0) + 1
                if key in self.repeated:
                    m = self.hoist("m", "memo " + key, "{} = _U")
                    return [f"if {m} is _U:", f"    {m} = {best}", f"{target} = {m}"]
            return [f"{target} = {best}"]
        return ["try:", f"    {target} = {best}", "except _Possible:", f"    {target} = {self.cond(node)}"]

    def covered(self, item: str) -> frozenset:
        return frozenset(r.id for r in self.rs.classify if M.eccn_covers(item, r.id))

    def cmp(self, node: M.Cmp) -> str:
        left, right, op = node.left, node.right, node.op
        if isinstance(left, M.FieldRef) and isinstance(right, M.Const) and isinstance(right.value, Decimal):
            ratio = self.ratio(left.name)
            if ratio is not None:
                a, b = ratio
                fv, fa, fb = self.var(left.name), self.var(a), self.var(b)
                c = self.const(right.value)
                return (f"({fv} {op} {c} if {fv} is not None else "
                        f"(None if {fa} is None or {fb} is None or {fb} <= {self.const(_ZERO)} else {fa} {op} {c} * {fb}))")
        lhs = self.operand(left)
        rhs = self.operand(right)
        checks = [x for x, side in ((lhs, left), (rhs, right)) if isinstance(side, M.FieldRef)]
        if not checks:
            return f"({lhs} {op} {rhs})"
        tl = self.fresh()
        if len(checks) == 1:
            if isinstance(left, M.FieldRef):
                return f"(None if ({tl} := {lhs}) is None else {tl} {op} {rhs})"
            return f"(None if ({tl} := {rhs}) is None else {lhs} {op} {tl})"
        tr = self.fresh()
        return f"(None if ({tl} := {lhs}) is None or ({tr} := {rhs}) is None else {tl} {op} {tr})"

    def operand(self, node) -> str:
        if isinstance(node, M.Const):
            return self.const(node.value)
        return self.value(node.name)

    def ratio(self, name: str):
        d = self.rs.derived.get(name)
        if d is None:
            return None
        e = d.expr
        if isinstance(e, M.ABin) and e.op == "/" and isinstance(e.left, M.AField) \
                and isinstance(e.right, M.AField) and e.left.name not in self.rs.derived \
                and e.right.name not in self.rs.derived:
            return e.left.name, e.right.name
        return None

    # ---- rules
    def give_up(self) -> str:
        """The statement for "an unknown fact decides this rule"."""
        if not self.partial or self.current_rule is None:
            return "return None"
        from chiprules.report.diff import rule_fields

        return f"return _Unknown({self.const(rule_fields(self.current_rule))})"

    def rule_applies(self, rule: M.Rule, target: str) -> list[str]:
        self.current_rule = rule
        """Lines that set ``target`` to True/False, or return None when unknown."""
        w = self.fresh()
        lines = self.assign(w, rule.when)
        if rule.excepts:
            x = self.fresh()
            ex = M.Or(tuple(e.expr for e in rule.excepts), "except")
            lines += [
                f"if {w} is False:",
                f"    {target} = False",
                "else:",
                *("    " + ln for ln in self.assign(x, ex)),
                f"    if {x} is True:",
                f"        {target} = False",
                f"    elif {w} is None or {x} is None:",
                f"        {self.give_up()}",
                "    else:",
                f"        {target} = True",
            ]
        else:
            lines += [f"if {w} is None:", f"    {self.give_up()}", f"{target} = {w}"]
        return lines

    def date_gate(self, rule: M.Rule) -> str | None:
        tests = []
        if rule.effective is not None:
            tests.append(f"on >= {self.const(rule.effective)}")
        if rule.until is not None:
            tests.append(f"on <= {self.const(rule.until)}")
        return " and ".join(tests) if tests else None

    def gate_tests(self, rule: M.Rule) -> list[str]:
        """Tests that skip a rule: not in force on the day, or for items not classified."""
        tests = []
        gate = self.date_gate(rule)
        if gate:
            tests.append(gate)
        if rule.items is not None:
            cover = frozenset(c.id for c in self.rs.classify
                              if any(M.eccn_covers(it, c.id) for it in rule.items))
            tests.append(f"not {self.const(cover)}.isdisjoint(cs)")
        return tests

    def build(self) -> str:
        body: list[str] = []

        def emit(lines, indent):
            body.extend("    " * indent + ln for ln in lines)

        emit(["classes = []"], 0)
        for rule in self.rs.classify:
            gate = self.date_gate(rule)
            ind = 0
            if gate:
                emit([f"if {gate}:"], 0)
                ind = 1
            a = self.fresh()
            emit(self.rule_applies(rule, a), ind)
            emit([f"if {a}:", f"    classes.append({self.const(rule.id)})"], ind)
        emit(["cs = set(classes)", "fired = []", "policies = []"], 0)
        for i, rule in enumerate(self.rs.requirements):
            tests = self.gate_tests(rule)
            ind = 0
            if tests:
                emit([f"if {' and '.join(tests)}:"], 0)
                ind = 1
            a = self.fresh()
            emit(self.rule_applies(rule, a), ind)
            emit([f"if {a}:", f"    fired.append({i})"], ind)
            emit([f"    policies.append({self.review(rule, i)})",
                  "    if policies[-1] is None:", f"        {self.give_up()}"], ind)
        emit([
            "if not fired:",
            "    nk = tuple(classes)",  # the remembered verdict read directly, made on first use
            "    return nv if (nv := _nlr_get(nk)) is not None else _nlr(nk)",
            "review = policies[0] if len(policies) == 1 else _strictest(policies)",
            "granted = []",
        ], 0)
        for rule in self.rs.exceptions:
            tests = self.gate_tests(rule)
            allowed = frozenset(i for i, r in enumerate(self.rs.requirements) if rule.id in r.allows)
            tests.append(f"{self.const(allowed)}.issuperset(fired)")
            emit([f"if {' and '.join(tests)}:"], 0)
            a = self.fresh()
            emit(self.rule_applies(rule, a), 1)
            duties = []
            emit([f"if {a}:", "    duties = []"], 1)
            for duty in rule.notify:
                if duty.condition is None:
                    emit([f"    duties.append({self.const(duty.text)})"], 1)
                else:
                    d = self.fresh()
                    emit(["    " + ln for ln in self.assign(d, duty.condition)], 1)
                    emit([f"    if {d} is None:", f"        {self.give_up()}",
                          f"    if {d}:", f"        duties.append({self.const(duty.text)})"], 1)
            del duties
            emit([f"    granted.append(({self.const(rule.id)}, tuple(duties)))"], 1)
        ids = self.const(tuple(r.id for r in self.rs.requirements))
        emit([
            f"fired_ids = tuple(map({ids}.__getitem__, fired))",
            "if granted:",
            "    nk = ('license_exception', tuple(classes), review, tuple(granted), fired_ids)",
            "else:",
            "    nk = ('license_required', tuple(classes), review, (), fired_ids)",
            "return nv if (nv := _verdict_get(nk)) is not None else _verdict(*nk)",
        ], 0)
        loads = [f"{v} = r.get({self.const(f)})" for f, v in self.loaded.items()]
        # a possible list match met on the two-valued path hands the record to the interpreter
        settle = "return _Unknown((p.field,))" if self.partial else "return None"
        head = ["def decide(r, on, screen):", "    try:"]
        if self.reads_evidence:
            head += ["        ev = screen.evidence", "        flags_get = screen.flags.get"]
        tail = ["    except _Possible as p:", f"        {settle}"]
        return "\n".join(head + ["        " + ln for ln in loads + self.head + body] + tail) + "\n"

    def review(self, rule: M.Rule, i: int) -> str:
        spec = rule.review
        if spec is None:
            return "'presumption_of_denial'"

        def pol(p):
            if p == "listed":
                return f"_listed(screen, on, r, {self.const(self.list_keys(rule))})"
            return self.const(p)

        if spec.condition is None:
            return pol(spec.policy)
        c = self.fresh()
        test = self.cond(spec.condition) if _tests_list(spec.condition) else self.cond_best(spec.condition)
        return (f"(None if ({c} := {test}) is None else "
                f"({pol(spec.policy)} if {c} else {pol(spec.otherwise)}))")

    def list_keys(self, rule: M.Rule) -> tuple:
        from chiprules.eval.interpreter import list_atoms

        return tuple((a.field, a.list) for a in list_atoms(rule.when) if not a.negated)


def _tests_list(node) -> bool:
    from chiprules.eval.interpreter import list_atoms

    return next(list_atoms(node), None) is not None


_U = object()  # a memo not yet set (its value may be None: unknown)


class _Possible(Exception):
    """A possible list match where the two-valued path needs a yes or no."""

    def __init__(self, field):
        self.field = field


def _inlist(screen, list_name, field, value, on, r):
    return screen.status(list_name, field, value, on, r)


def _notlist(screen, list_name, field, value, on, r):
    found = screen.status(list_name, field, value, on, r)
    return None if found is None else not found


def _possible(field):
    raise _Possible(field)


def _listed(screen, on, r, keys):
    """The strictest policy of every entry matched by the rule's list tests (see interpreter)."""
    policies, open_ = [], []
    for field, list_name in keys:
        value = r.get(field)
        if value is None:
            continue
        res = screen.of_field(list_name, field, value, on, r.get)
        if res.status == "match":
            policies.append(entry_policy(res.best.entry))
        elif res.status == "possible":
            open_.append((field, entry_policy(res.best.entry)))
    known = strictest(policies)
    for field, policy in open_:
        if known is None or M.STRICTNESS[policy] > M.STRICTNESS[known]:
            raise _Possible(field)  # the policy turns on the match: the interpreter splits
    return known or "presumption_of_denial"


class _Unknown:
    """What a partial compiled function returns when unknown facts decide a rule."""

    __slots__ = ("fields",)

    def __init__(self, fields):
        self.fields = fields


class Compiled:
    """A compiled ruleset: ``decide(record, on, screen)`` -> Verdict or None.

    With ``partial=True`` the function returns an ``_Unknown`` naming the
    fields of the undecided rule instead of None (the semantic diff uses it).
    """

    def __init__(self, rs: M.CheckedRuleset, partial: bool = False):
        first = _Gen(rs, partial)
        first.build()
        gen = _Gen(rs, partial, frozenset(k for k, n in first.seen.items() if n > 1))
        self.source = gen.build()
        cache: dict = {}

        def verdict(outcome, classes, review, granted, fired):
            key = (outcome, classes, review, granted, fired)
            v = cache.get(key)
            if v is None:
                v = cache[key] = Verdict(outcome, classes, review, granted, fired)
            return v

        no_licence: dict = {}

        def nlr(classes):
            v = no_licence.get(classes)
            if v is None:
                v = no_licence[classes] = verdict("no_license_required", classes, None, (), ())
            return v

        def derived(name, r):

            env = _DerivedEnv(rs, r)
            return env.value(name)

        namespace = dict(gen.consts)
        namespace.update(_inlist=_inlist, _notlist=_notlist, _Possible=_Possible,
                         _listed=_listed, _possible=_possible, _strictest=strictest, _verdict=verdict,
                         _nlr=nlr, _derived=derived, _Unknown=_Unknown, _U=_U, _UNSEEN=_UNSEEN,
                         _nlr_get=no_licence.get, _verdict_get=cache.get)
        code = compile(self.source, f"<chiprules {rs.name} {rs.version}>", "exec")
        exec(code, namespace)  # noqa: S102 - generated from the checked model, constants bound by name
        self.decide = namespace["decide"]


class _DerivedEnv:
    """Exact values of derived quantities for the compiled path."""

    def __init__(self, rs, record):
        from chiprules.eval.interpreter import Env

        self._env = Env(rs, record, dt.date.today(), None)

    def value(self, name):
        return self._env.value(name)


def compile_ruleset(rs: M.CheckedRuleset) -> Compiled:
    return Compiled(rs)


__all__ = ["Compiled", "compile_ruleset", "in_force"]
