"""Idempotency keys with Stripe's semantics: a retry gets the first answer; a changed body or a race does not."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.db.base import utcnow
from app.db.tables import IdempotencyRecord
from app.errors import Conflict, InvalidRequest

MAX_KEY_LENGTH = 255
ResponseModel = TypeVar("ResponseModel", bound=BaseModel)
IN_FLIGHT_TIMEOUT = timedelta(minutes=5)  # a reservation older than this belonged to a request that died


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


def claim(
    sessions: sessionmaker[Session], *, partner_id: int, key: str, fingerprint: str, ttl: timedelta
) -> StoredResponse | None:
    """Reserve `key` for this request in its own short transaction.

    Returns the stored first response for a completed retry (None when the key is new and now ours). Raises
    422 when the key was used with another request body, 409 while the first request is still in flight.
    """
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise _problem(f"an idempotency key is 1 to {MAX_KEY_LENGTH} characters")
    now = utcnow()
    with sessions() as session, session.begin():
        session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.partner_id == partner_id,
                IdempotencyRecord.key == key,
                (IdempotencyRecord.expires_at <= now)
                | (
                    (IdempotencyRecord.status == "in_progress")
                    & (IdempotencyRecord.created_at <= now - IN_FLIGHT_TIMEOUT)
                ),
            )
        )
        existing = session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.partner_id == partner_id, IdempotencyRecord.key == key
            )
        )
        if existing is None:
            try:
                with session.begin_nested():
                    session.add(
                        IdempotencyRecord(
                            partner_id=partner_id,
                            key=key,
                            request_sha256=fingerprint,
                            status="in_progress",
                            created_at=now,
                            expires_at=now + ttl,
                        )
                    )
                return None
            except IntegrityError:
                existing = session.scalar(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.partner_id == partner_id, IdempotencyRecord.key == key
                    )
                )
        assert existing is not None
        if existing.request_sha256 != fingerprint:
            raise _problem("this key was already used for a different request")
        if existing.status != "done" or existing.response_body is None or existing.response_status is None:
            raise Conflict("a request with this idempotency key is still being processed; retry later")
        return StoredResponse(existing.response_status, existing.response_body)


def complete(session: Session, *, partner_id: int, key: str, status_code: int, body: str) -> None:
    """Store the answer in the request's own transaction, so it commits with the work it describes."""
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.partner_id == partner_id, IdempotencyRecord.key == key)
        .values(status="done", response_status=status_code, response_body=body)
    )


def release(sessions: sessionmaker[Session], *, partner_id: int, key: str) -> None:
    """Drop an in-flight reservation whose request failed, so the partner can retry with the same key."""
    with sessions() as session, session.begin():
        session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.partner_id == partner_id,
                IdempotencyRecord.key == key,
                IdempotencyRecord.status == "in_progress",
            )
        )


def purge_expired(session: Session) -> int:
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def run_once(
    session: Session,
    sessions: sessionmaker[Session],
    *,
    partner_id: int,
    key: str,
    fingerprint: str,
    ttl: timedelta,
    work: Callable[[], ResponseModel],
) -> ResponseModel | StoredResponse:
    """Do `work` once per key: a replay returns the stored answer; a failure frees the key for a retry."""
    stored = claim(sessions, partner_id=partner_id, key=key, fingerprint=fingerprint, ttl=ttl)
    if stored is not None:
        return stored
    try:
        result = work()
        complete(session, partner_id=partner_id, key=key, status_code=200, body=result.model_dump_json())
    except BaseException:
        session.rollback()  # give up the write lock first: SQLite would make release() wait for it
        release(sessions, partner_id=partner_id, key=key)
        raise
    return result
