"""Surface AST -> checked model. The only way to obtain a :class:`CheckedRuleset`.

Stages, in order: load the file and its includes; collect declarations; resolve
fields, derived quantities, groups, lists and named conditions; check rules;
check examples. Every problem becomes a diagnostic; checking goes on after an
error so that one run reports them all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

import attrs

from chiprules import model as M
from chiprules.core.diagnostics import Diagnostic, did_you_mean, error, warning
from chiprules.core.errors import ChiprulesError
from chiprules.core.memo import Memo
from chiprules.core.source import Span
from chiprules.data.catalog import load_catalog
from chiprules.data.countries import all_country_codes, check_code
from chiprules.data.parties import PartyEntry, load_csl, load_party_csv
from chiprules.data.records import MAGNITUDE
from chiprules.lang import ast as A
from chiprules.lang.parser import parse_source, read_source, source_from_text
from chiprules.lang.units import BARE_NUMBER_OK, DIMENSIONLESS, UNITS, Dims, dims_name, mul_dims
from chiprules.model.walk import atoms, contains, tests_list

ROOT_MARKER = "chiprules.toml"
BOOL_WORDS = {"yes": True, "no": False, "true": True, "false": False}


def find_root(path: Path) -> Path:
    """The rules root: the nearest folder at or above ``path`` holding `chiprules.toml`.

    Includes and data files may not leave it. Without a marker, the folder of
    the file (or the folder itself) is the root.
    """
    path = path.resolve()
    start = path if path.is_dir() else path.parent
    for d in (start, *start.parents):
        if (d / ROOT_MARKER).is_file():
            return d
    return start


def root_settings(root: Path) -> dict:
    marker = root / ROOT_MARKER
    if not marker.is_file():
        return {}
    try:
        return tomllib.loads(marker.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def display_name(path: Path) -> str:
    """How a file is named in diagnostics: relative to the working folder when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# ---- loading files and includes ---------------------------------------------------------


class Loaded:
    """A file and its includes as read: their modules in reading order, every statement
    with the module it is in, and the diagnostics of reading and parsing them."""

    def __init__(self, texts: Mapping[Path, str] | None = None, parse=parse_source):
        self.items: list = []  # (item, module)
        self.modules: list[A.Module] = []
        self.diags: list[Diagnostic] = []
        self.texts: list[bytes] = []
        self.files: list[str] = []
        # Texts held in memory by resolved path (an editor's unsaved buffers), read instead
        # of the files; and the parser, which a caller may give a memory of parsed texts.
        self.overlay = texts or {}
        self.parse = parse

    def read(self, path: Path) -> tuple:
        text = self.overlay.get(path.resolve())
        if text is None:
            return read_source(path, display_name(path))
        return source_from_text(text, display_name(path), path)


def _load(path: Path, root: Path, out: Loaded, stack: list[Path], seen: set[Path],
          via: A.Include | None = None) -> None:
    rpath = path.resolve()
    source, diags = out.read(path)
    if source is None:
        if via is not None:  # say where it was included from, then what is wrong
            out.diags.extend(
                error(d.code, d.message, via.path.span, help=d.help) for d in diags
            )
        else:
            out.diags.extend(diags)
        return
    module, diags = out.parse(source)
    out.diags.extend(diags)
    if module is None:
        return
    out.modules.append(module)
    out.texts.append(source.text.encode("utf-8"))
    out.files.append(source.name)
    stack.append(rpath)
    seen.add(rpath)
    for item in module.items:
        if isinstance(item, A.Include):
            target = (rpath.parent / item.path.value)
            span = item.path.span
            try:
                resolved = target.resolve()
            except (OSError, RuntimeError):
                out.diags.append(error("E210", f"cannot resolve include `{item.path.value}`", span))
                continue
            if not resolved.is_relative_to(root):
                out.diags.append(error(
                    "E209", f"include `{item.path.value}` leaves the rules root",
                    span, help=f"includes must stay inside `{display_name(root)}`",
                ))
                continue
            if resolved in stack:
                chain = " -> ".join(display_name(p) for p in [*stack[stack.index(resolved):], resolved])
                out.diags.append(error("E211", "include cycle", span, help=chain))
                continue
            if resolved in seen:  # included twice through different paths: once is enough
                continue
            if not resolved.is_file() and resolved not in out.overlay:
                hint = None
                if resolved.parent.is_dir():
                    names = [p.name for p in resolved.parent.glob("*.rules")]
                    guess = did_you_mean(resolved.name, names)
                    hint = f"did you mean `{guess}`?" if guess else None
                out.diags.append(error(
                    "E210", f"included file `{item.path.value}` does not exist", span, help=hint,
                ))
                continue
            _load(resolved, root, out, stack, seen, via=item)
        else:
            out.items.append((item, module))
    stack.pop()


# ---- the checker ------------------------------------------------------------------------


def _norm_text(span: Span | None) -> str:
    if span is None:
        return ""
    return re.sub(r"\s+", " ", span.text()).strip()


class _Checker:
    def __init__(self, loaded: Loaded, root: Path, path: Path):
        self.loaded = loaded
        self.root = root
        self.path = path
        self.diags = loaded.diags
        self.fields: dict[str, M.FieldDef] = {}
        self.derived: dict[str, M.Derived] = {}
        self.derived_ast: dict[str, A.DeriveDecl] = {}
        self.groups_ast: dict[str, A.GroupDecl] = {}
        self.groups: dict[str, frozenset] = {}
        self.group_titles: dict[str, str] = {}
        self.treat: dict[str, str] = {}
        self.lists: dict[str, M.PartyList] = {}
        self.cond_ast: dict[str, A.ConditionDecl] = {}
        self.conds: dict[str, object] = {}
        self.resolving: list[str] = []
        self.header: A.Header | None = None
        self.in_classify = False
        self.classified_ids: set[str] = set()
        self.data_digests: list[bytes] = []

    # -- reporting
    def err(self, code, message, span, **kw):
        self.diags.append(error(code, message, span, **kw))

    def warn(self, code, message, span, **kw):
        self.diags.append(warning(code, message, span, **kw))

    def date(self, lit: A.DateLit | None) -> dt.date | None:
        if lit is None:
            return None
        try:
            return dt.date.fromisoformat(lit.text)
        except ValueError as exc:
            self.err("E212", f"invalid date `{lit.text}`: {exc}", lit.span, help="write a real date as YYYY-MM-DD")
            return None

    # -- declarations
    def collect(self):
        names: dict[str, tuple[str, Span | None]] = {}

        def claim(kind: str, ident: A.Ident) -> bool:
            prev = names.get(ident.text)
            if prev is not None:
                where = ""
                if prev[1] is not None:
                    line, col = prev[1].source.line_col(prev[1].start)
                    where = f" at {prev[1].source.name}:{line}:{col}"
                self.err("E208", f"`{ident.text}` is already declared as a {prev[0]}{where}", ident.span,
                         help="give each field, group, list and condition its own name")
                return False
            names[ident.text] = (kind, ident.span)
            return True

        self.rules_ast: list[A.Rule] = []
        self.examples_ast: list[A.Example] = []
        self.treats: list[A.Treat] = []
        self.list_ast: list[A.PartyListDecl] = []
        self.quotas_ast: list[A.Quota] = []
        field_names = {i.name.text for i, _ in self.loaded.items if isinstance(i, A.FieldDecl)}
        for item, module in self.loaded.items:
            if isinstance(item, A.Header):
                if module is not self.loaded.modules[0]:
                    self.err("E218", "an included file may not have its own `ruleset` header", item.span,
                             help="only the version file that includes it has a header")
                elif self.header is not None:
                    self.err("E218", "a file has only one `ruleset` header", item.span)
                else:
                    self.header = item
            elif isinstance(item, A.FieldDecl):
                if claim("field", item.name):
                    self.field(item)
            elif isinstance(item, A.DeriveDecl):
                # a derived quantity may share its name with a number field: it
                # then computes the field when a record does not give it
                if item.name.text in field_names or claim("derived quantity", item.name):
                    if item.name.text in self.derived_ast:
                        claim("derived quantity", item.name)
                    self.derived_ast[item.name.text] = item
            elif isinstance(item, A.GroupDecl):
                if claim("group", item.name):
                    self.groups_ast[item.name.text] = item
            elif isinstance(item, A.ConditionDecl):
                if claim("condition", item.name):
                    self.cond_ast[item.name.text] = item
            elif isinstance(item, A.PartyListDecl):
                if claim("list", item.name):
                    self.list_ast.append(item)
            elif isinstance(item, A.Treat):
                self.treats.append(item)
            elif isinstance(item, A.Rule):
                self.rules_ast.append(item)
            elif isinstance(item, A.Example):
                self.examples_ast.append(item)
            elif isinstance(item, A.Quota):
                self.quotas_ast.append(item)

    def field(self, decl: A.FieldDecl):
        t = decl.type
        unit = None
        if t.kind == "number":
            u = UNITS[t.unit]
            if u.scale != 1:
                self.err("E220", f"declare `{decl.name.text}` in the canonical unit `{u.name}`", t.span,
                         help="records give numbers in canonical units; thresholds may use any unit")
            unit = u.name
        values = tuple(v.text for v in t.values)
        if len(set(values)) != len(values):
            self.err("E208", f"`{decl.name.text}` lists a value twice", t.span)
        self.fields[decl.name.text] = M.FieldDef(
            decl.name.text, t.kind, unit, values, decl.doc.value if decl.doc else None, span=decl.name.span,
        )

    def resolve_defaults(self):
        for item, _ in self.loaded.items:
            if not isinstance(item, A.FieldDecl) or item.default is None:
                continue
            f = self.fields.get(item.name.text)
            if f is None:
                continue
            d = item.default
            if isinstance(d, A.Ref) and d.name.text in self.fields:
                other = self.fields[d.name.text]
                if other.kind != f.kind:
                    self.err("E213", f"`{f.name}` is a {f.kind} field; it cannot default to "
                             f"{other.kind} field `{other.name}`", d.span)
                    continue
                value = M.FieldRef(other.name)
            else:
                value = self.example_value(A.Pair(item.name, d, span=d.span))
                if value is _BAD:
                    continue
            self.fields[f.name] = attrs.evolve(f, default=value)

    # -- derived quantities
    def resolve_derived(self):
        for name in self.derived_ast:
            self.derive(name)

    def derive(self, name: str) -> M.Derived | None:
        if name in self.derived:
            return self.derived[name]
        decl = self.derived_ast[name]
        if name in self.resolving:
            self.err("E223", f"`{name}` is defined in terms of itself", decl.name.span)
            return None
        self.resolving.append(name)
        try:
            res = self.arith(decl.expr)
        finally:
            self.resolving.pop()
        if res is None:
            return None
        expr, dims, inputs = res
        unit = dims_name(dims)
        if decl.unit is not None:
            declared = UNITS[decl.unit]
            if declared.dims != dims:
                self.err("E220", f"`{name}` is declared in {declared.name} but computes {unit}", decl.name.span)
                return None
            unit = declared.name
        if name in self.fields:
            f = self.fields[name]
            if f.kind != "number" or UNITS[f.unit].dims != dims:
                self.err("E220", f"`{name}` is a field in {f.unit or f.kind} but computes {unit}",
                         decl.name.span)
                return None
            unit = f.unit
        d = M.Derived(name, unit, expr, tuple(dict.fromkeys(inputs)),
                      decl.doc.value if decl.doc else None, span=decl.name.span)
        self.derived[name] = d
        return d

    def arith(self, node):
        if isinstance(node, A.ArithGroup):
            return self.arith(node.inner)
        if isinstance(node, A.Quantity):
            value, dims = self.quantity(node)
            if value is None:
                return None
            return M.AConst(value), dims, []
        if isinstance(node, A.Ref):
            name = node.name.text
            if name in self.fields:
                f = self.fields[name]
                if f.kind not in ("number", "integer"):
                    self.err("E213", f"`{name}` is a {f.kind} field; only numbers take part in arithmetic", node.span)
                    return None
                dims = UNITS[f.unit].dims if f.unit else DIMENSIONLESS
                return M.AField(name), dims, [name]
            if name in self.derived_ast:
                d = self.derive(name)
                if d is None:
                    return None
                return M.AField(name), UNITS[d.unit].dims if d.unit in UNITS else self._dims_of(d), list(d.inputs)
            self.unknown_name(node.name, "quantity", [*self.fields, *self.derived_ast])
            return None
        if isinstance(node, A.Arith):
            left, right = self.arith(node.left), self.arith(node.right)
            if left is None or right is None:
                return None
            (le, ld, li), (re_, rd, ri) = left, right
            op = node.op.value
            if op in "+-":
                if ld != rd:
                    self.err("E220", f"cannot {'add' if op == '+' else 'subtract'} {dims_name(rd)} "
                             f"{'to' if op == '+' else 'from'} {dims_name(ld)}", node.span,
                             help="both sides of + and - must have the same unit")
                    return None
                dims = ld
            else:
                dims = mul_dims(ld, rd, 1 if op == "*" else -1)
            return M.ABin(op, le, re_), dims, li + ri
        return None

    def _dims_of(self, d: M.Derived) -> Dims:
        if d.unit in UNITS:
            return UNITS[d.unit].dims
        res = self.arith(self.derived_ast[d.name].expr)
        return res[1] if res else DIMENSIONLESS

    def quantity(self, q: A.Quantity) -> tuple[Decimal | None, Dims]:
        try:
            value = Decimal(q.number)
        except InvalidOperation:
            self.err("E105", f"`{q.number}` is not a number", q.span)
            return None, DIMENSIONLESS
        if value and not -MAGNITUDE <= value.adjusted() <= MAGNITUDE:
            self.err("E228", f"`{q.number}` is out of range", q.span,
                     help=f"write a number between 1e-{MAGNITUDE} and 1e{MAGNITUDE} in size")
            return None, DIMENSIONLESS
        if q.unit is None:
            return value, DIMENSIONLESS
        u = UNITS[q.unit]
        return value * u.scale, u.dims

    # -- groups
    def resolve_groups(self):
        for t in self.treats:
            ok = True
            for ident in (t.alias, t.target):
                good, hint = check_code(ident.text)
                if not good:
                    self.err("E206", f"unknown country code `{ident.text}`", ident.span, help=hint)
                    ok = False
            if ok:
                self.treat[t.alias.text] = t.target.text
        for name in self.groups_ast:
            self.group(name)

    def group(self, name: str) -> frozenset | None:
        if name in self.groups:
            return self.groups[name]
        decl = self.groups_ast[name]
        if name in self.resolving:
            self.err("E223", f"group `{name}` is defined in terms of itself", decl.name.span)
            return None
        self.resolving.append(name)
        try:
            members = self.country_set(decl.expr)
        finally:
            self.resolving.pop()
        if members is None:
            return None
        self.groups[name] = members
        if decl.title:
            self.group_titles[name] = decl.title.value
        return members

    def country_set(self, node) -> frozenset | None:
        if isinstance(node, A.SetGroup):
            return self.country_set(node.inner)
        if isinstance(node, A.SetLit):
            out, bad = set(), False
            for ident in node.items:
                good, hint = check_code(ident.text)
                if not good:
                    retired = bool(hint) and "withdrawn" in hint
                    self.err("E207" if retired else "E206",
                             f"{'retired' if retired else 'unknown'} country code `{ident.text}`",
                             ident.span, help=hint)
                    bad = True
                elif ident.text in out:
                    self.warn("W306", f"`{ident.text}` is listed twice", ident.span)
                out.add(ident.text)
            return None if bad else frozenset(out)
        if isinstance(node, A.SetRef):
            name = node.name.text
            if name in self.groups_ast:
                return self.group(name)
            if any(lst.name.text == name for lst in self.list_ast):
                self.err("E213", f"`{name}` is a party list, not a country group", node.name.span,
                         help="party lists are used with party fields: `end_user in entity_list`")
                return None
            good, _ = check_code(name)
            if good:
                self.err("E202", f"`{name}` is a country code, not a group", node.name.span,
                         help=f"write `{{{name}}}` for a set with one country")
                return None
            self.unknown_name(node.name, "country group", self.groups_ast)
            return None
        if isinstance(node, A.SetOp):
            left, right = self.country_set(node.left), self.country_set(node.right)
            if left is None or right is None:
                return None
            if node.op is A.SetOpKind.UNION:
                return left | right
            if node.op is A.SetOpKind.DIFF:
                return left - right
            return left & right
        return None

    def with_aliases(self, members: frozenset) -> frozenset:
        extra = {alias for alias, target in self.treat.items() if target in members}
        return members | extra

    # -- party lists
    def resolve_lists(self):
        for decl in self.list_ast:
            entries = []
            for src in decl.sources:
                for note in src.footnotes:
                    if not note.isdigit():
                        self.err("E222", f"footnote `{note}` is not a footnote number", src.span,
                                 help="Supp. No. 4 footnotes are whole numbers, e.g. `footnote 4`")
                path = (Path(src.path.span.source.path or self.path).resolve().parent / src.path.value)
                if not path.resolve().is_relative_to(self.root):
                    self.err("E209", f"list file `{src.path.value}` is outside the rules root", src.path.span)
                    continue
                if not path.is_file():
                    self.err("E210", f"list file `{src.path.value}` does not exist", src.path.span)
                    continue
                try:
                    loaded, digest = _party_file(path, src.csl, decl.name.text)
                except ChiprulesError as exc:
                    self.diags.extend(exc.diagnostics or [error("E222", exc.message, src.path.span)])
                    continue
                except OSError as exc:
                    self.err("E222", f"cannot read `{src.path.value}`: {exc}", src.path.span)
                    continue
                self.data_digests.append(digest)
                if src.footnotes:  # `footnote 4`: only the entries that carry one of these footnotes
                    wanted = set(src.footnotes)
                    loaded = [e for e in loaded if wanted.intersection(e.footnotes)]
                entries.extend(loaded)
            for e in decl.entries:
                country = ""
                if e.country is not None:
                    good, hint = check_code(e.country.text)
                    if not good:
                        self.err("E206", f"unknown country code `{e.country.text}`", e.country.span, help=hint)
                    country = e.country.text
                if e.review == "listed":
                    self.err("E219", "an entry gives its own review policy; `listed` is for requirements",
                             e.span, help="write e.g. `review presumption_of_denial`")
                line = e.span.line if e.span is not None else None
                e_added, e_removed = self.date(e.added), self.date(e.removed)
                if e_added and e_removed and e_removed <= e_added:
                    self.err("E212", f"entry `{e.name.value}` is removed before it is added", e.removed.span)
                entries.append(PartyEntry(
                    name=e.name.value,
                    aliases=tuple(a.value for a in e.aliases),
                    country=country,
                    addresses=(),
                    license_requirement=e.requirement.value if e.requirement else "",
                    license_policy="",
                    review_policy=e.review or "presumption_of_denial",
                    citation=e.cite.value if e.cite else "",
                    added=e_added,
                    removed=e_removed,
                    footnotes=(),
                    list_name=decl.name.text,
                    line=line,
                ))
            if not decl.sources and not decl.entries:
                self.warn("W307", f"list `{decl.name.text}` has no entries", decl.name.span)
            match, possible = self.list_scores(decl)
            self.lists[decl.name.text] = M.PartyList(
                decl.name.text, decl.title.value if decl.title else None,
                decl.cite.value if decl.cite else None, tuple(entries), match, possible,
                span=decl.name.span,
            )

    def list_scores(self, decl: A.PartyListDecl) -> tuple[float, float]:
        """The `match` and `possible` scores of a list (defaults 90 and 75)."""
        given: dict[str, tuple[float, A.ScoreClause]] = {}
        for sc in decl.scores:
            if sc.kind in given:
                self.err("E226", f"list `{decl.name.text}` gives its `{sc.kind}` score twice", sc.span,
                         help="keep one `" + sc.kind + " >= N` clause")
                continue
            if sc.op != ">=":
                self.err("E226", f"a `{sc.kind}` score is a lower bound: write `{sc.kind} >= {sc.number}`",
                         sc.span, help="a name scoring at least this much counts")
                continue
            value = float(sc.number)
            if not 0 <= value <= 100:
                self.err("E226", f"screening scores run from 0 to 100, not {sc.number}", sc.span,
                         help="100 is an exact name or alias; the default `match` is 90")
                continue
            given[sc.kind] = (value, sc)
        match = given["match"][0] if "match" in given else DEFAULT_MATCH
        possible = given["possible"][0] if "possible" in given else min(DEFAULT_POSSIBLE, match)
        if possible > match:
            where = given["possible"][1] if "possible" in given else given["match"][1]
            self.err("E227", f"the `possible` score ({possible:g}) is above the `match` score ({match:g})",
                     where.span, help="possible matches score below a match: e.g. `match >= 90` and "
                     "`possible >= 75`; `possible` equal to `match` leaves no possible band")
            possible = match
        return match, possible

    # -- named conditions
    def resolve_conditions(self):
        self.classified_ids = {r.id.text for r in self.rules_ast if r.kind is A.RuleKind.CLASSIFY}
        for name in self.cond_ast:
            self.condition(name)

    def condition(self, name: str):
        if name in self.conds:
            return self.conds[name]
        decl = self.cond_ast[name]
        if name in self.resolving:
            self.err("E223", f"condition `{name}` is defined in terms of itself", decl.name.span)
            return None
        self.resolving.append(name)
        try:
            expr = self.cond(decl.expr)
            for i, zone in enumerate(decl.unsettled):
                when = self.cond(zone.when)
                if expr is None or when is None:
                    expr = None
                    continue
                key = name if i == 0 else f"{name}#{i + 1}"
                mark = M.Unsettled(key, zone.why.value, zone.cite.value, f"unsettled: {zone.why.value}",
                                   span=zone.span)
                text = expr.text
                expr = M.Or((M.And((M.Not(when, f"not ({when.text})", span=zone.span), expr), text, span=zone.span),
                             M.And((when, mark), f"{when.text} (unsettled)", span=zone.span)), text, span=zone.span)
        finally:
            self.resolving.pop()
        self.conds[name] = expr
        return expr

    # -- names
    def unknown_name(self, ident: A.Ident, what: str, pool):
        guess = did_you_mean(ident.text, pool)
        self.err(
            "E203" if what in ("field", "quantity") else "E202",
            f"unknown {what} `{ident.text}`", ident.span,
            help=f"did you mean `{guess}`?" if guess else None,
        )

    def value_kind(self, name: str) -> tuple[str, Dims | None] | None:
        if name in self.fields:
            f = self.fields[name]
            if f.kind == "number":
                return "number", UNITS[f.unit].dims
            if f.kind == "integer":
                return "number", DIMENSIONLESS
            return f.kind, None
        if name in self.derived_ast:
            d = self.derive(name)
            if d is None:
                return None
            return "number", UNITS[d.unit].dims if d.unit in UNITS else self._dims_of(d)
        return None

    # -- conditions
    def cond(self, node):
        """AST condition -> model condition, or None after reporting an error."""
        if isinstance(node, A.Group):
            return self.cond(node.inner)
        text = _norm_text(node.span)
        if isinstance(node, A.Or) or isinstance(node, A.And):
            items = [self.cond(i) for i in node.items]
            if any(i is None for i in items):
                return None
            cls = M.Or if isinstance(node, A.Or) else M.And
            out = cls(tuple(items), text, span=node.span)
            if isinstance(node, A.And):
                self.check_satisfiable(out)
            return out
        if isinstance(node, A.Not):
            inner = self.cond(node.operand)
            return None if inner is None else M.Not(inner, text, span=node.span)
        if isinstance(node, A.ClassifiedAs):
            eccn = node.eccn.text
            if self.in_classify:
                self.err("E224", "classification rules cannot depend on a classification", node.span,
                         help="use a named `condition` shared by both rules instead")
                return None
            if not any(M.eccn_covers(eccn, c) for c in self.classified_ids):
                guess = did_you_mean(eccn, self.classified_ids)
                self.err("E214", f"no rule classifies items as `{eccn}`", node.eccn.span,
                         help=f"did you mean `{guess}`?" if guess else None)
                return None
            return M.Classified(eccn, text, span=node.span)
        if isinstance(node, A.Truth):
            name = node.name.text
            if name in self.cond_ast:
                expr = self.condition(name)
                return None if expr is None else M.CondRef(name, expr, text, span=node.span)
            if name in self.fields and self.fields[name].kind == "bool":
                return M.IsTrue(name, text, span=node.span)
            kind = self.value_kind(name)
            if kind is not None:
                self.err("E213", f"`{name}` is a {kind[0]} field, not a condition", node.name.span,
                         help=f"compare it, e.g. `{name} >= ...`" if kind[0] == "number" else None)
                return None
            pool = [n for n, f in self.fields.items() if f.kind == "bool"] + list(self.cond_ast)
            self.unknown_name(node.name, "condition or yes/no field", pool + list(self.fields))
            return None
        if isinstance(node, A.Comparison):
            return self.comparison(node, text)
        if isinstance(node, A.Membership):
            return self.membership(node, text)
        if isinstance(node, A.IsProduct):
            return self.is_product(node, text)
        return None

    #: the record field a catalog product is named in
    PRODUCT_FIELD = "chip"

    def is_product(self, node: A.IsProduct, text: str):
        """`chip is "NAME"`: a product of the rules root's chip catalog (E231), with the
        catalog's figures for it; the catalog's file joins the ruleset's hash."""
        name = node.field.text
        if name != self.PRODUCT_FIELD or name not in self.fields:
            self.err("E231", f"`is` names a product of the chip catalog, tested on the `{self.PRODUCT_FIELD}` field, "
                     f"not on `{name}`", node.field.span, help=f'write e.g. `{self.PRODUCT_FIELD} is "NVIDIA H20"`')
            return None
        catalog = self.catalog(node)
        if catalog is None:
            return None
        wanted = node.product.value
        spec = catalog.lookup(wanted)
        if spec is None:
            guess = catalog.suggest(wanted)
            self.err("E231", f"no product `{wanted}` in the chip catalog `{display_name(Path(catalog.path))}`",
                     node.product.span,
                     help=f"did you mean `{guess}`?" if guess else "add a row for it to the catalog, "
                     "or test its figures instead")
            return None
        figures = tuple((k, v) for k, v in spec.fields().items() if k in self.fields)
        return M.IsProduct(name, spec.name, figures, text, span=node.span)

    def catalog(self, node):
        """The rules root's chip catalog (loaded once), or None after an error (E231)."""
        if hasattr(self, "_catalog"):
            return self._catalog
        self._catalog = None
        name = root_settings(self.root).get("catalog")
        if not isinstance(name, str):
            self.err("E231", "`is` asks the chip catalog, and the rules root names none", node.span,
                     help=f'add `catalog = "chips.csv"` to `{self.root / "chiprules.toml"}`')
            return None
        path = self.root / name
        marker = self.root / "chiprules.toml"
        if not path.resolve().is_relative_to(self.root.resolve()):  # as includes and lists are
            self.err("E209", f"the chip catalog `{name}` named in `{marker}` is outside the rules root "
                     f"`{self.root}`", node.span, help="keep the catalog inside the folder that holds `chiprules.toml`")
            return None
        if not path.is_file():
            self.err("E210", f"the chip catalog `{path}` named in `{marker}` does not exist", node.span)
            return None
        try:
            data = path.read_bytes()
            self._catalog = load_catalog(path)
        except (OSError, ChiprulesError) as exc:
            self.err("E231", f"the chip catalog `{name}` cannot be read: {getattr(exc, 'strerror', None) or exc}",
                     node.span, help="fix the catalog file the rules root's `chiprules.toml` names")
            return None
        self.data_digests.append(hashlib.sha256(data).digest())
        return self._catalog

    def operand(self, node, other_kind):
        """One side of a comparison -> (model operand, kind, dims, shown)."""
        if isinstance(node, A.Ref):
            name = node.name.text
            kind = self.value_kind(name)
            if kind is not None:
                return M.FieldRef(name), kind[0], kind[1]
            # a bare word on one side: an enum value, a country code, or yes/no
            if other_kind is not None and other_kind[0] == "bool" and name in BOOL_WORDS:
                return M.Const(BOOL_WORDS[name], name), "bool-value", None
            if other_kind is not None and other_kind[0] == "enum":
                return M.Const(name, name), "enum-value", None
            if other_kind is not None and other_kind[0] == "country":
                good, hint = check_code(name)
                if not good:
                    self.err("E206", f"unknown country code `{name}`", node.name.span, help=hint)
                    return None
                return M.Const(name, name), "country-value", None
            self.unknown_name(node.name, "field", [*self.fields, *self.derived_ast])
            return None
        if isinstance(node, A.Quantity):
            value, dims = self.quantity(node)
            if value is None:
                return None
            shown = node.number + (f" {node.unit}" if node.unit else "")
            return M.Const(value, shown), "number-value", (dims if node.unit else None)
        if isinstance(node, A.DateLit):
            d = self.date(node)
            if d is None:
                return None
            return M.Const(d, node.text), "date-value", None
        if isinstance(node, A.StrLit):
            return M.Const(node.value.value, f'"{node.value.value}"'), "text-value", None
        return None

    def comparison(self, node: A.Comparison, text: str):
        kinds = []
        for operand in node.operands:
            if isinstance(operand, A.Ref) and self.value_kind(operand.name.text) is not None:
                kinds.append(self.value_kind(operand.name.text))
            else:
                kinds.append(None)
        field_kind = next((k for k in kinds if k is not None), None)
        ops_ = []
        for operand in node.operands:
            res = self.operand(operand, field_kind)
            if res is None:
                return None
            ops_.append(res)
        if field_kind is None:
            self.err("E213", "a comparison needs a field on one side", node.span,
                     help="e.g. `tpp >= 4800`")
            return None
        # type agreement between consecutive operands
        pairs = zip(node.operands, node.operands[1:], strict=False)
        for (_, ka, da), (_, kb, db), op, (sa, sb) in zip(ops_, ops_[1:], node.ops, pairs, strict=False):
            if not self.compatible(ka, da, kb, db, op.value, node, sa, sb):
                return None
        parts = []
        for i, op in enumerate(node.ops):
            (a, _, _), (b, _, _) = ops_[i], ops_[i + 1]
            sub_text = text if len(node.ops) == 1 else self._piece(node, i)
            parts.append(self._normalized(a, op.value, b, sub_text, node.span))
        if len(parts) == 1:
            return parts[0]
        self.check_band(node, ops_)
        return M.And(tuple(parts), text, span=node.span)

    def _piece(self, node: A.Comparison, i: int) -> str:
        a, b = node.operands[i], node.operands[i + 1]
        return f"{_norm_text(a.span)} {node.ops[i].value} {_norm_text(b.span)}"

    _FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}

    def _normalized(self, a, op, b, text, span):
        if isinstance(a, M.Const) and isinstance(b, M.FieldRef):
            a, b, op = b, a, self._FLIP[op]
        if isinstance(a, M.FieldRef) and isinstance(b, M.Const) and op in ("==", "!=") \
                and a.name in self.fields and self.fields[a.name].kind == "country":
            # a country equality is membership of a one-country set, so that
            # `treat HK as CN` holds for `destination == CN` as it does for `in`
            members = self.with_aliases(frozenset({b.value}))
            return M.InSet(a.name, members, op == "!=", "{" + b.value + "}", text, span=span)
        return M.Cmp(a, op, b, text, span=span)

    def compatible(self, ka, da, kb, db, op, node, sa, sb) -> bool:
        ordered = op in (">=", ">", "<=", "<")
        pair = {ka, kb}
        if ka == "number" and kb == "number":
            if da != db:
                self.err("E204", f"cannot compare {dims_name(da)} with {dims_name(db)}", node.span,
                         help="both sides of a comparison must have the same dimension")
                return False
            return True
        if "number" in pair and "number-value" in pair:
            fd = da if ka == "number" else db
            vd = db if ka == "number" else da
            lit = sb if ka == "number" else sa
            if vd is None:
                if fd not in BARE_NUMBER_OK:
                    self.err("E205", f"missing unit: this quantity is measured in {dims_name(fd)}",
                             lit.span, help=f"write `{lit.number} {dims_name(fd)}`")
                    return False
                return True
            if vd != fd:
                self.err("E204", f"cannot compare {dims_name(fd)} with {dims_name(vd)}", lit.span,
                         help=f"this quantity is measured in {dims_name(fd)}")
                return False
            return True
        if "date" in pair and ("date-value" in pair or ka == kb):
            return True
        if pair <= {"country", "country-value"} or pair <= {"enum", "enum-value"} \
                or pair <= {"text", "text-value", "party"}:
            if ordered:
                self.err("E213", f"`{op}` does not apply to {ka if ka in M.KINDS else kb} values",
                         node.span, help="use `==`, `!=`, `in` or `not in`")
                return False
            if pair == {"enum", "enum-value"}:
                fk, lit = (sa, sb) if ka == "enum" else (sb, sa)
                values = self.fields[fk.name.text].values
                if lit.name.text not in values:
                    guess = did_you_mean(lit.name.text, values)
                    self.err("E213", f"`{lit.name.text}` is not a value of `{fk.name.text}`", lit.span,
                             help=f"did you mean `{guess}`?" if guess else f"values: {', '.join(values)}")
                    return False
            return True
        if "bool" in pair:
            self.err("E213", "yes/no fields are conditions on their own", node.span,
                     help="write `datacenter` or `not datacenter`")
            return False
        shown = {k.replace("-value", " value") for k in pair}
        self.err("E213", f"cannot compare {' with '.join(sorted(shown))}", node.span)
        return False

    def check_band(self, node: A.Comparison, ops_):
        (lo, _, _), _, (hi, _, _) = ops_
        if not (isinstance(lo, M.Const) and isinstance(hi, M.Const)):
            return
        o1, o2 = node.ops[0].value, node.ops[1].value
        up = {"<", "<="}
        down = {">", ">="}
        if (o1 in up) != (o2 in up) or o1 not in up | down:
            self.warn("W302", "a band must run one way, e.g. `2400 <= tpp < 4800`", node.span)
            return
        if o1 in down:
            lo, hi, o1, o2 = hi, lo, self._FLIP[o2], self._FLIP[o1]
        empty = lo.value > hi.value or (lo.value == hi.value and ("<" in (o1, o2)))
        if empty:
            self.warn("W302", f"empty threshold band: no value satisfies `{_norm_text(node.span)}`",
                      node.span, help="the lower bound must be below the upper bound")

    def check_satisfiable(self, node: M.And):
        """Warn about conjunctions of thresholds on one field that no value meets."""
        bounds: dict[str, list] = {}

        def walk(n):
            if isinstance(n, M.And):
                for i in n.items:
                    walk(i)
            elif isinstance(n, M.Cmp) and isinstance(n.left, M.FieldRef) and isinstance(n.right, M.Const) \
                    and isinstance(n.right.value, Decimal):
                bounds.setdefault(n.left.name, []).append((n.op, n.right.value))

        for item in node.items:
            walk(item)
        for fname, bs in bounds.items():
            lo, lo_strict, hi, hi_strict = None, False, None, False
            for op, v in bs:
                if op in (">", ">="):
                    if lo is None or v > lo or (v == lo and op == ">"):
                        lo, lo_strict = v, op == ">"
                elif op in ("<", "<="):
                    if hi is None or v < hi or (v == hi and op == "<"):
                        hi, hi_strict = v, op == "<"
                elif op == "==":
                    if (lo is not None and v < lo) or (hi is not None and v > hi):
                        lo, hi = v, v - 1
            if lo is not None and hi is not None and (lo > hi or (lo == hi and (lo_strict or hi_strict))):
                self.warn("W303", f"this condition can never hold: no `{fname}` meets all its thresholds",
                          node.span)
                return

    def membership(self, node: A.Membership, text: str):
        if not isinstance(node.value, A.Ref):
            self.err("E213", "`in` needs a field on its left", node.span, help="e.g. `destination in D5`")
            return None
        name = node.value.name.text
        kind = self.value_kind(name)
        if kind is None:
            self.unknown_name(node.value.name, "field", [*self.fields, *self.derived_ast])
            return None
        kind = kind[0]
        set_text = _norm_text(node.set.span)
        if kind == "country":
            members = self.country_set(node.set)
            if members is None:
                return None
            if not members and not node.negated:
                self.warn("W303", "this condition can never hold: the set is empty", node.span)
            return M.InSet(name, self.with_aliases(members), node.negated, set_text, text, span=node.span)
        if kind == "party":
            target = node.set.inner if isinstance(node.set, A.SetGroup) else node.set
            if not isinstance(target, A.SetRef):
                self.err("E213", "a party field is tested against one list", node.set.span,
                         help="e.g. `end_user in entity_list`")
                return None
            lname = target.name.text
            if not any(lst.name.text == lname for lst in self.list_ast):
                self.unknown_name(target.name, "party list", [lst.name.text for lst in self.list_ast])
                return None
            return M.InList(name, lname, node.negated, text, span=node.span)
        if kind == "enum":
            values = self.fields[name].values
            target = node.set.inner if isinstance(node.set, A.SetGroup) else node.set
            if not isinstance(target, A.SetLit):
                self.err("E213", f"`{name}` is tested against a set of its values", node.set.span,
                         help=f"e.g. `{name} in {{{', '.join(values[:2])}}}`")
                return None
            bad = [i for i in target.items if i.text not in values]
            for i in bad:
                guess = did_you_mean(i.text, values)
                self.err("E213", f"`{i.text}` is not a value of `{name}`", i.span,
                         help=f"did you mean `{guess}`?" if guess else f"values: {', '.join(values)}")
            if bad:
                return None
            return M.InSet(name, frozenset(i.text for i in target.items), node.negated, set_text, text,
                           span=node.span)
        self.err("E213", f"`in` does not apply to {kind} field `{name}`", node.span,
                 help="use `in` with country, party and one-of fields")
        return None

    # -- rules
    _ALLOWED = {
        A.RuleKind.CLASSIFY: {"cite", "effective", "until", "when", "excepts"},
        A.RuleKind.JURISDICTION: {"cite", "effective", "until", "when", "excepts"},
        A.RuleKind.REQUIRE: {"cite", "effective", "until", "items", "when", "excepts", "review", "allows"},
        A.RuleKind.EXCEPTION: {"cite", "effective", "until", "items", "when", "excepts", "notify"},
    }

    def rules(self):
        """Every rule, checked: AST rules -> model rules, by kind."""
        ids: dict[str, A.Rule] = {}
        out: dict[A.RuleKind, list[M.Rule]] = {k: [] for k in A.RuleKind}
        self.classified_ids = {r.id.text for r in self.rules_ast if r.kind is A.RuleKind.CLASSIFY}
        self.exception_names = {r.id.text for r in self.rules_ast if r.kind is A.RuleKind.EXCEPTION}
        for r in self.rules_ast:
            rid = r.id.text
            if rid in ids:
                prev = ids[rid].id.span
                line = prev.line if prev is not None else "?"
                self.err("E208", f"rule `{rid}` is already defined (line {line})", r.id.span,
                         help="join the conditions with `or`, or give the rule another name")
                continue
            ids[rid] = r
            rule = self.rule(r)
            if rule is not None:
                out[r.kind].append(rule)
        return out

    def rule(self, r: A.Rule) -> M.Rule | None:
        """One rule, checked clause by clause; None when it cannot be built."""
        rid = r.id.text
        for key, span in r.repeated:
            self.err("E216", f"`{key}` is given twice in rule `{rid}`", span)
        self.rule_clauses_allowed(r)
        r_eff, r_until = self.date(r.effective), self.date(r.until)
        if r_eff and r_until and r_until < r_eff:
            self.err("E212", f"rule `{rid}` ends (`until {r_until}`) before it takes effect", r.until.span)
        self.rule_clauses_present(r)
        self.in_classify = r.kind is A.RuleKind.CLASSIFY
        when = self.cond(r.when) if r.when is not None else M.TrueCond()
        excepts = []
        for ex in r.excepts:
            e = self.cond(ex.expr)
            if e is not None:
                excepts.append(M.Except(ex.label.value if ex.label else None, e, span=ex.span))
        self.in_classify = False
        if r.kind is A.RuleKind.CLASSIFY and contains(when, M.Classified):
            self.err("E224", "classification rules cannot depend on a classification", r.id.span,
                     help="a condition this rule uses tests `classified`; share a plain condition instead")
            return None
        items = self.rule_items(r)
        review = self.rule_review(r, when)
        allows = self.rule_allows(r)
        notify = [M.NotifyDuty(n.text.value, self.cond(n.condition) if n.condition is not None else None)
                  for n in r.notify]
        if when is None:
            return None
        return M.Rule(
            kind={A.RuleKind.CLASSIFY: "classify", A.RuleKind.JURISDICTION: "jurisdiction",
                  A.RuleKind.REQUIRE: "require",
                  A.RuleKind.EXCEPTION: "exception"}[r.kind],
            id=rid, title=r.title.value if r.title else None, cite=r.cite.value if r.cite else None,
            effective=r_eff, until=r_until, items=items, when=when,
            excepts=tuple(excepts), review=review, allows=allows, notify=tuple(notify), span=r.id.span,
        )

    def rule_clauses_allowed(self, r: A.Rule) -> None:
        """E216 for each clause the kind of rule does not take."""
        present = {
            "cite": r.cite, "effective": r.effective, "until": r.until, "items": r.items,
            "when": r.when, "excepts": r.excepts or None, "review": r.review, "allows": r.allows,
            "notify": r.notify or None,
        }
        allowed = self._ALLOWED[r.kind]
        clause_span = {
            "items": r.items[0].span if r.items else None, "when": getattr(r.when, "span", None),
            "excepts": r.excepts[0].span if r.excepts else None,
            "review": r.review.span if r.review else None,
            "allows": r.allows[0].span if r.allows else None,
            "notify": r.notify[0].span if r.notify else None,
            "cite": r.cite.span if r.cite else None,
        }
        belongs = {"review": "licence requirements", "allows": "licence requirements",
                   "notify": "licence exceptions", "for": "requirements and exceptions"}
        for key, val in present.items():
            if val is not None and key not in allowed:
                word = {"items": "for", "excepts": "except"}.get(key, key)
                article = "an" if r.kind.value[0] in "aeiou" else "a"
                self.err("E216", f"{article} `{r.kind.value}` rule has no `{word}` clause",
                         clause_span.get(key) or r.id.span,
                         help=f"`{word}` belongs to " + belongs.get(word, "other rules"))

    def rule_clauses_present(self, r: A.Rule) -> None:
        """W301 without a citation; E217 without the clauses its kind needs."""
        rid = r.id.text
        if r.cite is None:
            self.warn("W301", f"rule `{rid}` has no citation", r.id.span,
                      help='add `cite "15 CFR ..."` naming the paragraph it encodes')
        if r.when is None and r.kind is not A.RuleKind.REQUIRE:
            self.err("E217", f"rule `{rid}` has no `when` clause", r.id.span,
                     help="say when it applies, e.g. `when tpp >= 4800`")
        if r.kind is A.RuleKind.REQUIRE and r.review is None:
            self.err("E217", f"licence requirement `{rid}` has no `review` policy", r.id.span,
                     help="e.g. `review presumption_of_denial`")

    def rule_items(self, r: A.Rule) -> tuple[str, ...] | None:
        """The ECCNs of a `for` clause, each one some rule classifies (E214)."""
        if r.items is None:
            return None
        for i in r.items:
            if not any(M.eccn_covers(i.text, c) for c in self.classified_ids):
                guess = did_you_mean(i.text, self.classified_ids)
                self.err("E214", f"no rule classifies items as `{i.text}`", i.span,
                         help=f"did you mean `{guess}`?" if guess else "add a `classify` rule for it")
        return tuple(i.text for i in r.items)

    def rule_review(self, r: A.Rule, when) -> M.ReviewSpec | None:
        """The review clause: its arms in order and the `otherwise` policy (E229), no arm
        after one that always holds (E230); `listed` only where the rule tests a list (E219)."""
        rv = r.review
        if rv is None:
            return None
        arms = []
        for arm in rv.arms:
            c = self.cond(arm.condition)
            if c is None:
                return None
            arms.append(M.ReviewArm(arm.policy, c, span=arm.span))
        if rv.otherwise is None:
            self.err("E229", "this review has no `otherwise` policy: a record for which no arm holds "
                     "would have none", rv.arms[-1].span if rv.arms else rv.span,
                     help="end the review with e.g. `, otherwise presumption_of_denial`")
            return None
        for i, arm in enumerate(arms):
            if always_holds(arm.condition):
                later = "the arms after it and `otherwise` are" if i + 1 < len(arms) else "`otherwise` is"
                self.err("E230", f"this arm always holds, so {later} never used", arm.span,
                         help="make its policy the `otherwise` policy, or narrow its condition")
                return None
        if "listed" in (*(a.policy for a in rv.arms), rv.otherwise) and not tests_list(when):
            self.err("E219", "`review listed` takes the policy of a matched list entry, "
                     "but this rule tests no list", rv.span,
                     help="add e.g. `when end_user in entity_list`")
        return M.ReviewSpec(tuple(arms), rv.otherwise)

    def rule_allows(self, r: A.Rule) -> frozenset[str]:
        """The exceptions an `allows` clause names, each one declared (E215)."""
        if r.allows is None:
            return frozenset()
        for a in r.allows:
            if a.text not in self.exception_names:
                guess = did_you_mean(a.text, self.exception_names)
                self.err("E215", f"unknown licence exception `{a.text}`", a.span,
                         help=f"did you mean `{guess}`?" if guess else "declare it with `exception NAME`")
        return frozenset(a.text for a in r.allows)

    # -- quotas
    _KEY_KINDS = ("text", "party", "country", "enum", "bool")

    def quotas(self, rules) -> list[M.Quota]:
        """Every quota, checked: what it governs exists, its keys are fields, its amount and
        limit have one unit, its period makes sense (E240-E245)."""
        out, names = [], {}
        requirements = {r.id for r in rules[A.RuleKind.REQUIRE]}
        exceptions = {r.id for r in rules[A.RuleKind.EXCEPTION]}
        # rules written but in error: their own diagnostics say why; a quota on one adds none
        self.rules_in_error = {it.id.text for m in self.loaded.modules for it in m.items
                               if isinstance(it, A.Rule)} - requirements - exceptions
        for q in self.quotas_ast:
            name = q.name.text
            if name in names:
                self.err("E208", f"quota `{name}` is already defined (line {names[name]})", q.name.span)
                continue
            names[name] = q.name.span.line if q.name.span is not None else "?"
            quota = self.quota(q, requirements, exceptions)
            if quota is not None:
                out.append(quota)
        return out

    def quota(self, q: A.Quota, requirements, exceptions) -> M.Quota | None:
        name = q.name.text
        ok = True
        for key, span in q.repeated:
            self.err("E216", f"`{key}` is given twice in quota `{name}`", span)
            ok = False
        if q.cite is None:
            self.warn("W301", f"quota `{name}` has no citation", q.name.span,
                      help='add `cite "15 CFR ..."` naming the paragraph it encodes')
        for clause, present in (("governs", q.governs), ("counts", q.counts), ("per", q.per),
                                ("period", q.period), ("within", q.limit or q.share)):
            if present is None:
                what = "period (`yearly`, `from ... until ...` or `cumulative`)" if clause == "period" else f"`{clause}` clause"
                self.err("E240", f"quota `{name}` has no {what}", q.name.span, help=_QUOTA_HELP[clause])
                ok = False
        governed = q.governed.text if q.governed is not None else None
        if governed in getattr(self, "rules_in_error", ()):
            ok = False
        elif q.governs == "exception" and governed not in exceptions:
            guess = did_you_mean(governed, exceptions)
            self.err("E241", f"quota `{name}` governs unknown licence exception `{governed}`", q.governed.span,
                     help=f"did you mean `{guess}`?" if guess else "declare it with `exception NAME`")
            ok = False
        elif q.governs == "license" and governed not in requirements:
            guess = did_you_mean(governed, requirements)
            self.err("E241", f"quota `{name}` governs unknown licence requirement `{governed}`",
                     q.governed.span,
                     help=f"did you mean `{guess}`?" if guess else "declare it with `require license NAME`")
            ok = False
        if q.otherwise == "listed":
            self.err("E219", "a quota's `otherwise` names a review policy, not `listed`", q.governed.span)
            ok = False
        when = self.cond(q.when) if q.when is not None else M.TrueCond()
        fed = self.cond(q.fed) if q.fed is not None else None
        if when is None or (q.fed is not None and fed is None):
            ok = False
        per = []
        for key in q.per or ():
            f = self.fields.get(key.text)
            if f is None:
                self.unknown_name(key, "field", [n for n, f in self.fields.items() if f.kind in self._KEY_KINDS])
                ok = False
            elif f.kind not in self._KEY_KINDS:
                self.err("E242", f"a quota is kept per a name, country, kind or yes/no; `{key.text}` is a "
                         f"{f.kind} field", key.span,
                         help="key it by e.g. `consignee`, `destination` or `chip`")
                ok = False
            elif key.text in per:
                self.err("E242", f"`{key.text}` is named twice in `per`", key.span)
                ok = False
            else:
                per.append(key.text)
        counted = self.arith(q.counts) if q.counts is not None else None
        if q.counts is not None and counted is None:
            ok = False
        start, end = self.date(q.start), self.date(q.end)
        if q.period == "span" and start and end and end < start:
            self.err("E243", f"quota `{name}`'s period ends ({end}) before it starts ({start})", q.end.span,
                     help="write `from FIRST-DAY until LAST-DAY`")
            ok = False
        limit = share = None
        unit = ""
        if counted is not None:
            unit = "" if counted[1] == DIMENSIONLESS else dims_name(counted[1])
        if q.limit is not None:
            value, dims = self.quantity(q.limit)
            if value is None:
                ok = False
            elif counted is not None and dims != counted[1]:
                have = "a plain number" if dims == DIMENSIONLESS else dims_name(dims)
                self.err("E220", f"quota `{name}` counts {dims_name(counted[1])} but its limit is {have}",
                         q.limit.span, help=f"write the limit in {dims_name(counted[1])}"
                         if counted[1] != DIMENSIONLESS else "write the limit as a plain number")
                ok = False
            elif value <= 0:
                self.err("E244", f"quota `{name}`'s limit must be above zero", q.limit.span)
                ok = False
            limit = value
        if q.share is not None:
            value, _ = self.quantity(q.share)
            if value is None:
                ok = False
            elif value <= 0:
                self.err("E244", f"quota `{name}`'s share must be above zero", q.share.span)
                ok = False
            share = value
            if q.fed is None:
                self.err("E245", f"quota `{name}` limits a share ({q.share.number} %) but does not say of what",
                         q.share.span, help="add `fed when CONDITION`: the records whose amounts make the total it is a share of")
                ok = False
        elif q.fed is not None:
            self.err("E245", f"quota `{name}` has `fed when` but a fixed limit", q.fed.span,
                     help="`fed when` goes with a share limit, e.g. `within 50 %`")
            ok = False
        if not ok:
            return None
        return M.Quota(
            name, q.title.value if q.title else None, q.cite.value if q.cite else None, q.governs, governed,
            M.Policy(q.otherwise) if q.otherwise else None, when, counted[0], tuple(dict.fromkeys(counted[2])),
            unit, tuple(per), q.period, start, end, limit, share, fed, span=q.name.span,
        )

    # -- examples
    def examples(self, rules) -> list[M.ExampleCase]:
        out = []
        names = set()
        classified = {r.id for r in rules[A.RuleKind.CLASSIFY]}
        exception_names = {r.id for r in rules[A.RuleKind.EXCEPTION]}
        jurisdiction_names = {r.id for r in rules[A.RuleKind.JURISDICTION]}
        for ex in self.examples_ast:
            if ex.name.value in names:
                self.err("E208", f"example `{ex.name.value}` is already defined", ex.name.span)
            names.add(ex.name.value)
            record, ok = {}, True
            for pair in ex.record:
                value = self.example_value(pair)
                if value is _BAD:
                    ok = False
                else:
                    record[pair.name.text] = value
            e = ex.expect
            for group, pool, code in (
                (e.classified, None, "E214"), (e.exceptions, exception_names, "E215"),
                (e.jurisdiction, jurisdiction_names, "E215"),
                (e.missing, set(self.fields) | set(self.derived_ast), "E203"),
                (e.possible, {n for n, f in self.fields.items() if f.kind == "party"}, "E203"),
                (e.unsettled, {n for n, c in self.cond_ast.items() if c.unsettled}, "E202"),
                (e.notify, exception_names, "E215"),
            ):
                for i in group or ():
                    if pool is None:
                        if not any(M.eccn_covers(i.text, c) for c in classified):
                            self.err(code, f"no rule classifies items as `{i.text}`", i.span)
                            ok = False
                    elif i.text not in pool:
                        guess = did_you_mean(i.text, pool)
                        self.err(code, f"unknown name `{i.text}`", i.span,
                                 help=f"did you mean `{guess}`?" if guess else None)
                        ok = False
            if e.review == "listed":
                self.err("E219", "an example expects a concrete review policy", e.span)
                ok = False
            if not ok:
                continue
            spec = M.ExpectSpec(
                e.outcome,
                tuple(i.text for i in e.classified) if e.classified is not None else None,
                e.review,
                tuple(i.text for i in e.exceptions) if e.exceptions is not None else None,
                tuple(i.text for i in e.missing) if e.missing is not None else None,
                tuple(i.text for i in e.possible) if e.possible is not None else None,
                tuple(i.text for i in e.unsettled) if e.unsettled is not None else None,
                tuple(i.text for i in e.notify) if e.notify is not None else None,
                tuple(i.text for i in e.jurisdiction) if e.jurisdiction is not None else None,
            )
            out.append(M.ExampleCase(ex.name.value, record, spec, span=ex.name.span))
        return out

    def example_value(self, pair: A.Pair):
        name = pair.name.text
        v = pair.value
        f = self.fields.get(name)
        if f is None:
            if name in self.derived_ast and isinstance(v, A.Quantity):
                d = self.derive(name)
                value, dims = self.quantity(v)
                if d is not None and v.unit is not None and dims != self._dims_of(d):
                    self.err("E204", f"`{name}` is measured in {d.unit}", v.span)
                    return _BAD
                return value
            guess = did_you_mean(name, [*self.fields, *self.derived_ast])
            self.err("E221", f"unknown record field `{name}`", pair.name.span,
                     help=f"did you mean `{guess}`?" if guess else None)
            return _BAD
        kind = f.kind
        if kind in ("number", "integer") and isinstance(v, A.Quantity):
            value, dims = self.quantity(v)
            want = UNITS[f.unit].dims if f.unit else DIMENSIONLESS
            if v.unit is not None and dims != want:
                self.err("E204", f"`{name}` is measured in {dims_name(want)}, not {v.unit}", v.span)
                return _BAD
            if kind == "integer" and value != value.to_integral_value():
                self.err("E221", f"`{name}` must be a whole number", v.span)
                return _BAD
            return int(value) if kind == "integer" else value
        if kind == "bool" and isinstance(v, A.Ref) and v.name.text in BOOL_WORDS:
            return BOOL_WORDS[v.name.text]
        if kind == "country" and isinstance(v, A.Ref):
            good, hint = check_code(v.name.text)
            if not good:
                self.err("E206", f"unknown country code `{v.name.text}`", v.span, help=hint)
                return _BAD
            return v.name.text
        if kind == "enum" and isinstance(v, A.Ref):
            if v.name.text not in f.values:
                self.err("E213", f"`{v.name.text}` is not a value of `{name}`", v.span,
                         help=f"values: {', '.join(f.values)}")
                return _BAD
            return v.name.text
        if kind == "date" and isinstance(v, A.DateLit):
            d = self.date(v)
            return _BAD if d is None else d
        if kind in ("text", "party") and isinstance(v, A.StrLit):
            return v.value.value
        wanted = {"number": "a number", "integer": "a whole number", "bool": "yes or no",
                  "country": "a country code", "enum": "one of " + ", ".join(f.values),
                  "date": "a date", "text": 'a quoted string', "party": "a quoted name"}[kind]
        self.err("E221", f"`{name}` takes {wanted}", v.span)
        return _BAD

    # -- header
    def header_info(self, as_version: bool):
        h = self.header
        if h is None:
            if as_version:
                self.diags.append(error(
                    "E218", "missing `ruleset` header", Span(self.loaded.modules[0].source, 0, 0)
                    if self.loaded.modules else None,
                    help='start the file with `ruleset NAME version DATE effective DATE source "FR cite"`',
                ))
            return None
        for key, span in h.repeated:
            self.err("E216", f"`{key}` is given twice in the header", span)
        effective = self.date(h.effective)
        until = self.date(h.until)
        if h.effective is None and as_version:
            self.err("E218", f"ruleset `{h.name.text}` has no `effective` date", h.name.span,
                     help="add `effective YYYY-MM-DD`: records are decided by the version in force")
        if effective and until and until < effective:
            self.err("E212", "`until` is before `effective`", h.until.span)
        if h.source is None:
            self.warn("W301", f"ruleset `{h.name.text}` has no `source`", h.name.span,
                      help='add `source "88 FR 73458"` naming the Federal Register notice')
        return effective, until


_BAD = object()

#: Party-list files already read in this process: versions that share a list read it once.
_PARTY_FILES = Memo(64)


def _party_file(path: Path, csl: bool, list_name: str) -> tuple[tuple[PartyEntry, ...], bytes]:
    """The entries of a party-list file and its SHA-256 (for the ruleset's hash), read once
    per process for as long as the file is unchanged."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, csl, list_name)
    hit = _PARTY_FILES.get(key)
    if hit is None:
        loaded = load_csl(path) if csl else load_party_csv(path, list_name)
        if csl:
            loaded = tuple(attrs.evolve(e, list_name=list_name) for e in loaded)
        hit = _PARTY_FILES.remember(key, (loaded, hashlib.sha256(path.read_bytes()).digest()))
    return hit


DEFAULT_MATCH, DEFAULT_POSSIBLE = 90.0, 75.0


@attrs.define
class Analysis:
    """Everything checking one file learnt, kept for tools that answer questions about the
    text (an editor's hover and go-to-definition): the files read, the checker's tables
    (filled as far as checking got, errors or not), the model when there was no error, and
    the diagnostics, exactly as :func:`check_file` reports them."""

    path: Path
    root: Path
    loaded: Loaded
    diags: list[Diagnostic]
    checker: _Checker | None = None
    rules: dict | None = None
    examples: list | None = None
    ruleset: M.CheckedRuleset | None = None


def check_file(path: Path | str, root: Path | None = None, *, as_version: bool | None = None,
               text: str | None = None) -> tuple[M.CheckedRuleset | None, list[Diagnostic]]:
    """Parse and check one file (with its includes).

    ``as_version``: require a `ruleset` header (None: require it only if the
    file has one, so that included fragments check on their own).
    ``text``: check this text in place of the file's contents (an editor's
    unsaved buffer); its includes are still read from beside ``path``.
    Returns the model (None if there were errors) and all diagnostics.
    """
    texts = None if text is None else {Path(path).resolve(): text}
    a = analyse(path, root, as_version=as_version, texts=texts)
    return a.ruleset, a.diags


def load_files(path: Path | str, root: Path | None = None, *, texts: Mapping[Path, str] | None = None,
               parse=parse_source) -> tuple[Path, Loaded]:
    """Read and parse a file and its includes, without checking them: the rules root and
    what was read."""
    path = Path(path)
    root = (root or find_root(path)).resolve()
    loaded = Loaded(texts, parse)
    _load(path, root, loaded, [], set())
    return root, loaded


def analyse(path: Path | str, root: Path | None = None, *, as_version: bool | None = None,
            texts: Mapping[Path, str] | None = None, parse=parse_source) -> Analysis:
    """Check one file as :func:`check_file` does, keeping what was learnt on the way.

    ``texts`` gives texts by resolved path to read instead of the files (unsaved
    buffers); ``parse`` may be a memo of :func:`parse_source`."""
    path = Path(path)
    root, loaded = load_files(path, root, texts=texts, parse=parse)
    out = Analysis(path, root, loaded, loaded.diags)
    if not loaded.modules or any(d.is_error for d in loaded.diags if d.code < "E200"):
        return out
    c = _Checker(loaded, root, path)
    out.checker = c
    c.collect()
    if as_version is None:
        as_version = c.header is not None
    info = c.header_info(as_version)
    c.resolve_groups()
    c.resolve_defaults()
    c.resolve_derived()
    c.resolve_lists()
    c.resolve_conditions()
    rules = out.rules = c.rules()
    examples = out.examples = c.examples(rules)
    quotas = c.quotas(rules)
    diags = out.diags = c.diags
    if any(d.is_error for d in diags):
        return out
    h = c.header
    effective, until = info if info else (None, None)
    digest = hashlib.sha256()
    for t in loaded.texts:
        digest.update(hashlib.sha256(t).digest())
    for d in c.data_digests:  # the SHA-256 of each data file read
        digest.update(d)
    settings = root_settings(root)
    catalog = settings.get("catalog")
    catalog_path = str((root / catalog).resolve()) if isinstance(catalog, str) else None
    version = None
    if h is not None:
        version = h.version or (h.effective.text if h.effective else h.name.text)
    ruleset = M.CheckedRuleset(
        name=h.name.text if h else path.stem,
        title=h.title.value if h and h.title else None,
        version=version or path.stem,
        effective=effective,
        until=until,
        source=h.source.value if h and h.source else None,
        supersedes=h.supersedes if h else None,
        timeline=h.timeline if h else None,
        fields=c.fields,
        derived=c.derived,
        groups=c.groups,
        group_titles=c.group_titles,
        treat=c.treat,
        lists=c.lists,
        conditions=c.conds,
        classify=tuple(rules[A.RuleKind.CLASSIFY]),
        jurisdiction=tuple(rules[A.RuleKind.JURISDICTION]),
        requirements=tuple(rules[A.RuleKind.REQUIRE]),
        exceptions=tuple(rules[A.RuleKind.EXCEPTION]),
        examples=tuple(examples),
        quotas=tuple(quotas),
        files=tuple(loaded.files),
        content_hash=digest.hexdigest()[:16],
        root=str(root),
        catalog_path=catalog_path,
        path=str(path),
    )
    out.ruleset = ruleset
    return out


_NEGATED_OP = {"<": ">=", ">": "<=", "!=": "=="}


def _atom_key(node) -> tuple[object, bool]:
    """An atom as (what it tests, whether it holds where that test does): `x not in S` is
    `not (x in S)`, `x < 5` is `not (x >= 5)`, so a formula and its negation meet."""
    t = type(node)
    if t is M.InSet:
        return ("in", node.field, node.members), not node.negated
    if t is M.InList:
        return ("list", node.field, node.list), not node.negated
    if t is M.Cmp:
        op = _NEGATED_OP.get(node.op)
        return ("cmp", node.left, op or node.op, node.right), op is None
    return node, True


def always_holds(cond, limit: int = 10) -> bool:
    """Whether a condition holds whatever its atoms are (`a or not a`, `x not in {}`),
    read as a formula over its atoms; False when it has more than ``limit`` atoms."""
    found: list = []
    for a in atoms(cond):
        key = _atom_key(a)[0]
        if key not in found:
            found.append(key)
    if len(found) > limit:
        return False

    def value(node, env):
        t = type(node)
        if t is M.And:
            return all(value(i, env) for i in node.items)
        if t is M.Or:
            return any(value(i, env) for i in node.items)
        if t is M.Not:
            return not value(node.operand, env)
        if t is M.CondRef:
            return value(node.expr, env)
        if t is M.TrueCond:
            return True
        if t is M.InSet and not node.members:
            return node.negated
        key, holds = _atom_key(node)
        return env[found.index(key)] == holds

    return all(value(cond, [(n >> i) & 1 == 1 for i in range(len(found))]) for n in range(1 << len(found)))


_QUOTA_HELP = {
    "governs": "say what it governs: `governs exception NAME`, or `governs license NAME otherwise POLICY`",
    "counts": "say what each record draws, e.g. `counts tpp * quantity`",
    "per": "say what the total is kept per, e.g. `per consignee`",
    "period": "give its period: `yearly` (a calendar year), `from FIRST-DAY until LAST-DAY` or `cumulative`",
    "within": "give its limit with its unit, e.g. `within 26900000 TPP`, or a share, e.g. `within 50 %`",
}


def all_codes() -> frozenset[str]:
    return all_country_codes()
