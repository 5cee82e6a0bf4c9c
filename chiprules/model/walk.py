"""The one set of walkers over checked conditions and rules.

The checker, the lowering to the IR, the interpreter, the diff and the plots all
ask the same few questions of a condition: which atoms does it test, which
fields does it read, which party lists does it screen, what does it say with
its named conditions written out. They are answered here, once.
"""

from __future__ import annotations

from collections.abc import Iterator

from chiprules.model.checked import (
    And,
    CheckedRuleset,
    Classified,
    Cmp,
    CondRef,
    FieldRef,
    InList,
    InSet,
    IsProduct,
    IsTrue,
    Not,
    Or,
    Rule,
    TrueCond,
    Unsettled,
)

#: The order in which analyses split on fields and list them: the item first,
#: its figures, then where it goes and who receives it, the date last.
FIELD_ORDER = ("item_kind", "chip", "tpp", "performance_density", "datacenter", "interconnect_bw", "dram_bw",
               "memory_bw_density", "destination", "end_user_hq", "transaction", "exported_from", "end_user",
               "consignee", "end_user_parent", "export_date")
_RANK = {name: i for i, name in enumerate(FIELD_ORDER)}


def field_rank(name: str) -> tuple[int, str]:
    """The sort key of a field in `FIELD_ORDER` (fields it does not name come last, by name)."""
    return _RANK.get(name, len(FIELD_ORDER)), name


def atoms(node) -> Iterator:
    """The atoms of a condition (comparisons, set and list tests, truths, `classified`),
    with named conditions followed."""
    t = type(node)
    if t is And or t is Or:
        for i in node.items:
            yield from atoms(i)
    elif t is Not:
        yield from atoms(node.operand)
    elif t is CondRef:
        yield from atoms(node.expr)
    elif t is not TrueCond:
        yield node


def zoned(node) -> tuple | None:
    """For a condition with a zone of unsettled law (`(not W and E) or (W and Unsettled)`,
    as the checker builds it): (E, W, the zone); else None."""
    if type(node) is not Or or len(node.items) != 2:
        return None
    inside = node.items[1]
    if type(inside) is not And or len(inside.items) != 2 or type(inside.items[1]) is not Unsettled:
        return None
    outside = node.items[0]
    return outside.items[1], inside.items[0], inside.items[1]


def unsettled_zones(rs: CheckedRuleset) -> dict[str, Unsettled]:
    """Every zone where the law is unsettled that a version's rules meet, by key."""
    return {a.key: a for c in all_conditions(rs) for a in atoms(c) if type(a) is Unsettled}


def list_atoms(node) -> Iterator[InList]:
    """The party-list tests of a condition."""
    return (a for a in atoms(node) if type(a) is InList)


def tests_list(node) -> bool:
    """Does the condition screen a party list?"""
    return next(list_atoms(node), None) is not None


def contains(node, cls) -> bool:
    """Does the condition hold an atom of type ``cls``?"""
    return any(isinstance(a, cls) for a in atoms(node))


def rule_conditions(rule: Rule) -> Iterator:
    """Every condition of a rule: `when`, each `except`, each review arm's `if`, each `notify ... if`."""
    yield rule.when
    for e in rule.excepts:
        yield e.expr
    if rule.review is not None:
        for arm in rule.review.arms:
            yield arm.condition
    for n in rule.notify:
        if n.condition is not None:
            yield n.condition


def all_conditions(rs: CheckedRuleset) -> Iterator:
    """Every condition of every rule of a version."""
    for rule in rs.rules:
        yield from rule_conditions(rule)


def atom_fields(atom) -> Iterator[str]:
    """The fields one atom reads."""
    t = type(atom)
    if t is Cmp:
        for side in (atom.left, atom.right):
            if type(side) is FieldRef:
                yield side.name
    elif t is InSet or t is InList or t is IsTrue:
        yield atom.field
    elif t is IsProduct:
        yield atom.field
        for name, _ in atom.figures:
            yield name


def fields_of(node) -> set[str]:
    """The fields a condition reads (derived quantities by their own name)."""
    return {f for a in atoms(node) for f in atom_fields(a)}


def rule_fields(rule: Rule) -> tuple[str, ...]:
    """Every field a rule's conditions read, in `FIELD_ORDER`."""
    found: set[str] = set()
    for c in rule_conditions(rule):
        found |= fields_of(c)
    return tuple(sorted(found, key=field_rank))


def fields_read(rs: CheckedRuleset) -> set[str]:
    """Every field any rule of a version reads."""
    return {f for c in all_conditions(rs) for a in atoms(c) for f in atom_fields(a)}


def compared_constants(rs: CheckedRuleset) -> dict[str, list]:
    """Per field, the constants the rules compare it with (thresholds, dates, names), in order met."""
    out: dict[str, list] = {}
    for cond in all_conditions(rs):
        for a in atoms(cond):
            if type(a) is Cmp:
                for side, other in ((a.left, a.right), (a.right, a.left)):
                    if type(side) is FieldRef:
                        bucket = out.setdefault(side.name, [])
                        if hasattr(other, "shown"):  # a Const
                            bucket.append(other.value)
    return out


def expand(node):
    """The condition with named conditions written out and nested and/or flattened."""
    t = type(node)
    if t is CondRef:
        return expand(node.expr)
    if t is And or t is Or:
        items = []
        for i in node.items:
            e = expand(i)
            if type(e) is t:
                items.extend(e.items)
            else:
                items.append(e)
        return t(tuple(items), node.text)
    if t is Not:
        return Not(expand(node.operand), node.text)
    return node


def conjuncts(node) -> list:
    """The top-level `and` parts of a condition, named conditions written out."""
    node = expand(node)
    if isinstance(node, And):
        return list(node.items)
    if isinstance(node, TrueCond):
        return []
    return [node]


def render(node) -> str:
    """A condition in the language's own syntax, canonically (no layout, named conditions by name)."""
    t = type(node)
    if t is Cmp:
        return f"{_side(node.left)} {node.op} {_side(node.right)}"
    if t is InSet:
        return f"{node.field} {'not in' if node.negated else 'in'} {node.set_text}"
    if t is InList:
        return f"{node.field} {'not in' if node.negated else 'in'} {node.list}"
    if t is IsTrue:
        return node.field
    if t is IsProduct:
        return f'{node.field} is "{node.product}"'
    if t is Classified:
        return f"classified {node.eccn}"
    if t is CondRef:
        return node.name
    if t is Not:
        inner = render(node.operand)
        return f"not {inner}" if isinstance(node.operand, (IsTrue, CondRef, Classified)) else f"not ({inner})"
    if t is And:
        return " and ".join(f"({render(i)})" if isinstance(i, Or) else render(i) for i in node.items)
    if t is Or:
        zone = zoned(node)
        if zone is not None:  # a condition with a zone of unsettled law, as written
            defined, when, mark = zone
            return f"{render(defined)} unsettled {mark.key} when {render(when)}"
        return " or ".join(f"({render(i)})" if isinstance(i, And) else render(i) for i in node.items)
    if t is TrueCond:
        return "always"
    if t is Unsettled:
        return f"unsettled {node.key}"
    return "?"


def _side(side) -> str:
    return side.name if type(side) is FieldRef else side.shown


__all__ = [
    "FIELD_ORDER", "all_conditions", "atom_fields", "atoms", "compared_constants", "conjuncts", "contains",
    "expand", "field_rank", "fields_of", "fields_read", "list_atoms", "render", "rule_conditions",
    "rule_fields", "tests_list", "unsettled_zones", "zoned",
]
