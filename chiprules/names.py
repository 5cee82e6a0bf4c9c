"""Party-name normalisation and exact-match screening against party lists.

Screening lists spell the same company many ways: "Co., Ltd." or "Company Limited",
curly or straight apostrophes, accents or none, Russian legal forms before the name
("AO PKK Milandr") or after it ("PKK Milandr AO"). ``normalize_name`` reduces such
variants to one string, and ``PartyIndex`` finds list entries whose name or alias
normalises to the same string, or to the same words in another order.

Transliteration of Chinese, Cyrillic and other scripts to Latin letters is not done:
no small, well-kept library for it is among the project's dependencies. Names in
those scripts still match themselves after normalisation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:  # pragma: no cover
    from .parties import PartyEntry

#: Legal-form words dropped from the end of a name (and, for the Russian forms, the start).
CORPORATE_SUFFIXES: frozenset[str] = frozenset(
    {
        "co",
        "company",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "llc",
        "gmbh",
        "pte",
        "plc",
        "jsc",
        "pjsc",
        "ao",
        "oao",
        "pao",
        "ooo",
        "zao",
    }
)

#: Legal forms that Russian names usually put first ("AO PKK Milandr", "PJSC Mikron").
LEADING_FORMS: frozenset[str] = frozenset({"jsc", "pjsc", "ao", "oao", "pao", "ooo", "zao"})

#: Chinese legal-form endings, longest first.
CJK_SUFFIXES: tuple[str, ...] = ("股份有限公司", "有限责任公司", "有限責任公司", "有限公司")

_APOSTROPHES = "'\u2019\u2018\u02bc\u02bb\u0060\u00b4\u2032"
_APOSTROPHE_RE = re.compile("[" + re.escape(_APOSTROPHES) + "]")
_TRAILING_PAREN_RE = re.compile(r"^(?P<head>.*\S)\s*\((?P<inner>[^()]+)\)\s*\.?\s*$")


def _fold_chars(text: str) -> str:
    """NFKC, case-fold, and strip combining marks (diacritics)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", text).casefold()


def _strip_cjk_suffixes(text: str) -> str:
    changed = True
    while changed:
        changed = False
        stripped = text.rstrip()
        for suffix in CJK_SUFFIXES:
            if stripped.endswith(suffix) and stripped[: -len(suffix)].strip():
                text = stripped[: -len(suffix)]
                changed = True
                break
    return text


def _one_pass(text: str) -> str:
    text = _fold_chars(text)
    text = _APOSTROPHE_RE.sub("", text)
    text = text.replace("&", " and ")
    text = _strip_cjk_suffixes(text)
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    tokens = text.split()
    while len(tokens) > 1 and tokens[-1] in CORPORATE_SUFFIXES:
        tokens.pop()
    while len(tokens) > 1 and tokens[0] in LEADING_FORMS:
        tokens.pop(0)
    return " ".join(tokens)


def normalize_name(name: str) -> str:
    """The comparison form of a party name.

    Unicode NFKC, case-folded, diacritics removed, apostrophes dropped, other
    punctuation turned into spaces, runs of spaces collapsed, and legal forms
    (Co., Ltd., Inc., GmbH, Pte, JSC, AO, 有限公司 ...) removed from the ends.
    A name made only of legal-form words keeps its last word. Idempotent.
    """
    out = _one_pass(name)
    for _ in range(8):  # a second pass can only see what the first one produced
        again = _one_pass(out)
        if again == out:
            break
        out = again
    return out


def name_tokens(name: str) -> frozenset[str]:
    """The set of words of the normalised name."""
    return frozenset(normalize_name(name).split())


def token_key(name: str) -> str:
    """Word-order-free form: the normalised words without legal forms, sorted."""
    tokens = normalize_name(name).split()
    kept = [t for t in tokens if t not in CORPORATE_SUFFIXES] or tokens
    return " ".join(sorted(kept))


def name_forms(name: str) -> list[str]:
    """The listed name plus the forms a trailing parenthesis gives.

    "Semiconductor Manufacturing International Corporation (SMIC)" is also
    indexed as "Semiconductor Manufacturing International Corporation" and as
    "SMIC". A parenthesis in the middle of a name ("Moore Thread ... (Beijing)
    Co., Ltd.") is part of the name and gives no extra form.
    """
    forms = [name]
    match = _TRAILING_PAREN_RE.match(name)
    if match:
        head = match.group("head").rstrip(" ,.")
        inner = match.group("inner").strip()
        for form in (head, inner):
            if normalize_name(form) and form not in forms:
                forms.append(form)
    return forms


@attrs.frozen
class PartyMatch:
    """One list entry found for a screened name."""

    entry: PartyEntry
    matched_form: str
    kind: Literal["name", "alias"]
    score: int


EXACT_SCORE = 100
WORD_ORDER_SCORE = 95


class PartyIndex:
    """Exact-match index over party-list entries (O(1) dict look-ups per name)."""

    def __init__(self, entries: Iterable[PartyEntry]):
        self.entries: tuple[PartyEntry, ...] = tuple(entries)
        self._exact: dict[str, list[tuple[int, str, str]]] = {}
        self._words: dict[str, list[tuple[int, str, str]]] = {}
        for index, entry in enumerate(self.entries):
            forms: list[tuple[str, str]] = [(form, "name") for form in name_forms(entry.name)]
            forms += [(alias, "alias") for alias in entry.aliases]
            for form, kind in forms:
                norm = normalize_name(form)
                if not norm:
                    continue
                self._add(self._exact, norm, (index, form, kind))
                self._add(self._words, token_key(form), (index, form, kind))

    @staticmethod
    def _add(table: dict, key: str, item: tuple[int, str, str]) -> None:
        bucket = table.setdefault(key, [])
        if item not in bucket:
            bucket.append(item)

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, name: str, on: date | None = None) -> list[PartyMatch]:
        """Entries whose name or alias matches ``name``; at most one match per entry.

        An exact match on the normalised form scores 100; a match of the same words in
        another order scores 95. With ``on``, entries not in force that day are skipped.
        """
        norm = normalize_name(name)
        if not norm:
            return []
        best: dict[int, PartyMatch] = {}
        order: list[int] = []
        for table, score in ((self._exact, EXACT_SCORE), (self._words, WORD_ORDER_SCORE)):
            key = norm if table is self._exact else token_key(name)
            for index, form, kind in table.get(key, ()):
                entry = self.entries[index]
                if on is not None and not entry.in_force(on):
                    continue
                current = best.get(index)
                if current is None:
                    order.append(index)
                if current is None or (score, kind == "name") > (
                    current.score,
                    current.kind == "name",
                ):
                    best[index] = PartyMatch(entry, form, kind, score)  # type: ignore[arg-type]
        return sorted((best[i] for i in order), key=lambda m: -m.score)


__all__ = [
    "CORPORATE_SUFFIXES",
    "PartyIndex",
    "PartyMatch",
    "name_forms",
    "name_tokens",
    "normalize_name",
    "token_key",
]
