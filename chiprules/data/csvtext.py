"""Reading delimited text with the line on which each record starts (for located errors)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

import attrs


def csv_records(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Records of CSV (or TSV) text, each with the 1-based line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        yield start, row


# --------------------------------------------------------------------------- guarded reading

FIELD_LIMIT = 131_072  # characters in one cell; a longer cell is one bad record, not a bad file

# The rest of a quoted cell, up to and including its closing quote (`""` is a quote inside).
_QUOTED_TAIL = re.compile(r'[^"]*(?:""[^"]*)*"(?!")')


def ends_in_quote(line: str, in_quote: bool, delimiter: str = ",") -> bool:
    """Whether a quoted cell is still open at the end of ``line``, as the csv module reads it.

    A quote opens a cell only at the cell's start; inside, `""` is a quote; after the
    closing quote the cell runs on to the next delimiter.
    """
    if not in_quote and '"' not in line:
        return False
    pos, n = 0, len(line)
    if in_quote:
        m = _QUOTED_TAIL.match(line, 0)
        if m is None:
            return True
        j = line.find(delimiter, m.end())
        if j < 0:
            return False
        pos = j + 1
    while True:
        if pos < n and line[pos] == '"':
            m = _QUOTED_TAIL.match(line, pos + 1)
            if m is None:
                return True
            pos = m.end()
        j = line.find(delimiter, pos)
        if j < 0:
            return False
        pos = j + 1


@attrs.frozen
class CsvRow:
    """One record of delimited text: where it starts, its cells, or why it cannot be read."""

    line: int  # 1-based line on which the record starts
    cells: list[str]
    problem: str | None = None
    help: str | None = None


class CsvRows:
    """Records of delimited text read line by line, so that one bad record stays one bad record.

    - A cell longer than `FIELD_LIMIT` characters makes its record a problem; reading
      carries on with the next record.
    - A quote that opens a cell and is not closed before a line that reads as a whole
      record of `width` cells (or before the end of the text) makes the record where
      it opened a problem; reading carries on at that line. Quoted line breaks inside
      a cell are kept.

    Set `width` (the header's number of columns) once the header is read.
    """

    def __init__(self, lines: Iterable[str], delimiter: str = ",", limit: int = FIELD_LIMIT):
        self._lines = iter(lines)
        self.delimiter = delimiter
        self.limit = limit
        self.width: int | None = None
        self._lineno = 0
        self._pending: str | None = None
        self.rows: Iterator[CsvRow] | None = None  # the records left after the header

    def _next_line(self) -> str | None:
        if self._pending is not None:
            line, self._pending = self._pending, None
            return line
        line = next(self._lines, None)
        if line is not None:
            self._lineno += 1
        return line

    def _whole_record(self, line: str) -> bool:
        """Whether a line met inside an open quote starts a record of its own: read alone it
        is a complete record of the header's width, and read as the rest of the quoted cell
        it either leaves the quote open or closes it with a quote that stands at the start
        of a cell (so it opens that cell, rather than closing a cell begun above)."""
        delim = self.delimiter
        if self.width is None or self.width < 2 or ends_in_quote(line, False, delim):
            return False
        if line.count(delim) < self.width - 1:
            return False
        try:
            rows = list(csv.reader([line], delimiter=delim))
        except csv.Error:
            return False
        if len(rows) != 1 or len(rows[0]) != self.width:
            return False
        m = _QUOTED_TAIL.match(line, 0)
        if m is None:
            return True  # the quote stays open through the line
        closing = m.end() - 1
        return closing > 0 and line[closing - 1] == delim

    def __iter__(self) -> Iterator[CsvRow]:
        delim = self.delimiter
        while True:
            line = self._next_line()
            if line is None:
                return
            start = self._lineno
            parts = [line]
            size = len(line)
            too_long = False
            unclosed = False
            if ends_in_quote(line, False, delim):
                while True:
                    nxt = self._next_line()
                    if nxt is None:
                        unclosed = True
                        break
                    if self._whole_record(nxt):
                        self._pending = nxt
                        unclosed = True
                        break
                    size += len(nxt)
                    if size > self.limit:
                        too_long = True  # keep reading to find the record's end, not the text
                    else:
                        parts.append(nxt)
                    if not ends_in_quote(nxt, True, delim):
                        break
            if unclosed:
                yield CsvRow(
                    start, [],
                    f"a quote `\"` opens a cell on line {start} and is never closed",
                    'close the quote, or double a quote that belongs inside the cell (`""`)',
                )
                continue
            if too_long:
                yield self._too_long(start)
                continue
            yield self._parse(parts, start)

    def _too_long(self, start: int) -> CsvRow:
        return CsvRow(
            start, [],
            f"a cell of the record on line {start} is longer than {self.limit:,} characters",
            "check the record: a cell this long is usually a quote that is never closed "
            "or a file that is not delimited text",
        )

    def _parse(self, parts: list[str], start: int) -> CsvRow:
        try:
            rows = list(csv.reader(parts, delimiter=self.delimiter))
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                return self._too_long(start)
            return CsvRow(start, [], f"the record on line {start} cannot be read: {exc}")
        if any(len(cell) > self.limit for row in rows for cell in row):
            return self._too_long(start)
        if not rows:
            return CsvRow(start, [])
        if len(rows) > 1:  # the csv module split what the scan kept together: keep both
            return CsvRow(start, [c for row in rows for c in row])
        return CsvRow(start, rows[0])
