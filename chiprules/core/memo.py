"""A memo with bounded memory, for long runs whose keys mostly repeat."""

from __future__ import annotations


class Memo(dict):
    """A dict that forgets everything once it holds ``limit`` entries.

    Runs over millions of records meet the same few thousand keys again and again
    (dates, names, classes of values); forgetting all at once keeps memory bounded
    without any bookkeeping on the hits, which are the common case.
    """

    __slots__ = ("limit",)

    def __init__(self, limit: int = 100_000):
        super().__init__()
        self.limit = limit

    def remember(self, key, value):
        """Store ``value`` under ``key`` and return it."""
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


__all__ = ["Memo"]
