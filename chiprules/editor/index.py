"""Where each name of a file is declared and used, read off the surface AST.

Every identifier the parser kept with its span becomes an :class:`Occurrence`: what kind of
name it is in its place (a declared name, a classification id, a rule name, a country
code...), whether it declares the name, and the statement it is in. Hover, definition,
references and rename all start from here.
"""

from __future__ import annotations

import attrs

from chiprules.lang import ast as A

# the roles of names, by the namespace they are looked up in
NAME = "name"  # fields, derived quantities, groups, lists, conditions: one namespace
ECCN = "eccn"  # classification ids (`classify 3A090.a`, `for 3A090`, `classified 3A090`)
RULE = "rule"  # licence requirements and exceptions (`allows NAC`, `exceptions NAC`)
COUNTRY = "country"  # a code in a set literal, `treat`, an entry's `country`
ENUM = "enum"  # an enum value declared by `one of`
INCLUDE = "include"  # the path of an `include`
EXAMPLE = "example"
ENTRY = "entry"  # an inline list entry
QUANTITY = "quantity"
PRODUCT = "product"  # the product named in `chip is "..."`

KIND_OF_DECL = {
    A.FieldDecl: "field",
    A.DeriveDecl: "derived quantity",
    A.GroupDecl: "group",
    A.PartyListDecl: "list",
    A.ConditionDecl: "condition",
    A.Quota: "quota",
}
RULE_KIND = {A.RuleKind.CLASSIFY: "classify", A.RuleKind.JURISDICTION: "jurisdiction",
             A.RuleKind.REQUIRE: "require license",
             A.RuleKind.EXCEPTION: "exception"}


@attrs.frozen(eq=False)
class Occurrence:
    text: str
    start: int
    end: int
    role: str
    declares: bool = False
    kind: str | None = None  # for a declaration: field, group, classify, ...
    node: object = None  # the declaration, or the node used (a Quantity, an Entry)
    statement: object = None  # the statement the name is in


def occurrences(module: A.Module) -> list[Occurrence]:
    """Every name of a module with its role, in text order."""
    out: list[Occurrence] = []
    for item in module.items:
        _statement(item, out)
    out.sort(key=lambda o: o.start)
    return out


def _add(out, ident, role, stmt, *, declares=False, kind=None, node=None):
    if ident is None or ident.span is None:
        return
    text = ident.text if isinstance(ident, A.Ident) else ident.value
    out.append(Occurrence(text, ident.span.start, ident.span.end, role, declares, kind, node, stmt))


def _statement(item, out) -> None:
    if isinstance(item, A.Include):
        _add(out, item.path, INCLUDE, item, node=item)
    elif isinstance(item, A.FieldDecl):
        _add(out, item.name, NAME, item, declares=True, kind="field", node=item)
        for v in item.type.values:
            _add(out, v, ENUM, item, declares=True, kind="enum value", node=item)
        if item.default is not None:
            _expr(item.default, out, item, default_of=item)
    elif isinstance(item, A.DeriveDecl):
        _add(out, item.name, NAME, item, declares=True, kind="derived quantity", node=item)
        _expr(item.expr, out, item)
    elif isinstance(item, A.GroupDecl):
        _add(out, item.name, NAME, item, declares=True, kind="group", node=item)
        _expr(item.expr, out, item)
    elif isinstance(item, A.Treat):
        _add(out, item.alias, COUNTRY, item)
        _add(out, item.target, COUNTRY, item)
    elif isinstance(item, A.PartyListDecl):
        _add(out, item.name, NAME, item, declares=True, kind="list", node=item)
        for e in item.entries:
            _add(out, e.name, ENTRY, item, declares=True, kind="entry", node=e)
            _add(out, e.country, COUNTRY, item)
    elif isinstance(item, A.ConditionDecl):
        _add(out, item.name, NAME, item, declares=True, kind="condition", node=item)
        _expr(item.expr, out, item)
    elif isinstance(item, A.Rule):
        role = ECCN if item.kind is A.RuleKind.CLASSIFY else RULE
        _add(out, item.id, role, item, declares=True, kind=RULE_KIND[item.kind], node=item)
        for i in item.items or ():
            _add(out, i, ECCN, item)
        for a in item.allows or ():
            _add(out, a, RULE, item)
        _expr(item.when, out, item)
        for ex in item.excepts:
            _expr(ex.expr, out, item)
        if item.review is not None:
            for arm in item.review.arms:
                _expr(arm.condition, out, item)
        for n in item.notify:
            _expr(n.condition, out, item)
    elif isinstance(item, A.Quota):
        _add(out, item.name, NAME, item, declares=True, kind="quota", node=item)
        if item.governed is not None:
            _add(out, item.governed, RULE, item)
        for key in item.per or ():
            _add(out, key, NAME, item)
        for e in (item.when, item.counts, item.fed):
            _expr(e, out, item)
    elif isinstance(item, A.Example):
        _add(out, item.name, EXAMPLE, item, declares=True, kind="example", node=item)
        for pair in item.record:
            _add(out, pair.name, NAME, item)
            _expr(pair.value, out, item, field=pair.name.text)
        e = item.expect
        for i in e.classified or ():
            _add(out, i, ECCN, item)
        for i in e.exceptions or ():
            _add(out, i, RULE, item)
        for i in (e.missing or ()) + (e.possible or ()):
            _add(out, i, NAME, item)


def _expr(node, out, stmt, *, field: str | None = None, default_of=None) -> None:
    """The names used in a condition, set, arithmetic or value."""
    if node is None:
        return
    if isinstance(node, A.Ref):
        _add(out, node.name, NAME, stmt, node=field)
    elif isinstance(node, A.Truth):
        _add(out, node.name, NAME, stmt)
    elif isinstance(node, A.IsProduct):
        _add(out, node.field, NAME, stmt)
        if node.product.span is not None:
            out.append(Occurrence(node.product.value, node.product.span.start, node.product.span.end, PRODUCT,
                                  node=node, statement=stmt))
    elif isinstance(node, A.SetRef):
        _add(out, node.name, NAME, stmt)
    elif isinstance(node, A.SetLit):
        for i in node.items:
            _add(out, i, COUNTRY, stmt)
    elif isinstance(node, A.ClassifiedAs):
        _add(out, node.eccn, ECCN, stmt)
    elif isinstance(node, A.Quantity):
        if node.span is not None:
            out.append(Occurrence(node.number + (f" {node.unit}" if node.unit else ""), node.span.start,
                                  node.span.end, QUANTITY, node=node, statement=stmt))
    elif isinstance(node, (A.Comparison,)):
        for v in node.operands:
            _expr(v, out, stmt)
    elif isinstance(node, A.Membership):
        _expr(node.value, out, stmt)
        _expr(node.set, out, stmt)
    elif isinstance(node, (A.Not,)):
        _expr(node.operand, out, stmt)
    elif isinstance(node, (A.And, A.Or)):
        for i in node.items:
            _expr(i, out, stmt)
    elif isinstance(node, (A.Group, A.ArithGroup, A.SetGroup)):
        _expr(node.inner, out, stmt)
    elif isinstance(node, (A.Arith, A.SetOp)):
        _expr(node.left, out, stmt)
        _expr(node.right, out, stmt)


def at(occs: list[Occurrence], offset: int) -> Occurrence | None:
    """The occurrence under an offset (the cursor touching its start or end counts)."""
    best = None
    for o in occs:
        if o.start <= offset <= o.end:
            if best is None or (o.end - o.start) < (best.end - best.start):
                best = o
        elif o.start > offset:
            break
    return best
