"""Party screening: name normalisation (``names``), the numbers that tune the screener
(``policy``) and the fuzzy screener itself (``screener``)."""

from chiprules.screening.policy import DEFAULT_POLICY, ScreeningPolicy
from chiprules.screening.screener import Candidate, Screener, ScreenResult

__all__ = ["DEFAULT_POLICY", "Candidate", "ScreenResult", "Screener", "ScreeningPolicy"]
