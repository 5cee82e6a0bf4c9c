"""Party screening for a ruleset version: each list's screener, and results cached per name.

This is a cache in front of `chiprules.screening.Screener`, nothing more: it
returns the screener's own `ScreenResult` (status ``match``, ``possible`` or
``none``, the best candidate and the others). What a status means for a
decision is each evaluator's own business.
"""

from __future__ import annotations

import datetime as dt
import functools

from chiprules import model as M
from chiprules.core.memo import Memo
from chiprules.screening.screener import Screener

#: The record fields that support the screening of a party field: the country the
#: party should be in, and an optional address. A consignee and an end user sit in
#: the destination; an ultimate parent sits where the end user is headquartered.
EVIDENCE = {
    "end_user": ("destination", "end_user_address"),
    "consignee": ("destination", "consignee_address"),
    "end_user_parent": ("end_user_hq", "end_user_parent_address"),
}
NO_EVIDENCE = (None, None)
#: The party fields in the order they are reported.
PARTY_ORDER = {name: i for i, name in enumerate(EVIDENCE)}

_CACHE_LIMIT = 100_000


@functools.lru_cache(maxsize=32)
def screener_for(entries: tuple, match: float, possible: float) -> Screener:
    """One fuzzy screener per list content and scores, shared by the versions that use it."""
    return Screener(entries, match_score=match, possible_score=possible)


class Screens:
    """The party lists of one version, screened with results cached per
    (list, name, date, country, address)."""

    def __init__(self, ruleset: M.CheckedRuleset, evidence: bool = True):
        self.lists = ruleset.lists
        self.evidence = evidence  # False: names alone (the semantic diff compares listed names)
        self.screeners: dict = {}
        self.cache = Memo(_CACHE_LIMIT)

    def screener(self, list_name: str) -> Screener:
        s = self.screeners.get(list_name)
        if s is None:
            lst = self.lists[list_name]
            s = self.screeners[list_name] = screener_for(lst.entries, lst.match_score, lst.possible_score)
        return s

    def result(self, list_name: str, name, on: dt.date | None, country=None, address=None):
        """The ``ScreenResult`` of ``name`` against a list on a date, with the evidence given."""
        key = (list_name, name, on, country, address)
        hit = self.cache.get(key)
        if hit is None:
            hit = self.screener(list_name).screen(
                str(name), on=on, country=country if isinstance(country, str) else None,
                address=address if isinstance(address, str) and address.strip() else None)
            self.cache.remember(key, hit)
        return hit

    def evidence_fields(self, field: str) -> tuple[str | None, str | None]:
        """The record fields that are evidence for a party field (none when names are screened alone)."""
        return EVIDENCE.get(field, NO_EVIDENCE) if self.evidence else NO_EVIDENCE

    def of_field(self, list_name: str, field: str, value, on: dt.date | None, lookup):
        """Screen a party field's value; ``lookup(name)`` reads the evidence fields."""
        country_field, address_field = self.evidence_fields(field)
        country = lookup(country_field) if country_field else None
        address = lookup(address_field) if address_field else None
        return self.result(list_name, value, on, country, address)

    def matches(self, list_name: str, name, on: dt.date | None) -> tuple:
        """The best candidate when ``name`` matches the list on ``on`` (no evidence), else ()."""
        res = self.result(list_name, name, on)
        return (res.best,) if res.status == "match" else ()


__all__ = ["EVIDENCE", "PARTY_ORDER", "Screens", "screener_for"]
