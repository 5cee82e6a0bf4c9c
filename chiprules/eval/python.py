"""The Python backend: a lowered program (`chiprules.ir`) -> one Python function.

The function decides a prepared record on a day::

    decide(record, on, assumed, unknowns) -> Verdict | Undecided

It follows three-valued (Kleene) logic exactly as the language defines it, and
stops at the first rule an unknown fact leaves undecided, returning that rule's
`Undecided`. ``unknowns`` (a set) collects, in the order the rules read them,
the fields whose absence left a test unknown, and ``field~list`` for a possible
list match; ``assumed`` settles such possible matches for a case split
(`chiprules.eval.split`). The fast path passes `SINK` and an empty dict.

How the code is made:

- The emitter writes Python source from the IR by a visitor (one method per
  node type). No text from a rules file is ever pasted into it: every constant
  (numbers, dates, sets, names, rule ids, duty texts) is bound in the
  function's namespace under a generated name (``K0``, ``K1`` ...).
- Each field is read from the record once, at the top.
- A truth that several rules test (an IR node met more than once: nodes are
  compared by value) is computed on first use and remembered for the record.
- Tests that cannot be unknown (a field every prepared record has, a
  classification already made) are plain two-valued Python.
- A comparison of a ratio with a constant (``tpp / die_area >= 5.92``) is
  cross-multiplied (``tpp >= 5.92 * die_area``), exact in decimals; other
  derived arithmetic is done in fractions.
- Every line of the generated function is mapped back to the line of the rules
  file where its rule is written, and the code carries that file's name, so a
  traceback points at the rule.
"""

from __future__ import annotations

import ast
import decimal
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from chiprules import model as M
from chiprules.core.memo import Memo
from chiprules.eval.decision import Verdict
from chiprules.eval.screens import EVIDENCE
from chiprules.ir import nodes as I
from chiprules.ir.lower import fixed_policies, program_rules, rule_exprs, walk

#: Exact decimal products for cross-multiplied comparisons (far more digits than a record holds).
_EXACT = decimal.Context(prec=200, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
_OPS = {">=": ">=", ">": ">", "<=": "<=", "<": "<", "==": "==", "!=": "!="}
_FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}


class Undecided:
    """An unknown fact leaves rule ``rule`` undecided; ``fields`` are all the fields it reads."""

    __slots__ = ("rule", "fields")

    def __init__(self, rule: str, fields: tuple[str, ...] = ()):
        self.rule = rule
        self.fields = fields

    def __repr__(self):
        return f"Undecided({self.rule!r})"


class _Sink:
    """The ``unknowns`` of the fast path: nothing is collected."""

    __slots__ = ()

    @staticmethod
    def add(_name) -> None:
        return None


SINK = _Sink()
_UNSET = object()  # a remembered truth not computed yet (its value may be None: unknown)
_POSSIBLE = object()  # a screening status: a possible match


def _arith(op: str, a, b):
    """Exact arithmetic on known values (fractions); unknown stays unknown, x/0 is unknown."""
    if a is None or b is None:
        return None
    a, b = Fraction(a), Fraction(b)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return None if b == 0 else a / b


def _policy_of(entry) -> M.Policy:
    """A list entry's review policy; one the list does not state is presumption of denial."""
    try:
        return M.Policy(entry.review_policy)
    except ValueError:
        return M.Policy.PRESUMPTION_OF_DENIAL


class _Emitter:
    """Writes the source of one program's `decide` function."""

    def __init__(self, program: I.Program, prepared: bool = True):
        self.program = program
        #: fields a prepared record always has (their defaults): tests of them are two-valued
        self.always_known = program.always_known if prepared else frozenset()
        self.consts: dict[str, object] = {}
        self.const_names: dict = {}
        self.vars: dict[str, str] = {}  # field -> local name
        self.memo: dict = {}  # truth node -> local name, for nodes met more than once
        self.repeated = self._repeated()
        self.tmp = 0
        self.lines: list[tuple[str, int]] = []  # (source line, rules line)
        self.line = 1  # the rules line the statements being written come from

    # ---- names
    def const(self, value) -> str:
        key = (type(value), value)
        name = self.const_names.get(key)
        if name is None:
            name = self.const_names[key] = f"K{len(self.consts)}"
            self.consts[name] = value
        return name

    def local(self, field: str) -> str:
        name = self.vars.get(field)
        if name is None:
            name = self.vars[field] = f"f{len(self.vars)}"
        return name

    def fresh(self) -> str:
        self.tmp += 1
        return f"t{self.tmp}"

    def _repeated(self) -> set:
        counts: dict = {}
        for rule in program_rules(self.program):
            for expr in rule_exprs(rule):
                for node in walk(expr):
                    if self.costly(node):
                        counts[node] = counts.get(node, 0) + 1
        return {n for n, c in counts.items() if c > 1}

    def costly(self, node) -> bool:
        """Is a truth worth remembering when met again (more than a test of one plain field)?"""
        t = type(node)
        if t is I.And or t is I.Or or t is I.Listed:
            return True
        if t is I.Not:
            return self.costly(node.operand)
        if t is I.Compare:
            return any(type(s) is I.Var and s.derived is not None for s in (node.left, node.right))
        return False

    # ---- static knowledge
    def known(self, node) -> bool:
        """Is a value or truth never unknown in a prepared record?"""
        t = type(node)
        if t is I.Const or t is I.OnDate or t is I.Classified or t is I.Fired:
            return True
        if t is I.Lit:
            return node.value is not None
        if t is I.Var:
            return node.derived is None and node.name in self.always_known
        if t is I.Compare:
            return self.known(node.left) and self.known(node.right)
        if t is I.InSet or t is I.IsTrue:
            return self.known(node.var)
        if t is I.Not:
            return self.known(node.operand)
        if t is I.And or t is I.Or:
            return all(self.known(i) for i in node.items)
        return False

    # ---- values
    def value(self, node) -> str:
        t = type(node)
        if t is I.Const:
            return self.const(node.value)
        if t is I.OnDate:
            return "on"
        if t is I.Var:
            f = self.local(node.name)
            if node.derived is None:
                return f
            return f"({f} if {f} is not None else {self.value(node.derived)})"
        if t is I.Arith:
            return f"_arith({self.const(node.op)}, {self.value(node.left)}, {self.value(node.right)})"
        raise TypeError(f"not a value: {t.__name__}")

    # ---- truths
    def truth(self, node) -> str:
        if node in self.repeated:
            name = self.memo.get(node)
            if name is None:
                name = self.memo[node] = f"m{len(self.memo)}"
            return f"({name} if {name} is not _UNSET else ({name} := {self.visit(node)}))"
        return self.visit(node)

    def visit(self, node) -> str:
        return getattr(self, "visit_" + type(node).__name__)(node)

    def visit_Lit(self, node: I.Lit) -> str:  # noqa: N802 - visit_<Node>
        return repr(node.value)

    def visit_Classified(self, node: I.Classified) -> str:  # noqa: N802
        return f"(not {self.const(node.ids)}.isdisjoint(classes))"

    def visit_Unsettled(self, node: I.Unsettled) -> str:  # noqa: N802
        return f"_assumed({self.const('?' + node.key)}, A, U)"  # either reading may be tried

    def visit_Fired(self, node: I.Fired) -> str:  # noqa: N802
        return f"(not {self.const(node.ids)}.isdisjoint(fired))"

    def unknown_if_none(self, var: I.Var, expr: str) -> str:
        """A test that is unknown (the field noted) when ``expr``, the var's value, is None."""
        return f"({expr} is None and not U.add({self.const(var.name)}))"

    def visit_InSet(self, node: I.InSet) -> str:  # noqa: N802
        v = self.value(node.var)
        if self.known(node.var):
            return f"({v} in {self.const(node.members)})"
        return f"(None if {self.unknown_if_none(node.var, v)} else {v} in {self.const(node.members)})"

    def visit_IsTrue(self, node: I.IsTrue) -> str:  # noqa: N802
        v = self.value(node.var)
        if self.known(node.var):
            return v
        return f"(None if {self.unknown_if_none(node.var, v)} else {v})"

    def visit_Product(self, node: I.Product) -> str:  # noqa: N802
        # named: the name decides; unnamed: a figure given that differs rules it out, else
        # unknown (the chip noted as missing)
        v = self.value(node.var)
        differs = " or ".join(f"({f} is not None and {f} != {self.const(value)})"
                              for f, value in ((self.value(var), value) for var, value in node.figures))
        unknown = f"(U.add({self.const(node.var.name)}) or None)"
        unnamed = f"(False if ({differs}) else {unknown})" if differs else unknown
        return f"(({v} == {self.const(node.name)}) if {v} is not None else {unnamed})"

    def visit_Compare(self, node: I.Compare) -> str:  # noqa: N802
        op, left, right = _OPS[node.op], node.left, node.right
        if type(left) is I.Const and type(right) is not I.Const:
            left, right, op = right, left, _FLIP[op]
        ratio = self.ratio(left) if type(right) is I.Const and isinstance(right.value, Decimal) else None
        if ratio is not None:
            return self.ratio_compare(left, op, right, *ratio)
        sides, checks = [], []
        for side in (left, right):
            v = self.value(side)
            if self.known(side):
                sides.append(v)
            elif type(side) is I.Var and side.derived is None:
                checks.append(self.unknown_if_none(side, v))
                sides.append(v)
            else:  # a derived quantity: computed once, noted by its own name when unknown
                tv = self.fresh()
                checks.append(f"(({tv} := {v}) is None and not U.add({self.const(side.name)}))")
                sides.append(tv)
        test = f"{sides[0]} {op} {sides[1]}"
        if not checks:
            return f"({test})"
        return f"(None if {' | '.join(checks)} else {test})"

    def ratio(self, var) -> tuple[str, str] | None:
        """For a derived quantity defined as a ratio of two plain fields: their names."""
        if type(var) is not I.Var or type(var.derived) is not I.Arith or var.derived.op != "/":
            return None
        a, b = var.derived.left, var.derived.right
        if type(a) is I.Var and a.derived is None and type(b) is I.Var and b.derived is None:
            return a.name, b.name
        return None

    def ratio_compare(self, var: I.Var, op: str, const: I.Const, num: str, den: str) -> str:
        """``var op c`` for ``var = num / den``: the record's value when given, else ``num op c * den``
        (the comparison turned round when ``den`` is negative), unknown when ``den`` is 0 or missing."""
        f, a, b, c = self.local(var.name), self.local(num), self.local(den), self.const(const.value)
        unknown = f"({f} is None and ({a} is None or {b} is None or not {b}) and not U.add({self.const(var.name)}))"
        crossed = (f"({a} {op} _mul({c}, {b}) if {b} > 0 else {a} {_FLIP[op]} _mul({c}, {b}))"
                   if op not in ("==", "!=") else f"({a} {op} _mul({c}, {b}))")
        return f"(None if {unknown} else ({f} {op} {c} if {f} is not None else {crossed}))"

    def visit_Listed(self, node: I.Listed) -> str:  # noqa: N802
        v = self.local(node.field)
        country_field, address_field = EVIDENCE.get(node.field, (None, None))
        country = f"({self.local(country_field)} if EV else None)" if country_field else "None"
        address = f"({self.local(address_field)} if EV else None)" if address_field else "None"
        t = self.fresh()
        pseudo = self.const(f"{node.field}~{node.list}")
        status = f"_status({self.const(node.list)}, {v}, on, {country}, {address})"
        return (f"(None if ({v} is None and not U.add({self.const(node.field)})) else "
                f"({t} if ({t} := {status}) is not _POSSIBLE else _assumed({pseudo}, A, U)))")

    def visit_Not(self, node: I.Not) -> str:  # noqa: N802
        inner = self.truth(node.operand)
        if self.known(node.operand):
            return f"(not {inner})"
        t = self.fresh()
        return f"(None if ({t} := {inner}) is None else not {t})"

    def visit_And(self, node: I.And) -> str:  # noqa: N802
        return self.junction(node.items, stop=False)

    def visit_Or(self, node: I.Or) -> str:  # noqa: N802
        return self.junction(node.items, stop=True)

    def junction(self, items, stop: bool) -> str:
        """Kleene and (``stop`` False) / or (``stop`` True): the first item equal to ``stop``
        decides; else unknown if an item was unknown, else ``not stop``."""
        parts = []
        temps = []
        for item in items:
            expr = self.truth(item)
            if self.known(item):
                parts.append((expr, None))
            else:
                t = self.fresh()
                temps.append(t)
                parts.append((expr, t))
        tail = repr(not stop)
        if temps:
            tail = f"(None if ({' or '.join(f'{t} is None' for t in temps)}) else {not stop!r})"
        expr = tail
        for item_expr, t in reversed(parts):
            if t is None:
                expr = (f"({stop!r} if {item_expr} else {expr})" if stop
                        else f"({expr} if {item_expr} else False)")
            else:
                expr = f"({stop!r} if ({t} := {item_expr}) is {stop!r} else {expr})"
        return expr

    # ---- review policies
    def policy(self, node) -> str:
        t = type(node)
        if t is I.PolicyConst:
            return self.const(node.policy)
        if t is I.PolicyListed:
            return f"_listed_policy({self.const(node.tests)}, r, on, A, U)"
        c = self.fresh()
        then, otherwise = self.policy(node.then), self.policy(node.otherwise)
        a, b = fixed_policies(node.then), fixed_policies(node.otherwise)
        # unknown condition: the policy both branches give, if the same (None: unknown)
        either = "None" if a is not None and b is not None and not a & b else f"_same({then}, {otherwise})"
        return (f"({either} if ({c} := {self.truth(node.condition)}) is None else "
                f"({then} if {c} else {otherwise}))")

    # ---- the function
    def emit(self, text: str, indent: int = 1) -> None:
        self.lines.append(("    " * indent + text, self.line))

    def at(self, rule: I.Rule) -> None:
        o = rule.origin
        same = o is not None and self.program.file is not None and Path(o.file) == Path(self.program.file)
        self.line = o.line if same else 1

    def source(self) -> str:
        p = self.program
        self.line = 1
        body_start = len(self.lines)
        self.emit("classes = []")
        for rule in p.classify:
            self.at(rule)
            und = self.const(Undecided(rule.id, rule.fields))
            self.emit(f"t = {self.truth(rule.applies)}")
            self.emit(f"if t is None: return {und}")
            self.emit(f"if t: classes.append({self.const(rule.id)})")
        # the first jurisdiction rule that holds, in the order written, is the basis; where
        # the program has such rules and none holds, the item is not subject to the EAR
        self.emit("juris = ()")
        for rule in p.jurisdiction:
            self.at(rule)
            und = self.const(Undecided(rule.id, rule.fields))
            self.emit("if not juris:")
            self.emit(f"t = {self.truth(rule.applies)}", 2)
            self.emit(f"if t is None: return {und}", 2)
            self.emit(f"if t: juris = {self.const((rule.id,))}", 2)
        self.line = 1
        if p.jurisdiction:
            self.emit("if not juris: return _not_subject(tuple(classes))")
        self.emit("fired = []")
        self.emit("policies = []")
        for rule in p.require:
            self.at(rule)
            und = self.const(Undecided(rule.id, rule.fields))
            self.emit(f"t = {self.truth(rule.applies)}")
            self.emit(f"if t is None: return {und}")
            self.emit("if t:")
            self.emit(f"fired.append({self.const(rule.id)})", 2)
            self.emit(f"p = {self.policy(rule.review)}", 2)
            self.emit(f"if p is _UNKNOWN_POLICY: return {und}", 2)
            self.emit("policies.append(p)", 2)
        self.line = 1
        self.emit("if not fired: return _no_licence(tuple(classes), juris)")
        self.emit("review = _strictest(policies)")
        self.emit("granted = []")
        for rule in p.exceptions:
            self.at(rule)
            und = self.const(Undecided(rule.id, rule.fields))
            self.emit(f"t = {self.truth(rule.applies)}")
            self.emit(f"if t is None: return {und}")
            self.emit("if t:")
            self.emit("duties = []", 2)
            for duty in rule.duties:
                self.emit(f"d = {self.truth(duty.when)}", 2)
                self.emit(f"if d is None: return {und}", 2)
                self.emit(f"if d: duties.append({self.const(duty.text)})", 2)
            self.emit(f"granted.append(({self.const(rule.id)}, tuple(duties)))", 2)
        self.line = 1
        self.emit("return _verdict(tuple(classes), review, tuple(granted), tuple(fired), juris)")
        # the head: read each field once, and the remembered truths not yet computed
        head = [(f"    {local} = r.get({self.const(field)})", 1) for field, local in self.vars.items()]
        head += [(f"    {name} = _UNSET", 1) for name in self.memo.values()]
        self.lines[body_start:body_start] = head
        self.lines.insert(0, ("def decide(r, on, A, U):", 1))
        return "\n".join(text for text, _ in self.lines) + "\n"

    def line_map(self) -> list[int]:
        return [line for _, line in self.lines]


class PythonProgram:
    """A lowered program compiled to a Python function, for one version and its screens."""

    def __init__(self, program: I.Program, screens, *, evidence: bool = True, prepared: bool = True):
        """``evidence``: screen party names with the record's evidence fields (False: names alone);
        ``prepared``: records come from `chiprules.eval.prepare`, with every default filled in."""
        self.program = program
        emitter = _Emitter(program, prepared)
        self.source = emitter.source()
        tree = ast.parse(self.source)
        lines = emitter.line_map()
        for node in ast.walk(tree):
            if hasattr(node, "lineno"):
                node.lineno = lines[node.lineno - 1]
                node.end_lineno = lines[(node.end_lineno or node.lineno) - 1] if node.end_lineno else node.lineno
                if node.end_lineno < node.lineno:
                    node.end_lineno = node.lineno
        filename = str(Path(program.file).resolve()) if program.file else f"<chiprules {program.name}>"
        namespace = dict(emitter.consts)
        namespace.update(self._runtime(screens, evidence))
        exec(compile(tree, filename, "exec"), namespace)  # noqa: S102 - built from the IR, constants bound by name
        self.decide = namespace["decide"]

    @staticmethod
    def _runtime(screens, evidence: bool) -> dict:
        """The names the generated code calls: screening statuses, policies and verdicts, remembered."""
        statuses = Memo()
        verdicts: dict = {}
        no_licence: dict = {}
        strictness = {p: i for i, p in enumerate(M.Policy)}

        def status(list_name, value, on, country, address):
            key = (list_name, value, on, country, address)
            found = statuses.get(key, _UNSET)
            if found is _UNSET:
                res = screens.result(list_name, value, on, country, address)
                found = True if res.status == "match" else _POSSIBLE if res.status == "possible" else False
                statuses.remember(key, found)
            return found

        def assumed(pseudo, a, u):
            value = a.get(pseudo)
            if value is None:
                u.add(pseudo)
            return value

        def listed_policy(tests, r, on, a, u):
            known, open_ = None, None
            for field, list_name in tests:
                value = r.get(field)
                if value is None:
                    continue
                res = screens.of_field(list_name, field, value, on, r.get)
                if res.best is None or res.status == "none":
                    continue
                real = True if res.status == "match" else assumed(f"{field}~{list_name}", a, u)
                if real is False:
                    continue
                policy = _policy_of(res.best.entry)
                if real:
                    known = policy if known is None or strictness[policy] > strictness[known] else known
                elif open_ is None or strictness[policy] > strictness[open_]:
                    open_ = policy
            if open_ is not None and (known is None or strictness[open_] > strictness[known]):
                return _UNKNOWN_POLICY
            return known or M.Policy.PRESUMPTION_OF_DENIAL

        def strictest(policies):
            best = None
            for p in policies:
                if p is not None and (best is None or strictness[p] > strictness[best]):
                    best = p
            return best

        def verdict(classes, review, granted, fired, juris):
            key = (classes, review, granted, fired, juris)
            v = verdicts.get(key)
            if v is None:
                outcome = M.Outcome.LICENSE_EXCEPTION if granted else M.Outcome.LICENSE_REQUIRED
                v = verdicts[key] = Verdict(outcome, classes, review, granted, fired, juris)
            return v

        def nlr(classes, juris):
            key = (classes, juris)
            v = no_licence.get(key)
            if v is None:
                v = no_licence[key] = Verdict(M.Outcome.NO_LICENSE_REQUIRED, classes, None, (), (), juris)
            return v

        def not_subject(classes):
            v = no_licence.get(("not_subject", classes))
            if v is None:
                v = no_licence[("not_subject", classes)] = Verdict(M.Outcome.NOT_SUBJECT, classes, None, (), ())
            return v

        return {"_status": status, "_assumed": assumed, "_listed_policy": listed_policy,
                "_strictest": strictest, "_verdict": verdict, "_no_licence": nlr,
                "_not_subject": not_subject, "_arith": _arith,
                "_mul": _EXACT.multiply, "_UNSET": _UNSET, "_POSSIBLE": _POSSIBLE,
                "_UNKNOWN_POLICY": _UNKNOWN_POLICY, "_same": _same, "EV": evidence}


def _same(a, b):
    """The policy two branches both give, else unknown (a branch may itself be unknown)."""
    return a if a == b else _UNKNOWN_POLICY


_UNKNOWN_POLICY = None  # a review policy that turns on an unknown fact

__all__ = ["SINK", "PythonProgram", "Undecided"]
