"""Country codes and names, as shipment records and rules files write them.

Everything resolves to an ISO 3166-1 alpha-2 code in upper case. The tables are
built from `pycountry` once, on first use, plus a short list of the names people
write in shipping files that the standard does not carry ("UAE", "South Korea",
"Burma", "UK" ...). Codes withdrawn from the standard (`SU`, `YU`, `AN` ...) are
recognised and reported with the codes that replaced them.

`resolve_country` sits on the record reader's hot path: a code or a common name
is a single dict hit; anything else goes through a cached slow path.
"""

from __future__ import annotations

import difflib
import functools
import unicodedata

import pycountry

__all__ = [
    "RetiredCountry",
    "UnknownCountry",
    "all_country_codes",
    "check_code",
    "country_name",
    "is_country_code",
    "resolve_country",
]


class UnknownCountry(ValueError):
    """The text names no country we know; `suggestion` names a close one, if any."""

    def __init__(
        self,
        text: str,
        suggestion: str | None = None,
        *,
        suggested_code: str | None = None,
        hint: str | None = None,
    ):
        super().__init__(text, suggestion)
        self.text = text
        self.suggestion = suggestion
        self.suggested_code = suggested_code
        self.hint = hint  # what the text is, when it is a known non-ISO code

    def __str__(self) -> str:
        msg = f"unknown country `{self.text}`"
        if self.suggestion:
            msg += f"; did you mean {self.suggestion}?"
        elif self.hint:
            msg += f"; {self.hint}"
        return msg


class RetiredCountry(ValueError):
    """The text is a code (or name) withdrawn from ISO 3166-1."""

    def __init__(
        self,
        text: str,
        successors_hint: str | None,
        *,
        code: str | None = None,
        name: str | None = None,
        successors: tuple[str, ...] = (),
    ):
        super().__init__(text, successors_hint)
        self.text = text
        self.successors_hint = successors_hint
        self.code = code
        self.name = name
        self.successors = successors

    def __str__(self) -> str:
        what = f" ({self.name})" if self.name else ""
        msg = f"`{self.text}`{what} is no longer an ISO 3166-1 country"
        if self.successors_hint:
            msg += f"; {self.successors_hint}"
        return msg


# Names people write that pycountry does not carry (or carries only in a longer form).
# Keys are compared after `_key` normalisation (case, accents, dots and "the" ignored).
_ALIASES: dict[str, str] = {
    "UAE": "AE",
    "U.A.E.": "AE",
    "Emirates": "AE",
    "South Korea": "KR",
    "Korea": "KR",
    "Republic of Korea": "KR",
    "Korea, South": "KR",
    "ROK": "KR",
    "North Korea": "KP",
    "Korea, North": "KP",
    "DPRK": "KP",
    "Russia": "RU",
    "Vietnam": "VN",
    "Viet Nam": "VN",
    "Iran": "IR",
    "Syria": "SY",
    "Taiwan": "TW",
    "Macau": "MO",
    "Macao": "MO",
    "Macau SAR": "MO",
    "Macao SAR": "MO",
    "Macau, China": "MO",
    "Hong Kong": "HK",
    "Hong Kong SAR": "HK",
    "Hong Kong, China": "HK",
    "China": "CN",
    "PRC": "CN",
    "P.R.C.": "CN",
    "Mainland China": "CN",
    "China (Mainland)": "CN",
    "Laos": "LA",
    "Burma": "MM",
    "USA": "US",
    "U.S.A.": "US",
    "U.S.": "US",
    "United States": "US",
    "United States of America": "US",
    "UK": "GB",
    "U.K.": "GB",
    "Great Britain": "GB",
    "Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Türkiye": "TR",
    "Turkiye": "TR",
    "Turkey": "TR",
    "Czech Republic": "CZ",
    "Czechia": "CZ",
    "Ivory Coast": "CI",
    "Cote d'Ivoire": "CI",
    "Holland": "NL",
    "Netherlands": "NL",
    "Brunei": "BN",
    "Cape Verde": "CV",
    "Swaziland": "SZ",
    "Macedonia": "MK",
    "East Timor": "TL",
    "Palestine": "PS",
    "Vatican": "VA",
    "Vatican City": "VA",
    "Holy See": "VA",
    "Micronesia": "FM",
    "DR Congo": "CD",
    "DRC": "CD",
    "Democratic Republic of the Congo": "CD",
    "Congo-Kinshasa": "CD",
    "Republic of the Congo": "CG",
    "Congo-Brazzaville": "CG",
    "St Kitts and Nevis": "KN",
    "St Lucia": "LC",
    "St Vincent and the Grenadines": "VC",
    "Bahamas": "BS",
    "Gambia": "GM",
}

# Codes outside ISO 3166-1 that turn up in trade data, with what to write instead.
_NOT_ISO: dict[str, str] = {
    "XK": "`XK` (Kosovo) is a user-assigned code, not part of ISO 3166-1",
    "EU": "`EU` (European Union) is not a country; name the member state",
    "EL": "`EL` is the EU's code for Greece; ISO 3166-1 writes `GR`",
    "UK": "`UK` is not an ISO 3166-1 code; the United Kingdom is `GB`",
}
_NOT_ISO_NAMES: dict[str, str] = {"kosovo": "XK", "european union": "EU"}

# What replaced each withdrawn entry, keyed by the withdrawn alpha-3 code
# (alpha-3 keys are unique; several withdrawn alpha-2 codes were reused).
_SUCCESSORS: dict[str, tuple[str, ...]] = {
    "AFI": ("DJ",),
    "ANT": ("BQ", "CW", "SX"),
    "ATB": ("AQ",),
    "ATF": ("AQ", "TF"),
    "ATN": ("AQ",),
    "BUR": ("MM",),
    "BYS": ("BY",),
    "CSK": ("CZ", "SK"),
    "SCG": ("RS", "ME"),
    "CTE": ("KI",),
    "DDR": ("DE",),
    "DHY": ("BJ",),
    "FXX": ("FR",),
    "GEL": ("KI", "TV"),
    "HVO": ("BF",),
    "JTN": ("UM",),
    "MID": ("UM",),
    "NHB": ("VU",),
    "NTZ": ("SA", "IQ"),
    "PCI": ("FM", "MH", "MP", "PW"),
    "PUS": ("UM",),
    "PCZ": ("PA",),
    "RHO": ("ZW",),
    "SKM": ("IN",),
    "SUN": (
        "RU",
        "AM",
        "AZ",
        "BY",
        "EE",
        "GE",
        "KG",
        "KZ",
        "LT",
        "LV",
        "MD",
        "TJ",
        "TM",
        "UA",
        "UZ",
    ),
    "TMP": ("TL",),
    "VDR": ("VN",),
    "WAK": ("UM",),
    "YMD": ("YE",),
    "YUG": ("RS", "ME", "BA", "HR", "MK", "SI"),
    "ZAR": ("CD",),
}

# Short names for withdrawn entries whose pycountry name is a long inverted form.
_RETIRED_DISPLAY: dict[str, str] = {
    "SUN": "Soviet Union",
    "YUG": "Yugoslavia",
    "CSK": "Czechoslovakia",
    "SCG": "Serbia and Montenegro",
    "DDR": "East Germany",
    "YMD": "South Yemen",
    "VDR": "North Vietnam",
    "BUR": "Burma",
    "HVO": "Upper Volta",
    "ZAR": "Zaire",
}

# Common names for withdrawn entries that pycountry spells differently.
_RETIRED_ALIASES: dict[str, str] = {
    "Soviet Union": "SUN",
    "USSR": "SUN",
    "Yugoslavia": "YUG",
    "Czechoslovakia": "CSK",
    "East Germany": "DDR",
    "Zaire": "ZAR",
    "Netherlands Antilles": "ANT",
}

# Display names where pycountry's `name` reads awkwardly and it has no common_name.
_DISPLAY: dict[str, str] = {
    "RU": "Russia",
    "BN": "Brunei",
    "CD": "Congo (Kinshasa)",
    "CG": "Congo (Brazzaville)",
    "PS": "Palestine",
    "VA": "Holy See (Vatican City)",
    "FM": "Micronesia",
}


def _key(text: str) -> str:
    """Fold a name to a comparison key: no case, accents, dots, apostrophes or "the"."""
    decomposed = unicodedata.normalize("NFKD", text)
    s = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    s = s.replace("&", " and ")
    for ch in ".'\u2019`":
        s = s.replace(ch, "")
    for ch in ",-()/_":
        s = s.replace(ch, " ")
    s = " ".join(s.split())
    if s.startswith("the "):
        s = s[4:]
    return s


class _Tables:
    """All lookup tables, built once."""

    def __init__(self) -> None:
        self.alpha2: dict[str, object] = {}  # current code -> pycountry record
        self.alpha3: dict[str, str] = {}  # current alpha-3 -> alpha-2
        self.names: dict[str, str] = {}  # _key(name) -> alpha-2
        self.display: dict[str, str] = {}  # alpha-2 -> short name
        self.retired3: dict[str, object] = {}  # withdrawn alpha-3 -> historic record
        self.retired2: dict[str, list[str]] = {}  # withdrawn alpha-2 (not reused) -> alpha-3s
        self.retired_names: dict[str, str] = {}  # _key(name) -> withdrawn alpha-3
        self.exact: dict[str, str] = {}  # verbatim spellings -> alpha-2 (the hot path)

        for c in pycountry.countries:
            a2 = c.alpha_2
            self.alpha2[a2] = c
            self.alpha3[c.alpha_3] = a2
            common = getattr(c, "common_name", None)
            self.display[a2] = _DISPLAY.get(a2) or common or c.name
            for name in (c.name, getattr(c, "official_name", None), common):
                if name:
                    self.names.setdefault(_key(name), a2)
                    self.exact[name] = a2
            for code in (a2, c.alpha_3):
                self.exact[code] = a2
                self.exact[code.lower()] = a2
        for alias, a2 in _ALIASES.items():
            self.names[_key(alias)] = a2  # aliases win over pycountry's long forms
            self.exact[alias] = a2

        for h in pycountry.historic_countries:
            a3 = h.alpha_3
            if a3 in self.alpha3:  # alpha-3 reused by a current entry (e.g. ATF)
                continue
            self.retired3[a3] = h
            if h.alpha_2 not in self.alpha2:
                self.retired2.setdefault(h.alpha_2, []).append(a3)
            self.retired_names.setdefault(_key(h.name), a3)
        for name, a3 in _RETIRED_ALIASES.items():
            self.retired_names[_key(name)] = a3
        # A retired name that is also a current alias (East Timor) resolves to the alias.
        for k in list(self.retired_names):
            if k in self.names:
                del self.retired_names[k]

        self.codes = frozenset(self.alpha2)
        self.name_keys = sorted(self.names)

    def label(self, a2: str) -> str:
        return f"{a2} ({self.display[a2]})"


@functools.lru_cache(maxsize=1)
def _tables() -> _Tables:
    return _Tables()


# The hot path: verbatim spellings, filled on first use.
_EXACT: dict[str, str] = {}


def resolve_country(text: str) -> str:
    """The ISO 3166-1 alpha-2 code for a code (alpha-2 or alpha-3) or a country name.

    Raises `UnknownCountry` (with a suggestion when one is close) or `RetiredCountry`.
    """
    try:
        code = _EXACT.get(text)
    except TypeError:  # unhashable: not a spelling of anything
        raise UnknownCountry(repr(text), None) from None
    if code is not None:
        return code
    found = _resolve_slow(text)
    if isinstance(found, str):
        return found
    raise found[0](*found[1], **found[2])


@functools.lru_cache(maxsize=8192)
def _resolve_slow(text):
    """A code, or (exception class, args, kwargs) to raise; cached either way."""
    t = _tables()
    if not _EXACT:
        _EXACT.update(t.exact)
        if text in _EXACT:
            return _EXACT[text]
    if not isinstance(text, str):
        return (UnknownCountry, (str(text), None), {})
    s = text.strip()
    upper = s.upper()
    if len(s) == 2 and upper in t.alpha2:
        return upper
    if len(s) == 3 and upper in t.alpha3:
        return t.alpha3[upper]
    k = _key(s)
    if k in t.names:
        return t.names[k]
    retired = _retired(s, k)
    if retired is not None:
        return (RetiredCountry, retired[0], retired[1])
    not_iso = upper if upper in _NOT_ISO else _NOT_ISO_NAMES.get(k)
    if not_iso is not None:
        return (UnknownCountry, (s, None), {"hint": _NOT_ISO[not_iso]})
    suggested = _suggest(s, k)
    if suggested is None:
        return (UnknownCountry, (s, None), {})
    return (UnknownCountry, (s, t.label(suggested)), {"suggested_code": suggested})


def _retired(s: str, k: str):
    """(args, kwargs) for RetiredCountry if `s` names a withdrawn entry, else None."""
    t = _tables()
    upper = s.upper()
    if len(s) == 2 and upper in t.retired2:
        a3s = t.retired2[upper]
    elif len(s) == 3 and upper in t.retired3:
        a3s = [upper]
    elif k in t.retired_names:
        a3s = [t.retired_names[k]]
    else:
        return None
    names = [_RETIRED_DISPLAY.get(a3) or t.retired3[a3].name.split(",")[0] for a3 in a3s]
    successors: list[str] = []
    parts = []
    for a3, name in zip(a3s, names, strict=True):
        succ = _SUCCESSORS.get(a3, ())
        successors.extend(c for c in succ if c not in successors)
        if succ:
            codes = ", ".join(f"`{c}` ({t.display[c]})" for c in succ)
            parts.append(f"{name} became {codes}" if len(a3s) > 1 else f"use {codes}")
    hint = "; ".join(parts) if parts else None
    code = t.retired3[a3s[0]].alpha_2
    return (s, hint), {"code": code, "name": " / ".join(names), "successors": tuple(successors)}


def _suggest(s: str, k: str) -> str | None:
    """The current code closest to an unknown spelling, or None."""
    t = _tables()
    upper = s.upper()
    if len(s) == 2 and s.isalpha():
        swapped = upper[::-1]
        return swapped if swapped in t.alpha2 else None
    if len(s) == 3 and s.isalpha():
        for i in range(2):  # one adjacent transposition of an alpha-3 code
            swapped = upper[:i] + upper[i + 1] + upper[i] + upper[i + 2 :]
            if swapped in t.alpha3:
                return t.alpha3[swapped]
        return None
    if not k or len(k) > 80:
        return None
    match = difflib.get_close_matches(k, t.name_keys, n=1, cutoff=0.75)
    return t.names[match[0]] if match else None


def is_country_code(code: object) -> bool:
    """True for a current ISO 3166-1 alpha-2 code written in upper case."""
    return isinstance(code, str) and code in _tables().codes


def country_name(code: str) -> str:
    """A short common name for an alpha-2 code ("China", "Hong Kong", "South Korea")."""
    t = _tables()
    if isinstance(code, str):
        name = t.display.get(code) or t.display.get(code.strip().upper())
        if name:
            return name
    raise UnknownCountry(str(code), None)


def all_country_codes() -> frozenset[str]:
    """Every current ISO 3166-1 alpha-2 code."""
    return _tables().codes


@functools.lru_cache(maxsize=1024)
def check_code(code: str) -> tuple[bool, str | None]:
    """Whether a code written in a rules file is a current alpha-2 code, and if not, what to write."""
    t = _tables()
    if not isinstance(code, str):
        return False, "write an ISO 3166-1 alpha-2 code such as `CN`"
    if code in t.codes:
        return True, None
    s = code.strip()
    upper = s.upper()
    if upper in t.codes:
        return False, f"write country codes in upper case: `{upper}` ({t.display[upper]})"
    if upper in _NOT_ISO:
        return False, _NOT_ISO[upper]
    if len(s) == 3 and upper in t.alpha3:
        a2 = t.alpha3[upper]
        return False, f"`{s}` is an alpha-3 code; write the alpha-2 code `{a2}` ({t.display[a2]})"
    k = _key(s)
    retired = _retired(s, k)
    if retired is not None:
        (_, hint), kw = retired
        what = f"`{s}` ({kw['name']}) was withdrawn from ISO 3166-1"
        return False, f"{what}; {hint}" if hint else what
    if k in t.names:
        a2 = t.names[k]
        return False, f"write the alpha-2 code `{a2}` ({t.display[a2]}) instead of a name"
    suggested = _suggest(s, k)
    if suggested is not None:
        return False, f"did you mean `{suggested}` ({t.display[suggested]})?"
    return (
        False,
        "write an ISO 3166-1 alpha-2 code such as `CN` (China) or `AE` (United Arab Emirates)",
    )
