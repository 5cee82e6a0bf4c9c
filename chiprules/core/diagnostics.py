"""Diagnostics as data, and their renderings for people and for tools."""

from __future__ import annotations

import difflib
import enum
import json
from collections.abc import Iterable, Sequence

import attrs

from chiprules.core.source import Span

MAX_SHOWN = 50


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@attrs.frozen
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span | None = None
    help: str | None = None
    label: str | None = None  # short text printed under the caret
    rule: str | None = None  # the rule id the diagnostic belongs to
    # For diagnostics without a span in a rules file (records, data files):
    location: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self):
        if self.span is not None:
            return (self.span.source.name, self.span.start, self.code)
        return (self.location or "", 0, self.code)

    def where(self) -> str:
        if self.span is not None:
            line, col = self.span.source.line_col(self.span.start)
            return f"{self.span.source.name}:{line}:{col}"
        return self.location or "<input>"

    def to_json(self) -> dict:
        out: dict = {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
        }
        if self.span is not None:
            line, col = self.span.source.line_col(self.span.start)
            end_line, end_col = self.span.source.line_col(self.span.end)
            out["file"] = self.span.source.name
            out["line"], out["column"] = line, col
            out["end_line"], out["end_column"] = end_line, end_col
        elif self.location:
            out["location"] = self.location
        if self.help:
            out["help"] = self.help
        if self.rule:
            out["rule"] = self.rule
        return out


def error(code: str, message: str, span: Span | None = None, **kw) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span, **kw)


def warning(code: str, message: str, span: Span | None = None, **kw) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, span, **kw)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A "did you mean" suggestion, or None."""
    cands = sorted(set(candidates))
    match = difflib.get_close_matches(word, cands, n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in cands}
        match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        match = [lowered[m] for m in match]
    if not match:  # `tpp_score` for `tpp`: a candidate that starts the word, or the reverse
        low = word.lower()
        pre = [c for c in cands if len(c) >= 3 and (low.startswith(c.lower()) or c.lower().startswith(low))]
        match = sorted(pre, key=len, reverse=True)[:1]
    return match[0] if match else None


def render_text(diag: Diagnostic) -> str:
    """Render one diagnostic the way compilers and editors expect."""
    head = f"{diag.where()}: {diag.severity.value}[{diag.code}]: {diag.message}"
    if diag.span is None:
        lines = [head]
        if diag.help:
            lines.append(f"  = help: {diag.help}")
        return "\n".join(lines)
    src = diag.span.source
    line, col = src.line_col(diag.span.start)
    end_line, end_col = src.line_col(diag.span.end)
    text = src.line_text(line)
    shown = text.expandtabs(1)
    width = 1 if end_line != line else max(1, end_col - col)
    if diag.span.start == diag.span.end and col > len(text):  # just after the end of a line
        shown = text.expandtabs(1)
    if len(shown) > 200:  # a minified or binary line: show a window around the column
        lo = max(0, col - 60)
        shown = shown[lo : lo + 120]
        col -= lo
    width = max(1, min(width, len(shown) - col + 1 if len(shown) >= col else 1))
    gutter = " " * len(str(line))
    caret = " " * (col - 1) + "^" * width
    if diag.label:
        caret += " " + diag.label
    lines = [head, f"{gutter} |", f"{line} | {shown}", f"{gutter} | {caret}"]
    if diag.help:
        lines.append(f"{gutter} = help: {diag.help}")
    return "\n".join(lines)


def sort_and_cap(diags: Iterable[Diagnostic], cap: int = MAX_SHOWN) -> tuple[list[Diagnostic], int]:
    ordered = sorted(diags, key=Diagnostic.sort_key)
    return ordered[:cap], max(0, len(ordered) - cap)


def render_all(diags: Sequence[Diagnostic], fmt: str = "text", cap: int = MAX_SHOWN) -> str:
    shown, hidden = sort_and_cap(diags, cap)
    if fmt == "json":
        return json.dumps([d.to_json() for d in shown], indent=2, ensure_ascii=False)
    parts = [render_text(d) for d in shown]
    if hidden:
        parts.append(f"... and {hidden} more diagnostics not shown")
    n_err = sum(d.is_error for d in diags)
    n_warn = len(diags) - n_err
    if diags:
        parts.append(summary_line(n_err, n_warn))
    return "\n\n".join(parts[:-1]) + ("\n\n" if len(parts) > 1 else "") + parts[-1] if parts else ""


def summary_line(n_err: int, n_warn: int) -> str:
    bits = []
    if n_err:
        bits.append(f"{n_err} error{'s' if n_err != 1 else ''}")
    if n_warn:
        bits.append(f"{n_warn} warning{'s' if n_warn != 1 else ''}")
    return ", ".join(bits) if bits else "no problems"
