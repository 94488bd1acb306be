"""Plausible people and businesses per country, as licit senders and addressees and as the identities vendors use."""

import unicodedata
from typing import Any

import numpy as np

from training.simulate.names import words
from training.simulate.places import Locale, locale_for

PartyDict = dict[str, Any]
Rng = np.random.Generator

_MAIL_PROVIDERS = ("gmail.com", "hotmail.com", "outlook.com", "icloud.com", "yahoo.com")
_BUSINESS_FIRST = words(
    "Holland Tulp Molen Groen Noord Zuid Oranje Delta Polder Linden Kade Eiken Waterland Duin Zilver Vlinder "
    "Kompas Atlas Nova Vita Luna Terra Blauw Zon Regen Berk Haven Brug Sterren Klaver"
)
_BUSINESS_SECOND = words(
    "Webshop Trading Design Outdoor Fietsen Kids Mode Home Tech Beauty Sport Boeken Cadeaus Living Supplies "
    "Kaarten Crafts Parts Style Shop Store Studio Goods Collective Works Naturals Gadgets Wonen"
)
_LEGAL_SUFFIX = {"NL": ("B.V.", "V.O.F.", ""), "BE": ("BV", "NV", ""), "DE": ("GmbH", "UG", "e.K.")}


def ascii_fold(text: str) -> str:
    """Lower-case ASCII form of a name, for e-mail addresses."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _city_weights(locale: Locale) -> np.ndarray:
    weights = np.array([c.weight for c in locale.cities], dtype=np.float64)
    shares: np.ndarray = weights / weights.sum()
    return shares


class PersonPool:
    """A fixed population of one country held as index arrays; rendered as Party dicts on demand."""

    def __init__(self, country: str, size: int, rng: Rng) -> None:
        locale = locale_for(country)
        self.country = country
        self.locale = locale
        self.size = size
        self.city = rng.choice(len(locale.cities), size=size, p=_city_weights(locale))
        lows = np.array([c.low for c in locale.cities])
        highs = np.array([c.high for c in locale.cities])
        self.number = rng.integers(lows[self.city], highs[self.city] + 1)
        self.letters = rng.integers(0, 676, size=size)
        self.first = rng.integers(0, len(locale.first_names), size=size)
        self.last = rng.integers(0, len(locale.last_names), size=size)
        self.street = rng.integers(0, len(locale.streets), size=size)
        self.house = rng.geometric(0.025, size=size)
        self._folded_first = [ascii_fold(n) for n in locale.first_names]
        self._folded_last = [ascii_fold(n) for n in locale.last_names]
        self._names = [f"{first} {last}" for first in locale.first_names for last in locale.last_names]
        self._city_names = [c.name for c in locale.cities]

    def sample(self, rng: Rng, count: int, skew: float = 1.0) -> np.ndarray:
        """`count` person indices; skew above 1 makes a few people much more frequent (heavy online buyers)."""
        return (self.size * rng.random(count) ** skew).astype(np.int64)

    def parties(self, indices: np.ndarray, with_email: np.ndarray | None = None) -> list[PartyDict]:
        """Party dicts of the people at `indices`, with an e-mail address where `with_email` is true."""
        loc, country = self.locale, self.country
        names, cities, streets = self._names, self._city_names, loc.streets
        postcode = loc.postcode
        surnames = len(loc.last_names)
        name_index = (self.first[indices] * surnames + self.last[indices]).tolist()
        street, house = self.street[indices].tolist(), self.house[indices].tolist()
        if loc.number_first:
            lines = [f"{h} {streets[s]}" for s, h in zip(street, house, strict=True)]
        else:
            lines = [f"{streets[s]} {h}" for s, h in zip(street, house, strict=True)]
        columns = zip(
            name_index,
            lines,
            self.city[indices].tolist(),
            self.number[indices].tolist(),
            self.letters[indices].tolist(),
            strict=True,
        )
        parties = [
            {
                "name": names[name],
                "address_lines": [line],
                "postcode": postcode(city, number, letters),
                "city": cities[city],
                "country": country,
            }
            for name, line, city, number, letters in columns
        ]
        if with_email is not None:
            for party, name in zip(parties, self._emails(indices, with_email), strict=True):
                if name:
                    party["email"] = name
        return parties

    def _emails(self, indices: np.ndarray, with_email: np.ndarray) -> list[str]:
        firsts, lasts = self.first[indices].tolist(), self.last[indices].tolist()
        return [
            f"{self._folded_first[first]}.{self._folded_last[last]}@{_MAIL_PROVIDERS[(first + last) % len(_MAIL_PROVIDERS)]}"
            if wanted
            else ""
            for first, last, wanted in zip(firsts, lasts, with_email.tolist(), strict=True)
        ]


def person(rng: Rng, country: str, city: int | None = None) -> PartyDict:
    """One plausible private person of `country`, in `city` (an index into the locale) or a random one."""
    loc = locale_for(country)
    where = int(np.searchsorted(np.cumsum(_city_weights(loc)), rng.random())) if city is None else city
    number = int(rng.integers(loc.cities[where].low, loc.cities[where].high + 1))
    return {
        "name": f"{rng.choice(loc.first_names)} {rng.choice(loc.last_names)}",
        "address_lines": [loc.address_line(int(rng.integers(len(loc.streets))), int(rng.geometric(0.025)))],
        "postcode": loc.postcode(where, number, int(rng.integers(676))),
        "city": loc.cities[where].name,
        "country": country,
    }


def business_name(rng: Rng, country: str) -> str:
    """A plausible small-business trading name such as 'Kade Crafts B.V.'."""
    suffix = str(rng.choice(_LEGAL_SUFFIX.get(country, ("Ltd", ""))))
    name = f"{rng.choice(_BUSINESS_FIRST)} {rng.choice(_BUSINESS_SECOND)}"
    return f"{name} {suffix}".strip()


def business(rng: Rng, country: str, city: int | None = None) -> PartyDict:
    """A business party: trading name plus a plausible address, no contact person."""
    party = person(rng, country, city)
    del party["name"]
    return {"business_name": business_name(rng, country), **party}


def email_address(rng: Rng, name: str) -> str:
    """An e-mail address made of a person's name, as licit addressees carry them (first.last@provider)."""
    first, _, last = name.partition(" ")
    provider = _MAIL_PROVIDERS[int(rng.integers(len(_MAIL_PROVIDERS)))]
    return f"{ascii_fold(first)}.{ascii_fold(last)}@{provider}"
