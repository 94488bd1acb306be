"""The audit log: append-only records whose SHA-256 chains each to the one before, and its verification."""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.tables import AuditRecord

GENESIS = "0" * 64
AUDIT_LOCK_ID = 7_204_118_002
_BATCH = 1000


def _canonical(document: dict[str, Any]) -> str:
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()


def chain_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:lock_id)"), {"lock_id": AUDIT_LOCK_ID})


def append(
    session: Session, *, actor: str, action: str, subject: str, details: dict[str, Any]
) -> AuditRecord:
    """Append one record in the caller's transaction (so it commits or rolls back with what it records)."""
    _lock(session)
    last = session.execute(
        select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = utcnow()
    payload = _canonical(
        {
            "seq": seq,
            "at": at.isoformat(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "details": details,
        }
    )
    record = AuditRecord(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        payload=payload,
        prev_hash=prev_hash,
        hash=chain_hash(prev_hash, payload),
    )
    session.add(record)
    session.flush()
    return record


@dataclass(frozen=True)
class ChainBreak:
    """The first record at which the chain does not verify, and why."""

    seq: int
    problem: str


def _records(session: Session) -> Iterator[AuditRecord]:
    after = 0
    while True:
        rows = list(
            session.scalars(
                select(AuditRecord).where(AuditRecord.seq > after).order_by(AuditRecord.seq).limit(_BATCH)
            )
        )
        yield from rows
        if len(rows) < _BATCH:
            return
        after = rows[-1].seq


def _payload_problem(record: AuditRecord) -> str | None:
    try:
        document = orjson.loads(record.payload)
    except orjson.JSONDecodeError:
        return "payload is not JSON"
    stored = {
        "seq": record.seq,
        "at": record.at,
        "actor": record.actor,
        "action": record.action,
        "subject": record.subject,
    }
    for name, value in stored.items():
        expected = document.get(name)
        if name == "at":
            expected = datetime.fromisoformat(expected) if isinstance(expected, str) else None
        if expected != value:
            return f"column {name} differs from the hashed payload"
    return None


def verify_chain(session: Session) -> tuple[int, ChainBreak | None]:
    """(records checked, first break or None). Detects edited, deleted, inserted and reordered records."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    for record in _records(session):
        checked += 1
        if record.seq != expected_seq:
            return checked, ChainBreak(record.seq, f"sequence jumps from {expected_seq - 1} to {record.seq}")
        if record.prev_hash != prev_hash:
            return checked, ChainBreak(record.seq, "does not link to the record before it")
        if chain_hash(record.prev_hash, record.payload) != record.hash:
            return checked, ChainBreak(record.seq, "hash does not match its content")
        if (problem := _payload_problem(record)) is not None:
            return checked, ChainBreak(record.seq, problem)
        prev_hash, expected_seq = record.hash, expected_seq + 1
    return checked, None
