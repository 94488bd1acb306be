"""Pseudonymous entity keys for parties, addresses, postcode areas and corridors (keyed HMAC)."""

import hashlib
import hmac
import re
import unicodedata
from enum import StrEnum
from typing import NamedTuple

from model.shipment import Party, Shipment

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
CACHE_LIMIT = 200_000


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
        self._secret = secret
        self._cache: dict[tuple[object, ...], tuple[str | None, str | None, str | None]] = {}

    def key(self, kind: EntityKind, *parts: str) -> str:
        message = "\x1f".join((kind.value, *parts)).encode()
        return f"{kind.value}:{hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]}"

    def address_key(self, kind: EntityKind, party: Party) -> str | None:
        lines = " ".join(normalise_text(line) for line in party.address_lines).strip()
        if not lines:
            return None
        return self.key(kind, party.country, normalise_postcode(party.postcode), lines)

    def party_key(self, kind: EntityKind, party: Party) -> str | None:
        name = normalise_text(party.business_name or party.name)
        lines = " ".join(normalise_text(line) for line in party.address_lines).strip()
        if not name and not lines:
            return None
        return self.key(kind, party.country, normalise_postcode(party.postcode), lines, name)

    def area_key(self, party: Party) -> str | None:
        area = postcode_area(party.postcode)
        return self.key(EntityKind.SENDER_AREA, party.country, area) if area else None

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
            if role == "sender":
                cached = (
                    self.party_key(EntityKind.SENDER, party),
                    self.address_key(EntityKind.SENDER_ADDRESS, party),
                    self.area_key(party),
                )
            else:
                cached = (
                    self.party_key(EntityKind.ADDRESSEE, party),
                    self.address_key(EntityKind.ADDRESSEE_ADDRESS, party),
                    None,
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
