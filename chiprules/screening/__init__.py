"""Screening party names against restricted-party lists: `Screener`, and name normalisation."""

from chiprules.screening.screener import Screener, ScreenResult

__all__ = ["ScreenResult", "Screener"]
