"""Escaping what users open: spreadsheet cells and terminal lines.

- `formula_safe`: a CSV cell that a spreadsheet would run as a formula (it begins with
  `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, as OWASP advises
  against CSV injection; a plain number such as `-5` or `+1.5` is left as it is.
- `printable`: control characters (escape sequences, line breaks, bidirectional
  overrides ...) written as `\\x1b`, `\\n`, `\\u202e`, so that a value cannot move the
  cursor, retitle the terminal or forge a line of output.
"""

from __future__ import annotations

import re
import unicodedata

#: What a cell may begin with for a spreadsheet to read it as a formula.
FORMULA_START = "=+-@\t\r"
#: The same test in SQL (POSIX regular expressions), for engines that write CSV themselves.
FORMULA_RE = r"^[-=+@\t\r]"
#: A plain number, which no spreadsheet runs, even with a sign.
NUMBER_RE = r"^[-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"
_NUMBER = re.compile(NUMBER_RE)


def formula_safe(value):
    """A CSV cell's text that no spreadsheet runs as a formula (other values unchanged)."""
    if isinstance(value, str) and value and value[0] in FORMULA_START and not _NUMBER.match(value):
        return "'" + value
    return value


def _escaped(ch: str) -> str:
    n = ord(ch)
    if ch == "\n":
        return "\\n"
    if ch == "\r":
        return "\\r"
    if ch == "\t":
        return "\\t"
    if n < 0x100:
        return f"\\x{n:02x}"
    if n < 0x10000:
        return f"\\u{n:04x}"
    return f"\\U{n:08x}"


def printable(text: str, keep_newlines: bool = False) -> str:
    """``text`` with every control or format character escaped (line breaks kept if asked)."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch == " " or (keep_newlines and ch == "\n"):
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
            out.append(_escaped(ch))
        else:  # other spaces: shown as a plain space
            out.append(" ")
    return "".join(out)


__all__ = ["FORMULA_RE", "FORMULA_START", "NUMBER_RE", "formula_safe", "printable"]
