"""Identity rotation as vendors do it: a new name or a spelling variant, the same address or a variant of it."""

from typing import Any

from training.simulate.identities import PartyDict, Rng, business_name, person

NEW_NAME_SHARE = 0.5
ADDRESS_KEPT_SHARE = 0.4
STREET_ABBREVIATIONS = (
    ("straat", "str."), ("laan", "ln."), ("weg", "wg."), ("plein", "pln."), ("Street", "St."),
    ("Road", "Rd."), ("Avenue", "Ave."), ("strasse", "str."), ("straße", "str."),
)  # fmt: skip
HOUSE_SUFFIXES = ("A", "B", "-1", "-2", " hs", " bis")


def _swap_letters(rng: Rng, text: str) -> str:
    """Two neighbouring letters of one longer word swapped ('Vries' -> 'Vreis')."""
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) > 3 and w.isalpha()]
    if not long_words:
        return text.upper()
    index = long_words[int(rng.integers(len(long_words)))]
    word = words[index]
    at = int(rng.integers(1, len(word) - 2))
    words[index] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return " ".join(words)


def _initials(text: str) -> str:
    """The first word cut to its initial ('Jan de Vries' -> 'J. de Vries')."""
    first, _, rest = text.partition(" ")
    return f"{first[0]}. {rest}" if rest and len(first) > 1 else text.lower()


def spelling_variant(rng: Rng, text: str) -> str:
    """The same name written differently: its case, an initial, or two letters swapped."""
    kind = int(rng.integers(4))
    variant = (text.upper(), text.lower(), _initials(text), _swap_letters(rng, text))[kind]
    return variant if variant != text else text.upper()


def address_variant(rng: Rng, line: str) -> str:
    """The same street and house number written differently: abbreviated, in another case, or a suffix."""
    kind = int(rng.integers(3))
    if kind == 0:
        for full, short in STREET_ABBREVIATIONS:
            if full in line:
                return line.replace(full, short, 1)
            if short in line:
                return line.replace(short, full, 1)
    if kind == 1:
        return line.upper() if rng.random() < 0.5 else line.lower()
    return line + HOUSE_SUFFIXES[int(rng.integers(len(HOUSE_SUFFIXES)))]


def rotated_identity(rng: Rng, party: PartyDict, country: str, city: int) -> tuple[PartyDict, dict[str, Any]]:
    """The identity a vendor writes after a seizure, and what changed (name: new or variant; address: kept or
    variant). The postcode and house number stay, so the place can still be recognised."""
    rotated = dict(party)
    field = "business_name" if "business_name" in party else "name"
    fresh = rng.random() < NEW_NAME_SHARE
    if fresh:
        new = business_name(rng, country) if field == "business_name" else person(rng, country, city)["name"]
        rotated[field] = new
    else:
        rotated[field] = spelling_variant(rng, party[field])
    address = "none"
    if party.get("address_lines"):
        address = "kept" if rng.random() < ADDRESS_KEPT_SHARE else "variant"
        if address == "variant":
            rotated["address_lines"] = [address_variant(rng, party["address_lines"][0])]
    if rotated[field] == party[field]:
        rotated[field] = spelling_variant(rng, party[field])
    return rotated, {"name": "new" if fresh else "variant", "address": address}
