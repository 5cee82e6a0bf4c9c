"""Name normalisation, and the listed names and aliases found by the screener."""

from __future__ import annotations

import itertools
import random
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chiprules.data.parties import PartyEntry, load_party_csv
from chiprules.screening.names import (
    TRANSLITERATES_CJK,
    name_forms,
    name_tokens,
    normalize_and_key,
    normalize_name,
    token_key,
)
from chiprules.screening.screener import Screener

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = load_party_csv(ROOT / "rules" / "lists" / "entity_list_sample.csv", "Entity List")
SCREENER = Screener(SAMPLE)
SNAPSHOT = date(2026, 7, 31)
HUAWEI = "Huawei Technologies Co., Ltd. (Huawei)"


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("Huawei Technologies Co., Ltd.", "huawei technologies"),
        ("HUAWEI TECHNOLOGIES CO LTD", "huawei technologies"),
        ("Huawei  Technologies Company Limited", "huawei technologies"),
        ("AO PKK Milandr", "pkk milandr"),
        ("PKK Milandr AO", "pkk milandr"),
        ("MPK Milandr, OOO", "mpk milandr"),
        ("Mo’er Xianchen", "moer xianchen"),
        ("Mo'er Xianchen", "moer xianchen"),
        ("Société Générale S.A.", "societe generale"),
        ("Naura Science & Technology Group", "naura science and technology group"),
        ("ＳＭＩＣ", "smic"),
        ("华为技术有限公司", "hua wei ji shu" if TRANSLITERATES_CJK else "华为技术"),
        (
            "中芯国际集成电路制造股份有限公司",
            "zhong xin guo ji ji cheng dian lu zhizao"
            if TRANSLITERATES_CJK
            else "中芯国际集成电路制造",
        ),
        ("Co., Ltd.", "co"),
        ("", ""),
        ("  ,;  ", ""),
    ],
)
def test_normalize_name(raw: str, norm: str) -> None:
    assert normalize_name(raw) == norm


def test_name_tokens_and_token_key() -> None:
    assert name_tokens("Sense Time Co., Ltd.") == frozenset({"sense", "time"})
    assert token_key("Co. Iran Compo") == token_key("Iran Compo Co.") == "compo iran"


def test_token_key_drops_legal_forms_split_around_the_name() -> None:
    """Normalisation strips "Company" from the end and leaves "Joint Stock" in front; the
    word-order key is taken from all the words, so "Joint Stock Company" goes in full."""
    listed = "Joint Stock Company Zelenograd Nanotechnology Center"
    scrambled = "joint stock zelenograd nanotechnology center company"
    assert normalize_name(scrambled) == "joint stock zelenograd nanotechnology center"
    assert token_key(scrambled) == token_key(listed) == "center nanotechnology zelenograd"
    assert normalize_and_key(scrambled) == (normalize_name(scrambled), token_key(scrambled))
    assert normalize_and_key("Zelenograd Nanotechnology Center JSC") == (
        "zelenograd nanotechnology center",
        None,  # the normalised words sorted
    )
    # a fragment of a legal form is a word like any other
    assert token_key("Joint Stock Zelenograd") == "joint stock zelenograd"
    assert token_key("Co., Ltd.") == "co"  # only legal forms: the normalised words


def test_name_forms_use_a_trailing_parenthesis_only() -> None:
    assert name_forms("Semiconductor Manufacturing International Corporation (SMIC)") == [
        "Semiconductor Manufacturing International Corporation (SMIC)",
        "Semiconductor Manufacturing International Corporation",
        "SMIC",
    ]
    assert name_forms("Moore Thread Intelligent Technology (Beijing) Co., Ltd.") == [
        "Moore Thread Intelligent Technology (Beijing) Co., Ltd."
    ]


@settings(max_examples=400)
@given(st.text())
def test_normalize_name_is_idempotent(text: str) -> None:
    once = normalize_name(text)
    assert normalize_name(once) == once


_LEGAL_HEAVY = st.lists(
    st.sampled_from(
        "joint stock company public open limited liability co ltd ao ooo pjsc gongsi "
        "youxian gufen zeren s a x zelenograd center 华为 有限公司 , . &".split()
    ),
    max_size=8,
).map(" ".join)


@settings(max_examples=400)
@given(st.one_of(st.text(), _LEGAL_HEAVY))
def test_normalize_and_key_is_normalize_name_and_token_key(text: str) -> None:
    norm, key = normalize_and_key(text)
    assert norm == normalize_name(text)
    assert (" ".join(sorted(norm.split())) if key is None else key) == token_key(text)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_normalized_names_have_no_outer_or_double_spaces(text: str) -> None:
    norm = normalize_name(text)
    assert norm == norm.strip() and "  " not in norm


# --- the same entries through the screener ----------------------------------------


def _best(name: str, on: date | None = None):
    result = SCREENER.screen(name, on=on)
    return result if result.status == "match" else None


def test_huawei_by_plain_name_and_by_alias() -> None:
    result = _best("HUAWEI TECHNOLOGIES CO LTD")
    assert result.best.entry.name == HUAWEI
    assert result.best.kind == "name" and result.best.score == 100
    alias = _best("shenzhen huawei technologies").best
    assert alias.entry.name == HUAWEI
    assert alias.kind == "alias" and alias.form == "Shenzhen Huawei Technologies"
    assert _best("Huawei Technology").best.entry.name == HUAWEI


def test_smic_finds_smic() -> None:
    assert _best("SMIC").best.entry.name == "Semiconductor Manufacturing International Corporation (SMIC)"
    assert _best("SMIC Beijing").best.entry.name == "Semiconductor Manufacturing International (Beijing) Corporation"


def test_word_order_match_scores_below_exact() -> None:
    best = _best("Technologies Huawei Co Ltd (Huawei)").best
    assert best.entry.name == HUAWEI and best.score == 97


def test_no_match_for_unlisted_names() -> None:
    for name in ("Alibaba", "DeepSeek", "Enflame", "ChangXin Memory", "Beijing", ""):
        assert SCREENER.screen(name).status == "none", name


def test_entries_not_in_force_are_skipped() -> None:
    screener = Screener([PartyEntry(name="Example Trading LLC", added=date(2024, 1, 1),
                                    removed=date(2025, 1, 1))])
    assert screener.screen("example trading").status == "match"
    assert screener.screen("Example Trading", on=date(2024, 6, 1)).status == "match"
    assert screener.screen("Example Trading", on=date(2023, 12, 31)).status == "none"
    assert screener.screen("Example Trading", on=date(2025, 1, 1)).status == "none"


def test_every_sample_name_and_alias_finds_its_entry() -> None:
    for entry in SAMPLE:
        for form in (entry.name, *entry.aliases):
            result = SCREENER.screen(form, on=SNAPSHOT)
            assert result.status == "match", form
            assert entry in [c.entry for c in result.candidates if c.score == result.best.score], form


def test_zelenograd_in_another_word_order_matches() -> None:
    """The miss behind the occasional failure of the scrambled-forms property below:
    stripping "Company" from the end broke the word-order key of this order."""
    result = SCREENER.screen("joint stock zelenograd nanotechnology center company")
    assert result.status == "match" and result.best.score == 97.0
    assert result.best.entry.name == "Joint Stock Company Zelenograd Nanotechnology Center"


#: Every word order of a name of up to this many words is screened ...
ALL_ORDERS_UP_TO = 6
#: ... and of a longer name, these many orders: itself reversed, every rotation, every
#: word moved to the front and to the end, then random orders (seeded by the name).
SAMPLED_ORDERS = 720

#: Word orders that legitimately cannot match their entry: (form, order) -> the reason.
#: None so far: every order of every listed name and alias of the sample matches.
ORDER_EXCEPTIONS: dict[tuple[str, str], str] = {}


def _word_orders(words: list[str]) -> list[tuple[str, ...]]:
    if len(words) <= ALL_ORDERS_UP_TO:
        return list(itertools.permutations(words))
    size = len(words)
    orders = dict.fromkeys([tuple(words), tuple(reversed(words))])
    for i in range(size):
        orders[tuple(words[i:] + words[:i])] = None
        rest = words[:i] + words[i + 1 :]
        orders[(words[i], *rest)] = None
        orders[(*rest, words[i])] = None
    rng = random.Random(" ".join(words))  # str seeds are the same on every run
    while len(orders) < SAMPLED_ORDERS:
        shuffled = list(words)
        rng.shuffle(shuffled)
        orders[tuple(shuffled)] = None
    return list(orders)


@pytest.mark.parametrize("kind", ["name", "alias"])
def test_every_word_order_of_every_listed_form_matches_its_entry(kind: str) -> None:
    """Each word order (words as written, split at spaces, punctuation kept on its word)
    of every name, and every alias, in rules/lists/entity_list_sample.csv screens as a
    match whose best score its own entry has."""
    forms = [(e, f) for e in SAMPLE for f in ((e.name,) if kind == "name" else e.aliases)]
    failures = []
    checked = 0
    for entry, form in forms:
        for order in _word_orders(form.split()):
            query = " ".join(order)
            result = SCREENER.screen(query)
            found = result.status == "match" and entry in [
                c.entry for c in result.candidates if c.score == result.best.score
            ]
            checked += 1
            if found == ((form, query) in ORDER_EXCEPTIONS):
                failures.append((form, query, result.status, result.best))
    assert checked > 15_000
    assert not failures, failures[:5]


@st.composite
def scrambled_form(draw):
    entry = draw(st.sampled_from(SAMPLE))
    form = draw(st.sampled_from((entry.name, *entry.aliases)))
    words = draw(st.permutations(form.split()))
    flips = draw(st.lists(st.booleans(), min_size=len(words), max_size=len(words)))
    words = [w.upper() if flip else w.lower() for w, flip in zip(words, flips, strict=True)]
    return entry, " ".join(words)


@settings(max_examples=300)
@given(scrambled_form())
def test_screening_ignores_case_and_word_order_of_listed_forms(case) -> None:
    entry, query = case
    result = SCREENER.screen(query)
    assert result.status == "match", query
    assert entry in [c.entry for c in result.candidates], query
