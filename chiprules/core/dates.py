"""Dates as users give them."""

from __future__ import annotations

import datetime as dt

from chiprules.core.errors import ChiprulesError


def as_date(value) -> dt.date:
    """A date from a `date`, a `datetime` (its day) or `YYYY-MM-DD` text; else a clear error."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ChiprulesError(f"`{value}` is not a date; write YYYY-MM-DD") from None


__all__ = ["as_date"]
