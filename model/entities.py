"""Pseudonymous entity keys (keyed HMAC): parties, addresses, areas, corridors, and keys that survive rotation."""

import hmac
import re
import unicodedata
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import NamedTuple

from model.history import COUNTERPARTY_KEY_LENGTH, EntityState
from model.loose_forms import house_number, name_form, place_form, street_form
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
    SENDER_PREMISES = "spm"  # postcode + house number
    SENDER_STREET = "sst"  # street (type abbreviated) + house number + place
    SENDER_NAME = "snm"  # spelling-tolerant name + place
    SENDER_HABIT = "shb"  # posting office + mail class + postage + declared category and contents
    BUYER = "byr"  # an addressee, as reached from the senders it received from (see model.history)


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


def buyer_key(counterparty: str) -> str:
    """The BUYER key of an addressee, from its key as a sender's history remembers it (its last characters)."""
    return f"{EntityKind.BUYER.value}:{counterparty[-COUNTERPARTY_KEY_LENGTH:]}"


def seizure_targets(keys: Iterable[str], states: Mapping[str, EntityState]) -> list[str]:
    """The keys a seizure of the item named by `keys` is linked to: those keys, and the BUYER keys of every
    addressee its sender and sender address wrote to recently (`states` must hold those two entities)."""
    named = list(keys)
    prefixes = (f"{EntityKind.SENDER.value}:", f"{EntityKind.SENDER_ADDRESS.value}:")
    senders = (states.get(key) for key in named if key.startswith(prefixes))
    buyers = {buyer_key(counterparty) for state in senders if state for counterparty in state.counterparties}
    return sorted({*named, *buyers})


class LooseKeys(NamedTuple):
    """The spelling-tolerant keys of a sender: what survives a change of name or a varied address."""

    premises: str | None
    street: str | None
    name: str | None


NO_LOOSE_KEYS = LooseKeys(None, None, None)


class EntityKeys(NamedTuple):
    """The history keys of one shipment; a key is None when the item does not identify that entity."""

    sender: str | None
    sender_address: str | None
    sender_area: str | None
    addressee: str | None
    addressee_address: str | None
    corridor: str
    sender_premises: str | None = None
    sender_street: str | None = None
    sender_name: str | None = None
    sender_habit: str | None = None
    buyer: str | None = None

    def items(self) -> list[tuple[EntityKind, str]]:
        pairs = [
            (EntityKind.SENDER, self.sender),
            (EntityKind.SENDER_ADDRESS, self.sender_address),
            (EntityKind.SENDER_AREA, self.sender_area),
            (EntityKind.ADDRESSEE, self.addressee),
            (EntityKind.ADDRESSEE_ADDRESS, self.addressee_address),
            (EntityKind.CORRIDOR, self.corridor),
            (EntityKind.SENDER_PREMISES, self.sender_premises),
            (EntityKind.SENDER_STREET, self.sender_street),
            (EntityKind.SENDER_NAME, self.sender_name),
            (EntityKind.SENDER_HABIT, self.sender_habit),
            (EntityKind.BUYER, self.buyer),
        ]
        return [(kind, key) for kind, key in pairs if key is not None]


class Pseudonymiser:
    """Turns clear-text parties into keyed hashes; the same key must be used wherever keys are compared."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the pseudonymisation secret must be at least 16 bytes")
        self._keyed = hmac.new(secret, digestmod="sha256")  # copied per key: the key schedule is done once
        self._cache: dict[tuple[object, ...], tuple[str | None, str | None, str | None]] = {}
        self._loose_cache: dict[tuple[object, ...], LooseKeys] = {}

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

    def loose_keys(self, party: Party) -> LooseKeys:
        """The sender's premises, street and name keys, cached on the clear text like the exact keys."""
        raw = (
            party.country,
            party.postcode,
            tuple(party.address_lines),
            party.city,
            party.business_name,
            party.name,
        )
        cached = self._loose_cache.get(raw)
        if cached is None:
            if len(self._loose_cache) >= CACHE_LIMIT:
                self._loose_cache.clear()
            cached = self._loose_keys(party)
            self._loose_cache[raw] = cached
        return cached

    def _loose_keys(self, party: Party) -> LooseKeys:
        lines, postcode = _address_text(party), normalise_postcode(party.postcode)
        number, street = house_number(lines), street_form(lines)
        place = place_form(normalise_text(party.city), postcode_area(party.postcode))
        name = name_form(_name_text(party))
        return LooseKeys(
            self.key(EntityKind.SENDER_PREMISES, party.country, postcode, number)
            if postcode and number
            else None,
            self.key(EntityKind.SENDER_STREET, party.country, place, street, number)
            if street and number
            else None,
            self.key(EntityKind.SENDER_NAME, party.country, place, name) if name else None,
        )

    def habit_key(self, shipment: Shipment) -> str | None:
        """Where and how the item was posted and declared; None without a posting office."""
        posting, declaration = shipment.posting, shipment.declaration
        if not posting.office_id:
            return None
        declared = "none" if declaration is None else declaration.category.value
        contents = (
            "" if declaration is None or not declaration.contents else declaration.contents[0].description
        )
        return self.key(
            EntityKind.SENDER_HABIT,
            posting.office_id,
            shipment.mail_class.value,
            posting.postage_method.value,
            declared,
            normalise_text(contents),
        )

    def keys_for(self, shipment: Shipment) -> EntityKeys:
        origin, destination = shipment.corridor
        sender, sender_address, sender_area = self._party_keys("sender", shipment.sender)
        addressee, addressee_address, _ = self._party_keys("addressee", shipment.addressee)
        loose = self.loose_keys(shipment.sender) if sender or sender_address else NO_LOOSE_KEYS
        outward = addressee or addressee_address
        return EntityKeys(
            sender=sender,
            sender_address=sender_address,
            sender_area=sender_area,
            addressee=addressee,
            addressee_address=addressee_address,
            corridor=f"{EntityKind.CORRIDOR.value}:{origin}-{destination}",
            sender_premises=loose.premises,
            sender_street=loose.street,
            sender_name=loose.name,
            sender_habit=self.habit_key(shipment),
            buyer=buyer_key(outward) if outward else None,
        )
