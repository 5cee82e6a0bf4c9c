"""Reading delimited text with the line on which each record starts (for located errors)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator


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
