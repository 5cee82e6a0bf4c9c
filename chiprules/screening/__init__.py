"""Party screening: name normalisation (``names``), the numbers that tune the screener
(``policy``) and the fuzzy screener itself (``screener``).

``from chiprules.screening import Screener, ScreeningPolicy, DEFAULT_POLICY`` works;
each name is imported on first use, so that reading ``chiprules.screening.names`` alone
does not load the screener and rapidfuzz.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Candidate": "screener",
    "ScreenResult": "screener",
    "Screener": "screener",
    "DEFAULT_POLICY": "policy",
    "ScreeningPolicy": "policy",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = sorted(_EXPORTS)
