"""Fuzzy screening of party names against a party list.

``Screener(entries)`` is built once per list; ``screen(name, on=None, country=None,
address=None)`` returns a ``ScreenResult`` whose status is ``match``, ``possible`` or
``none``, with up to five candidate entries, best first, each with a score from 0 to
100 and a plain sentence saying why.

Every number below is a field of ``ScreeningPolicy`` (``chiprules.screening.policy``),
shown with its default; ``docs/screening.md`` explains each one and how it was chosen.
Scoring, highest tier first (the best tier of any form of an entry counts), one method
of ``Screener`` per stage:

* 100 (``_exact_stage``) -- the normalised name equals a listed name or alias
  (``normalize_name``: case, accents, punctuation, transliteration, legal forms such
  as "Co., Ltd.");
* 97 (``_word_order_stage``) -- the same words in another order, legal forms aside
  wherever they stand in either name;
* 96 (``_spacing_stage``) -- the same letters spaced differently ("Hua Wei" and
  "Huawei", or pinyin syllables and a listed pinyin name);
* 92 (``_acronym_stage``) -- an acronym: a one-word name equal to a listed acronym
  ("SMIC", "YMTC"), or to the initials of a listed name of at least three words;
* at most 95 (``_close_spelling_stage``, ``_close``) -- close spelling, scored by a
  rarity-weighted word alignment (below);
* at most 80 -- a listed acronym standing as one word of a longer name
  ("SMIC Beijing" against the acronym "SMIC").

Then the evidence (``_country_evidence``, ``_address_evidence``) adjusts the score.

Close spelling. Each word of the listed form is paired with a word of the name, or
with two adjacent words written together ("Hua Wei" for "Huawei"; "Sense Time" for
"Sensetime" the other way round). Words are compared after spelling variants are
folded (c/k, soft c/s, y/i, kh/h, ph/f, x/ks, w/v, doubled letters, a plural "s",
ordinals "13th", abbreviations such as "Intl", "Mfg" and "Tech"): equal words count
1 (0.92 when they were equal only once folded, as "Micron" and "Mikron"); a word
that is not listed is compared with ``rapidfuzz.fuzz.ratio`` (Indel similarity) to
the listed words one deleted letter away on either side, and counts its ratio / 100
when that is at least 80. Words of the name shorter than five letters, and listed
acronyms and numbers, must be equal. Two words written apart of which one is common
("Core Storage" for "CoreStorage") count 0.85 of that.

Each word of a listed form weighs its inverse document frequency ``ln(1 + N/df)``
over the N entries of the list, capped at 0.3 for common business words
("technology", "electronics", "information", "industry", "china", "international",
"group", "research", "institute", "semiconductor", and pinyin ones such as "jishu")
and at 1.0 for places ("Beijing", "Shenzhen") and organisational words ("branch").
When a form has a distinctive word, its score is taken over its distinctive words and
places, and each missing common word costs 1.5 (4.5 at most); a form made only of
common words and places is scored over all of them. The score is then

    min(95, 100 * matched weight / form weight) - costs

where each word of the name that matches nothing costs 13 when distinctive or
unknown, 6 for a number, 3 for a common word, 1.5 for a place or an organisational
word and 0 for a legal form; 4 more when the name puts a common word where the listed
form had another ("Jiangnan University" against "Jiangnan Institute of Computing
Technology"). A one-word name scores at most 90 against a longer form ("Inspur"
against "Inspur Group"). So a name that shares only common words with a listed one
scores low ("Pacific Electronics" against "Baikal Electronics"), and an unexplained
distinctive word pulls a full match down to ``possible`` ("Moore Threads Fashion").

Why not a single rapidfuzz scorer: ``token_set_ratio`` gives 100 to any subset
("Technologies" against "Huawei Technologies"), ``token_sort_ratio`` charges the same
for a missing "Co" as for a missing "Huawei", and ``WRatio`` mixes in partial ratios
that inflate short strings. None of them weighs words by how common they are, so
rapidfuzz is used word by word, inside the weighted alignment.

Country: when ``country`` is given, +3 (capped at 100) when it is one of the entry's
countries, -5 when it is not; entries without a country are not adjusted.
Address: when ``address`` is given and the entry lists addresses, their place words
are compared: the words left after normalisation once numbers, street and building
words ("road", "street", "district", "building", "floor", "room", "no" ...), country
names and common business words are dropped (in Chinese script, two adjacent
syllables are read as one word: 深圳 as "Shenzhen"). When they share one, +2 (capped
at 100) and the reason says ``address agrees (Shenzhen)``. Listed addresses are
incomplete, so an address that shares nothing costs nothing.
Status: score >= ``match_score`` (90) is ``match``, >= ``possible_score`` (75) is
``possible``, else ``none``. ``best`` is the first candidate when the status is not
``none``; ``candidates`` may also list near misses (score >= 60).

Cost. Forms are indexed by their rare words (those in at most max(50, 2 % of N)
entries and not common; a form with none is indexed by its heaviest word) and by
adjacent rare words written together. The listed words are also indexed with one
letter deleted. A name's words (and adjacent pairs) are looked up as they are and,
when not listed, through the one-letter deletions on both sides; the entries sharing
the most weight with the name, at most five, are scored, form by form, best upper
bound first, skipping forms whose upper bound cannot beat what is already found. When
the name equals a listed name or alias (exact, same words, same letters), close
spellings are not searched.

Caches, all bounded: the date- and country-free candidates per search key (the
normalised name, with the word-order key when it is not the normalised words sorted;
LRU, as a tuple of immutable ``_Scored`` records); per word of a name, its spelling
key, the listed words it spells and its cost; per word or pair of words not listed,
the listed words one deletion away; per raw name, its search key and the legal forms
it drops. A ``ScreenResult`` is immutable, so one is kept per (search key, date,
country, address, legal forms dropped) and shared by the names alike in all of these
("Huawei Technologies" and "HUAWEI TECHNOLOGIES"), and one per raw name and evidence
(LRU): screening a name again returns the same object. The other cached values are tuples, dicts and strings of
atoms where they can be, which the garbage collector stops tracking: a large cache
slows down its collections less.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Iterable
from datetime import date
from typing import Literal, NamedTuple

import attrs
import pycountry
from rapidfuzz import fuzz

from chiprules.data.countries import resolve_country
from chiprules.data.parties import PartyEntry
from chiprules.screening.names import (
    _LEGAL_TOKENS,
    CJK_SUFFIXES,
    _is_cjk,
    _words,
    has_name,
    name_forms,
    normalize_and_key,
    normalize_name,
    token_key,
)
from chiprules.screening.policy import DEFAULT_POLICY, ScreeningPolicy

Status = Literal["match", "possible", "none"]

_SEPARATORS = re.compile("[,;]")  # where a name may end and an address begin
_MAX_PIECES = 8  # the name cut at no more than the first seven commas
Kind = Literal["name", "alias", "acronym"]


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
    "labs": "laboratory",
    "lab": "laboratory",
    "centre": "center",
    "natl": "national",
    "telecom": "telecommunication",
}

_ORDINAL_RE = re.compile(r"(\d+)(?:st|nd|rd|th)")

# Spelling folds, in this order: ph/f, ck/k, kh/h; c before e, i, y is s; then c/k,
# q/k, x/ks, y/i, w/v; then doubled letters are single.
_SOFT_C_RE = re.compile(r"c(?=[eiy])")
_LETTER_TABLE = str.maketrans({"c": "k", "q": "k", "x": "ks", "y": "i", "w": "v"})
_DOUBLE_RE = re.compile(r"(.)\1+")


def _first_group(match: re.Match[str]) -> str:
    # a function rather than the template r"\1", which ``re`` expands in Python
    return match.group(1)


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
    if "h" in word:
        word = word.replace("ph", "f").replace("ck", "k").replace("kh", "h")
    elif "ck" in word:
        word = word.replace("ck", "k")
    if "c" in word:
        word = _SOFT_C_RE.sub("s", word)
    word = word.translate(_LETTER_TABLE)
    return _DOUBLE_RE.sub(_first_group, word)


def _fold_set(words: Iterable[str]) -> frozenset[str]:
    return frozenset(spelling_key(w) for w in words)


_COMMON = _fold_set(COMMON_WORDS)
_QUALIFIER = _fold_set(QUALIFIER_WORDS)
_STOP = _fold_set(STOP_WORDS)
_LEGAL = _fold_set(_LEGAL_TOKENS) | _fold_set(["youxian", "zeren", "gufen"])


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _is_acronym(text: str, norm: str, policy: ScreeningPolicy) -> bool:
    """A listed form written as an acronym: one word of 2-5 letters (by default), all
    capitals."""
    if (
        " " in norm
        or not policy.min_acronym_length <= len(norm) <= policy.max_acronym_length
        or not norm.isalpha()
    ):
        return False
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and all(ch.isupper() for ch in letters)


def _initials(words: list[str], min_words: int) -> str:
    """The initials of a name of at least ``min_words`` words (stop words aside), else ""."""
    kept = [w for w in words if w not in STOP_WORDS]
    if len(kept) < min_words or not all(w[0].isalpha() and w.isascii() for w in kept):
        return ""
    return "".join(w[0] for w in kept)


_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")


def _legal_affixes(text: str, norm: str | None = None) -> list[str]:
    """The legal forms that normalisation drops from ``text``, as written there."""
    words = _words(text)
    core = (normalize_name(text) if norm is None else norm).split()
    if words == core:
        if not text.isascii() and text.rstrip(" .,;").endswith(CJK_SUFFIXES):
            return _legal_affixes_slow(text)  # Chinese legal forms are gone from ``words``
        return []
    if text.isascii():
        found = _ascii_affixes(text, words, core)
        if found is not None:
            return found
    return _chunk_affixes(text, words, core)


def _ascii_affixes(text: str, words: list[str], core: list[str]) -> list[str] | None:
    """The text around the normalised words ``core`` in an ASCII ``text`` whose words are
    runs of letters and digits; None when ``text`` is not that simple."""
    spans = list(_ASCII_WORD.finditer(text))
    if [m.group().lower() for m in spans] != words:
        return None
    size = len(core)
    for start in range(len(words) - size + 1):
        if words[start : start + size] == core:
            out = []
            if start:
                out.append(text[: spans[start].start()].strip(" ,;"))
            end = start + size
            if end < len(words):
                out.append(text[spans[end - 1].end() :].strip(" ,;"))
            return [a for a in out if a]
    return None


def _chunk_affixes(text: str, words: list[str], core: list[str]) -> list[str]:
    """The whitespace-separated chunks of ``text`` before and after the normalised words
    ``core``; by trial and error (``_legal_affixes_slow``) when the chunks do not split
    there."""
    size = len(core)
    for start in range(len(words) - size + 1):
        if words[start : start + size] == core:
            found = _chunks_around(text.split(), start, len(words) - start - size)
            return _legal_affixes_slow(text) if found is None else found
    return _legal_affixes_slow(text)


def _chunks_around(chunks: list[str], lead: int, trail: int) -> list[str] | None:
    """The chunks holding the first ``lead`` and the last ``trail`` words, joined; None
    when a chunk holds words of both sides of the cut."""
    first = count = 0
    while count < lead and first < len(chunks):
        count += len(_words(chunks[first]))
        first += 1
    if count != lead:
        return None
    count = 0
    last = len(chunks)
    while count < trail and last > first:
        last -= 1
        count += len(_words(chunks[last]))
    if count != trail:
        return None
    out = []
    if first:
        out.append(" ".join(chunks[:first]))
    if last < len(chunks):
        out.append(" ".join(chunks[last:]).rstrip(",;"))
    return out


def _legal_affixes_slow(text: str) -> list[str]:
    """The legal forms of ``text`` found by dropping chunks from either end for as long as
    the normalised name stays the same, and Chinese legal forms written without a space."""
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
        suffix = _cjk_legal_suffix(chunks[-1].rstrip(".,;"))
        if suffix:
            out.append(suffix)
    return out


def _cjk_legal_suffix(last: str) -> str:
    """The Chinese legal forms ending ``last``, a run of them such as 集团有限公司 as one;
    "" when there is none or nothing would be left before it."""
    for suffix in CJK_SUFFIXES:
        if last.endswith(suffix) and len(last) > len(suffix):
            cut = len(suffix)
            while True:  # a run such as 集团有限公司
                more = [s for s in CJK_SUFFIXES if last[:-cut].endswith(s)]
                if not more or len(last) - cut <= len(more[0]):
                    break
                cut += len(more[0])
            return last[-cut:]
    return ""


def _quote_list(items: Iterable[str]) -> str:
    quoted = [f"`{item}`" for item in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


@functools.lru_cache(maxsize=4096)
def _affix_clause(affixes: tuple[tuple[str, str], ...], listed: tuple[tuple[str, str], ...]) -> str:
    """The legal forms dropped from the listed form and the name, each once: both are
    (words, text as written)."""
    seen = dict(listed)
    for words, affix in affixes:
        seen.setdefault(words, affix)
    return _quote_list(seen.values())


def _country_codes(text: str) -> tuple[str, ...]:
    parts = [p.strip().upper() for p in text.replace(";", "/").replace(",", "/").split("/")]
    return tuple(sorted({p for p in parts if p}))


def _resolve(country: str) -> str:
    try:
        return resolve_country(country.strip())
    except ValueError:
        return country.strip().upper()


#: Words of an address that say what kind of place it names, not which one.
ADDRESS_WORDS: frozenset[str] = frozenset(
    """
    road rd street st avenue ave boulevard blvd lane ln alley way highway hwy expressway
    district dist county town township village city municipality province prov region
    state zone area park estate industrial building bldg block blk tower floor fl room rm
    unit suite no number house flat apartment plaza square court garden gardens phase
    section sec lot plot km box po pobox zip postal postcode code base campus compound
    hall gate bridge port harbour harbor airport station center centre mansion complex
    hitech hi tech high technology science sciences economic development free trade
    special administrative new east west north south central middle upper lower inner
    outer office branch headquarters hq factory plant site no number
    lu jie dao qu shi sheng zhen cun hao lou ceng shi xiang
    ulitsa ul prospekt pr shosse pereulok per dom korpus stroenie kv oblast krai raion
    """.split()
)


@functools.cache
def _country_words() -> frozenset[str]:
    """Every word of a country's name (and its alpha-3 code), as normalised."""
    words = {"prc", "uae", "usa", "uk", "hongkong", "russia", "korea", "vietnam", "iran"}
    for country in pycountry.countries:
        words.add(country.alpha_3.lower())
        for attr in ("name", "official_name", "common_name"):
            text = getattr(country, attr, None)
            if text:
                words.update(_words(text))
    return frozenset(words)


@functools.lru_cache(maxsize=4096)
def _address_places(text: str, min_length: int) -> dict[str, str]:
    """The distinctive place words of an address: spelling key -> word as written.

    Numbers, street and building words, country names and common business words are
    left out. Chinese characters give one pinyin syllable each, so there two adjacent
    syllables are read as one word ("shen zhen" from 深圳 as "Shenzhen").
    """
    written = {m.group().lower(): m.group() for m in _ASCII_WORD.finditer(text)}
    words = _words(text)
    skip = ADDRESS_WORDS | _country_words()
    found: list[tuple[str, str]] = []
    if any(_is_cjk(ord(ch)) for ch in text):
        found += [(a + b, (a + b).title()) for a, b in zip(words, words[1:], strict=False)]
        words = [w for w in words if len(w) > 6]  # single syllables are not places
    found += [(w, written.get(w, w.title())) for w in words]
    out: dict[str, str] = {}
    for word, shown in found:
        if len(word) < min_length or not word.isalpha() or word in skip:
            continue
        key = spelling_key(word)
        if key in _COMMON or key in _STOP or key in _LEGAL or key in out:
            continue
        out[key] = shown
    return out


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
    weights: tuple[float, ...]  # "core" weights (0 outside the core)
    total: float  # sum of the core weights
    common: tuple[int, ...]  # positions of common words outside the core
    common_keys: tuple[str, ...]  # their spelling keys
    order: tuple[int, ...]  # positions, heaviest word first
    pairs: tuple[tuple[int, str], ...]  # (i, keys[i] + keys[i + 1]) for distinctive pairs
    unblocked: float  # core weight of the words not indexed
    keyset: tuple[str, ...]  # keys and pairs, each once (a tuple: not tracked by the GC)
    acronym: bool
    affixes: tuple[tuple[str, str], ...]  # (words, text) of the legal forms dropped
    rank: int  # of the kind: name, alias, acronym


class _Scored(NamedTuple):
    """A listed form found for a normalised name, before dates and evidence are applied.

    One is kept per entry (its best form). ``why`` is "" for a close spelling: the
    sentence is written from the form and the positions of the ``missing`` listed words
    and ``extra`` words of the name only when the candidate is shown. ``exact`` marks the
    matches whose reason may name the legal forms dropped from the name.

    Immutable (the candidates of a name are cached and shared), read by field name only;
    a named tuple rather than a frozen attrs class, which costs twice as much to build.
    """

    form: _Form
    score: float  # rounded to 0.1
    explained: int  # words of the name the form explains
    why: str
    exact: bool
    missing: tuple[int, ...] = ()
    extra: tuple[int, ...] = ()

    def rank(self) -> tuple[float, int, int, int]:
        """Best first: the higher score, then more words explained, then the name before
        an alias before an acronym, then list order."""
        return (-self.score, -self.explained, self.form.rank, self.form.entry)


@attrs.define
class _Unit:
    """A part of the name that spells a listed word: one word, or two adjacent words
    written together (in either order). Built for one name and not changed after (a
    slotted class rather than a frozen one: one is built per word of every name
    screened, and a frozen class costs twice as much to build)."""

    text: str  # the spelling key of the word, or the two keys joined
    first: int  # position of its first word in the name
    mask: int  # bit mask of the positions of its words
    single: bool  # one word of the name, as written


@attrs.define
class _WordInfo:
    """What the screener knows of one word of a name (cached per word, not changed
    after it is built)."""

    key: str  # spelling key
    spells: dict[str, float]  # listed words (spelling keys) it spells, with their similarity
    cost: float  # what it costs when it matches nothing
    common: bool  # a common business word
    counts: bool  # counts as a word: not a legal form nor a stop word


_KIND_RANK = {"name": 0, "alias": 1, "acronym": 2}


class _Query:
    """A normalised name taken apart for scoring."""

    __slots__ = (
        "words", "keys", "units", "near", "reach", "cost", "common", "one_word", "pair_cost",
    )  # fmt: skip

    def __init__(self, words: list[str]):
        self.words = words
        self.keys: list[str] = []  # spelling keys of the words
        self.cost: list[float] = []  # cost of each word when it matches nothing
        self.common: list[bool] = []  # each word is a common business word
        #: (j, cost): words j and j + 1 that together make a common word ("ji shu")
        self.pair_cost: list[tuple[int, float]] = []
        self.one_word = False
        #: the parts of the name that spell a listed word: single words, and adjacent
        #: pairs written together in either order
        self.units: list[_Unit] = []
        #: listed word (spelling key) -> [(unit index, similarity)]
        self.near: dict[str, list[tuple[int, float]]] = {}
        #: listed word -> bit mask of the words of the name that may stand for it
        self.reach: dict[str, int] = {}


def _search_key(name: str) -> str:
    """What the candidates of a name depend on: its normalised form and its word-order key.

    The word-order key is taken from the words as written (``token_key``), since
    stripping legal forms from the ends can leave part of one behind. It is one string,
    as the caches keep strings best: the normalised name alone when the key is its
    words sorted (nearly always), else the normalised name, a tab and the key.
    """
    norm, order = normalize_and_key(name)
    return norm if order is None else f"{norm}\t{order}"


def _norm_of(search: str) -> str:
    """The normalised name of a search key."""
    return search.partition("\t")[0]


#: The candidates found so far for a name: entry index -> its best scored form.
_Best = dict[int, _Scored]


def _offer(best: _Best, found: _Scored) -> None:
    """Keep ``found`` as its entry's candidate when it ranks above the one kept."""
    entry = found.form.entry
    current = best.get(entry)
    if current is None or (-found.score, -found.explained, found.form.rank) < (
        -current.score, -current.explained, current.form.rank,
    ):  # fmt: skip
        best[entry] = found


_JOINED_MINOR = _COMMON | _QUALIFIER | _LEGAL
_SECOND = operator.itemgetter(1)
_IS_EXACT = operator.attrgetter("exact")


@functools.lru_cache(maxsize=4096)
def _unused(used: int, size: int) -> tuple[int, ...]:
    """The positions below ``size`` whose bit is not set in ``used``."""
    return tuple(j for j in range(size) if not used >> j & 1)


_MINOR = _STOP | _LEGAL
_NO_WORDS: dict[str, float] = {}  # shared, never changed


def _note_unit(near: dict, reach: dict, index: int, mask: int, found: dict) -> None:
    """Record that unit ``index`` (covering the name's words in ``mask``) spells each listed
    word of ``found`` with its similarity."""
    for listed, score in found.items():
        hits = near.get(listed)
        if hits is None:
            near[listed] = [(index, score)]
        else:
            hits.append((index, score))
        reach[listed] = reach.get(listed, 0) | mask


def _spellings(words: list[str]) -> tuple[str, ...]:
    """The name's letters without spaces, its words in their order and reversed (once
    each, in sorted order)."""
    together = "".join(words)
    if len(words) < 2:
        return (together,)
    apart = "".join(reversed(words))
    if apart == together:
        return (together,)
    return (together, apart) if together < apart else (apart, together)


def _best_unit(
    found: list[tuple[int, float]],
    units: list[_Unit],
    words: list[str],
    listed: str,
    used: int,
    folded: float,
) -> tuple[float, int]:
    """The best unit not yet ``used`` among several that spell the listed word ``listed``
    (``found``: unit index and similarity), as (similarity, bit mask of its words); (0, 0)
    when none is free. A word equal to the listed one only once spelling is folded
    ("Micron" and "Mikron") counts ``folded``; ties go to the unit spelled first in
    alphabetical order, so that word order does not matter."""
    best, tie, where = 0.0, "", 0
    for index, score in found:
        unit = units[index]
        if used & unit.mask:
            continue
        if score == 100.0 and unit.single and words[unit.first] != listed:
            score = folded  # equal once spelling is folded: Micron, Mikron
        if score > best or (score == best and unit.text < tie):
            best, tie, where = score, unit.text, unit.mask
    return best, where


def _shared_weight(posted: list[tuple[tuple[int, ...], int]]) -> dict[int, int]:
    """Form id -> the weight of the listed words it shares with the name."""
    evidence: dict[int, int] = {}
    for postings, gain in posted:
        for fid in postings:
            evidence[fid] = evidence.get(fid, 0) + gain
    return evidence


class _Bounds:
    """The most each form can score for close spelling against one name, for
    ``_candidates``: the share of its core weight the name may spell, capped as
    ``_capped_score`` caps, less the least it must pay in ``_close`` for the words of
    the name it cannot explain and for its common words the name lacks.

    A word the form cannot explain costs at least its own cost, or half that of the
    common word it makes with a neighbour; the costs are kept per bit mask of the
    unexplained words, as forms often leave the same ones.
    """

    __slots__ = ("floor", "costly", "spelled", "reach", "known", "policy", "one_word")

    def __init__(self, query: _Query, policy: ScreeningPolicy):
        floor = query.cost
        if query.pair_cost:
            floor = list(floor)
            for j, pair in query.pair_cost:
                floor[j] = min(floor[j], pair / 2)
                floor[j + 1] = min(floor[j + 1], pair / 2)
        costly = 0  # bit mask of the words that cost something
        for j, c in enumerate(floor):
            if c:
                costly |= 1 << j
        self.floor = floor
        self.costly = costly
        #: listed word -> the costly words of the name that may stand for it
        self.spelled = {w: mask & costly for w, mask in query.reach.items() if mask & costly}
        self.reach = query.reach
        #: the cost of the costly words a form leaves unexplained, by their bit mask
        self.known: dict[int, float] = {0: 0.0}
        self.policy = policy
        self.one_word = query.one_word

    def of(self, form: _Form, evidence: int, lowest: float) -> float | None:
        """The bound of ``form`` when the name spells rare words of weight ``evidence``
        (thousandths) of it, the words it is not indexed by counted as spelled; None
        when even the share spelled is below ``lowest``."""
        policy = self.policy
        if form.acronym:
            bound = policy.acronym_in_name_cap
        else:
            bound = 100.0 * ((evidence / 1000 + form.unblocked) / form.total)
            if bound > policy.close_spelling_cap:
                bound = policy.close_spelling_cap
            if self.one_word and bound > policy.one_word_cap and len(form.keys) > 1:
                bound = policy.one_word_cap
        if bound + 0.5 < lowest:
            return None
        return bound - self._least_cost(form) + 0.5

    def _least_cost(self, form: _Form) -> float:
        """The words of the name ``form`` has no word for, and its common words that the
        name spells nowhere (as ``_missing_common_cost`` charges)."""
        cost = self._unexplained(form) if self.costly else 0.0
        if form.common_keys:
            absent = 0
            for key in form.common_keys:
                if key not in self.reach:
                    absent += 1
            if absent:
                policy = self.policy
                cost += min(policy.missing_common_cap, policy.missing_common * absent)
        return cost

    def _unexplained(self, form: _Form) -> float:
        """The least cost of the costly words of the name that ``form`` has no word for."""
        left = self.costly
        spelled = self.spelled
        for word in form.keyset:  # a few words, where the name may spell many
            mask = spelled.get(word)
            if mask is not None:
                left &= ~mask
        cost = self.known.get(left)
        if cost is None:
            cost = 0.0
            for j, c in enumerate(self.floor):
                if left >> j & 1:
                    cost += c
            self.known[left] = cost
        return cost


class Screener:
    """Fuzzy screening of names against one party list.

    ``entries`` are indexed once. A name whose best candidate scores at least
    ``match_score`` is a ``match``, at least ``possible_score`` a ``possible`` match
    (both from the list in the rules). ``cache_size`` bounds each cache (names, words,
    results). ``policy`` holds every other number (``DEFAULT_POLICY`` unless given).
    """

    def __init__(
        self,
        entries: Iterable[PartyEntry],
        match_score: float = 90,
        possible_score: float = 75,
        cache_size: int = 1 << 16,
        *,
        policy: ScreeningPolicy = DEFAULT_POLICY,
    ):
        if not 0 <= possible_score <= match_score <= 100:
            raise ValueError("need 0 <= possible_score <= match_score <= 100")
        self.entries: tuple[PartyEntry, ...] = tuple(entries)
        self.match_score = float(match_score)
        self.possible_score = float(possible_score)
        self.policy = policy
        self._lowest = policy.lowest_score  # read for every form scored
        self._countries = [_country_codes(e.country) for e in self.entries]
        self._build()
        self._scored = functools.lru_cache(maxsize=cache_size)(self._score_key)
        self._scored_full = functools.lru_cache(maxsize=1024)(self._score_key_full)
        self._incomplete: set[str] = set()
        self._incomplete_size = cache_size
        self._search_keys = functools.lru_cache(maxsize=cache_size)(_search_key)
        # tuples, which the garbage collector stops tracking, rather than lists
        # keyed by the name alone (no key tuple to track)
        self._query_affixes = functools.lru_cache(maxsize=cache_size)(
            lambda name: tuple(
                (" ".join(_words(affix)), affix)
                for affix in _legal_affixes(name, _norm_of(self._search_keys(name)))
            )
        )
        self._spelled_near = functools.lru_cache(maxsize=cache_size)(self._typo_near)
        self._results = functools.lru_cache(maxsize=cache_size)(self._screen)
        self._plain_results = functools.lru_cache(maxsize=cache_size)(self._screen_plain)
        #: results by (search key, date, country, address, legal forms dropped), or by
        #: the search key alone when there are none of these
        self._shared: dict[str | tuple, ScreenResult] = {}
        self._shared_size = cache_size
        self._entry_places: dict[int, dict[str, str]] = {}
        #: word -> what ``_word`` says of it
        self._word_info: dict[str, _WordInfo] = {}

    def __len__(self) -> int:
        return len(self.entries)

    # -- public ----------------------------------------------------------------------

    def screen(
        self,
        name: str,
        on: date | None = None,
        country: str | None = None,
        address: str | None = None,
    ) -> ScreenResult:
        """Screen one name; see the module documentation for the scoring."""
        if not isinstance(name, str):
            return _NOTHING
        if on is None and country is None and address is None:
            return self._plain_results(name)  # keyed by the name alone: no key tuple
        if (country is None or isinstance(country, str)) and (
            address is None or isinstance(address, str)
        ):
            return self._results(name, on, country, address)
        return self._screen(name, on, country, address)

    def _screen_plain(self, name: str) -> ScreenResult:
        return self._screen(name, None, None, None)

    def _screen(
        self, name: str, on: date | None, country: str | None, address: str | None
    ) -> ScreenResult:
        """``screen`` without its caches. A name that does not match as written may carry
        an address after a comma (`Huawei Technologies Co., Ltd., Bantian, Shenzhen`, as
        shipping data often has it): then the name cut at each comma is screened too,
        longest first, and the first that matches is the result (or, when the whole name
        finds nothing, the first possible match)."""
        whole = self._screen_whole(name, on, country, address)
        if whole.status == "match" or ("," not in name and ";" not in name):
            return whole
        pieces = _SEPARATORS.split(name)[:_MAX_PIECES]
        possible = None
        for n in range(len(pieces) - 1, 0, -1):
            prefix = ",".join(pieces[:n])
            if not has_name(prefix):
                continue
            res = self._screen_whole(prefix, on, country, address)
            if res.status == "match":
                return res
            if res.status == "possible" and possible is None:
                possible = res
        if whole.status == "none" and possible is not None:
            return possible
        return whole

    def _screen_whole(
        self, name: str, on: date | None, country: str | None, address: str | None
    ) -> ScreenResult:
        """The name as written: the cached candidates of the normalised name
        (``_score``), then the result with dates and evidence (``_result``), shared by
        the names alike."""
        if not name.strip():
            return _NOTHING
        search = self._search_keys(name)
        scored = self._scored(search)
        if on is not None and search in self._incomplete:
            # entries out of force may hide others that were not scored
            if not all(self.entries[item.form.entry].in_force(on) for item in scored):
                scored = self._scored_full(search)
        if not scored:
            return _NOTHING
        # the result depends on the name only through its search key and, for the exact
        # matches, the legal forms it drops: names alike in both share one result
        affixes: tuple[tuple[str, str], ...] = ()
        if any(map(_IS_EXACT, scored)):
            affixes = self._query_affixes(name)
        plain = on is None and country is None and address is None and not affixes
        key = search if plain else (search, on, country, address, affixes)
        shared = self._shared.get(key)
        if shared is None:
            norm = search.partition("\t")[0]
            shared = self._result(norm, affixes, scored, on, country, address)
            if len(self._shared) >= self._shared_size:
                try:
                    del self._shared[next(iter(self._shared))]  # the oldest
                except (KeyError, RuntimeError, StopIteration):  # emptied meanwhile
                    pass
            self._shared[key] = shared
        return shared

    def cache_info(self):
        """Hit and miss counts of the per-name cache."""
        return self._scored.cache_info()

    # -- the matching stages ---------------------------------------------------------

    def _score_key(self, search: str) -> tuple[_Scored, ...]:
        """Date- and country-free candidates for a search key (``_search_key``), best first.

        The search may be incomplete: close spellings are not searched when the name
        already equals a listed name or alias (scores 96 and more), and forms that
        cannot enter the five best are not scored. The names whose search was
        incomplete are kept in ``_incomplete`` (a set of strings rather than a flag in
        each cached value: fewer objects for the garbage collector to track).
        """
        scored, complete = self._score(search, full=False)
        if not complete:
            if len(self._incomplete) >= self._incomplete_size:
                self._incomplete.clear()
                self._scored.cache_clear()  # they are known together
            self._incomplete.add(search)
        return scored

    def _score_key_full(self, search: str) -> tuple[_Scored, ...]:
        """``_score_key`` with the search complete (for a date on which entries that
        hid others are out of force)."""
        return self._score(search, full=True)[0]

    def _score(self, search: str, full: bool) -> tuple[tuple[_Scored, ...], bool]:
        """The candidates of a search key, best first, and whether the search was
        complete: the exact stages, then, unless one of them found a form (or ``full``),
        close spellings. The acronym stage runs either way."""
        norm, tab, order = search.partition("\t")
        if not norm:
            return (), True
        words = norm.split()
        if not tab:
            order = " ".join(sorted(words))
        size = len(words)
        best: _Best = {}
        done: set[int] = set()  # forms already scored by an exact stage
        self._exact_stage(norm, size, best, done)
        self._word_order_stage(order, size, best, done)
        self._spacing_stage(words, best, done)
        searched = full or not best
        self._acronym_stage(order, size, best, done)
        complete = self._close_spelling_stage(words, best, done, full) if searched else False
        if len(best) < 2:
            return tuple(best.values()), complete
        return tuple(sorted(best.values(), key=_Scored.rank)), complete

    def _exact_stage(self, norm: str, size: int, best: _Best, done: set[int]) -> None:
        """``exact_score`` (100): the normalised name is a listed name or alias.

        Normalisation has already set aside case, accents, punctuation, script and legal
        forms, so nothing is left that could tell the two apart. Listed acronyms are
        left to ``_acronym_stage``: a one-word name equal to one is weaker evidence.
        """
        forms, score = self.forms, self.policy.exact_score
        for fid in self._exact.get(norm, ()):
            form = forms[fid]
            if not form.acronym:
                done.add(fid)
                why = f"same name as the listed {form.kind} `{form.text}`"
                _offer(best, _Scored(form, score, size, why, True))

    def _word_order_stage(self, key: str, size: int, best: _Best, done: set[int]) -> None:
        """``same_words_score`` (97): the same words as a listed name or alias, in
        another order, legal forms aside wherever they stand in either name (the
        word-order key, ``token_key`` of the name as written).

        Lists and records order the words of a name differently ("Technologies Huawei",
        Russian legal forms before or after the name, "Joint Stock ... Company" around
        it); every word still agrees, so this scores just below an exact match.
        """
        forms, score = self.forms, self.policy.same_words_score
        for fid in self._words.get(key, ()):
            if fid not in done:
                done.add(fid)
                form = forms[fid]
                why = f"same words as the listed {form.kind} `{form.text}`"
                _offer(best, _Scored(form, score, size, why, True))

    def _spacing_stage(self, words: list[str], best: _Best, done: set[int]) -> None:
        """``same_letters_score`` (96): the same letters as a listed name or alias, spaced
        differently ("Hua Wei" and "Huawei", pinyin syllables and a listed pinyin name),
        the name's words taken in their order or reversed.

        Transliteration and habit split or join words freely; the letters all agree, but
        the word boundaries do not, so this scores just below the same words.
        """
        size = len(words)
        forms, score = self.forms, self.policy.same_letters_score
        for letters in _spellings(words):
            found = self._letters.get(letters, ())
            if size > 1:
                joined = self._exact.get(letters)
                if joined is not None:
                    found = (*found, *joined)
            for fid in found:
                if fid not in done:
                    done.add(fid)
                    form = forms[fid]
                    why = (
                        f"same letters as the listed {form.kind} `{form.text}`, spaced differently"
                    )
                    _offer(best, _Scored(form, score, size, why, False))

    def _acronym_stage(self, key: str, size: int, best: _Best, done: set[int]) -> None:
        """``acronym_score`` (92): a one-word name (legal forms aside) that is a listed
        acronym ("SMIC", "YMTC"), or the initials of a listed name of at least
        ``min_initials_words`` words ("MCST").

        An acronym is short and may stand for other names too, so it scores below the
        spellings of a whole name, but still as a match at the default ``match >= 90``.
        """
        if " " in key or not key.isalpha() or not key.isascii():
            return
        forms, policy = self.forms, self.policy
        for fid in self._exact.get(key, ()):
            form = forms[fid]
            if form.acronym:
                done.add(fid)
                why = f"acronym `{form.text}` of the listed {self._owner(form)}"
                _offer(best, _Scored(form, policy.acronym_score, size, why, False))
        if not policy.min_initials_words <= len(key) <= policy.max_initials_length:
            return
        for fid in self._acronyms.get(key, ()):
            form = forms[fid]
            if form.entry in best and best[form.entry].score >= policy.acronym_score:
                continue
            why = f"`{key.upper()}` is the initials of the listed {form.kind} `{form.text}`"
            _offer(best, _Scored(form, policy.acronym_score, size, why, False))

    def _owner(self, form: _Form) -> str:
        """What the listed acronym ``form`` is part of: the entry's name or an alias."""
        return "name" if form.kind == "acronym" and self._from_name(form) else "alias"

    def _from_name(self, form: _Form) -> bool:
        return form.text in name_forms(self.entries[form.entry].name)

    def _close_spelling_stage(
        self, words: list[str], best: _Best, done: set[int], full: bool
    ) -> bool:
        """Up to ``close_spelling_cap`` (95): the rarity-weighted word match (``_close``)
        of the forms ``_candidates`` finds, best upper bound first.

        A form is skipped when its bound cannot beat what its entry already has, and the
        search stops when the bound cannot enter the ``max_candidates`` shown (unless
        ``full``). Returns whether the search was complete.
        """
        query = self._query(words)
        candidates = self._candidates(query) if query.near else {}
        # best bound first; the forms are in increasing order and the sort is stable, so
        # forms with the same bound stay in that order
        order = sorted(candidates.items(), key=_SECOND, reverse=True)
        policy, forms = self.policy, self.forms
        lowest, most = self._lowest, policy.max_candidates
        complete = True
        last: float | None = None  # the least score of the best ``most``, once known
        for fid, bound in order:
            if bound < lowest:
                break
            if len(best) >= most:
                if last is None:
                    last = sorted(item.score for item in best.values())[-most]
                if bound < last:
                    complete = full  # the rest cannot enter the five shown
                    if not full:
                        break
            if fid in done:
                continue
            form = forms[fid]
            current = best.get(form.entry)
            floor = lowest
            if current is not None:
                if current.score >= bound:
                    continue  # this form cannot do better
                floor = max(floor, current.score - 0.05)
            close = self._close(form, query, floor)
            if close is not None:
                _offer(best, close)
                last = None
        return complete

    # -- close spelling: the rarity-weighted word match ------------------------------

    def _close(self, form: _Form, query: _Query, floor: float) -> _Scored | None:
        """The close-spelling score of ``form`` when above ``floor``, with the words
        explained and the positions of the listed words missing and the extra words.

        Listed words are paired with units of the name (``_align_words``, then
        ``_align_pairs``); the score is the share of the form's core weight that the
        name spells, each word weighed by its similarity (``_capped_score``), less what
        the name's unexplained words cost (``_extra_words_cost``) and the form's common
        words it lacks (``_missing_common_cost``). Rare words weigh most, so a name
        that shares only common words with a listed one scores low, and a distinctive
        word that explains nothing pulls a full match down.
        """
        sims, used, hit = self._align_words(form, query)
        if form.pairs:
            used, hit = self._align_pairs(form, query, sims, used, hit)
        matched = 0.0
        for weight, sim in zip(form.weights, sims):  # noqa: B905 - same length
            if sim:
                matched += weight * sim
        if matched <= 0:
            return None
        cost, extra = 0.0, ()
        if used != (1 << len(query.words)) - 1:
            cost, extra = self._extra_words_cost(query, used)
        if form.common:
            cost += self._missing_common_cost(form, query, hit, extra)
        score = round(self._capped_score(form, query, matched, cost), 1)
        if score <= floor:
            return None
        explained = len(query.words) - len(extra)
        return _Scored(form, score, explained, "", False, _unused(hit, len(form.keys)), extra)

    def _align_words(self, form: _Form, query: _Query) -> tuple[list[float], int, int]:
        """Each listed word, heaviest first, takes the best unit of the name that spells
        it and is not yet used (``_best_unit``); ties between units are broken by their
        spelling, not their place, so that the result does not depend on word order.

        Returns each listed word's similarity, and the bit masks of the words of the
        name used and of the listed words matched.
        """
        near, units, words = query.near, query.units, query.words
        keys, listed = form.keys, form.words
        folded = self.policy.folded_similarity
        used = hit = 0
        sims = [0.0] * len(keys)
        for i in form.order:
            found = near.get(keys[i])
            if found is None:
                continue
            if len(found) == 1:  # one unit spells this word: it takes it when free
                index, score = found[0]
                unit = units[index]
                if used & unit.mask:
                    continue
                if score == 100.0 and unit.single and words[unit.first] != listed[i]:
                    score = folded  # equal once spelling is folded: Micron, Mikron
                mask = unit.mask
            else:
                score, mask = _best_unit(found, units, words, listed[i], used, folded)
            if mask:
                sims[i] = score
                used |= mask
                hit |= 1 << i
        return sims, used, hit

    def _align_pairs(
        self, form: _Form, query: _Query, sims: list[float], used: int, hit: int
    ) -> tuple[int, int]:
        """Two adjacent listed words, both unmatched, written as one word of the name
        ("Sensetime" for "Sense Time") when it spells them at least ``joined_similarity``
        closely; both take its similarity. Returns the updated masks."""
        near, units = query.near, query.units
        least = self.policy.joined_similarity
        for i, joined in form.pairs:
            if hit >> i & 3:
                continue
            best, tie, where = 0.0, "", 0
            for index, score in near.get(joined, ()):
                unit = units[index]
                if unit.single and not used & unit.mask and score >= least:
                    if score > best or (score == best and unit.text < tie):
                        best, tie, where = score, unit.text, unit.mask
            if where:
                sims[i] = sims[i + 1] = best
                used |= where
                hit |= 3 << i
        return used, hit

    def _extra_words_cost(self, query: _Query, used: int) -> tuple[float, tuple[int, ...]]:
        """What the words of the name that no listed word took (some did not) cost, with
        their positions.

        A distinctive or unknown word costs most (``extra_distinct``): it names something
        the listed form does not. Numbers, common words and places cost less; legal
        forms and stop words nothing. Two pinyin syllables that make a common word
        together cost as that word.
        """
        extra = _unused(used, len(query.words))
        word_cost = query.cost
        cost = 0.0
        if not query.pair_cost:
            for j in extra:
                cost += word_cost[j]
            return cost, extra
        left = set(extra)
        for j, pair in query.pair_cost:  # pinyin syllables that make a common word
            if j in left and j + 1 in left:
                cost += pair
                left.discard(j)
                left.discard(j + 1)
        for j in left:
            cost += word_cost[j]
        return cost, extra

    def _missing_common_cost(
        self, form: _Form, query: _Query, hit: int, extra: tuple[int, ...]
    ) -> float:
        """What the common words of the form that the name lacks cost: ``missing_common``
        each, at most ``missing_common_cap``, and ``swapped_common`` more when the name
        has a common word of its own in their place ("Jiangnan University" for
        "Jiangnan Institute of Computing Technology"). Common words tell companies apart
        only a little, so they are not part of the weighted share."""
        missing = 0
        for i in form.common:
            if not hit >> i & 1:
                missing += 1
        if not missing:
            return 0.0
        policy = self.policy
        cost = min(policy.missing_common_cap, policy.missing_common * missing)
        common = query.common
        for j in extra:
            if common[j]:
                return cost + policy.swapped_common
        return cost

    def _capped_score(self, form: _Form, query: _Query, matched: float, cost: float) -> float:
        """The share of the form's core weight matched, at most ``close_spelling_cap``
        (below every exact kind of match), less ``cost``; at most ``one_word_cap`` for a
        one-word name against a longer form ("Inspur" for "Inspur Group"); a listed
        acronym standing in a longer name scores ``acronym_in_name_cap`` less ``cost``."""
        policy = self.policy
        if form.acronym:
            return policy.acronym_in_name_cap - cost
        score = 100.0 * (matched / form.total / 100.0)
        if score > policy.close_spelling_cap:
            score = policy.close_spelling_cap
        score -= cost
        if query.one_word and len(form.keys) > 1:
            score = min(score, policy.one_word_cap)  # "Inspur" for "Inspur Group"
        return score

    # -- the forms worth scoring -----------------------------------------------------

    def _candidates(self, query: _Query) -> dict[int, float]:
        """Forms of the entries that share the most (weighted) rare words with the name.

        Each form id maps to a bound of its close-spelling score (``_Bounds``): an upper
        bound less what it must at least pay for the words of the name it cannot explain
        and its common words the name lacks; forms whose upper bound is below the least
        score worth computing are left out.
        """
        posted = self._postings(query)
        if not posted:
            return {}
        evidence: dict[int, int] | None = None
        if len(posted) == 1:  # one listed word: every form it indexes has the same evidence
            postings, gain = posted[0]
            chosen = self._first_entries(postings)
        else:
            gain = 0
            evidence = _shared_weight(posted)
            chosen = self._top_entries(evidence)
        bounds = _Bounds(query, self.policy)
        lowest = self._lowest
        forms = self.forms
        out: dict[int, float] = {}
        for fid in chosen:
            bound = bounds.of(forms[fid], gain if evidence is None else evidence[fid], lowest)
            if bound is not None:
                out[fid] = bound
        return out

    def _postings(self, query: _Query) -> list[tuple[tuple[int, ...], int]]:
        """For each listed word the name spells that indexes forms: those forms, and the
        weight the word brings them (in thousandths, scaled by its best similarity)."""
        block, weights = self._block, self._key_weight
        posted = []
        for word, found in query.near.items():
            postings = block.get(word)
            if postings is not None:
                top = found[0][1] if len(found) == 1 else max(score for _, score in found)
                posted.append((postings, round(weights[word] * top / 100)))
        return posted

    def _first_entries(self, postings: tuple[int, ...]) -> tuple[int, ...]:
        """The forms of the first ``max_scored_entries`` entries of ``postings``.

        Postings are in form order, so in entry order: when all share the same evidence,
        the entries that win the tie are the first ones.
        """
        most = self.policy.max_scored_entries
        if len(postings) <= most:
            return postings
        owner = self._form_entry
        entries: set[int] = set()
        for end, fid in enumerate(postings):
            entries.add(owner[fid])
            if len(entries) > most:
                return postings[:end]
        return postings

    def _top_entries(self, evidence: dict[int, int]) -> list[int]:
        """The forms, in form order, of the ``max_scored_entries`` entries whose best form
        has the most evidence (ties to the first entries)."""
        chosen = sorted(evidence)
        most = self.policy.max_scored_entries
        if len(chosen) <= most:
            return chosen
        owner = self._form_entry
        by_entry: dict[int, int] = {}
        for fid, value in evidence.items():
            entry = owner[fid]
            if value > by_entry.get(entry, -1):
                by_entry[entry] = value
        if len(by_entry) <= most:
            return chosen
        ranked = sorted([(-value, entry) for entry, value in by_entry.items()])
        kept = {entry for _, entry in ranked[:most]}
        return [fid for fid in chosen if owner[fid] in kept]

    # -- the name taken apart --------------------------------------------------------

    def _query(self, words: list[str]) -> _Query:
        """The name taken apart: its words' spelling keys and costs, and the listed words
        that its units spell (``units``, ``near`` and ``reach``).

        A unit is a word of the name, or two adjacent words written together in either
        order (``_add_pair``). A unit that is a listed word is that word. One that is
        not (a typo, or two words written apart: both short, not both listed) is
        compared, with ``rapidfuzz.fuzz.ratio``, to the listed words that are one
        deleted letter away on either side; those scoring at least ``word_similarity``
        are kept. Units shorter than ``min_fuzzy_length`` letters, or with digits, must
        be listed as they are. Units that spell nothing are left out.
        """
        query = _Query(words)
        keys, cost, common = query.keys, query.cost, query.common
        units, near, reach = query.units, query.near, query.reach
        info = self._word_info
        counted = 0
        for j, word in enumerate(words):
            known = info.get(word)
            if known is None:
                known = self._word(word)
            keys.append(known.key)
            cost.append(known.cost)
            common.append(known.common)
            counted += known.counts
            if known.spells:
                mask = 1 << j
                _note_unit(near, reach, len(units), mask, known.spells)
                units.append(_Unit(known.key, j, mask, True))
        query.one_word = counted == 1
        for j in range(len(keys) - 1):
            self._add_pair(query, j)
        return query

    def _add_pair(self, query: _Query, j: int) -> None:
        """Words ``j`` and ``j + 1`` of the name written together, in either order: a
        listed word written apart ("Hua Wei" for "Huawei", "Core Storage" for
        "CoreStorage"), and pinyin syllables that together make a common word ("ji shu",
        whose cost is then that of the one word)."""
        left, right = query.keys[j], query.keys[j + 1]
        one, two = left + right, right + left
        if two < one:
            one, two = two, one
        for joined in (one, two):
            if joined in _JOINED_MINOR:  # pinyin syllables that make a common word
                query.pair_cost.append((j, self._extra_cost(joined)))
                break
        if not self._may_be_written_apart(left, right, one, two):
            return
        # "Core Storage" for "CoreStorage" is weaker evidence than "CoreStorage"
        generic = left in _COMMON or right in _COMMON
        mask = 3 << j
        for unit in (one, two) if two != one else (one,):
            found = self._pair_spells(unit, left, right, generic)
            if found:
                _note_unit(query.near, query.reach, len(query.units), mask, found)
                query.units.append(_Unit(unit, j, mask, False))

    def _may_be_written_apart(self, left: str, right: str, one: str, two: str) -> bool:
        """Whether two adjacent words may be one listed word written apart: their
        joining is listed, or both are short and not both listed."""
        vocabulary = self._vocabulary
        if one in vocabulary or two in vocabulary:
            return True
        longest = self.policy.max_split_length
        return not (
            len(one) < self.policy.min_fuzzy_length
            or len(left) > longest
            or len(right) > longest
            or (left in vocabulary and right in vocabulary)
            or not one.isalpha()
        )

    def _pair_spells(self, unit: str, left: str, right: str, generic: bool) -> dict[str, float]:
        """The listed words that ``unit`` (two words of the name joined) spells, with their
        similarity, lowered by ``generic_pair_factor`` when one of the two is common."""
        vocabulary, policy = self._vocabulary, self.policy
        if unit in vocabulary:
            return {unit: 100.0 * policy.generic_pair_factor if generic else 100.0}
        if len(unit) < policy.min_fuzzy_length or not unit.isalpha():
            return _NO_WORDS
        if (left in vocabulary and right in vocabulary) or max(
            len(left), len(right)
        ) > policy.max_split_length:
            return _NO_WORDS  # listed or long words side by side: not a word written apart
        found = self._spelled_near(unit)
        if found and generic:
            found = {w: score * policy.generic_pair_factor for w, score in found.items()}
        return found

    def _word(self, word: str) -> _WordInfo:
        """A word's spelling key, the listed words it spells, its cost when it matches
        nothing, whether it is common, and whether it counts as a word (not a legal form
        or a stop word); cached."""
        key = spelling_key(word)
        found: dict[str, float] = _NO_WORDS
        if key in self._vocabulary:
            found = {key: 100.0}
        elif len(key) >= self.policy.min_fuzzy_length and key.isalpha():
            found = self._spelled_near(key)
        known = _WordInfo(
            key,
            found,
            self._extra_cost(key),
            self._is_common(key),
            key not in _LEGAL and key not in _STOP,
        )
        info = self._word_info
        if len(info) >= 1 << 17:
            info.clear()
        info[word] = known
        return known

    def _extra_cost(self, key: str) -> float:
        """What a word of the name (spelling key) costs when it matches no listed word.

        A distinctive or unknown word costs most: it names something the listed form
        does not ("Hua Wei Noodle House"). A number costs less, a common business word
        less again, a place or an organisational word ("branch") least; legal forms and
        stop words cost nothing.
        """
        policy = self.policy
        if key in _STOP or key in _LEGAL:
            return 0.0
        if key in _QUALIFIER:
            return policy.extra_qualifier
        if self._is_common(key):
            return policy.extra_common
        if key.isdigit():
            return policy.extra_number
        return policy.extra_distinct

    def _typo_near(self, unit: str) -> dict[str, float]:
        """The listed words one deleted letter away from ``unit`` on either side, with
        their ``fuzz.ratio`` when it is at least 80 (cached per unit).

        A dict of strings and numbers, which the garbage collector does not track.
        """
        get = self._typo_index.get
        found = set(self._typos.get(unit, ()))
        for i in range(len(unit)):
            hit = get(unit[:i] + unit[i + 1 :])
            if hit is not None:
                found.update(hit)
        out: dict[str, float] = {}
        ratio, least = fuzz.ratio, self.policy.word_similarity
        for word in found:
            score = ratio(unit, word, score_cutoff=least)
            if score:
                out[word] = score
        return out

    # -- evidence and reasons --------------------------------------------------------

    def _result(
        self,
        norm: str,
        affixes: tuple[tuple[str, str], ...],
        scored: tuple[_Scored, ...],
        on: date | None,
        country: str | None,
        address: str | None,
    ) -> ScreenResult:
        """The candidates in force on ``on``, each with its reason and the evidence of the
        country and the address applied, best first, and the status of the best."""
        code = _resolve(country) if country and country.strip() else None
        policy = self.policy
        places = (
            _address_places(address, policy.min_place_length)
            if address and address.strip()
            else None
        )
        final = code is None and not places  # cached order is final: no adjustment
        out: list[Candidate] = []
        entries = self.entries
        for item in scored:
            entry = entries[item.form.entry]
            if on is not None and not entry.in_force(on):
                continue
            found = self._candidate(item, entry, norm, affixes, code, places)
            if found is None:
                continue
            out.append(found)
            if final and len(out) == policy.max_candidates:
                break
        if not final:
            out.sort(key=lambda c: -c.score)  # stable: ties keep the cached order
        return self._status(tuple(out[: policy.max_candidates]))

    def _candidate(
        self,
        item: _Scored,
        entry: PartyEntry,
        norm: str,
        affixes: tuple[tuple[str, str], ...],
        code: str | None,
        places: dict[str, str] | None,
    ) -> Candidate | None:
        """A scored form as it is shown: its reason, and its score with the evidence of
        the country (``_country_evidence``) and the address (``_address_evidence``);
        None for a near miss below ``near_miss_score``."""
        form = item.form
        score = item.score
        why = item.why or self._close_why(form, norm.split(), score, item.missing, item.extra)
        if item.exact:
            clause = _affix_clause(affixes, form.affixes)
            if clause:
                why += f" after removing {clause}"
        if code is not None:
            score, why = self._country_evidence(form.entry, code, score, why)
        if places:
            score, why = self._address_evidence(form.entry, places, score, why)
        if score < self.policy.near_miss_score:
            return None
        if code is not None or places:
            score = round(score, 1)
        return Candidate(entry, form.text, form.kind, score, why)

    def _country_evidence(self, entry: int, code: str, score: float, why: str) -> tuple[float, str]:
        """The score and reason with the party's country as evidence.

        ``country_agrees`` (+3, capped at 100) when it is one of the countries the entry
        is listed under: the same name in the same country is more likely the same
        party. ``country_differs`` (-5) when the entry is listed under other countries
        only: companies of the same name abroad are common, so a differing country
        weighs more than an agreeing one. An entry without a country is not adjusted.
        """
        countries = self._countries[entry]
        if not countries:
            return score, why
        policy = self.policy
        if code in countries:
            return min(100.0, score + policy.country_agrees), why + f"; country {code} agrees"
        listed = "/".join(sorted(countries))
        return (
            max(0.0, score + policy.country_differs),
            why + f"; country {code} differs from the listed {listed}",
        )

    def _address_evidence(
        self, entry: int, places: dict[str, str], score: float, why: str
    ) -> tuple[float, str]:
        """The score and reason with the party's address as evidence: ``address_agrees``
        (+2, capped at 100) when it names a place one of the entry's listed addresses
        names. Listed addresses are incomplete, so an address that names none costs
        nothing."""
        agreed = self._shared_places(entry, places)
        if not agreed:
            return score, why
        return (
            min(100.0, score + self.policy.address_agrees),
            why + f"; address agrees ({', '.join(agreed)})",
        )

    def _shared_places(self, entry: int, places: dict[str, str]) -> list[str]:
        """The place words of an address that the entry's listed addresses also name,
        as the list writes them."""
        listed = self._entry_places.get(entry)
        if listed is None:
            listed = {}
            for text in self.entries[entry].addresses:
                for key, shown in _address_places(text, self.policy.min_place_length).items():
                    listed.setdefault(key, shown)
            self._entry_places[entry] = listed
        return [listed[key] for key in places if key in listed]

    def _status(self, top: tuple[Candidate, ...]) -> ScreenResult:
        """``match`` when the best candidate scores at least ``match_score``, ``possible``
        at least ``possible_score``, else ``none`` (the near misses are still listed)."""
        if not top:
            return _NOTHING
        if top[0].score >= self.match_score:
            return ScreenResult("match", top[0], top)
        if top[0].score >= self.possible_score:
            return ScreenResult("possible", top[0], top)
        return ScreenResult("none", None, top)

    def _close_why(
        self,
        form: _Form,
        words: list[str],
        score: float,
        missing: tuple[int, ...],
        extra: tuple[int, ...],
    ) -> str:
        """The reason for a close spelling: the form and its score, the extra words of the
        name and the listed words missing (legal forms and stop words aside)."""
        if form.acronym:
            return f"the listed acronym `{form.text}` is one word of the name"
        why = f"close spelling of `{form.text}` (score {score:.1f})"
        if extra:
            shown = [words[j] for j in extra if spelling_key(words[j]) not in _MINOR]
            if shown:
                why += f", with the extra words `{' '.join(shown)}`"
        if missing:
            absent = [form.words[i] for i in missing if form.keys[i] not in _MINOR]
            if absent:
                why += f", without `{' '.join(absent)}`"
        return why

    # -- index -----------------------------------------------------------------------

    def _entry_forms(self, entry: PartyEntry) -> list[tuple[str, Kind]]:
        """The entry's name and aliases with the forms their trailing parentheses give."""
        out: list[tuple[str, Kind]] = []
        for form in name_forms(entry.name):
            out.append((form, "name"))
        for alias in entry.aliases:
            for form in name_forms(alias):
                out.append((form, "alias"))
        return out

    def _build(self) -> None:
        """Index the list: each distinct form of each entry (``_read_forms``), weighed
        (``_make_form``) and filed under its exact text, word-order key, letters, initials
        and rare words (``_index_form``); then the listed words one letter short, for
        typos (``_index_typos``), and the weight of each listed word and pair."""
        raw = self._read_forms()
        policy = self.policy
        self._size = size = max(len(self.entries), 1)
        self._common_df = max(policy.common_df_floor, math.ceil(policy.common_df_share * size))
        self.forms: list[_Form] = []
        self._exact: dict[str, list[int]] = {}
        self._words: dict[str, list[int]] = {}
        self._letters: dict[str, list[int]] = {}
        self._acronyms: dict[str, list[int]] = {}
        self._block: dict[str, list[int]] = {}  # listed word or pair -> forms
        self._vocabulary: set[str] = set()  # every listed word, and distinctive pairs
        for index, text, kind, norm, keys in raw:
            form = self._make_form(index, text, kind, norm, keys)
            self._index_form(form, len(self.forms))
            self.forms.append(form)
        self._form_entry = [form.entry for form in self.forms]
        # tuples of numbers and strings are not tracked by the garbage collector, so a
        # large index does not slow down collections while names are screened
        for table in (self._exact, self._words, self._letters, self._acronyms, self._block):
            for key, fids in table.items():
                table[key] = tuple(fids)  # type: ignore[assignment]
        self._index_typos()
        self._key_weight = {key: round(1000 * self._weight(key)) for key in self._vocabulary}
        for form in self.forms:  # a pair counts as its two words
            for i, joined in form.pairs:
                both = form.weights[i] + form.weights[i + 1]
                self._key_weight[joined] = max(self._key_weight[joined], round(1000 * both) + 1)

    def _read_forms(self) -> list[tuple[int, str, Kind, str, tuple[str, ...]]]:
        """Each entry's distinct forms as (entry, text, kind, normalised text, spelling keys
        of its words); and the number of entries each listed word is in (``_df``)."""
        raw: list[tuple[int, str, Kind, str, tuple[str, ...]]] = []
        df: dict[str, int] = {}
        for index, entry in enumerate(self.entries):
            seen: set[str] = set()
            entry_keys: set[str] = set()
            for text, kind in self._entry_forms(entry):
                norm = normalize_name(text)
                if not norm or norm in seen:
                    continue
                seen.add(norm)
                keys = tuple([spelling_key(w) for w in norm.split()])
                entry_keys.update(keys)
                raw.append((index, text, kind, norm, keys))
            for key in entry_keys:
                df[key] = df.get(key, 0) + 1
        self._df = df
        return raw

    def _make_form(
        self, index: int, text: str, kind: Kind, norm: str, keys: tuple[str, ...]
    ) -> _Form:
        """One listed form with its words and their weights, its common words, its
        distinctive pairs and its acronym status."""
        words = tuple(norm.split())
        acronym = _is_acronym(text, norm, self.policy)
        weights, common = self._core(keys)
        pairs = tuple(
            (i, keys[i] + keys[i + 1])
            for i in range(len(keys) - 1)
            if self._rare(keys[i]) and self._rare(keys[i + 1])
        )
        indexed = self._indexed(keys) if not acronym else [keys[0]]
        return _Form(
            entry=index,
            text=text,
            kind="acronym" if acronym else kind,
            norm=norm,
            words=words,
            keys=keys,
            weights=weights,
            total=sum(weights) or 1.0,
            common=tuple(common),
            common_keys=tuple(keys[i] for i in common),
            order=tuple(sorted(range(len(keys)), key=lambda i: (-weights[i], i))),
            pairs=pairs,
            unblocked=sum(w for k, w in zip(keys, weights, strict=True) if k not in indexed),
            keyset=tuple(dict.fromkeys((*keys, *(joined for _, joined in pairs)))),
            acronym=acronym,
            affixes=tuple((" ".join(_words(a)), a) for a in _legal_affixes(text)),
            rank=_KIND_RANK["acronym" if acronym else kind],
        )

    def _index_form(self, form: _Form, fid: int) -> None:
        """File form ``fid`` under its exact text; an acronym also under its one word, any
        other form under its word-order key, its letters, its initials, its rare words
        and its distinctive pairs."""
        self._vocabulary.update(form.keys)
        self._add(self._exact, form.norm, fid)
        if form.acronym:
            self._add(self._block, form.keys[0], fid)
            return
        self._add(self._words, token_key(form.text), fid)
        if len(form.words) > 1:
            self._add(self._letters, "".join(form.words), fid)
        least = self.policy.min_initials_words
        for initials in {_initials(list(form.words), least), _initials(_words(form.text), least)}:
            if initials:
                self._add(self._acronyms, initials, fid)
        for key in self._indexed(form.keys):
            self._add(self._block, key, fid)
        for _, joined in form.pairs:
            self._vocabulary.add(joined)
            self._add(self._block, joined, fid)

    def _index_typos(self) -> None:
        """The listed words with one letter deleted (``_typos``), and what a string with
        one letter deleted may stand for (``_typo_index``): the listed words it is, and
        those it is one deletion from. Acronyms, numbers and words shorter than
        ``min_fuzzy_length`` must be written as listed, so they are left out."""
        self._spelled = {key for form in self.forms if not form.acronym for key in form.keyset} - {
            form.keys[0] for form in self.forms if form.acronym
        }
        typos: dict[str, list[str]] = {}
        for key in self._spelled:
            if len(key) >= self.policy.min_fuzzy_length and key.isalpha():
                for short in _deletes(key):
                    typos.setdefault(short, []).append(key)
        self._typos: dict[str, tuple[str, ...]] = {key: tuple(ws) for key, ws in typos.items()}
        self._typo_index: dict[str, tuple[str, ...]] = dict(self._typos)
        for key in self._spelled:
            self._typo_index[key] = (*self._typo_index.get(key, ()), key)

    def _weight(self, key: str) -> float:
        """The weight of a listed word (spelling key): its inverse document frequency
        ``ln(1 + N / df)`` over the N entries, at most ``common_weight`` for a common
        business word and ``place_weight`` for a place or organisational word;
        ``minor_weight`` for a stop word or a legal form. Rare words tell entries apart."""
        policy = self.policy
        if key in _STOP or key in _LEGAL:
            return policy.minor_weight
        idf = math.log(1 + self._size / self._df.get(key, 0.5))
        if key in _COMMON:
            return min(idf, policy.common_weight)
        if key in _QUALIFIER:
            return min(idf, policy.place_weight)
        return idf

    def _is_common(self, key: str) -> bool:
        """A common business word, or a word in more entries than ``_common_df``."""
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

    def _indexed(self, keys: tuple[str, ...]) -> list[str]:
        """The words a form is indexed by: its rare words, else its heaviest word."""
        rare = [k for k in keys if self._rare(k)]
        return rare or [max(keys, key=lambda k: (self._weight(k), k))]

    def _rare(self, key: str) -> bool:
        """A distinctive word: not common, not a place, stop word or legal form."""
        return (
            key not in _COMMON
            and key not in _QUALIFIER
            and key not in _STOP
            and key not in _LEGAL
            and self._df.get(key, 0) <= self._common_df
        )

    @staticmethod
    def _add(table: dict[str, list[int]], key: str, fid: int) -> None:
        """File form ``fid`` under ``key`` once."""
        bucket = table.setdefault(key, [])
        if fid not in bucket:
            bucket.append(fid)


__all__ = ["Candidate", "ScreenResult", "Screener", "spelling_key"]
