"""Party-name normalisation.

Screening lists spell the same company many ways: "Co., Ltd." or "Company Limited",
curly or straight apostrophes, accents or none, Russian legal forms before the name
("AO PKK Milandr") or after it ("PKK Milandr AO"), Cyrillic or Latin letters.
``normalize_name`` reduces such variants to one string; ``chiprules.screening``
scores names against a list on top of it.

Transliteration: Cyrillic and Greek letters are turned into Latin ones by a table in
this module. Chinese characters, and any other script, are transliterated by the
``anyascii`` package when it is installed (each Chinese character becomes one pinyin
syllable, as a word of its own: 华为 -> "hua wei"); without it those characters are
kept as they are, and names in those scripts still match themselves.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_anyascii: Callable[[str], str] | None
try:  # optional: transliteration of Chinese and other scripts
    from anyascii import anyascii as _anyascii
except ImportError:  # pragma: no cover - depends on the environment
    _anyascii = None

#: Whether characters outside the Latin, Cyrillic and Greek scripts are transliterated.
TRANSLITERATES_CJK: bool = _anyascii is not None

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
        "ag",
        "pte",
        "plc",
        "jsc",
        "pjsc",
        "ojsc",
        "cjsc",
        "ao",
        "oao",
        "pao",
        "ooo",
        "zao",
        "sa",
        "srl",
        "bv",
        "kk",
        "gongsi",
        # other common legal forms: UAE free zones, Turkey, Nordic, Benelux, Asia-Pacific
        "fze",
        "fzco",
        "fzc",
        "fzllc",
        "sti",
        "as",
        "asa",
        "ab",
        "oy",
        "oyj",
        "nv",
        "llp",
        "lp",
        "spa",
        "sarl",
        "sas",
        "pty",
        "bhd",
        "sdn",
        "kft",
        "sro",
        "doo",
    }
)

#: Legal forms that Russian names usually put first ("AO PKK Milandr", "PJSC Mikron").
LEADING_FORMS: frozenset[str] = frozenset(
    {"jsc", "pjsc", "ojsc", "cjsc", "ao", "oao", "pao", "ooo", "zao"}
)

#: Legal forms of several words, dropped from the end of a name.
TRAILING_FORM_PHRASES: tuple[tuple[str, ...], ...] = (
    ("gufen", "youxian", "gongsi"),
    ("youxian", "zeren", "gongsi"),
    ("limited", "liability", "company"),
    ("joint", "stock", "company"),
    ("youxian", "gongsi"),
)

#: Legal forms of several words, dropped from the start of a name.
LEADING_FORM_PHRASES: tuple[tuple[str, ...], ...] = (
    ("public", "joint", "stock", "company"),
    ("open", "joint", "stock", "company"),
    ("closed", "joint", "stock", "company"),
    ("limited", "liability", "company"),
    ("joint", "stock", "company"),
)

#: Chinese legal-form endings, longest first. 集团 (group) is dropped only at the end.
CJK_SUFFIXES: tuple[str, ...] = (
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "有限公司",
    "集团",
    "集團",
    "公司",
)

# Cyrillic (Russian, Ukrainian, Belarusian) and Greek, lower case, to Latin letters.
# The Russian table is close to BGN/PCGN; the screener compares spellings loosely
# enough (y/i, kh/h, c/k) for the other common systems to meet it.
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u",
}  # fmt: skip
_GREEK = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th",
    "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p",
    "ρ": "r", "σ": "s", "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps",
    "ω": "o",
}  # fmt: skip
# Latin letters that have no decomposition into a base letter and an accent.
_LATIN_EXTRA = {
    "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
    "ħ": "h", "ŧ": "t", "ŋ": "n",
}  # fmt: skip
_TRANSLIT: dict[str, str] = {**_CYRILLIC, **_GREEK, **_LATIN_EXTRA}
_LEGAL_TOKENS: frozenset[str] = CORPORATE_SUFFIXES | LEADING_FORMS
_TRAILING_ENDS = CORPORATE_SUFFIXES | {p[-1] for p in TRAILING_FORM_PHRASES}
_LEADING_STARTS = LEADING_FORMS | {p[0] for p in LEADING_FORM_PHRASES}
_LEGAL_ANYWHERE = _LEGAL_TOKENS | {
    w for p in TRAILING_FORM_PHRASES + LEADING_FORM_PHRASES for w in p
}
#: Every word that can belong to a legal form. An ASCII name with a word of two or more
#: letters or digits outside this set has a name to screen (``has_name``): such a word is
#: neither joined to initials nor removed as a legal form.
LEGAL_WORDS: frozenset[str] = frozenset(_LEGAL_ANYWHERE)

_APOSTROPHES = "'\u2019\u2018\u02bc\u02bb\u0060\u00b4\u2032"
_APOSTROPHE_RE = re.compile("[" + re.escape(_APOSTROPHES) + "]")
_TRAILING_PAREN_RE = re.compile(r"^(?P<head>.*\S)\s*\((?P<inner>[^()]+)\)\s*\.?\s*$")
_ALNUM_RUN_RE = re.compile(r"[0-9a-z]+")
_SINGLE_LETTER_RE = re.compile(r"(?<![0-9a-z])[a-z](?![0-9a-z])")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
    )


def _fold_chars(text: str) -> str:
    """NFKC, case-fold, and strip combining marks (diacritics)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", text).casefold()


def _syllables(run: str) -> list[str]:
    """Pinyin syllables of a run of Chinese characters, one per character.

    A syllable that is also a Latin legal form ("zao" of 制造, "ao" of 奥) is joined
    to its neighbour ("zhizao"), so that dropping legal forms cannot cut it off.
    """
    assert _anyascii is not None
    out: list[str] = []
    pending = ""
    for ch in run:
        syllable = _anyascii(ch).casefold()
        if not syllable:
            continue
        if syllable in _LEGAL_TOKENS:
            if out:
                out[-1] += syllable
            else:
                pending += syllable
            continue
        out.append(pending + syllable)
        pending = ""
    if pending:
        out.append(pending)
    return out


def _transliterate(text: str) -> str:
    """Latin letters for Cyrillic, Greek and (with ``anyascii``) other scripts.

    ``text`` is already folded. Each Chinese character becomes a pinyin syllable
    that is a word of its own; other scripts are spelled without added spaces.
    Without ``anyascii`` characters outside the tables are kept.
    """
    out: list[str] = []
    run: list[str] = []
    for ch in text:
        if ch < "\x80":
            mapped: str | None = ch
        elif _anyascii is not None and _is_cjk(ord(ch)):
            run.append(ch)
            continue
        else:
            mapped = _TRANSLIT.get(ch)
            if mapped is None:
                mapped = _anyascii(ch).casefold() if _anyascii is not None else ch
        if run:
            out.append(" " + " ".join(_syllables("".join(run))) + " ")
            run = []
        out.append(mapped)
    if run:
        out.append(" " + " ".join(_syllables("".join(run))) + " ")
    return "".join(out)


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


def _merge_initials(tokens: list[str]) -> list[str]:
    """Join runs of single Latin letters: "s a" (from "S.A.") -> "sa"."""
    out: list[str] = []
    run: list[str] = []
    for token in tokens:
        if len(token) == 1 and "a" <= token <= "z":
            run.append(token)
            continue
        if run:
            out.append("".join(run))
            run = []
        out.append(token)
    if run:
        out.append("".join(run))
    return out


# The phrases that can end (start) a name with a given word, in the order tried.
_TRAILING_BY_END: dict[str, tuple[tuple[str, ...], ...]] = {}
for _phrase in TRAILING_FORM_PHRASES:
    _TRAILING_BY_END[_phrase[-1]] = (*_TRAILING_BY_END.get(_phrase[-1], ()), _phrase)
_LEADING_BY_START: dict[str, tuple[tuple[str, ...], ...]] = {}
for _phrase in LEADING_FORM_PHRASES:
    _LEADING_BY_START[_phrase[0]] = (*_LEADING_BY_START.get(_phrase[0], ()), _phrase)
del _phrase


def _strip_legal_forms(tokens: list[str]) -> list[str]:
    """Drop legal forms from both ends, keeping at least one word."""
    if len(tokens) < 2 or (tokens[-1] not in _TRAILING_ENDS and tokens[0] not in _LEADING_STARTS):
        return tokens
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        for phrase in _TRAILING_BY_END.get(tokens[-1], ()):
            size = len(phrase)
            if len(tokens) > size and tuple(tokens[-size:]) == phrase:
                del tokens[-size:]
                changed = True
                break
        else:
            if tokens[-1] in CORPORATE_SUFFIXES:
                tokens.pop()
                changed = True
        if len(tokens) < 2:
            break
        for phrase in _LEADING_BY_START.get(tokens[0], ()):
            size = len(phrase)
            if len(tokens) > size and tuple(tokens[:size]) == phrase:
                del tokens[:size]
                changed = True
                break
        else:
            if tokens[0] in LEADING_FORMS:
                tokens.pop(0)
                changed = True
    return tokens


def _words(text: str) -> list[str]:
    """Folded, transliterated words of ``text`` with legal forms still in place."""
    if text.isascii():
        text = text.lower()
    else:
        text = _fold_chars(text)
        text = _APOSTROPHE_RE.sub("", text)
        text = _strip_cjk_suffixes(text)
        text = _transliterate(text)
    text = text.replace("'", "").replace("`", "").replace("&", " and ")
    if text.isascii():
        tokens = _ALNUM_RUN_RE.findall(text)
        if _SINGLE_LETTER_RE.search(text) is None:
            return tokens  # no initials to join
        return _merge_initials(tokens)
    tokens = "".join(ch if ch.isalnum() else " " for ch in text).split()
    return _merge_initials(tokens)


def _one_pass(text: str) -> str:
    return " ".join(_strip_legal_forms(_words(text)))


def _normalise_words(name: str, words: list[str]) -> str:
    """``normalize_name(name)`` from ``words``, the words of ``name`` (left unchanged)."""
    out = " ".join(_strip_legal_forms(list(words)))
    if name.isascii():
        # ASCII text is fully reduced by one pass: its words are lower-case letters and
        # digits, runs of single letters are joined, and legal forms are stripped until
        # none is left at either end; a second pass would find nothing more to do.
        return out
    for _ in range(8):  # a second pass can only see what the first one produced
        again = _one_pass(out)
        if again == out:
            break
        out = again
    return out


def normalize_name(name: str) -> str:
    """The comparison form of a party name.

    Unicode NFKC, case-folded, diacritics removed, Cyrillic and Greek (and, with
    ``anyascii``, Chinese and other scripts) transliterated to Latin letters,
    apostrophes dropped, ``&`` read as "and", other punctuation turned into spaces,
    runs of single letters joined ("S.A." -> "sa"), and legal forms (Co., Ltd., Inc.,
    GmbH, Pte, S.A., JSC, AO, Joint Stock Company, 有限公司, a final 集团 ...) removed
    from the ends. A name made only of legal-form words keeps its last word.
    Idempotent.
    """
    return _normalise_words(name, _words(name))


def name_tokens(name: str) -> frozenset[str]:
    """The set of words of the normalised name."""
    return frozenset(normalize_name(name).split())


_FORM_PHRASES = TRAILING_FORM_PHRASES + LEADING_FORM_PHRASES


def _without_legal_words(words: list[str]) -> list[str]:
    """``words`` less every legal-form word and phrase, wherever they stand."""
    if _LEGAL_ANYWHERE.isdisjoint(words):
        return list(words)
    counts: dict[str, int] = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    for phrase in _FORM_PHRASES:
        if phrase[0] not in counts or phrase[-1] not in counts:
            continue  # the common case, decided without counting
        if all(counts.get(word, 0) >= phrase.count(word) for word in phrase):
            for word in phrase:
                counts[word] -= 1
    kept: list[str] = []
    for word in words:
        if counts[word] > 0 and word not in _LEGAL_TOKENS:
            kept.append(word)
            counts[word] -= 1
    return kept


def token_key(name: str) -> str:
    """Word-order-free form: the words without legal forms (wherever they stand), sorted.

    The key is taken from all the words of ``name``, before normalisation strips legal
    forms from its ends: stripping "Company" from the end of "Joint Stock Zelenograd
    Nanotechnology Center Company" would leave "Joint Stock" behind, no longer a legal
    form, while the whole name holds "Joint Stock Company" in full. A name made only of
    legal forms keys on its normalised words.
    """
    return _order_key(_words(name), None, name)


def normalize_and_key(name: str) -> tuple[str, str | None]:
    """``normalize_name(name)`` and ``token_key(name)``, reading ``name`` once; the key is
    None when it is the normalised words sorted (nearly always: legal forms, if any,
    stood only at the ends)."""
    words = _words(name)
    if name.isascii() and _LEGAL_ANYWHERE.isdisjoint(words):
        return " ".join(words), None  # nothing to strip: the words are the normalised ones
    norm = _normalise_words(name, words)
    norm_words = norm.split()
    if (
        name.isascii()
        and _LEGAL_TOKENS.issuperset(_LEGAL_ANYWHERE.intersection(words))
        and _LEGAL_ANYWHERE.isdisjoint(norm_words)
    ):
        # only single-word legal forms, all stripped from the ends (no phrase can be
        # whole without one of its other words): the key is the normalised words
        return norm, None
    kept = _without_legal_words(words)
    if kept == norm_words:
        return norm, None
    order = " ".join(sorted(kept or norm_words))
    return norm, None if order == " ".join(sorted(norm_words)) else order


def _order_key(words: list[str], norm: str | None, name: str) -> str:
    kept = _without_legal_words(words)
    if not kept:
        kept = (normalize_name(name) if norm is None else norm).split()
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


def has_name(name: str) -> bool:
    """Whether a party name holds something to screen: letters or digits beyond legal forms
    (`!!!`, a zero-width space and `Co Ltd` hold nothing)."""
    words = _words(name)
    return bool(words) and bool(_without_legal_words(words))


__all__ = [
    "CORPORATE_SUFFIXES",
    "LEGAL_WORDS",
    "TRANSLITERATES_CJK",
    "has_name",
    "name_forms",
    "name_tokens",
    "normalize_and_key",
    "normalize_name",
    "token_key",
]

