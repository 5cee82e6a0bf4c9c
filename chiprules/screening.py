"""Fuzzy screening of party names against a party list.

``Screener(entries)`` is built once per list; ``screen(name, on=None, country=None)``
returns a ``ScreenResult`` whose status is ``match``, ``possible`` or ``none``, with up
to five candidate entries, best first, each with a score from 0 to 100 and a plain
sentence saying why.

Scoring, highest tier first (the best tier of any form of an entry counts):

* 100 -- the normalised name equals a listed name or alias (``normalize_name``:
  case, accents, punctuation, transliteration, legal forms such as "Co., Ltd.");
* 97 -- the same words in another order;
* 96 -- the same letters spaced differently ("Hua Wei" and "Huawei", or pinyin
  syllables and a listed pinyin name);
* 92 -- an acronym: a one-word name equal to a listed acronym ("SMIC", "YMTC"), or
  to the initials of a listed name of at least three words;
* at most 95 -- close spelling, scored by a weighted word alignment (below);
* at most 80 -- a listed acronym standing as one word of a longer name
  ("SMIC Beijing" against the acronym "SMIC").

Close spelling. Each word of the listed form is paired with a word of the name, or
with two adjacent words written together ("Hua Wei" for "Huawei"), when
``rapidfuzz.fuzz.ratio`` (Indel similarity) of the two is at least 80 after spelling
variants are folded (c/k, y/i, kh/h, ph/f, doubled letters, plural "s",
abbreviations such as "Intl" and "Mfg"). Words of three letters or less, and words with
digits, must be equal. The score is the share of the listed form's weight that is
matched (each pair counting its similarity), times 100, less a cost for each word of
the name that matches nothing: 13 for a distinctive or unknown word, 6 for a number,
3 for a common business word, 1.5 for a place or an organisational word ("branch",
"office"), 0 for legal forms. A word's weight is its inverse document frequency
``ln(1 + N/df)`` over the N entries of the list, capped at 0.3 for common business
words ("technology", "electronics", "information", "industry", "china",
"international", "group", "research", "institute", "semiconductor", ...) and at 1.0
for place names. So a name that shares only common words with a listed one scores
low ("Pacific Electronics" against "Baikal Electronics"), and unexplained distinctive
words pull a full match down into ``possible`` ("Moore Threads Fashion").

Why not a single rapidfuzz scorer: ``token_set_ratio`` gives 100 to any subset
("Technologies" against "Huawei Technologies"), ``token_sort_ratio`` charges the same
for a missing "Co" as for a missing "Huawei", and ``WRatio`` mixes in partial ratios
that inflate short strings. None of them can weigh words by how common they are.

Country: when ``country`` is given, +3 (capped at 100) when it is one of the entry's
countries, -5 when it is not; entries without a country are not adjusted.
Status: score >= ``match_score`` (90) is ``match``, >= ``possible_score`` (75) is
``possible``, else ``none``. ``best`` is the first candidate when the status is not
``none``; ``candidates`` may also list near misses (score >= 60).

Cost. Entries are indexed by their rarer words (words in more than max(50, 2 % of
the entries) are left out, but every form keeps its rarest word), by every spelling of
those words with one letter deleted (so that one typo on either side still meets),
and by adjacent word pairs written together. Only forms reached through these keys,
at most 16 of them, ranked by the weight of the words they share, are scored. Results
are cached per normalised name in a bounded LRU cache.
"""

from __future__ import annotations

import functools
import heapq
import math
import re
from collections.abc import Iterable
from datetime import date
from typing import Literal

import attrs
from rapidfuzz import fuzz

from .countries import resolve_country
from .names import (
    _LEGAL_TOKENS,
    CJK_SUFFIXES,
    _words,
    name_forms,
    normalize_name,
    token_key,
)
from .parties import PartyEntry

Status = Literal["match", "possible", "none"]
Kind = Literal["name", "alias", "acronym"]

EXACT_SCORE = 100.0
SAME_WORDS_SCORE = 97.0
SAME_LETTERS_SCORE = 96.0
ACRONYM_SCORE = 92.0
CLOSE_SPELLING_CAP = 95.0
ACRONYM_IN_NAME_CAP = 80.0
ONE_WORD_CAP = 90.0
NEAR_MISS_SCORE = 60.0
COUNTRY_AGREES = 3.0
COUNTRY_DIFFERS = -5.0
MAX_CANDIDATES = 5

TOKEN_SIMILARITY = 80.0  # least rapidfuzz ratio for two words to pair up
MAX_SCORED_ENTRIES = 12
COMMON_WEIGHT = 0.3
PLACE_WEIGHT = 1.0
MINOR_WEIGHT = 0.05
EXTRA_DISTINCT = 13.0
EXTRA_NUMBER = 6.0
EXTRA_COMMON = 3.0
EXTRA_QUALIFIER = 1.5
SWAPPED_COMMON = 4.0
FOLDED_SIMILARITY = 92.0
GENERIC_PAIR_FACTOR = 0.85
MISSING_COMMON = 1.5
MISSING_COMMON_CAP = 4.5

#: Words too general to tell companies apart (English and pinyin).
COMMON_WORDS: frozenset[str] = frozenset(
    """
    technology technologies tech electronic electronics information industry industries
    industrial china chinese international group holding holdings research institute
    semiconductor semiconductors science sciences scientific development digital
    intelligent intelligence artificial system systems computing computer network
    networks communication communications telecom telecommunication software micro
    microelectronic microelectronics integrated circuit circuits design manufacturing
    engineering trading trade import export logistics supply service services solution
    solutions global national new advanced high performance smart innovation innovative
    center centre laboratory lab university academy material materials equipment device
    devices component components product products energy power optical photonics
    storage memory test testing instrument instruments precision machinery automation
    investment capital management consulting enterprise enterprises general state key
    cloud data applied application applications chip chips silicon display industrial
    development east west north south northern southern eastern western central asia
    pacific world universal united first ai
    jishu keji xinxi dianzi jicheng dianlu bandaoti gufen youxian zeren gongsi jituan
    zhongguo guoji yanjiusuo yanjiu yanfa kaifa fazhan zhineng kexue chanye shiye
    zhizao touzi maoyi wangluo ruanjian tongxin jisuanji weidianzi guangdian dianqi
    shebei sheji gongcheng daxue xueyuan yiqi cunchu xinpian zhongke
    """.split()
)

#: Words that name a place or a part of an organisation rather than the organisation.
QUALIFIER_WORDS: frozenset[str] = frozenset(
    """
    branch branches office offices subsidiary subsidiaries division department dept
    representative rep factory plant headquarters hq site unit affiliate affiliated
    fen fengongsi bureau
    beijing shanghai shenzhen guangzhou tianjin chongqing wuhan hefei hangzhou nanjing
    suzhou wuxi chengdu changsha jinan zhengzhou xian xiamen qingdao dalian shenyang
    harbin kunming nanchang fuzhou ningbo dongguan foshan zhuhai shijiazhuang taiyuan
    changchun lanzhou guiyang nanning urumqi hohhot lhasa yinchuan xining haikou
    fujian jiangsu zhejiang guangdong hubei hunan anhui shandong hebei henan sichuan
    shaanxi shanxi liaoning jilin heilongjiang guizhou yunnan hainan guangxi xinjiang
    tibet gansu qinghai ningxia jiangxi mongolia inner
    hong kong hongkong macau macao taiwan taipei hsinchu singapore
    moscow zelenograd petersburg saint st novosibirsk russia russian
    japan tokyo korea seoul iran tehran uae dubai india turkey istanbul pakistan
    usa america american europe prc
    """.split()
)

STOP_WORDS: frozenset[str] = frozenset("of and the for in at on de du la le des und der di".split())

#: Short forms read as the full word before comparing.
ABBREVIATIONS: dict[str, str] = {
    "intl": "international",
    "mfg": "manufacturing",
    "tech": "technology",
    "univ": "university",
    "inst": "institute",
    "elec": "electronic",
    "info": "information",
    "sci": "science",
    "dev": "development",
    "grp": "group",
    "labs": "laboratory",
    "lab": "laboratory",
    "ctr": "center",
    "centre": "center",
    "natl": "national",
    "semi": "semiconductor",
    "telecom": "telecommunication",
    "sys": "system",
}

_ORDINAL_RE = re.compile(r"(\d+)(?:st|nd|rd|th)")

_LETTER_FOLDS: tuple[tuple[str, str], ...] = (
    ("ph", "f"),
    ("ck", "k"),
    ("kh", "h"),
    ("ce", "se"),
    ("ci", "si"),
    ("cy", "si"),
    ("c", "k"),
    ("q", "k"),
    ("x", "ks"),
    ("y", "i"),
    ("w", "v"),
)


@functools.lru_cache(maxsize=1 << 16)
def spelling_key(word: str) -> str:
    """A normalised word with spelling variants folded, for loose comparison.

    Abbreviations expanded, plural endings dropped, c/k, y/i, kh/h, ph/f, x/ks,
    w/v and doubled letters folded: "Electronics" and "Elektroniks" (from Cyrillic)
    give the same key. Numbers are kept as they are.
    """
    word = ABBREVIATIONS.get(word, word)
    if word[:1].isdigit():
        ordinal = _ORDINAL_RE.fullmatch(word)
        return ordinal.group(1) if ordinal else word
    if not word.isalpha() or not word.isascii():
        return word
    if len(word) > 4:
        if word.endswith("ies"):
            word = word[:-3] + "y"
        elif word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
    for old, new in _LETTER_FOLDS:
        if old in word:
            word = word.replace(old, new)
    out = [word[0]]
    for ch in word[1:]:
        if ch != out[-1]:
            out.append(ch)
    return "".join(out)


def _fold_set(words: Iterable[str]) -> frozenset[str]:
    return frozenset(spelling_key(w) for w in words)


_COMMON = _fold_set(COMMON_WORDS)
_QUALIFIER = _fold_set(QUALIFIER_WORDS)
_STOP = _fold_set(STOP_WORDS)
_LEGAL = _fold_set(_LEGAL_TOKENS) | _fold_set(["youxian", "zeren", "gufen"])


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _is_acronym(text: str, norm: str) -> bool:
    """A listed form written as an acronym: one word of 2-5 letters, all capitals."""
    if " " in norm or not 2 <= len(norm) <= 5 or not norm.isalpha():
        return False
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and all(ch.isupper() for ch in letters)


def _initials(words: list[str]) -> str:
    kept = [w for w in words if w not in STOP_WORDS]
    if len(kept) < 3 or not all(w[0].isalpha() and w.isascii() for w in kept):
        return ""
    return "".join(w[0] for w in kept)


def _legal_affixes(text: str) -> list[str]:
    """The legal forms that normalisation drops from ``text``, as written there."""
    out: list[str] = []
    norm = normalize_name(text)
    chunks = text.split()
    start, end = 0, len(chunks)
    for cut in (1, 2, 3, 4):
        while end - start > cut and normalize_name(" ".join(chunks[start : end - cut])) == norm:
            end -= cut
    for cut in (1, 2, 3, 4):
        while end - start > cut and normalize_name(" ".join(chunks[start + cut : end])) == norm:
            start += cut
    if start:
        out.append(" ".join(chunks[:start]))
    if end < len(chunks):
        out.append(" ".join(chunks[end:]).rstrip(",;"))
    elif chunks:
        last = chunks[-1].rstrip(".,;")
        for suffix in CJK_SUFFIXES:
            if last.endswith(suffix) and len(last) > len(suffix):
                cut = len(suffix)
                while True:  # a run such as 集团有限公司
                    more = [s for s in CJK_SUFFIXES if last[:-cut].endswith(s)]
                    if not more or len(last) - cut <= len(more[0]):
                        break
                    cut += len(more[0])
                out.append(last[-cut:])
                break
    return out


def _quote_list(items: Iterable[str]) -> str:
    quoted = [f"`{item}`" for item in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _country_codes(text: str) -> frozenset[str]:
    parts = [p.strip().upper() for p in text.replace(";", "/").replace(",", "/").split("/")]
    return frozenset(p for p in parts if p)


def _resolve(country: str) -> str:
    try:
        return resolve_country(country.strip())
    except ValueError:
        return country.strip().upper()


@attrs.frozen
class Candidate:
    """One list entry found for a screened name, with the form that matched."""

    entry: PartyEntry
    form: str
    kind: Kind
    score: float
    why: str


@attrs.frozen
class ScreenResult:
    """The outcome of screening one name."""

    status: Status
    best: Candidate | None
    candidates: tuple[Candidate, ...]


_NOTHING = ScreenResult("none", None, ())


@attrs.frozen
class _Form:
    entry: int
    text: str
    kind: Kind
    norm: str
    words: tuple[str, ...]
    keys: tuple[str, ...]  # spelling keys of the words
    weights: tuple[float, ...]  # alignment order and "core" weights (0 outside the core)
    total: float  # sum of the core weights
    common: tuple[int, ...]  # positions of common words outside the core
    acronym: bool
    affixes: tuple[str, ...]


@attrs.frozen
class _Scored:
    """A date- and country-free candidate, as cached per normalised name."""

    entry: int
    score: float
    form: str
    kind: Kind
    why: str
    exact: bool  # an exact or same-words match: the why may name the name's legal forms
    affixes: tuple[str, ...]
    explained: int  # words of the name that the form accounts for (breaks ties)


_KIND_RANK = {"name": 0, "alias": 1, "acronym": 2}


def _rank(item: _Scored) -> tuple[float, int, int]:
    return (-item.score, -item.explained, _KIND_RANK[item.kind])


class Screener:
    """Fuzzy screening of names against one party list."""

    def __init__(
        self,
        entries: Iterable[PartyEntry],
        match_score: float = 90,
        possible_score: float = 75,
        cache_size: int = 1 << 16,
    ):
        if not 0 <= possible_score <= match_score <= 100:
            raise ValueError("need 0 <= possible_score <= match_score <= 100")
        self.entries: tuple[PartyEntry, ...] = tuple(entries)
        self.match_score = float(match_score)
        self.possible_score = float(possible_score)
        self._countries = [_country_codes(e.country) for e in self.entries]
        self._build()
        self._scored = functools.lru_cache(maxsize=cache_size)(self._score_norm)
        self._normalise = functools.lru_cache(maxsize=cache_size)(normalize_name)
        self._query_affixes = functools.lru_cache(maxsize=1024)(_legal_affixes)

    def __len__(self) -> int:
        return len(self.entries)

    # -- index --------------------------------------------------------------

    def _entry_forms(self, entry: PartyEntry) -> list[tuple[str, Kind]]:
        out: list[tuple[str, Kind]] = []
        for form in name_forms(entry.name):
            out.append((form, "name"))
        for alias in entry.aliases:
            for form in name_forms(alias):
                out.append((form, "alias"))
        return out

    def _build(self) -> None:
        raw: list[tuple[int, str, Kind, str, tuple[str, ...], tuple[str, ...]]] = []
        df: dict[str, int] = {}
        for index, entry in enumerate(self.entries):
            seen: set[str] = set()
            entry_keys: set[str] = set()
            for text, kind in self._entry_forms(entry):
                norm = normalize_name(text)
                if not norm or norm in seen:
                    continue
                seen.add(norm)
                words = tuple(norm.split())
                keys = tuple(spelling_key(w) for w in words)
                entry_keys.update(keys)
                raw.append((index, text, kind, norm, words, keys))
            for key in entry_keys:
                df[key] = df.get(key, 0) + 1
        size = max(len(self.entries), 1)
        self._df = df
        self._size = size
        self._max_idf = math.log(1 + size / 0.5)
        self._common_df = max(50, math.ceil(0.02 * size))
        self.forms: list[_Form] = []
        self._exact: dict[str, list[int]] = {}
        self._words: dict[str, list[int]] = {}
        self._letters: dict[str, list[int]] = {}
        self._acronyms: dict[str, list[int]] = {}
        self._block: dict[str, list[int]] = {}
        for index, text, kind, norm, words, keys in raw:
            acronym = _is_acronym(text, norm)
            weights, common = self._core(keys)
            form = _Form(
                entry=index,
                text=text,
                kind="acronym" if acronym else kind,
                norm=norm,
                words=words,
                keys=keys,
                weights=weights,
                total=sum(weights) or 1.0,
                common=common,
                acronym=acronym,
                affixes=tuple(_legal_affixes(text)),
            )
            fid = len(self.forms)
            self.forms.append(form)
            self._add(self._exact, norm, fid)
            if acronym:
                self._add(self._block, keys[0], fid)
                continue
            self._add(self._words, token_key(norm), fid)
            if len(words) > 1:
                self._add(self._letters, "".join(words), fid)
            for initials in {_initials(list(words)), _initials(_words(text))}:
                if len(initials) >= 3:
                    self._add(self._acronyms, initials, fid)
            for key in self._block_keys(keys):
                self._add(self._block, key, fid)

    def _weight(self, key: str) -> float:
        if key in _STOP or key in _LEGAL:
            return MINOR_WEIGHT
        idf = math.log(1 + self._size / self._df.get(key, 0.5))
        if key in _COMMON:
            return min(idf, COMMON_WEIGHT)
        if key in _QUALIFIER:
            return min(idf, PLACE_WEIGHT)
        return idf

    def _is_common(self, key: str) -> bool:
        return key in _COMMON or self._df.get(key, 0) > self._common_df

    def _core(self, keys: tuple[str, ...]) -> tuple[tuple[float, ...], tuple[int, ...]]:
        """Weights of a form's words for the close-spelling share, and its common words.

        When the form has a distinctive word, the share is taken over its distinctive
        and place words only, and each missing common word costs a fixed amount;
        otherwise (a form of place and common words only) over all its words.
        """
        weights = [self._weight(k) for k in keys]
        distinct = [
            not (self._is_common(k) or k in _QUALIFIER or k in _STOP or k in _LEGAL) for k in keys
        ]
        if not any(distinct):
            return tuple(weights), ()
        common = tuple(i for i, k in enumerate(keys) if self._is_common(k) and k not in _QUALIFIER)
        core = tuple(
            0.0 if (k in _STOP or k in _LEGAL or i in common) else w
            for i, (k, w) in enumerate(zip(keys, weights, strict=True))
        )
        return core, common

    def _rare(self, key: str) -> bool:
        return (
            key not in _COMMON
            and key not in _QUALIFIER
            and key not in _STOP
            and key not in _LEGAL
            and self._df.get(key, 0) <= self._common_df
        )

    def _block_keys(self, keys: tuple[str, ...]) -> set[str]:
        out: set[str] = set()
        rare = [k for k in keys if self._rare(k)]
        if not rare and keys:
            rare = [max(keys, key=lambda k: (self._weight(k), k))]
        for key in rare:
            out.add(key)
            if len(key) >= 5 and not key.isdigit():
                out |= _deletes(key)
        for left, right in zip(keys, keys[1:], strict=False):
            out.add(left + right)
        return out

    @staticmethod
    def _add(table: dict[str, list[int]], key: str, fid: int) -> None:
        bucket = table.setdefault(key, [])
        if fid not in bucket:
            bucket.append(fid)

    # -- scoring ------------------------------------------------------------

    def _extra_cost(self, key: str) -> float:
        if key in _STOP or key in _LEGAL:
            return 0.0
        if key in _QUALIFIER:
            return EXTRA_QUALIFIER
        if self._is_common(key):
            return EXTRA_COMMON
        if key.isdigit():
            return EXTRA_NUMBER
        return EXTRA_DISTINCT

    def _align(
        self, form: _Form, words: list[str], qkeys: list[str]
    ) -> tuple[float, list[int], list[int]] | None:
        """Weighted share of ``form`` matched by ``qkeys``; unmatched positions of both.

        Ties between words of the name are broken by their spelling, not their place,
        so that the result does not depend on word order.
        """
        free = [True] * len(qkeys)
        sims = [0.0] * len(form.keys)
        order = sorted(range(len(form.keys)), key=lambda i: (-form.weights[i], i))
        for i in order:
            key = form.keys[i]
            best, tie, where = 0.0, "", ()
            for j, qkey in enumerate(qkeys):
                if free[j] and qkey == key:
                    # equal once spelling variants are folded: "Micron" and "Mikron"
                    score = 100.0 if words[j] == form.words[i] else FOLDED_SIMILARITY
                    if score > best or (score == best and words[j] < tie):
                        best, tie, where = score, words[j], (j,)
            if best < 100.0 and len(key) > 3 and not key.isdigit() and key.isascii():
                for j, qkey in enumerate(qkeys):
                    if not free[j]:
                        continue
                    if len(qkey) >= 3 and qkey != key:
                        score = fuzz.ratio(key, qkey, score_cutoff=TOKEN_SIMILARITY)
                        if score > best or (score and score == best and qkey < tie):
                            best, tie, where = score, qkey, (j,)
                    if j + 1 < len(qkeys) and free[j + 1]:
                        other = qkeys[j + 1]
                        generic = qkey in _COMMON or other in _COMMON
                        for joined in (qkey + other, other + qkey):
                            score = fuzz.ratio(key, joined, score_cutoff=TOKEN_SIMILARITY)
                            if generic:  # "Core Storage" for "CoreStorage" is weaker evidence
                                score *= GENERIC_PAIR_FACTOR
                            if score > best + 0.5:
                                best, tie, where = score, joined, (j, j + 1)
            if where:
                sims[i] = best / 100.0
                for j in where:
                    free[j] = False
        # two listed words written as one in the name ("Sensetime" for "Sense Time")
        for i in range(len(form.keys) - 1):
            if sims[i] or sims[i + 1]:
                continue
            joined = form.keys[i] + form.keys[i + 1]
            best, tie, where = 0.0, "", ()
            for j, qkey in enumerate(qkeys):
                if free[j] and len(qkey) > 3:
                    score = fuzz.ratio(joined, qkey, score_cutoff=85.0)
                    if score > best or (score and score == best and qkey < tie):
                        best, tie, where = score, qkey, (j,)
            if where:
                sims[i] = sims[i + 1] = best / 100.0
                free[where[0]] = False
        matched = sum(w * s for w, s in zip(form.weights, sims, strict=True))
        if matched <= 0:
            return None
        missing = [i for i, s in enumerate(sims) if not s]
        extra = [j for j, f in enumerate(free) if f]
        return matched / form.total, missing, extra

    def _extras_cost(self, qkeys: list[str], extra: list[int]) -> float:
        cost = 0.0
        left = set(extra)
        for j in extra:  # pinyin syllables that make a common word: "ji shu" (技术)
            if j in left and j + 1 in left:
                for joined in sorted((qkeys[j] + qkeys[j + 1], qkeys[j + 1] + qkeys[j])):
                    if joined in _COMMON or joined in _QUALIFIER or joined in _LEGAL:
                        cost += self._extra_cost(joined)
                        left -= {j, j + 1}
                        break
        for j in sorted(left):
            cost += self._extra_cost(qkeys[j])
        return cost

    def _close(
        self, form: _Form, words: list[str], qkeys: list[str]
    ) -> tuple[float, str, bool, int] | None:
        aligned = self._align(form, words, qkeys)
        if aligned is None:
            return None
        share, missing, extra = aligned
        cost = self._extras_cost(qkeys, extra)
        missing_common = sum(i in form.common for i in missing)
        cost += min(MISSING_COMMON_CAP, MISSING_COMMON * missing_common)
        if missing_common and any(self._is_common(qkeys[j]) for j in extra):
            cost += SWAPPED_COMMON  # "Jiangnan University" for "Jiangnan Institute ..."
        if form.acronym:
            score = ACRONYM_IN_NAME_CAP - cost
            if score < NEAR_MISS_SCORE - 10:
                return None
            why = f"the listed acronym `{form.text}` is one word of the name"
            return score, why, False, len(qkeys) - len(extra)
        score = min(CLOSE_SPELLING_CAP, 100.0 * share) - cost
        if len(form.keys) > 1 and sum(k not in _LEGAL and k not in _STOP for k in qkeys) == 1:
            score = min(score, ONE_WORD_CAP)  # "Inspur" for "Inspur Group"
        if score < NEAR_MISS_SCORE - 10:
            return None
        score = round(score, 1)
        why = f"close spelling of `{form.text}` (score {score:.1f})"
        shown = [words[j] for j in extra if qkeys[j] not in _LEGAL and qkeys[j] not in _STOP]
        if shown:
            why += f", with the extra words `{' '.join(shown)}`"
        absent = [form.words[i] for i in missing if form.keys[i] not in _STOP | _LEGAL]
        if absent:
            why += f", without `{' '.join(absent)}`"
        return score, why, False, len(qkeys) - len(extra)

    def _score_norm(self, norm: str) -> tuple[_Scored, ...]:
        """Date- and country-free candidates for a normalised name, best first."""
        if not norm:
            return ()
        words = norm.split()
        qkeys = [spelling_key(w) for w in words]
        best: dict[int, _Scored] = {}

        def offer(
            fid: int, score: float, why: str, exact: bool = False, explained: int = len(words)
        ) -> None:
            form = self.forms[fid]
            item = _Scored(
                form.entry, round(score, 1), form.text, form.kind, why, exact, form.affixes,
                explained,
            )  # fmt: skip
            current = best.get(form.entry)
            if current is None or _rank(item) < _rank(current):
                best[form.entry] = item

        done: set[int] = set()
        for fid in self._exact.get(norm, ()):
            form = self.forms[fid]
            if not form.acronym:
                done.add(fid)
                offer(fid, EXACT_SCORE, f"same name as the listed {form.kind} `{form.text}`", True)
        key = token_key(norm)
        if " " not in key and key.isalpha() and key.isascii():  # one word, legal forms aside
            for fid in self._exact.get(key, ()):
                form = self.forms[fid]
                if form.acronym:
                    done.add(fid)
                    owner = self._owner(form)
                    offer(fid, ACRONYM_SCORE, f"acronym `{form.text}` of the listed {owner}")
            if 3 <= len(key) <= 8:
                for fid in self._acronyms.get(key, ()):
                    form = self.forms[fid]
                    if form.entry in best and best[form.entry].score >= ACRONYM_SCORE:
                        continue
                    offer(fid, ACRONYM_SCORE,
                          f"`{key.upper()}` is the initials of the listed {form.kind} "
                          f"`{form.text}`")  # fmt: skip
        for fid in self._words.get(key, ()):
            if fid not in done:
                done.add(fid)
                form = self.forms[fid]
                offer(fid, SAME_WORDS_SCORE,
                      f"same words as the listed {form.kind} `{form.text}`", True)  # fmt: skip
        for letters in sorted({"".join(words), "".join(reversed(words))}):
            joined = self._exact.get(letters, ()) if len(words) > 1 else ()
            for fid in (*self._letters.get(letters, ()), *joined):
                if fid not in done:
                    done.add(fid)
                    form = self.forms[fid]
                    offer(fid, SAME_LETTERS_SCORE,
                          f"same letters as the listed {form.kind} `{form.text}`, "
                          "spaced differently")  # fmt: skip
        for fid in self._candidates(qkeys):
            if fid in done:
                continue
            close = self._close(self.forms[fid], words, qkeys)
            if close is not None:
                offer(fid, *close)
        ranked = sorted(best.values(), key=lambda s: (*_rank(s), s.entry))
        return tuple(ranked)

    def _owner(self, form: _Form) -> str:
        return "name" if form.kind == "acronym" and self._from_name(form) else "alias"

    def _from_name(self, form: _Form) -> bool:
        return form.text in name_forms(self.entries[form.entry].name)

    def _candidates(self, qkeys: list[str]) -> list[int]:
        evidence: dict[int, float] = {}
        block = self._block
        for j, key in enumerate(qkeys):
            lookups = [key]
            if len(key) >= 5 and not key.isdigit():
                lookups.extend(_deletes(key))
            if j + 1 < len(qkeys):
                for joined in (key + qkeys[j + 1], qkeys[j + 1] + key):
                    lookups.append(joined)
                    if len(joined) >= 5:
                        lookups.extend(_deletes(joined))
            hit: set[int] = set()
            for lookup in lookups:
                postings = block.get(lookup)
                if postings:
                    hit.update(postings)
            if hit:
                weight = self._weight(key) if key in self._df else self._max_idf
                for fid in hit:
                    evidence[fid] = evidence.get(fid, 0.0) + weight
        if not evidence:
            return []
        by_entry: dict[int, float] = {}
        forms = self.forms
        for fid, value in evidence.items():
            entry = forms[fid].entry
            value = round(value, 6)
            if value > by_entry.get(entry, -1.0):
                by_entry[entry] = value
        if len(by_entry) > MAX_SCORED_ENTRIES:
            kept = set(
                heapq.nlargest(MAX_SCORED_ENTRIES, by_entry, key=lambda e: (by_entry[e], -e))
            )
            return sorted(fid for fid in evidence if forms[fid].entry in kept)
        return sorted(evidence)

    # -- public -------------------------------------------------------------

    def screen(self, name: str, on: date | None = None, country: str | None = None) -> ScreenResult:
        """Screen one name; see the module documentation for the scoring."""
        if not isinstance(name, str) or not name.strip():
            return _NOTHING
        norm = self._normalise(name)
        scored = self._scored(norm)
        if not scored:
            return _NOTHING
        code = _resolve(country) if country and country.strip() else None
        out: list[Candidate] = []
        for item in scored:
            entry = self.entries[item.entry]
            if on is not None and not entry.in_force(on):
                continue
            score, why = item.score, item.why
            if item.exact:
                affixes = self._affix_clause(name, item.affixes)
                if affixes:
                    why += f" after removing {affixes}"
            if code is not None and self._countries[item.entry]:
                listed = "/".join(sorted(self._countries[item.entry]))
                if code in self._countries[item.entry]:
                    score = min(100.0, score + COUNTRY_AGREES)
                    why += f"; country {code} agrees"
                else:
                    score = max(0.0, score + COUNTRY_DIFFERS)
                    why += f"; country {code} differs from the listed {listed}"
            if score < NEAR_MISS_SCORE:
                continue
            out.append(Candidate(entry, item.form, item.kind, round(score, 1), why))
        if not out:
            return _NOTHING
        out.sort(key=lambda c: -c.score)  # stable: ties keep the cached order
        top = tuple(out[:MAX_CANDIDATES])
        status: Status
        if top[0].score >= self.match_score:
            status = "match"
        elif top[0].score >= self.possible_score:
            status = "possible"
        else:
            return ScreenResult("none", None, top)
        return ScreenResult(status, top[0], top)

    def _affix_clause(self, name: str, listed: tuple[str, ...]) -> str:
        seen: dict[str, str] = {}
        for affix in (*listed, *self._query_affixes(name)):
            seen.setdefault(" ".join(_words(affix)), affix)
        return _quote_list(seen.values())

    def cache_info(self):
        """Hit and miss counts of the per-name cache."""
        return self._scored.cache_info()


__all__ = ["Candidate", "ScreenResult", "Screener", "spelling_key"]
