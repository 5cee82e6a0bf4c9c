"""The numbers that tune the fuzzy screener, in one frozen object.

``ScreeningPolicy`` holds every score, cap, weight, cost and search limit that
``chiprules.screening.screener.Screener`` uses; ``DEFAULT_POLICY`` is the one the rules
use. ``docs/screening.md`` explains each field: what it means, its default and how the
default was chosen. The thresholds that turn a score into ``match``, ``possible`` or
``none`` are not here: they belong to each party list (``match >= 90``, ``possible >= 75``
in the rules) and are given to the ``Screener`` on their own.

A policy with other numbers is built with ``attrs.evolve(DEFAULT_POLICY, ...)``.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class ScreeningPolicy:
    """Scores, caps, weights, costs and search limits of the screener (0-100 scale)."""

    # -- the score of each kind of match -------------------------------------------
    #: the normalised name equals a listed name or alias
    exact_score: float = 100.0
    #: the same words as a listed name or alias, in another order (legal forms aside)
    same_words_score: float = 97.0
    #: the same letters as a listed name or alias, spaced differently ("Hua Wei")
    same_letters_score: float = 96.0
    #: a one-word name equal to a listed acronym, or to the initials of a listed name
    acronym_score: float = 92.0

    # -- caps of the close-spelling score ------------------------------------------
    #: the most a close spelling can score, below every kind of exact match
    close_spelling_cap: float = 95.0
    #: the most a listed acronym standing as one word of a longer name can score
    acronym_in_name_cap: float = 80.0
    #: the most a one-word name can score against a listed form of several words
    one_word_cap: float = 90.0

    # -- comparing words -------------------------------------------------------------
    #: least ``rapidfuzz.fuzz.ratio`` for a word not listed to stand for a listed one
    word_similarity: float = 80.0
    #: similarity of two words equal only once spelling variants are folded (c/k, y/i...)
    folded_similarity: float = 92.0
    #: least similarity of one word of the name standing for two listed words written
    #: apart ("Sensetime" for "Sense Time")
    joined_similarity: float = 85.0
    #: factor on the similarity of two words of the name written together when one of
    #: them is a common word ("Core Storage" for "CoreStorage")
    generic_pair_factor: float = 0.85
    #: words (and words written together) shorter than this must be spelled as listed
    min_fuzzy_length: int = 5
    #: two words of the name are read as one listed word written apart only when neither
    #: is longer than this
    max_split_length: int = 6

    # -- the weight of a listed word ----------------------------------------------------
    #: most weight of a common business word ("technology", "group", "jishu")
    common_weight: float = 0.3
    #: most weight of a place or an organisational word ("Beijing", "branch")
    place_weight: float = 1.0
    #: weight of a stop word or a legal form ("of", "co")
    minor_weight: float = 0.05
    #: a listed word is common on the list when more than this many entries have it ...
    common_df_floor: int = 50
    #: ... or more than this share of the entries, when that is more
    common_df_share: float = 0.02

    # -- costs --------------------------------------------------------------------------
    #: a distinctive (or unknown) word of the name that matches nothing
    extra_distinct: float = 13.0
    #: a number of the name that matches nothing
    extra_number: float = 6.0
    #: a common business word of the name that matches nothing
    extra_common: float = 3.0
    #: a place or organisational word of the name that matches nothing
    extra_qualifier: float = 1.5
    #: the name puts a common word where the listed form had another
    swapped_common: float = 4.0
    #: each common word of the listed form that the name does not spell ...
    missing_common: float = 1.5
    #: ... at most this much in all
    missing_common_cap: float = 4.5

    # -- evidence -------------------------------------------------------------------------
    #: added when the party's country is one the entry is listed under
    country_agrees: float = 3.0
    #: added (it is negative) when the entry is listed under other countries only
    country_differs: float = -5.0
    #: added when the party's address names a place that a listed address names
    address_agrees: float = 2.0
    #: address words shorter than this are not place names
    min_place_length: int = 3

    # -- acronyms and initials --------------------------------------------------------
    #: a listed form of one word in capitals, this many letters or more ...
    min_acronym_length: int = 2
    #: ... and this many letters or fewer, is an acronym
    max_acronym_length: int = 5
    #: initials are taken from listed names of at least this many words (stop words aside)
    min_initials_words: int = 3
    #: a one-word name longer than this is not looked up as initials
    max_initials_length: int = 8

    # -- results and search ---------------------------------------------------------------
    #: candidates scoring below this are not shown
    near_miss_score: float = 60.0
    #: candidates shown per name
    max_candidates: int = 5
    #: entries whose forms are scored for close spelling, per name
    max_scored_entries: int = 5

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(ScreeningPolicy):
            value = getattr(self, field.name)
            if field.type == "int" and (not isinstance(value, int) or value < 0):
                raise ValueError(f"{field.name} must be a whole number, not {value!r}")
            if field.name.endswith(("_score", "_cap", "_similarity")) and not 0 <= value <= 100:
                raise ValueError(f"{field.name} must be from 0 to 100, not {value!r}")
            if field.name in _NOT_NEGATIVE and value < 0:
                raise ValueError(f"{field.name} must not be negative, not {value!r}")
        if self.country_differs > 0:
            raise ValueError(f"country_differs must not be positive, not {self.country_differs!r}")
        if not 0 <= self.generic_pair_factor <= 1 or not 0 <= self.common_df_share <= 1:
            raise ValueError("generic_pair_factor and common_df_share run from 0 to 1")
        if self.max_candidates < 1 or self.max_scored_entries < 1:
            raise ValueError("max_candidates and max_scored_entries must be at least 1")
        if self.min_acronym_length > self.max_acronym_length:
            raise ValueError("min_acronym_length must not be above max_acronym_length")

    @property
    def lowest_score(self) -> float:
        """The least score worth computing: a near miss before a country agrees."""
        return self.near_miss_score - self.country_agrees


_NOT_NEGATIVE = frozenset(
    """
    common_weight place_weight minor_weight extra_distinct extra_number extra_common
    extra_qualifier swapped_common missing_common missing_common_cap country_agrees
    address_agrees
    """.split()
)

#: The policy of the rules, and of every ``Screener`` not given another.
DEFAULT_POLICY = ScreeningPolicy()

__all__ = ["DEFAULT_POLICY", "ScreeningPolicy"]
