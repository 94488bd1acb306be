"""Time-ordered, URL-safe identifiers (ULID layout: 48-bit milliseconds + 80 random bits, Crockford base32)."""

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    """A 26-character id that sorts by creation time; good for primary keys partners quote back."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))
