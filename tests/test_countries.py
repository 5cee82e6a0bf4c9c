"""Country codes and names: resolution, retired codes, the rules checker's view."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chiprules.data.countries import (
    RetiredCountry,
    UnknownCountry,
    all_country_codes,
    check_code,
    country_name,
    is_country_code,
    resolve_country,
)


@pytest.mark.parametrize(
    "text, code",
    [
        ("CN", "CN"),
        ("cn", "CN"),
        ("Cn", "CN"),
        (" de ", "DE"),
        ("CHN", "CN"),
        ("vnm", "VN"),
        ("China", "CN"),
        ("People's Republic of China", "CN"),
        ("Korea, Republic of", "KR"),
        ("Taiwan, Province of China", "TW"),
        ("Iran, Islamic Republic of", "IR"),
        ("Russian Federation", "RU"),
        ("Côte d'Ivoire", "CI"),
        ("Germany", "DE"),
        ("germany", "DE"),
        ("UNITED ARAB EMIRATES", "AE"),
        ("Saudi Arabia", "SA"),
    ],
)
def test_codes_and_pycountry_names(text, code):
    assert resolve_country(text) == code


@pytest.mark.parametrize(
    "text, code",
    [
        ("UAE", "AE"),
        ("U.A.E.", "AE"),
        ("South Korea", "KR"),
        ("Korea", "KR"),
        ("Republic of Korea", "KR"),
        ("North Korea", "KP"),
        ("Russia", "RU"),
        ("Vietnam", "VN"),
        ("Viet Nam", "VN"),
        ("Iran", "IR"),
        ("Syria", "SY"),
        ("Taiwan", "TW"),
        ("Macau", "MO"),
        ("Macao", "MO"),
        ("Hong Kong", "HK"),
        ("Laos", "LA"),
        ("Burma", "MM"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("United States", "US"),
        ("UK", "GB"),
        ("uk", "GB"),
        ("Great Britain", "GB"),
        ("Türkiye", "TR"),
        ("Turkiye", "TR"),
        ("Turkey", "TR"),
        ("Czech Republic", "CZ"),
        ("Ivory Coast", "CI"),
        ("the Netherlands", "NL"),
        ("hong kong", "HK"),
        ("  Vietnam  ", "VN"),
    ],
)
def test_names_people_write(text, code):
    assert resolve_country(text) == code


def test_unknown_country_suggests_a_close_name():
    with pytest.raises(UnknownCountry) as info:
        resolve_country("Chian")
    exc = info.value
    assert isinstance(exc, ValueError)
    assert exc.suggestion == "CN (China)"
    assert exc.suggested_code == "CN"
    assert "Chian" in str(exc)


@pytest.mark.parametrize("text", ["XX", "ZZ", "Atlantis", "", "12", "C"])
def test_unknown_country_without_suggestion(text):
    with pytest.raises(UnknownCountry) as info:
        resolve_country(text)
    assert info.value.suggestion is None


def test_unknown_country_is_raised_again_from_the_cache():
    for _ in range(3):
        with pytest.raises(UnknownCountry):
            resolve_country("Germny")


def test_kosovo_is_explained():
    with pytest.raises(UnknownCountry) as info:
        resolve_country("XK")
    assert "Kosovo" in info.value.hint


def test_non_text_is_unknown():
    with pytest.raises(UnknownCountry):
        resolve_country(156)  # type: ignore[arg-type]
    with pytest.raises(UnknownCountry):
        resolve_country(["CN"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, successors",
    [
        ("AN", {"CW", "SX", "BQ"}),
        ("YU", {"RS", "ME"}),
        ("CS", {"CZ", "SK", "RS", "ME"}),
        ("SU", {"RU", "UA", "BY"}),
        ("DD", {"DE"}),
        ("ZR", {"CD"}),
        ("SUN", {"RU"}),
        ("Yugoslavia", {"RS"}),
        ("Soviet Union", {"RU"}),
    ],
)
def test_retired_codes_name_their_successors(text, successors):
    with pytest.raises(RetiredCountry) as info:
        resolve_country(text)
    exc = info.value
    assert isinstance(exc, ValueError)
    assert successors <= set(exc.successors)
    for code in successors:
        assert f"`{code}`" in exc.successors_hint


@pytest.mark.parametrize("code", ["BY", "GE", "SK", "AI", "BQ"])
def test_reused_codes_are_current(code):
    # These alpha-2 codes once belonged to withdrawn entries and now name current ones.
    assert resolve_country(code) == code


def test_is_country_code():
    assert is_country_code("CN")
    assert is_country_code("HK")
    assert not is_country_code("cn")
    assert not is_country_code("XK")
    assert not is_country_code("SU")
    assert not is_country_code(None)


def test_country_name_prefers_common_names():
    assert country_name("CN") == "China"
    assert country_name("HK") == "Hong Kong"
    assert country_name("MO") == "Macao"
    assert country_name("TW") == "Taiwan"
    assert country_name("KR") == "South Korea"
    assert country_name("RU") == "Russia"
    assert country_name("vn") == "Vietnam"
    with pytest.raises(UnknownCountry):
        country_name("XX")


def test_all_country_codes():
    codes = all_country_codes()
    assert isinstance(codes, frozenset)
    assert len(codes) >= 249
    assert {"CN", "HK", "MO", "TW", "AE", "US", "GB"} <= codes
    assert not {"XK", "SU", "YU", "UK"} & codes
    assert all(len(c) == 2 and c.isupper() for c in codes)


def test_check_code_accepts_current_codes():
    assert check_code("CN") == (True, None)
    assert check_code("NI") == (True, None)


@pytest.mark.parametrize(
    "code, fragment",
    [
        ("XK", "Kosovo"),
        ("UK", "`GB`"),
        ("EU", "not a country"),
        ("SU", "`RU`"),
        ("YU", "withdrawn"),
        ("CHN", "`CN`"),
        ("cn", "upper case"),
        ("China", "`CN`"),
        ("Chian", "`CN`"),
        ("XX", "alpha-2"),
    ],
)
def test_check_code_explains_bad_codes(code, fragment):
    ok, help = check_code(code)
    assert not ok
    assert fragment in help


@given(st.text(max_size=40))
def test_resolve_country_returns_a_code_or_raises_a_value_error(text):
    try:
        code = resolve_country(text)
    except (UnknownCountry, RetiredCountry) as exc:
        assert isinstance(exc, ValueError)
        assert str(exc)
    else:
        assert code in all_country_codes()


@given(st.text(max_size=12))
def test_check_code_never_raises(text):
    ok, help = check_code(text)
    assert ok == (text in all_country_codes())
    assert (help is None) == ok
