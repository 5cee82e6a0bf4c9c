"""`chiprules lsp`: the language service spoken as the Language Server Protocol over stdio.

Everything here translates: editor positions (lines and UTF-16 columns) to offsets and
back, and the service's answers to the protocol's types. A request that fails inside the
service answers "nothing" and logs the problem; no text an editor sends can stop the
server.

Diagnostics are published per file: a document's check reports problems in the files it
includes too, and a file's published list is the union of what every open document's check
says about it. Each diagnostic carries, as ``data``, the same JSON object that
`chiprules check --format json` prints for it.
"""

from __future__ import annotations

import functools
import gc
import logging
from pathlib import Path

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from chiprules.core.diagnostics import Severity
from chiprules.editor import complete as C
from chiprules.editor import hover as H
from chiprules.editor import service as S
from chiprules.editor.text import Lines

log = logging.getLogger("chiprules.lsp")

NAME = "chiprules"
VERSION = "0.1.0"

_COMPLETION_KIND = {
    "keyword": T.CompletionItemKind.Keyword, "field": T.CompletionItemKind.Field,
    "derived quantity": T.CompletionItemKind.Function, "group": T.CompletionItemKind.Enum,
    "list": T.CompletionItemKind.Module, "condition": T.CompletionItemKind.Variable,
    "country": T.CompletionItemKind.EnumMember, "unit": T.CompletionItemKind.Unit,
    "eccn": T.CompletionItemKind.Class, "rule": T.CompletionItemKind.Interface,
    "value": T.CompletionItemKind.Value, "type": T.CompletionItemKind.TypeParameter,
}
_SYMBOL_KIND = {
    "section": T.SymbolKind.Namespace, "header": T.SymbolKind.Module, "include": T.SymbolKind.File,
    "field": T.SymbolKind.Field, "derived quantity": T.SymbolKind.Function, "group": T.SymbolKind.Enum,
    "treat": T.SymbolKind.EnumMember, "list": T.SymbolKind.Array, "entry": T.SymbolKind.String,
    "condition": T.SymbolKind.Boolean, "classify": T.SymbolKind.Class,
    "require license": T.SymbolKind.Interface, "exception": T.SymbolKind.Event,
    "example": T.SymbolKind.Method,
}


class RulesServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(NAME, VERSION, text_document_sync_kind=T.TextDocumentSyncKind.Incremental)
        self.service = S.Workspace()
        # what each open document's check says about each file: origin -> file -> diagnostics
        self.published: dict[Path, dict[Path, list[T.Diagnostic]]] = {}

    # -- positions
    def lines(self, path: Path, text: str | None = None) -> Lines:
        if text is None:
            text = self.service.text_of(path) or ""
        return _lines(text)

    def range(self, path: Path, start: int, end: int, text: str | None = None) -> T.Range:
        lines = self.lines(path, text)
        a, b = lines.position(start), lines.position(end)
        return T.Range(T.Position(*a), T.Position(*b))

    def offset(self, path: Path, pos: T.Position) -> int:
        return self.lines(path).offset(pos.line, pos.character)

    def location(self, loc: S.Location) -> T.Location:
        return T.Location(from_fs_path(str(loc.path)), self.range(loc.path, loc.start, loc.end))

    # -- diagnostics
    def check(self, path: Path) -> None:
        found: dict[Path, list[T.Diagnostic]] = {path: []}
        for fd in S.diagnostics(self.service, path):
            target = fd.path or path
            text = fd.text
            if target == path or target in self.service.docs:
                text = self.service.text_of(target) or fd.text
            found.setdefault(target, []).append(self.diagnostic(target, fd, text))
        before = self.published.get(path, {})
        self.published[path] = found
        for target in set(before) | set(found):
            self.publish(target)

    def diagnostic(self, target: Path, fd: S.FileDiagnostic, text: str) -> T.Diagnostic:
        d = fd.diagnostic
        bom = 1 if text.startswith("\ufeff") and not fd.text.startswith("\ufeff") else 0
        message = d.message + (f"\nhelp: {d.help}" if d.help else "")
        return T.Diagnostic(
            range=self.range(target, fd.start + bom, fd.end + bom, text),
            message=message,
            severity=T.DiagnosticSeverity.Error if d.severity is Severity.ERROR else T.DiagnosticSeverity.Warning,
            code=d.code,
            source=NAME,
            data=d.to_json(),
        )

    def publish(self, target: Path) -> None:
        seen, merged = set(), []
        for per_file in self.published.values():
            for diag in per_file.get(target, ()):
                key = (diag.code, diag.message, diag.range.start.line, diag.range.start.character,
                       diag.range.end.line, diag.range.end.character)
                if key not in seen:
                    seen.add(key)
                    merged.append(diag)
        self.text_document_publish_diagnostics(
            T.PublishDiagnosticsParams(uri=from_fs_path(str(target)), diagnostics=merged))

    def forget(self, path: Path) -> None:
        before = self.published.pop(path, {})
        for target in before:
            self.publish(target)


@functools.lru_cache(maxsize=16)
def _lines(text: str) -> Lines:
    return Lines(text)


def _path(uri: str) -> Path | None:
    fs = to_fs_path(uri)
    return Path(fs).resolve() if fs else None


def _safe(default=None):
    """Answer ``default`` instead of failing when the service meets something unforeseen."""
    def wrap(fn):
        @functools.wraps(fn)
        def run(ls, params):
            try:
                return fn(ls, params)
            except Exception:  # noqa: BLE001 - the server must outlive any text
                log.exception("chiprules lsp: %s failed", fn.__name__)
                return default
        return run
    return wrap


server = RulesServer()


@server.feature(T.INITIALIZED)
def _initialized(ls: RulesServer, params):
    return None


@server.feature(T.TEXT_DOCUMENT_DID_OPEN)
@_safe()
def did_open(ls: RulesServer, params: T.DidOpenTextDocumentParams):
    path = _path(params.text_document.uri)
    if path is None:
        return
    ls.service.open(path, params.text_document.text)
    ls.check(path)


@server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
@_safe()
def did_change(ls: RulesServer, params: T.DidChangeTextDocumentParams):
    path = _path(params.text_document.uri)
    if path is None:
        return
    doc = ls.workspace.get_text_document(params.text_document.uri)
    ls.service.change(path, doc.source)
    ls.check(path)


@server.feature(T.TEXT_DOCUMENT_DID_SAVE)
@_safe()
def did_save(ls: RulesServer, params: T.DidSaveTextDocumentParams):
    _recheck(ls)


@server.feature(T.WORKSPACE_DID_CHANGE_WATCHED_FILES)
@_safe()
def did_change_watched_files(ls: RulesServer, params: T.DidChangeWatchedFilesParams):
    _recheck(ls)


def _recheck(ls: RulesServer) -> None:
    """A file changed on disk (an included file, a party list): check the open documents again."""
    ls.service.files_changed()
    for origin in list(ls.published):
        if origin in ls.service.docs:
            ls.check(origin)


@server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
@_safe()
def did_close(ls: RulesServer, params: T.DidCloseTextDocumentParams):
    path = _path(params.text_document.uri)
    if path is None:
        return
    ls.service.close(path)
    ls.forget(path)
    for origin in list(ls.published):  # the others now read the file from disk
        ls.check(origin)


@server.feature(T.TEXT_DOCUMENT_HOVER)
@_safe()
def hover(ls: RulesServer, params: T.HoverParams):
    path = _path(params.text_document.uri)
    if path is None:
        return None
    h = H.hover(ls.service, path, ls.offset(path, params.position))
    if h is None:
        return None
    return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=h.markdown),
                   range=ls.range(path, h.start, h.end))


@server.feature(T.TEXT_DOCUMENT_DEFINITION)
@_safe([])
def definition(ls: RulesServer, params: T.DefinitionParams):
    path = _path(params.text_document.uri)
    if path is None:
        return []
    return [ls.location(loc) for loc in S.definition(ls.service, path, ls.offset(path, params.position))]


@server.feature(T.TEXT_DOCUMENT_REFERENCES)
@_safe([])
def references(ls: RulesServer, params: T.ReferenceParams):
    path = _path(params.text_document.uri)
    if path is None:
        return []
    locs = S.references(ls.service, path, ls.offset(path, params.position),
                        params.context.include_declaration)
    return [ls.location(loc) for loc in locs]


@server.feature(T.TEXT_DOCUMENT_COMPLETION,
                T.CompletionOptions(trigger_characters=[" ", "{", ",", ":", "("]))
@_safe(T.CompletionList(is_incomplete=False, items=[]))
def completion(ls: RulesServer, params: T.CompletionParams):
    path = _path(params.text_document.uri)
    items = []
    if path is not None:
        for c in C.completion(ls.service, path, ls.offset(path, params.position)):
            doc = T.MarkupContent(kind=T.MarkupKind.Markdown, value=c.documentation) if c.documentation else None
            items.append(T.CompletionItem(label=c.label, kind=_COMPLETION_KIND.get(c.kind), detail=c.detail,
                                          documentation=doc, insert_text=c.insert_text))
    return T.CompletionList(is_incomplete=False, items=items)


@server.feature(T.TEXT_DOCUMENT_FORMATTING)
@_safe([])
def formatting(ls: RulesServer, params: T.DocumentFormattingParams):
    path = _path(params.text_document.uri)
    if path is None:
        return []
    return [T.TextEdit(ls.range(path, e.start, e.end), e.new_text) for e in S.formatting(ls.service, path)]


@server.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@_safe([])
def document_symbol(ls: RulesServer, params: T.DocumentSymbolParams):
    path = _path(params.text_document.uri)
    if path is None:
        return []
    lines = ls.lines(path)

    def conv(s: S.Symbol) -> T.DocumentSymbol:
        rng = T.Range(T.Position(*lines.position(s.start)), T.Position(*lines.position(s.end)))
        sel = T.Range(T.Position(*lines.position(s.selection_start)), T.Position(*lines.position(s.selection_end)))
        return T.DocumentSymbol(name=s.name or "?", kind=_SYMBOL_KIND.get(s.kind, T.SymbolKind.Object),
                                range=rng, selection_range=sel, detail=s.detail,
                                children=[conv(c) for c in s.children] or None)

    return [conv(s) for s in S.symbols(ls.service, path)]


@server.feature(T.TEXT_DOCUMENT_PREPARE_RENAME)
@_safe()
def prepare_rename(ls: RulesServer, params: T.PrepareRenameParams):
    path = _path(params.text_document.uri)
    if path is None:
        return None
    try:
        start, end, name = S.prepare_rename(ls.service, path, ls.offset(path, params.position))
    except S.RenameError:
        return None
    return T.PrepareRenamePlaceholder(range=ls.range(path, start, end), placeholder=name)


@server.feature(T.TEXT_DOCUMENT_RENAME)
@_safe()
def rename(ls: RulesServer, params: T.RenameParams):
    path = _path(params.text_document.uri)
    if path is None:
        return None
    try:
        edits = S.rename(ls.service, path, ls.offset(path, params.position), params.new_name)
    except S.RenameError as exc:
        ls.window_show_message(T.ShowMessageParams(type=T.MessageType.Warning, message=str(exc)))
        return None
    return _workspace_edit(ls, edits)


def _workspace_edit(ls: RulesServer, edits) -> T.WorkspaceEdit:
    changes: dict[str, list[T.TextEdit]] = {}
    for e in edits:
        changes.setdefault(from_fs_path(str(e.path)), []).append(
            T.TextEdit(ls.range(e.path, e.start, e.end), e.new_text))
    return T.WorkspaceEdit(changes=changes)


@server.feature(T.TEXT_DOCUMENT_CODE_ACTION,
                T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix]))
@_safe([])
def code_action(ls: RulesServer, params: T.CodeActionParams):
    path = _path(params.text_document.uri)
    if path is None:
        return []
    start = ls.offset(path, params.range.start)
    end = ls.offset(path, params.range.end)
    out = []
    for act in S.code_actions(ls.service, path, start, end):
        diag = ls.diagnostic(path, act.diagnostic, ls.service.text_of(path) or "") if act.diagnostic else None
        out.append(T.CodeAction(title=act.title, kind=T.CodeActionKind.QuickFix,
                                diagnostics=[diag] if diag else None, is_preferred=True,
                                edit=_workspace_edit(ls, act.edits)))
    return out


def serve() -> None:
    """Speak LSP on stdin and stdout until the editor says `exit`."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    gc.set_threshold(*S.GC_THRESHOLDS)
    server.start_io()
