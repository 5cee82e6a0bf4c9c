"""Completion: what may be written at the cursor.

The tokens before the cursor (from the grammar's own lexer) tell where it is: the statement
it is in, the token before it, and for a value the field it is compared with. From that:
keywords that fit the statement, field, group, list and condition names, ISO country codes
with their names, units of the field's dimension, classification ids, exception names,
review policies and outcomes.
"""

from __future__ import annotations

from pathlib import Path

from lark.exceptions import LarkError

from chiprules.core.errors import ChiprulesError
from chiprules.data.catalog import load_catalog
from chiprules.data.countries import all_country_codes, country_name
from chiprules.editor import index as I
from chiprules.editor.service import Completion, Workspace, declarations, field_type_text
from chiprules.lang import ast as A
from chiprules.lang.checker import root_settings
from chiprules.lang.parser import TOP_KEYWORDS, lark_parser
from chiprules.lang.units import UNITS
from chiprules.model.checked import OUTCOMES, Policy

HEADER_CLAUSES = ("title", "version", "effective", "until", "source", "supersedes", "timeline")
RULE_CLAUSES = ("cite", "effective", "until", "for", "when", "except", "review", "allows", "notify")
LIST_CLAUSES = ("cite", "from", "match", "possible", "entry")
ENTRY_CLAUSES = ("aka", "country", "review", "cite", "added", "removed", "requirement")
EXPECT_CLAUSES = ("classified", "review", "exceptions", "missing", "possible", "unsettled")
TYPES = ("number", "integer", "bool", "country", "date", "text", "party", "one of")
CONDITION_STARTS = {"when", "and", "or", "not", "if", "("}
POLICIES = tuple(str(p) for p in Policy)  # what an entry or an example may name
RULE_POLICIES = (*POLICIES, "listed")  # a rule may also take the listed party's


def _tokens(text: str) -> list:
    out = []
    try:
        for t in lark_parser().lex(text):
            out.append(t)
    except (LarkError, RecursionError):
        pass
    return out


def _word_start(text: str, offset: int) -> int:
    i = offset
    while i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_./"):
        i -= 1
    return i


def _statement_start(text: str, offset: int) -> int:
    """The start of the statement holding the cursor: the last line starting with a statement
    keyword (statements begin lines in practice; a good guess is enough here)."""
    pos = text.rfind("\n", 0, offset) + 1
    while True:
        line = text[pos : text.find("\n", pos) if text.find("\n", pos) >= 0 else len(text)]
        word = line.lstrip().split(" ", 1)[0].split(":", 1)[0] if line.strip() else ""
        if word in TOP_KEYWORDS and line[:1] not in (" ", "\t"):
            return pos
        if pos == 0:
            return 0
        pos = text.rfind("\n", 0, pos - 1) + 1


def completion(ws: Workspace, path: Path, offset: int) -> list[Completion]:
    path = path.resolve()
    text = ws.text_of(path) or ""
    offset = max(0, min(offset, len(text)))
    a = ws.names_analysis(path)
    decls = declarations(ws, a.loaded.modules)
    begin = _word_start(text, offset)
    stmt_at = _statement_start(text, begin)
    # inside a comment or a string: nothing to offer
    line_start = text.rfind("\n", 0, begin) + 1
    before_line = text[line_start:begin]
    if "#" in _strip_strings(before_line) or _strip_strings(before_line).count('"') % 2:
        return []
    toks = _tokens(text[stmt_at:begin])
    values = [str(t.value) for t in toks]
    kinds = [t.type for t in toks]
    if not toks:
        return _keywords(TOP_KEYWORDS) if line_start == begin or not before_line.strip() else []
    stmt = values[0]
    prev = values[-1]
    prev_kind = kinds[-1]
    names = _names(decls)

    # record of an example: field names, then values
    if stmt == "example" and "record" in values and "expect" not in values:
        depth = values.count("{") - values.count("}")
        if depth > 0:
            if prev in ("{", ","):
                return [Completion(n, "field", _detail(d), insert_text=f"{n}: ")
                        for n, d in names.items() if d.occ.kind == "field"]
            if prev == ":" and len(values) >= 2:
                return _values_for(a, decls, values[-2])
            return []
    if stmt == "example" and "expect" in values:
        if prev == "expect":
            return _plain(OUTCOMES, "value")
        if prev == "review":
            return _plain(POLICIES, "value")
        if prev in ("classified",) or (prev == "," and _last_of(values, EXPECT_CLAUSES) == "classified"):
            return _eccns(ws, path, decls) + ([Completion("none", "keyword")] if prev == "classified" else [])
        if prev == "exceptions" or (prev == "," and _last_of(values, EXPECT_CLAUSES) == "exceptions"):
            return _rules(decls, "exception")
        if prev in ("missing", "possible") or (prev == "," and _last_of(values, EXPECT_CLAUSES) in
                                               ("missing", "possible")):
            return [Completion(n, "field", _detail(d)) for n, d in names.items() if d.occ.kind == "field"]
        return _keywords(EXPECT_CLAUSES + TOP_KEYWORDS)

    if prev in ("review", "otherwise"):
        pols = RULE_POLICIES if stmt in ("require", "exception", "classify") else POLICIES
        return _plain(pols, "value")
    if prev == "," and _last_of(values, ("for", "allows", "when", "except", "review", "notify")) == "review":
        # the next arm of a review, or its `otherwise`
        return _plain(RULE_POLICIES, "value") + [Completion("otherwise", "keyword")]
    if prev == "timeline":
        return _plain(("enforced", "written"), "value")
    if prev in ("classified", "for") or (stmt == "classify" and prev == "classify"):
        return _eccns(ws, path, decls)
    if prev == "," and _last_of(values, ("for", "allows", "when", "except", "review")) == "for":
        return _eccns(ws, path, decls)
    if prev == "allows" or (prev == "," and _last_of(values, ("for", "allows", "when")) == "allows"):
        return _rules(decls, "exception") + ([Completion("none", "keyword")] if prev == "allows" else [])
    if stmt == "field" and prev == ":":
        return _plain(TYPES, "type")
    if stmt == "field" and prev == "number":
        return _units(None)
    if prev == "one" and stmt == "field":
        return _plain(("of",), "keyword")
    if stmt == "list" and prev == "country":
        return _countries()
    if stmt == "treat" and prev in ("treat", "as"):
        return _countries()

    # sets: after `in`, a set operator, or inside a literal
    depth = values.count("{") - values.count("}")
    if depth > 0 and prev in ("{", ","):
        fld = _membership_field(values)
        kind = _field_kind(names, fld)
        if kind and kind[0] == "enum":
            return _plain(kind[1], "value")
        return _countries()
    if prev == "in" or (prev in ("|", "&", "-") and _in_set(values, stmt)) or (stmt == "group" and prev in ("=", "(")):
        fld = _membership_field(values)
        kind = _field_kind(names, fld)
        if kind and kind[0] == "party":
            return [Completion(n, "list", _detail(d)) for n, d in names.items() if d.occ.kind == "list"]
        sets = [Completion(n, "group", _detail(d)) for n, d in names.items() if d.occ.kind == "group"]
        return sets + [Completion("{", "keyword", "a set of country codes")]

    # `chip is`: the products of the chip catalog
    if prev == "is":
        return _products(a)
    # after a comparison: the field's values
    if prev_kind == "COMPARE" and len(values) >= 2:
        return _values_for(a, decls, values[-2])
    # after a number: units of the field's dimension
    if prev_kind == "NUMBER":
        fld = values[-3] if len(values) >= 3 and kinds[-2] == "COMPARE" else None
        return _units(_dims_of(a, fld))

    # conditions: where a condition may start
    if prev in CONDITION_STARTS or (stmt == "condition" and prev == "="):
        out = [Completion(n, d.occ.kind, _detail(d)) for n, d in names.items()
               if d.occ.kind in ("field", "derived quantity", "condition")]
        return out + _keywords(("not", "classified"))

    # after something complete: the clauses of the statement, and the next statement
    clauses = {"ruleset": HEADER_CLAUSES, "list": LIST_CLAUSES + (ENTRY_CLAUSES if "entry" in values else ()),
               "field": ("default",), "group": ("cite",), "treat": ("cite",), "condition": (),
               "classify": RULE_CLAUSES, "require": RULE_CLAUSES, "exception": RULE_CLAUSES,
               "quota": ("cite", "governs", "when", "counts", "per", "yearly", "from", "cumulative", "within", "fed"),
               "example": ("record", "expect")}.get(stmt, ())
    extra: tuple[str, ...] = ()
    if _last_of(values, ("when", "except", "if", "=", "cite")) in ("when", "if", "=") and stmt != "field":
        extra = ("and", "or", "in", "not")
    if stmt == "require" and prev == "require":
        return _keywords(("license",))
    return _keywords(tuple(dict.fromkeys(extra + clauses + TOP_KEYWORDS)))


def _strip_strings(s: str) -> str:
    out, inside, esc = [], False, False
    for ch in s:
        if inside:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                inside = False
                out.append('"')
            continue
        if ch == '"':
            inside = True
        out.append(ch)
    return "".join(out)


def _last_of(values: list[str], words) -> str | None:
    for v in reversed(values):
        if v in words:
            return v
    return None


def _in_set(values: list[str], stmt: str) -> bool:
    return stmt == "group" or _last_of(values, ("in", "when", "and", "or", "if", "=")) == "in"


def _membership_field(values: list[str]) -> str | None:
    for i in range(len(values) - 1, 0, -1):
        if values[i] == "in":
            j = i - 1
            if values[j] == "not":
                j -= 1
            return values[j] if j >= 0 else None
    return None


def _names(decls) -> dict:
    out = {}
    for (role, text), found in sorted(decls.items()):
        if role == I.NAME and found:
            out.setdefault(text, found[0])
    return out


def _detail(found) -> str | None:
    node = found.occ.node
    if isinstance(node, A.FieldDecl):
        return field_type_text(node.type)
    title = getattr(node, "title", None) or getattr(node, "doc", None)
    return title.value if title is not None else found.occ.kind


def _field_kind(names: dict, name: str | None):
    if name is None or name not in names:
        return None
    node = names[name].occ.node
    if isinstance(node, A.FieldDecl):
        return node.type.kind, tuple(v.text for v in node.type.values)
    return None


def _dims_of(a, name: str | None):
    c = a.checker
    if c is None or name is None:
        return None
    try:
        kind = c.value_kind(name)
    except (RecursionError, KeyError, ValueError):
        return None
    if kind is None or kind[0] != "number":
        return None
    return kind[1]


def _values_for(a, decls, name: str) -> list[Completion]:
    kind = _field_kind(_names(decls), name)
    if kind is None:
        return []
    if kind[0] == "country":
        return _countries()
    if kind[0] == "enum":
        return _plain(kind[1], "value")
    if kind[0] == "bool":
        return _plain(("yes", "no"), "value")
    return []


def _countries() -> list[Completion]:
    return [Completion(c, "country", country_name(c), f"`{c}`: {country_name(c)}")
            for c in sorted(all_country_codes())]


def _units(dims) -> list[Completion]:
    out = []
    for name, u in UNITS.items():
        if name.startswith("mm2/") or (dims is not None and u.dims != dims):
            continue
        detail = f"= {u.scale} {u.name}" if u.scale != 1 or u.name != name else u.name
        out.append(Completion(name, "unit", detail))
    return out


def _eccns(ws: Workspace, path: Path, decls) -> list[Completion]:
    ids: dict[str, str | None] = {}
    for (role, text), found in decls.items():
        if role == I.ECCN:
            ids[text] = _detail(found[0])
            head = text.split(".")[0]
            ids.setdefault(head, "every paragraph of " + head)
    return [Completion(k, "eccn", v) for k, v in sorted(ids.items())]


def _rules(decls, kind: str) -> list[Completion]:
    return [Completion(text, "rule", _detail(found[0])) for (role, text), found in sorted(decls.items())
            if role == I.RULE and found[0].occ.kind == kind]


def _products(a) -> list[Completion]:
    """The chip catalog's products, quoted, for `chip is`; none without a readable catalog."""
    catalog = getattr(a.checker, "_catalog", None) if a.checker is not None else None
    if catalog is None:
        name = root_settings(a.root).get("catalog")
        if not isinstance(name, str):
            return []
        try:
            catalog = load_catalog(a.root / name)
        except (OSError, ChiprulesError):
            return []
    return [Completion(s.name, "value", f"{s.vendor}; also {', '.join(s.aliases)}" if s.aliases else s.vendor,
                       insert_text=f'"{s.name}"') for s in catalog]


def _keywords(words) -> list[Completion]:
    return [Completion(w, "keyword") for w in words]


def _plain(words, kind: str) -> list[Completion]:
    return [Completion(str(w), kind) for w in words]
