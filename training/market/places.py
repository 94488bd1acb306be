"""Free-text ships-from and ships-to places mapped to ISO 3166-1 alpha-2 codes and region sets."""

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import pycountry

from model.codes import country_codes, is_country


def _codes(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


EU = _codes("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK")
EUROPE = EU | _codes("GB NO CH IS LI AD MC SM VA RS BA ME MK AL UA MD BY")
NORTH_AMERICA = _codes("US CA MX")
SOUTH_AMERICA = _codes("AR BO BR CL CO EC PE PY UY VE")
OCEANIA = _codes("AU NZ")
ASIA = _codes("CN HK IN ID JP KR MY PH PK SG TH TW VN")
CONTINENTS: dict[str, frozenset[str]] = {
    "europe": EUROPE,
    "north_america": NORTH_AMERICA,
    "south_america": SOUTH_AMERICA,
    "oceania": OCEANIA,
    "asia": ASIA,
}
REGIONS: dict[str, frozenset[str]] = {
    **CONTINENTS,
    "eu": EU,
    "european union": EU,
    "schengen": EU - {"IE", "CY"} | {"NO", "CH", "IS", "LI"},
    "scandinavia": _codes("SE NO DK FI IS"),
    "benelux": _codes("BE NL LU"),
    "america": NORTH_AMERICA,
    "north america": NORTH_AMERICA,
    "south america": SOUTH_AMERICA,
    "latin america": SOUTH_AMERICA | {"MX"},
    "australasia": OCEANIA,
    "worldwide": country_codes(),
    "all countries": country_codes(),
    "any country": country_codes(),
    "world": country_codes(),
    "ww": country_codes(),
    "international": country_codes(),
    "everywhere": country_codes(),
}
# Markets' own spellings that pycountry does not know; the keys are compared lower-case.
COUNTRY_ALIASES: dict[str, str] = {
    "uk": "GB",
    "u.k": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "britain": "GB",
    "great britain": "GB",
    "united kingdom": "GB",
    "us": "US",
    "u.s": "US",
    "u.s.a": "US",
    "united states of america": "US",
    "holland": "NL",
    "the netherlands": "NL",
    "nederland": "NL",
    "deutschland": "DE",
    "russia": "RU",
    "czech": "CZ",
    "south korea": "KR",
    "korea": "KR",
    "hong kong": "HK",
    "taiwan": "TW",
    "vietnam": "VN",
}
# Origins that say "not telling": they are recognised but map to no place.
UNDISCLOSED: frozenset[str] = frozenset(
    {"torland", "tor land", "undeclared", "undisclosed", "internet", "online", "digital", "unknown", "n/a"}
)
_SEPARATORS = re.compile(r"\s*(?:,|;|/|&|\+|\band\b|\bor\b)\s*", re.IGNORECASE)
_EXCEPT = re.compile(r"\b(?:except|excluding|excl|but not|not to)\b", re.IGNORECASE)
_NOISE = re.compile(r"\b(?:only|ships?|shipping|from|to)\b|[()!\[\]*:]", re.IGNORECASE)


class PlaceKind(StrEnum):
    """How a free-text place was understood."""

    COUNTRY = "country"
    REGION = "region"
    UNDISCLOSED = "undisclosed"
    MISSING = "missing"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Place:
    """A parsed place: the ISO codes it covers (one for a country, many for a region, none otherwise)."""

    kind: PlaceKind
    codes: frozenset[str]

    @property
    def country(self) -> str | None:
        """The ISO code when the place is exactly one country."""
        return next(iter(self.codes)) if self.kind is PlaceKind.COUNTRY else None

    @property
    def mapped(self) -> bool:
        return self.kind in (PlaceKind.COUNTRY, PlaceKind.REGION)


def _clean(text: str) -> str:
    return " ".join(_NOISE.sub(" ", text).split()).strip(" .,-")


def country_code(token: str) -> str | None:
    """The ISO code of one country name, alias or upper-case ISO code; None when it is not one."""
    word = _clean(token)
    lowered = word.lower().removeprefix("the ")
    if lowered in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[lowered]
    if len(word) <= 3:
        # Short tokens are codes only when written as codes: "in" or "no" in prose are not India or Norway.
        return _code_lookup(word) if word.isupper() else None
    return _name_lookup(lowered)


def _code_lookup(word: str) -> str | None:
    if len(word) == 2:
        return word if is_country(word) else None
    found = pycountry.countries.get(alpha_3=word)
    return str(found.alpha_2) if found else None


@cache
def _name_lookup(name: str) -> str | None:
    try:
        return str(pycountry.countries.lookup(name).alpha_2)
    except LookupError:
        return None


def _token_codes(token: str) -> frozenset[str] | None:
    lowered = _clean(token).lower()
    if lowered in REGIONS:
        return REGIONS[lowered]
    code = country_code(token)
    return frozenset({code}) if code else None


@cache
def parse_place(text: str) -> Place:
    """One ships-from or ships-to text: countries, regions, "X only", "worldwide except Y", or nothing known."""
    lowered = _clean(text).lower()
    if not lowered:
        return Place(PlaceKind.MISSING, frozenset())
    if lowered in UNDISCLOSED:
        return Place(PlaceKind.UNDISCLOSED, frozenset())
    included, *rest = _EXCEPT.split(text, maxsplit=1)
    excluded = rest[0] if rest else ""
    codes = _union(included)
    if codes is None:
        return Place(PlaceKind.UNKNOWN, frozenset())
    codes = codes - (_union(excluded) or frozenset())
    kind = PlaceKind.COUNTRY if len(codes) == 1 and not excluded else PlaceKind.REGION
    return Place(kind, frozenset(codes))


def _union(text: str) -> frozenset[str] | None:
    parts = [p for p in _SEPARATORS.split(text) if _clean(p)]
    if not parts:
        return None
    found = [_token_codes(p) for p in parts]
    known = [codes for codes in found if codes is not None]
    return frozenset().union(*known) if known else None


def parse_destinations(texts: list[str]) -> Place:
    """Several ships-to entries as one place: the union of every entry that could be understood."""
    places = [parse_place(t) for t in texts]
    mapped = [p for p in places if p.mapped]
    if not mapped:
        return places[0] if places else Place(PlaceKind.MISSING, frozenset())
    codes = frozenset().union(*(p.codes for p in mapped))
    return Place(PlaceKind.COUNTRY if len(codes) == 1 else PlaceKind.REGION, codes)


def continent_of(code: str) -> str:
    """The continent key of a country in CONTINENTS, or "other"."""
    return next((name for name, members in CONTINENTS.items() if code in members), "other")
