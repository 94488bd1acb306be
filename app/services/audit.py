"""The audit log: append-only records in hash chains (partitions, so appends do not serialise the service),
anchor records that chain the heads of every partition, and the verification of both."""

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

import orjson
from sqlalchemy import Select, Table, bindparam, func, insert, select, text
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.engine import read_columns
from app.db.tables import AUDIT_SEQUENCE, AuditRecord

GENESIS = "0" * 64
CHAINS = 16  # PostgreSQL: a writer takes any free chain; SQLite has one writer and uses chain 0
ANCHOR_CHAIN = -1
ANCHOR_EVERY = (
    100  # a chain's every 100th record is followed by an anchor (and by `python -m app anchor-audit`)
)
_CHAIN_LOCK_BASE = 7_204_119_000  # advisory lock of chain c: base + c (the anchors' chain: base - 1)
_SESSION_CHAIN = "audit_chain"  # session.info: the chain this session last appended to
_BATCH = 1000
_RECORDS = cast(Table, AuditRecord.__table__)
_INSERT = insert(_RECORDS)


def _canonical(document: dict[str, Any]) -> str:
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()


def chain_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _try_lock(session: Session, chain: int) -> bool:
    lock = text("SELECT pg_try_advisory_xact_lock(:lock_id)")
    return bool(session.scalar(lock, {"lock_id": _CHAIN_LOCK_BASE + chain}))


def _take_chain(session: Session) -> int:
    """A chain no other transaction is appending to: the one this session used last (a transaction that
    appends twice holds it already), else any free one in random order; if all are busy, wait for one."""
    if not _postgres(session):
        return 0
    last: int | None = session.info.get(_SESSION_CHAIN)
    others = random.sample([c for c in range(CHAINS) if c != last], CHAINS - (last is not None))
    for chain in ([last] if last is not None else []) + others:
        if _try_lock(session, chain):
            break
    else:
        chain = others[0]
        session.execute(text("SELECT pg_advisory_xact_lock(:lock_id)"), {"lock_id": _CHAIN_LOCK_BASE + chain})
    session.info[_SESSION_CHAIN] = chain
    return chain


def _last(chain: Any) -> Select[Any]:
    return (
        select(AuditRecord).where(AuditRecord.chain == chain).order_by(AuditRecord.chain_seq.desc()).limit(1)
    )


def _head(session: Session, chain: int) -> tuple[int, str]:
    """(chain_seq, hash) of the chain's last record; (0, GENESIS) for an empty chain."""
    row = session.execute(_last(chain).with_only_columns(AuditRecord.chain_seq, AuditRecord.hash)).first()
    return (row[0], row[1]) if row else (0, GENESIS)


@cache
def _head_and_seq_statement(postgres: bool) -> Select[Any]:
    """Built once: constructing it cost as much CPU as running it."""
    if postgres:
        next_seq: Any = AUDIT_SEQUENCE.next_value()
    else:
        next_seq = select(func.coalesce(func.max(AuditRecord.seq), 0) + 1).scalar_subquery()
    last = _last(bindparam("chain"))
    return select(
        last.with_only_columns(AuditRecord.chain_seq).scalar_subquery(),
        last.with_only_columns(AuditRecord.hash).scalar_subquery(),
        next_seq,
    )


def _head_and_seq(session: Session, chain: int) -> tuple[int, str, int]:
    """(chain_seq, hash) of the chain's last record ((0, GENESIS) for an empty chain) and the next `seq`, in
    one statement."""
    statement = _head_and_seq_statement(_postgres(session))
    position, prev_hash, seq = read_columns(session, statement, {"chain": chain}).one()
    return (position, prev_hash, seq) if position is not None else (0, GENESIS, seq)


def _write(
    session: Session, chain: int, *, actor: str, action: str, subject: str, details: dict[str, Any]
) -> AuditRecord:
    """Append to `chain`, whose lock the caller holds (a Core insert: no unit-of-work bookkeeping)."""
    position, prev_hash, seq = _head_and_seq(session, chain)
    at = utcnow()
    head = {"seq": seq, "chain": chain, "chain_seq": position + 1, "at": at.isoformat()}
    payload = _canonical({**head, "actor": actor, "action": action, "subject": subject, "details": details})
    record = AuditRecord(
        seq=seq,
        chain=chain,
        chain_seq=position + 1,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        payload=payload,
        prev_hash=prev_hash,
        hash=chain_hash(prev_hash, payload),
    )
    session.execute(_INSERT, [{c.key: getattr(record, c.key) for c in _RECORDS.columns}])
    return record


def append(
    session: Session, *, actor: str, action: str, subject: str, details: dict[str, Any]
) -> AuditRecord:
    """Append one record in the caller's transaction (so it commits or rolls back with what it records)."""
    chain = _take_chain(session)
    record = _write(session, chain, actor=actor, action=action, subject=subject, details=details)
    if record.chain_seq % ANCHOR_EVERY == 0:
        _anchor_unless_busy(session)
    return record


def _chains(session: Session) -> list[int]:
    """Every data chain: the configured ones, those of the last anchor, and any other found in the log."""
    chains = set(range(CHAINS if _postgres(session) else 1))
    last_anchor = session.scalar(
        select(AuditRecord.payload)
        .where(AuditRecord.chain == ANCHOR_CHAIN)
        .order_by(AuditRecord.chain_seq.desc())
        .limit(1)
    )
    if last_anchor is not None:
        chains.update(chain for chain, _, _ in orjson.loads(last_anchor)["details"]["heads"])
    return sorted(chains)


def _write_anchor(session: Session) -> AuditRecord:
    heads = [(chain, *_head(session, chain)) for chain in _chains(session)]
    details = {"heads": [[chain, position, hash_] for chain, position, hash_ in heads if position > 0]}
    return _write(
        session, ANCHOR_CHAIN, actor="system", action="audit.anchor", subject="audit_log", details=details
    )


def anchor(session: Session) -> AuditRecord:
    """Append an anchor: a record of the anchors' chain naming the head (position and hash) of every chain.

    A record deleted from a chain's end, or a chain rewritten, no longer matches the anchors after it.
    """
    if _postgres(session):
        lock = text("SELECT pg_advisory_xact_lock(:lock_id)")
        session.execute(lock, {"lock_id": _CHAIN_LOCK_BASE + ANCHOR_CHAIN})
    return _write_anchor(session)


def _anchor_unless_busy(session: Session) -> None:
    """The periodic anchor; skipped while another transaction anchors (the next one covers this head)."""
    if not _postgres(session) or _try_lock(session, ANCHOR_CHAIN):
        _write_anchor(session)


@dataclass(frozen=True)
class ChainBreak:
    """The first record (by `seq`) at which the log does not verify, and why."""

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
    if not isinstance(document, dict):
        return "payload is not a JSON object"
    # records from before the chains were partitioned are chain 0, at the position of their seq
    hashed = {"chain": 0, "chain_seq": document.get("seq"), **document}
    for name in ("seq", "chain", "chain_seq", "at", "actor", "action", "subject"):
        expected, stored = hashed.get(name), getattr(record, name)
        if name == "at":
            expected = datetime.fromisoformat(expected) if isinstance(expected, str) else None
        if expected != stored:
            return f"column {name} differs from the hashed payload"
    return None


AnchoredHeads = dict[tuple[int, int], tuple[str, int]]  # (chain, chain_seq) -> (hash, seq of the anchor)


def _anchored_heads(session: Session) -> AnchoredHeads:
    """Every head the anchors name (the anchors' own chain is verified with the others)."""
    heads: AnchoredHeads = {}
    rows = session.execute(
        select(AuditRecord.seq, AuditRecord.payload).where(AuditRecord.chain == ANCHOR_CHAIN)
    )
    for seq, payload in rows:
        try:
            named = orjson.loads(payload)["details"]["heads"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue  # the pass over the anchors' chain reports the record
        for chain, chain_seq, hash_ in named:
            heads[(chain, chain_seq)] = (hash_, seq)
    return heads


def _record_problem(record: AuditRecord, position: int, prev_hash: str, heads: AnchoredHeads) -> str | None:
    where = f"(chain {record.chain}, position {record.chain_seq})"
    if record.chain_seq != position + 1:
        return f"chain {record.chain} jumps from position {position} to {record.chain_seq}"
    if record.prev_hash != prev_hash:
        return f"does not link to the record before it {where}"
    if chain_hash(record.prev_hash, record.payload) != record.hash:
        return f"hash does not match its content {where}"
    if (problem := _payload_problem(record)) is not None:
        return f"{problem} {where}"
    anchored = heads.pop((record.chain, record.chain_seq), None)
    if anchored is not None and anchored[0] != record.hash:
        return f"differs from the head anchored by record {anchored[1]} {where}"
    return None


def verify_chain(session: Session) -> tuple[int, ChainBreak | None]:
    """(records checked, first break or None). Detects edited, deleted, inserted and reordered records in
    every chain, and records missing from a chain's end up to its last anchor."""
    heads = _anchored_heads(session)
    tips: dict[int, tuple[int, str]] = {}  # chain -> (position, hash) of its last verified record
    breaks: dict[int, ChainBreak] = {}  # chain -> its first break
    checked = 0
    for record in _records(session):
        checked += 1
        if record.chain in breaks:
            continue
        position, prev_hash = tips.get(record.chain, (0, GENESIS))
        if (problem := _record_problem(record, position, prev_hash, heads)) is not None:
            breaks[record.chain] = ChainBreak(record.seq, problem)
        else:
            tips[record.chain] = (record.chain_seq, record.hash)
    for (chain, chain_seq), (_, anchor_seq) in heads.items():
        if chain not in breaks:
            problem = f"names position {chain_seq} of chain {chain}, which is missing"
            breaks[chain] = ChainBreak(anchor_seq, problem)
    return checked, min(breaks.values(), key=lambda b: b.seq, default=None)
