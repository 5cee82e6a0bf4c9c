"""Source text and spans.

A span is a pair of offsets into a :class:`Source`; line and column are
computed only when a diagnostic is printed.
"""

from __future__ import annotations

import bisect
from pathlib import Path

import attrs


@attrs.frozen(eq=False)
class Source:
    """The text of one rules file, with the name it is reported under."""

    name: str
    text: str
    path: Path | None = None
    _line_starts: list[int] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        i = find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = find("\n", i + 1)
        object.__setattr__(self, "_line_starts", starts)

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of an offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def line_text(self, line: int) -> str:
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]


@attrs.frozen
class Span:
    """Offsets ``[start, end)`` into a source."""

    source: Source = attrs.field(repr=False)
    start: int
    end: int

    @property
    def line(self) -> int:
        return self.source.line_col(self.start)[0]

    @property
    def column(self) -> int:
        return self.source.line_col(self.start)[1]

    def text(self) -> str:
        return self.source.text[self.start : self.end]


def span_field():
    """An attrs field for a span: optional, and never part of equality or hashing."""
    return attrs.field(default=None, eq=False, hash=False, repr=False, kw_only=True)
