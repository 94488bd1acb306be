"""Time-ordered, URL-safe identifiers: ULIDs (48-bit milliseconds + 80 random bits, Crockford base32)."""

from datetime import datetime

from ulid import ULID

_RANDOM_BYTES = 10


def new_id() -> str:
    """A 26-character id that sorts by creation time (strictly increasing within a process)."""
    return str(ULID())


def first_id_at(moment: datetime) -> str:
    """The smallest id made at or after `moment`, to read rows by id from a point in time on."""
    milliseconds = int(moment.timestamp() * 1000)
    return str(ULID.from_bytes(milliseconds.to_bytes(6, "big") + bytes(_RANDOM_BYTES)))
