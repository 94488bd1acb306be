"""Pseudonymous entity keys for parties, addresses, postcode areas and corridors (keyed HMAC)."""

import hmac
import re
import unicodedata
from enum import StrEnum
from typing import NamedTuple

from model.shipment import Party, Shipment

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
CACHE_LIMIT = 50_000  # parties remembered with their keys (repeat senders); cleared when full


class EntityKind(StrEnum):
    SENDER = "snd"
    SENDER_ADDRESS = "sad"
    SENDER_AREA = "sar"
    ADDRESSEE = "adr"
    ADDRESSEE_ADDRESS = "aad"
    CORRIDOR = "cor"


def normalise_text(text: str | None) -> str:
    """Case-, accent-, punctuation- and spacing-insensitive form of a name or address line."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub(" ", folded).strip()


def normalise_postcode(postcode: str | None) -> str:
    return normalise_text(postcode).replace(" ", "").upper()


def postcode_area(postcode: str | None) -> str:
    """The postcode without its last two characters (NL 1012AB -> 1012, DE 10115 -> 101), at most 4 long."""
    code = normalise_postcode(postcode)
    return code[: min(4, len(code) - 2)] if len(code) > 2 else ""


def _address_text(party: Party) -> str:
    return " ".join(normalise_text(line) for line in party.address_lines).strip()


def _name_text(party: Party) -> str:
    return normalise_text(party.business_name or party.name)


class EntityKeys(NamedTuple):
    """The history keys of one shipment; a key is None when the item does not identify that entity."""

    sender: str | None
    sender_address: str | None
    sender_area: str | None
    addressee: str | None
    addressee_address: str | None
    corridor: str

    def items(self) -> list[tuple[EntityKind, str]]:
        pairs = [
            (EntityKind.SENDER, self.sender),
            (EntityKind.SENDER_ADDRESS, self.sender_address),
            (EntityKind.SENDER_AREA, self.sender_area),
            (EntityKind.ADDRESSEE, self.addressee),
            (EntityKind.ADDRESSEE_ADDRESS, self.addressee_address),
            (EntityKind.CORRIDOR, self.corridor),
        ]
        return [(kind, key) for kind, key in pairs if key is not None]


class Pseudonymiser:
    """Turns clear-text parties into keyed hashes; the same key must be used wherever keys are compared."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the pseudonymisation secret must be at least 16 bytes")
        self._keyed = hmac.new(secret, digestmod="sha256")  # copied per key: the key schedule is done once
        self._cache: dict[tuple[object, ...], tuple[str | None, str | None, str | None]] = {}

    def key(self, kind: EntityKind, *parts: str) -> str:
        mac = self._keyed.copy()
        mac.update("\x1f".join((kind, *parts)).encode())
        return f"{kind}:{mac.hexdigest()[:32]}"

    def address_key(self, kind: EntityKind, party: Party) -> str | None:
        return self._address_key(
            kind, party.country, normalise_postcode(party.postcode), _address_text(party)
        )

    def party_key(self, kind: EntityKind, party: Party) -> str | None:
        return self._party_key(
            kind, party.country, normalise_postcode(party.postcode), _address_text(party), _name_text(party)
        )

    def area_key(self, party: Party) -> str | None:
        area = postcode_area(party.postcode)
        return self.key(EntityKind.SENDER_AREA, party.country, area) if area else None

    def _address_key(self, kind: EntityKind, country: str, postcode: str, lines: str) -> str | None:
        return self.key(kind, country, postcode, lines) if lines else None

    def _party_key(self, kind: EntityKind, country: str, postcode: str, lines: str, name: str) -> str | None:
        return self.key(kind, country, postcode, lines, name) if name or lines else None

    def _party_keys(self, role: str, party: Party) -> tuple[str | None, str | None, str | None]:
        """(party, address, area) keys of a sender or addressee, cached on the clear text (parties repeat)."""
        raw = (
            role,
            party.country,
            party.postcode,
            tuple(party.address_lines),
            party.business_name,
            party.name,
        )
        cached = self._cache.get(raw)
        if cached is None:
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            postcode, lines, name = (
                normalise_postcode(party.postcode),
                _address_text(party),
                _name_text(party),
            )
            sender = role == "sender"
            cached = (
                self._party_key(
                    EntityKind.SENDER if sender else EntityKind.ADDRESSEE,
                    party.country,
                    postcode,
                    lines,
                    name,
                ),
                self._address_key(
                    EntityKind.SENDER_ADDRESS if sender else EntityKind.ADDRESSEE_ADDRESS,
                    party.country,
                    postcode,
                    lines,
                ),
                self.area_key(party) if sender else None,
            )
            self._cache[raw] = cached
        return cached

    def keys_for(self, shipment: Shipment) -> EntityKeys:
        origin, destination = shipment.corridor
        sender, sender_address, sender_area = self._party_keys("sender", shipment.sender)
        addressee, addressee_address, _ = self._party_keys("addressee", shipment.addressee)
        return EntityKeys(
            sender=sender,
            sender_address=sender_address,
            sender_area=sender_area,
            addressee=addressee,
            addressee_address=addressee_address,
            corridor=f"{EntityKind.CORRIDOR.value}:{origin}-{destination}",
        )
