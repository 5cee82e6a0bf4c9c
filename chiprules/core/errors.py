"""The one exception type users see."""

from __future__ import annotations

from collections.abc import Sequence

from chiprules.core.diagnostics import Diagnostic, render_all


class ChiprulesError(Exception):
    """Raised for bad rules, bad records or bad data files. Carries diagnostics."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()):
        super().__init__(message)
        self.message = message
        self.diagnostics = list(diagnostics)

    def render(self, fmt: str = "text") -> str:
        if self.diagnostics:
            return render_all(self.diagnostics, fmt)
        return f"error: {self.message}"

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.render()


class RulesError(ChiprulesError):
    """The rules did not parse or check."""


class RecordError(ChiprulesError):
    """A record or records file could not be read."""


class DataError(ChiprulesError):
    """A data file beside the rules (party list, chip catalog) is malformed."""


class LedgerError(RecordError):
    """A licences file or a ledger cannot be used: unreadable, malformed, damaged, or kept
    for other rules."""
