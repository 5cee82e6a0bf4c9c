"""Positions in a text as editors count them: 0-based lines and UTF-16 code units.

The language service works in offsets into Python strings (code points), as spans do;
editors speak of lines and columns in UTF-16 units. These two functions convert.
"""

from __future__ import annotations

import bisect
import re

import attrs

_BREAK = re.compile(r"\r\n|\r|\n")


@attrs.frozen(eq=False)
class Lines:
    """A text's line starts, to turn offsets into editor positions and back."""

    text: str
    starts: tuple[int, ...] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        # the protocol ends a line at \n, \r\n or \r
        starts = [0, *(m.end() for m in _BREAK.finditer(self.text))]
        object.__setattr__(self, "starts", tuple(starts))

    def position(self, offset: int) -> tuple[int, int]:
        """0-based line and UTF-16 column of an offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        piece = self.text[self.starts[line] : offset]
        return line, _utf16_len(piece)

    def offset(self, line: int, character: int) -> int:
        """The offset of a 0-based line and UTF-16 column, clamped to the text."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        while end > start and self.text[end - 1] in "\r\n":
            end -= 1
        units = 0
        i = start
        while i < end and units < character:
            units += 2 if ord(self.text[i]) > 0xFFFF else 1
            i += 1
        return i


def _utf16_len(s: str) -> int:
    return len(s) + sum(1 for c in s if ord(c) > 0xFFFF)


def apply_change(text: str, start: tuple[int, int] | None, end: tuple[int, int] | None,
                 new: str) -> str:
    """The text after an editor's change: a range (0-based line and UTF-16 column) replaced
    by ``new``, or the whole text when there is no range."""
    if start is None or end is None:
        return new
    lines = Lines(text)
    a = lines.offset(*start)
    b = lines.offset(*end)
    if b < a:
        a, b = b, a
    return text[:a] + new + text[b:]
