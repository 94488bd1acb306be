"""Idempotency keys with Stripe's semantics: a retry gets the first answer; a changed body or a race does not.

The key is held by the request's own transaction and its record is written by it, with the work it describes:
nothing is visible before the commit, so a holder that crashes leaves nothing behind and the retry runs at
once. On PostgreSQL a transaction-scoped advisory lock marks the key as held (the server drops it the moment
the holder's connection dies), and a concurrent request finds it taken: 409. On SQLite the request's
transaction holds the write lock from its first statement, so a concurrent request waits and gets the
first answer.
"""

import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.tables import IdempotencyRecord
from app.errors import Conflict, InvalidRequest

MAX_KEY_LENGTH = 255
ResponseModel = TypeVar("ResponseModel", bound=BaseModel)
DONE = "done"


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: str


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join((method.encode(), path.encode(), body))).hexdigest()


def _problem(message: str) -> InvalidRequest:
    return InvalidRequest(
        [
            {
                "loc": "Idempotency-Key",
                "path": ["headers", "Idempotency-Key"],
                "message": message,
                "type": "idempotency",
            }
        ]
    )


def _hold(session: Session, *, partner_id: int, key: str) -> None:
    """Hold `key` for the rest of the transaction, or raise 409 while a live transaction holds it."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the request's transaction holds the database's write lock from its first statement
    # into int4; two keys of one partner in flight that collide (about 1 in 4 billion) answer the second 409,
    # which its client retries like any 409
    key_lock = zlib.crc32(key.encode()) - 2**31
    held = session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:partner_id, :key_lock)"),
        {"partner_id": partner_id, "key_lock": key_lock},
    )
    if not held:
        raise Conflict("a request with this idempotency key is still being processed; retry later")


def _stored(session: Session, *, partner_id: int, key: str, fingerprint: str) -> StoredResponse | None:
    """The first answer to `key`, if one was committed and has not expired (422 for another body)."""
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.partner_id == partner_id,
            IdempotencyRecord.key == key,
            # records in progress are left by versions that reserved keys in a transaction of their own
            (IdempotencyRecord.expires_at <= utcnow()) | (IdempotencyRecord.status != DONE),
        )
    )
    existing = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.partner_id == partner_id, IdempotencyRecord.key == key
        )
    )
    if existing is None:
        return None
    if existing.request_sha256 != fingerprint:
        raise _problem("this key was already used for a different request")
    assert existing.response_status is not None
    assert existing.response_body is not None
    return StoredResponse(existing.response_status, existing.response_body)


def purge_expired(session: Session) -> int:
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def run_once(
    session: Session,
    *,
    partner_id: int,
    key: str,
    fingerprint: str,
    ttl: timedelta,
    work: Callable[[], ResponseModel],
) -> ResponseModel | StoredResponse:
    """Do `work` once per key in `session`'s transaction: a replay returns the stored answer.

    The answer is stored in the same transaction, so it commits with the work or not at all (a failure or a
    crash frees the key for an immediate retry).
    """
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise _problem(f"an idempotency key is 1 to {MAX_KEY_LENGTH} characters")
    _hold(session, partner_id=partner_id, key=key)
    stored = _stored(session, partner_id=partner_id, key=key, fingerprint=fingerprint)
    if stored is not None:
        return stored
    result = work()
    now = utcnow()
    session.add(
        IdempotencyRecord(
            partner_id=partner_id,
            key=key,
            request_sha256=fingerprint,
            status=DONE,
            response_status=200,
            response_body=result.model_dump_json(),
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return result
