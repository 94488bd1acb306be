"""Spelling-tolerant forms of names and addresses, for keys that survive a vendor's identity rotation.

Each form keeps what a rotated identity tends to keep: the house number without its suffix, the street with its
type word reduced to one abbreviation (Kerkstraat, Kerkstr., kerk straat), a person's first initial with the
letters of the surname in sorted order (Jan de Vries, J. de Vreis, JAN DE VRIES). All inputs go through
`model.entities.normalise_text` first, so case, accents and punctuation are already gone.
"""

import re

_HOUSE_NUMBER = re.compile(r"\d+")
# Street-type words and their abbreviations, longest first: a street name ending in one keeps only the short form.
_STREET_TYPES: tuple[tuple[str, str], ...] = (
    ("strasse", "str"), ("straat", "str"), ("street", "st"), ("avenue", "av"), ("boulevard", "bd"),
    ("gracht", "gr"), ("platz", "pl"), ("plein", "pl"), ("laan", "ln"), ("road", "rd"), ("weg", "wg"),
    ("blvd", "bd"), ("ave", "av"), ("str", "str"),
)  # fmt: skip
_LEGAL_FORMS = frozenset({"bv", "nv", "vof", "gmbh", "ug", "ek", "ltd", "llc", "inc", "sarl", "sa", "srl"})


def house_number(address: str) -> str:
    """The first number of a normalised address without its suffix ('12 a', '12a', '12-A' -> '12')."""
    match = _HOUSE_NUMBER.search(address)
    if match is None:
        return ""
    return match.group().lstrip("0") or "0"


def _street_word(word: str) -> str:
    for full, short in _STREET_TYPES:
        if word.endswith(full):
            return word[: -len(full)] + short
    return word


def street_form(address: str) -> str:
    """The street of a normalised address as one word with its type abbreviated ('kerk straat 12' -> 'kerkstr')."""
    words = [word for word in address.split() if word.isalpha() and len(word) > 1]
    return _street_word("".join(words))


def name_form(name: str) -> str:
    """First initial plus the sorted letters of the last name-word of a normalised name; '' without a name."""
    tokens = name.split()
    words = [token for token in tokens if len(token) > 1 and token not in _LEGAL_FORMS]
    if not words:
        return ""
    return tokens[0][0] + "".join(sorted(words[-1]))


def place_form(city: str, area: str) -> str:
    """Where a party lives, as letters of its city (spacing-insensitive), else its postcode area."""
    letters = city.replace(" ", "")
    return letters or area
