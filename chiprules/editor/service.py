"""The language service: answers about `.rules` texts, with no protocol in sight.

A :class:`Workspace` holds a rules root and the texts an editor has open (which may differ
from the files). Every answer comes from the parser, the checker and the formatter: a
document is checked exactly as `chiprules check` checks the same text saved to its file,
keeping what the checker learnt (:class:`chiprules.lang.checker.Analysis`) for hover,
definitions and completion. Parsed texts are remembered, so a keystroke re-parses only
the file it changed.

Positions are offsets into a file's text; :mod:`chiprules.editor.text` converts them to an
editor's lines and columns.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

import attrs

from chiprules.core.diagnostics import Diagnostic, sort_and_cap
from chiprules.core.errors import ChiprulesError
from chiprules.core.memo import Memo
from chiprules.core.source import Source
from chiprules.editor import index as I
from chiprules.lang import ast as A
from chiprules.lang.checker import (
    ROOT_MARKER,
    Analysis,
    analyse,
    display_name,
    find_root,
    load_files,
)
from chiprules.lang.formatter import format_text
from chiprules.lang.parser import StatementTrees, lark_parser

MAX_WORKSPACE_FILES = 5000

#: Garbage-collector thresholds for a long-lived editor process. Its memories hold many
#: small objects (parse trees, checked rulesets), and with the default thresholds full
#: collections came often enough to make one keystroke in ten take 0.7 s instead of 0.2 s
#: on a 2,000-line file.
GC_THRESHOLDS = (50_000, 20, 100)
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@functools.lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """The reserved words, read off the grammar."""
    return frozenset(
        t.pattern.value for t in lark_parser().terminals
        if t.pattern.type == "str" and t.pattern.value.isidentifier()
    )


def field_type_text(ft: A.FieldType) -> str:
    if ft.kind == "number":
        return f"number {ft.unit}"
    if ft.kind == "enum":
        return "one of " + ", ".join(v.text for v in ft.values)
    return ft.kind


@attrs.frozen
class Location:
    path: Path
    start: int
    end: int


@attrs.frozen
class Edit:
    path: Path
    start: int
    end: int
    new_text: str


@attrs.frozen
class FileDiagnostic:
    """A checker diagnostic placed in a file: offsets into that file's text as checked."""

    path: Path | None
    start: int
    end: int
    text: str  # the text the offsets count in
    diagnostic: Diagnostic


@attrs.frozen
class Hover:
    markdown: str
    start: int
    end: int


@attrs.frozen
class Completion:
    label: str
    kind: str  # keyword, field, group, list, condition, country, unit, eccn, rule, value, type
    detail: str | None = None
    documentation: str | None = None
    insert_text: str | None = None


@attrs.frozen
class Symbol:
    name: str
    kind: str
    detail: str | None
    start: int
    end: int
    selection_start: int
    selection_end: int
    children: tuple = ()


@attrs.frozen
class CodeAction:
    title: str
    edits: tuple[Edit, ...]
    diagnostic: FileDiagnostic | None = None


class RenameError(ChiprulesError):
    """A rename that cannot be done, with the reason in words."""


class Workspace:
    """A rules root and the documents open in an editor."""

    def __init__(self, root: Path | None = None):
        self.root = root.resolve() if root is not None else None
        self.docs: dict[Path, str] = {}
        self.generation = 0
        self._parsed: Memo = Memo(512)
        self._trees = StatementTrees()
        self._analyses: Memo = Memo(16)  # a few generations: each holds a whole checked ruleset
        self._occurrences: Memo = Memo(512)
        self._examples: Memo = Memo(32)
        self._last_parsed: dict[Path, Analysis] = {}

    # -- documents
    def open(self, path: Path, text: str) -> None:
        self.docs[path.resolve()] = text
        self.generation += 1

    change = open

    def files_changed(self) -> None:
        """Files changed on disk: what was read from them is read again."""
        self.generation += 1

    def close(self, path: Path) -> None:
        self.docs.pop(path.resolve(), None)
        self._last_parsed.pop(path.resolve(), None)
        self.generation += 1

    def text_of(self, path: Path) -> str | None:
        path = path.resolve()
        if path in self.docs:
            return self.docs[path]
        try:
            return path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return None

    def root_of(self, path: Path) -> Path:
        return find_root(path)

    # -- parsing and checking, remembered
    def parse(self, source: Source):
        key = (source.name, source.path, source.text)
        hit = self._parsed.get(key)
        if hit is None:
            hit = self._parsed.remember(key, self._trees.parse(source))
        return hit

    def analysis(self, path: Path) -> Analysis:
        path = path.resolve()
        key = (path, self.generation)
        hit = self._analyses.get(key)
        if hit is None:
            hit = self._analyses.remember(key, analyse(path, texts=self.docs, parse=self.parse))
            if self.module_of(hit, path) is not None:
                self._last_parsed[path] = hit
        return hit

    def names_analysis(self, path: Path) -> Analysis:
        """The analysis to look names up in: the current one when the document parses,
        else the last one that did (a half-typed statement does not parse, and completion
        is wanted exactly then)."""
        path = path.resolve()
        a = self.analysis(path)
        if self.module_of(a, path) is None and path in self._last_parsed:
            return self._last_parsed[path]
        return a

    def occurrences(self, module: A.Module) -> list[I.Occurrence]:
        key = id(module)
        hit = self._occurrences.get(key)
        if hit is None or hit[0] is not module:
            hit = self._occurrences.remember(key, (module, I.occurrences(module)))
        return hit[1]

    def module_of(self, a: Analysis, path: Path) -> A.Module | None:
        path = path.resolve()
        for m in a.loaded.modules:
            if m.source is not None and m.source.path is not None and m.source.path.resolve() == path:
                return m
        return None

    def workspace_files(self, path: Path) -> list[Path]:
        """Every `.rules` file under the rules root of ``path``, and the open ones. Without a
        `chiprules.toml` above it, a file's root is its own folder, and only that folder's
        files are read (not every folder below, which may be a whole home directory)."""
        root = self.root or self.root_of(path)
        found = root.rglob("*.rules") if (root / ROOT_MARKER).is_file() else root.glob("*.rules")
        files = set()
        for p in found:
            if len(files) >= MAX_WORKSPACE_FILES:
                break
            if p.is_file():
                files.add(p.resolve())
        files |= {p for p in self.docs if p.is_relative_to(root)}
        return sorted(files)

    def closure(self, path: Path) -> list[A.Module]:
        """The modules of a file and its includes, parsed but not checked."""
        _, loaded = load_files(path, texts=self.docs, parse=self.parse)
        return loaded.modules


# ---- diagnostics ------------------------------------------------------------------------

_LOCATION = re.compile(r"(.*?):(\d+)(?::(\d+))?\Z")


def diagnostics(ws: Workspace, path: Path) -> list[FileDiagnostic]:
    """The diagnostics of `chiprules check` on the document's text, in its order and cap,
    each placed in the file it is about."""
    path = path.resolve()
    a = ws.analysis(path)
    shown, _ = sort_and_cap(a.diags)
    out = []
    for d in shown:
        if d.span is not None:
            src = d.span.source
            out.append(FileDiagnostic(src.path.resolve() if src.path else path, d.span.start, d.span.end,
                                      src.text, d))
            continue
        # a diagnostic about a whole file, or a line of a data file: `name[:line[:col]]`
        where, line, col = d.location or "", 1, 1
        m = _LOCATION.match(where)
        if m:
            where, line, col = m.group(1), int(m.group(2)), int(m.group(3) or 1)
        target = path
        if where and where != display_name(path):
            candidate = Path(where)
            if candidate.is_file():
                target = candidate.resolve()
        text = ws.text_of(target) or ""
        starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        off = starts[min(line, len(starts)) - 1] + col - 1 if starts else 0
        off = min(off, len(text))
        out.append(FileDiagnostic(target, off, off, text, d))
    return out


# ---- names: what an occurrence refers to ------------------------------------------------


@attrs.frozen(eq=False)
class Found:
    """An occurrence with the file it is in."""

    path: Path
    occ: I.Occurrence

    @property
    def location(self) -> Location:
        return Location(self.path, self.occ.start, self.occ.end)


def _module_path(m: A.Module) -> Path:
    return m.source.path.resolve()


def declarations(ws: Workspace, modules: Iterable[A.Module]) -> dict[tuple[str, str], list[Found]]:
    out: dict[tuple[str, str], list[Found]] = {}
    for m in modules:
        if m.source is None or m.source.path is None:
            continue
        p = _module_path(m)
        for o in ws.occurrences(m):
            if o.declares:
                out.setdefault((o.role, o.text), []).append(Found(p, o))
    return out


def resolve(ws: Workspace, decls: dict, occ: I.Occurrence, here: Path) -> list[Found]:
    """The declarations an occurrence refers to (itself when it declares)."""
    if occ.role == I.INCLUDE:
        target = (here.parent / occ.text).resolve()
        if target.is_file() or target in ws.docs:
            return [Found(target, I.Occurrence(occ.text, 0, 0, I.INCLUDE, True, "file"))]
        return []
    if occ.role == I.ECCN:
        hits = [f for (role, text), fs in decls.items() if role == I.ECCN
                and (text == occ.text or text.startswith(occ.text + ".")) for f in fs]
        return sorted(hits, key=lambda f: f.occ.text)
    if occ.role == I.NAME:
        return decls.get((I.NAME, occ.text)) or decls.get((I.ENUM, occ.text)) or []
    if occ.role == I.QUANTITY:
        return []
    return list(decls.get((occ.role, occ.text), []))


def occurrence_at(ws: Workspace, path: Path, offset: int):
    path = path.resolve()
    a = ws.names_analysis(path)
    m = ws.module_of(a, path)
    if m is None:
        return a, None, None
    text = ws.text_of(path)
    if text is not None and m.source.text[: offset + 64] != text[: offset + 64]:
        return a, m, None  # the last text that parsed differs before the cursor: no safe answer
    return a, m, I.at(ws.occurrences(m), offset)


def definition(ws: Workspace, path: Path, offset: int) -> list[Location]:
    a, m, occ = occurrence_at(ws, path, offset)
    if occ is None:
        return []
    decls = declarations(ws, a.loaded.modules)
    return [f.location for f in resolve(ws, decls, occ, path.resolve())]


def _same(a: Found, b: Found) -> bool:
    return a.path == b.path and a.occ.start == b.occ.start


def references(ws: Workspace, path: Path, offset: int, include_declaration: bool = True) -> list[Location]:
    """Every place in the workspace that names what is under the cursor."""
    return [f.location for f in _references(ws, path, offset, include_declaration)]


def _references(ws: Workspace, path: Path, offset: int, include_declaration: bool) -> list[Found]:
    path = path.resolve()
    a, m, occ = occurrence_at(ws, path, offset)
    if occ is None or occ.role == I.QUANTITY:
        return []
    targets = resolve(ws, declarations(ws, a.loaded.modules), occ, path)
    if not targets:
        return []
    found: dict[tuple[Path, int], Found] = {}
    for f in ws.workspace_files(path):
        modules = ws.closure(f)
        if not any(_module_path(mm) in {t.path for t in targets} for mm in modules if mm.source.path):
            continue
        decls = declarations(ws, modules)
        for mm in modules:
            if mm.source is None or mm.source.path is None:
                continue
            p = _module_path(mm)
            for o in ws.occurrences(mm):
                if o.role != occ.role and not {o.role, occ.role} <= {I.NAME, I.ENUM}:
                    continue
                if o.role == I.QUANTITY or (o.declares and not include_declaration):
                    continue
                if o.role not in (I.ECCN, I.INCLUDE) and o.text != occ.text:
                    continue  # (an ECCN names its paragraphs; include paths are relative)
                here = resolve(ws, decls, o, p)
                if any(_same(h, t) for h in here for t in targets):
                    found[(p, o.start)] = Found(p, o)
    return sorted(found.values(), key=lambda f: (str(f.path), f.occ.start))


# ---- rename -------------------------------------------------------------------------------

RENAMABLE = {"condition", "group", "list", "derived quantity"}


def prepare_rename(ws: Workspace, path: Path, offset: int) -> tuple[int, int, str]:
    """The span and name a rename would change; :class:`RenameError` when it cannot."""
    path = path.resolve()
    a, m, occ = occurrence_at(ws, path, offset)
    if occ is None or occ.role != I.NAME:
        raise RenameError("only a condition, group, list or derived quantity can be renamed")
    targets = resolve(ws, declarations(ws, a.loaded.modules), occ, path)
    kinds = {t.occ.kind for t in targets}
    if not targets or not kinds <= RENAMABLE:
        what = ", ".join(sorted(k for k in kinds if k)) or "an undeclared name"
        raise RenameError(f"`{occ.text}` is {_article(what)}; only a condition, group, list or derived "
                          "quantity can be renamed")
    return occ.start, occ.end, occ.text


def _article(what: str) -> str:
    """`a field`, `an enum value`; `an undeclared name` as it is."""
    if what.startswith("an undeclared"):
        return what
    return ("an " if what[0] in "aeiou" else "a ") + what


def rename(ws: Workspace, path: Path, offset: int, new_name: str) -> list[Edit]:
    """Edits that rename a condition or group (or list, or derived quantity) everywhere."""
    path = path.resolve()
    _, _, old = prepare_rename(ws, path, offset)
    if not NAME_RE.match(new_name):
        raise RenameError(f"`{new_name}` is not a name: a letter or `_`, then letters, digits or `_`")
    if new_name in keywords():
        raise RenameError(f"`{new_name}` is a keyword")
    refs = _references(ws, path, offset, True)
    files = {f.path for f in refs}
    for f in ws.workspace_files(path):
        modules = ws.closure(f)
        if not any(_module_path(mm) in files for mm in modules if mm.source.path):
            continue
        clash = declarations(ws, modules).get((I.NAME, new_name))
        if clash:
            c = clash[0]
            raise RenameError(f"`{new_name}` is already declared as a {c.occ.kind} in "
                              f"{display_name(c.path)}")
    if new_name == old:
        return []
    return [Edit(f.path, f.occ.start, f.occ.end, new_name) for f in refs]


# ---- formatting, symbols and code actions ----------------------------------------------


def formatting(ws: Workspace, path: Path) -> list[Edit]:
    """The formatter's edit of the whole document; none when it does not parse or is formatted."""
    path = path.resolve()
    text = ws.text_of(path)
    if text is None:
        return []
    try:
        new = format_text(text, display_name(path))
    except (ChiprulesError, RecursionError):
        return []
    if new == text:
        return []
    return [Edit(path, 0, len(text), new)]


_SYMBOL_GROUPS = (
    ("header", "Header"), ("include", "Includes"), ("field", "Fields"),
    ("derived quantity", "Derived quantities"), ("group", "Country groups"), ("treat", "Treatments"),
    ("list", "Party lists"), ("condition", "Conditions"), ("classify", "Classifications"),
    ("require license", "Licence requirements"), ("exception", "Licence exceptions"),
    ("quota", "Quotas"), ("example", "Examples"),
)


def _statement_kind(item) -> tuple[str, str, object, str | None]:
    """kind, name, the node naming it, detail"""
    if isinstance(item, A.Header):
        return "header", item.name.text, item.name, item.title.value if item.title else None
    if isinstance(item, A.Include):
        return "include", item.path.value, item.path, None
    if isinstance(item, A.Treat):
        return "treat", f"{item.alias.text} as {item.target.text}", item.alias, None
    if isinstance(item, A.Rule):
        return I.RULE_KIND[item.kind], item.id.text, item.id, item.title.value if item.title else None
    if isinstance(item, A.Example):
        return "example", item.name.value, item.name, item.expect.outcome
    kind = I.KIND_OF_DECL[type(item)]
    detail = None
    if isinstance(item, A.FieldDecl):
        detail = field_type_text(item.type)
    elif getattr(item, "title", None) is not None:
        detail = item.title.value
    elif getattr(item, "doc", None) is not None:
        detail = item.doc.value
    return kind, item.name.text, item.name, detail


def symbols(ws: Workspace, path: Path) -> list[Symbol]:
    """An outline of the document: its statements, by kind."""
    path = path.resolve()
    text = ws.text_of(path)
    if text is None:
        return []
    module, _ = ws.parse(Source(display_name(path), text, path))
    if module is None:
        a = ws.analysis(path)
        module = ws.module_of(a, path)
    if module is None:
        return []
    by_kind: dict[str, list[Symbol]] = {}
    for item in module.items:
        if item.span is None:
            continue
        kind, name, node, detail = _statement_kind(item)
        children = ()
        if isinstance(item, A.PartyListDecl):
            children = tuple(Symbol(e.name.value, "entry", None, e.span.start, e.span.end, e.name.span.start,
                                    e.name.span.end) for e in item.entries if e.span and e.name.span)
        sel = node.span or item.span
        by_kind.setdefault(kind, []).append(
            Symbol(name, kind, detail, item.span.start, item.span.end, sel.start, sel.end, children))
    out = []
    for kind, title in _SYMBOL_GROUPS:
        items = by_kind.get(kind)
        if not items:
            continue
        start, end = min(s.start for s in items), max(s.end for s in items)
        out.append(Symbol(title, "section", f"{len(items)}", start, end, items[0].selection_start,
                          items[0].selection_end, tuple(items)))
    return out


_SUGGESTION = re.compile(r"did you mean `([^`]+)`")


def code_actions(ws: Workspace, path: Path, start: int, end: int) -> list[CodeAction]:
    """The checker's "did you mean" suggestions near a range, as edits."""
    path = path.resolve()
    out = []
    for fd in diagnostics(ws, path):
        d = fd.diagnostic
        if fd.path != path or d.span is None or not d.help:
            continue
        if fd.end < start or fd.start > end:
            continue
        m = _SUGGESTION.search(d.help)
        if not m:
            continue
        guess = m.group(1)
        old = fd.text[fd.start : fd.end]
        a, b, new = fd.start, fd.end, guess
        if old.startswith('"') and old.endswith('"') and len(old) >= 2:  # a path: change its last part
            inner = old[1:-1]
            cut = inner.rfind("/") + 1
            a, b = fd.start + 1 + cut, fd.end - 1
            new = guess
        if fd.text[a:b] == new:
            continue
        out.append(CodeAction(f"replace `{fd.text[a:b]}` with `{new}`", (Edit(path, a, b, new),), fd))
    return out
