"""The database-outage trial: partners keep sending batches while the proxy to PostgreSQL is cut, then restored.

Used by tests/faults/test_database_outage.py (a short outage) and bench/outage.py (30 s), which print the same
report: what the batch senders and the readiness probe saw before, during and after the outage, how long the
service took to recover by itself, and whether the stored rows equal the acknowledged items.
"""

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx2
from sqlalchemy import func, select

from app.credentials import split_token
from app.db.engine import make_engine
from app.db.tables import ApiKey, Assessment
from tests.factories import shipment_doc
from tests.faults.proxy import TcpProxy

BATCH_ITEMS = 10
SENDERS = 2
RETRY_PAUSE_S = 0.1  # the senders retry faster than Retry-After asks, to hit the outage as hard as they can
RECOVERY_DEADLINE_S = 30


@dataclass
class Observations:
    """Every answer, by phase ("before", "down", "after", or "edge" for a request that straddles a cut or a
    restore); items the service acknowledged with a 200."""

    phase: str = "before"
    batches: Counter[tuple[str, int]] = field(default_factory=Counter)
    readiness: Counter[tuple[str, int]] = field(default_factory=Counter)
    missing_retry_after: int = 0
    acknowledged: set[str] = field(default_factory=set)
    sent: set[str] = field(default_factory=set)
    first_success_after_restore: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class OutageReport:
    outage_s: float
    batches: dict[tuple[str, int], int]
    readiness: dict[tuple[str, int], int]
    missing_retry_after: int
    recovered_after_s: float | None
    acknowledged: int
    stored: int
    stored_distinct: int

    def problems(self) -> list[str]:
        """What the trial must not show; empty when the service behaved."""
        checks = {
            "an answer other than 200 or 503": {status for _, status in self.batches} <= {200, 503},
            "a 503 without Retry-After": self.missing_retry_after == 0,
            "no 503 while the database was away": self.batches.get(("down", 503), 0) > 0,
            "a 200 while the database was away": self.batches.get(("down", 200), 0) == 0,
            "ready while the database was away": self.readiness.get(("down", 200), 0) == 0,
            "readiness never red": self.readiness.get(("down", 503), 0) > 0,
            "no recovery": self.recovered_after_s is not None and self.batches.get(("after", 200), 0) > 0,
            "nothing acknowledged": self.acknowledged > 0,
            "stored rows differ from acknowledged items": self.stored
            == self.stored_distinct
            == self.acknowledged,
        }
        return [problem for problem, held in checks.items() if not held]

    def lines(self) -> list[str]:
        return [
            f"outage of {self.outage_s:.0f} s; batch answers by (phase, status): {sorted(self.batches.items())}",
            f"readiness by (phase, status): {sorted(self.readiness.items())}",
            f"503s without Retry-After: {self.missing_retry_after}",
            f"first 200 after the database came back: {self.recovered_after_s} s",
            f"items acknowledged {self.acknowledged}, rows stored {self.stored} ({self.stored_distinct} distinct)",
        ]


def _send_batches(url: str, key: str, first_serial: int, seen: Observations, stop: threading.Event) -> None:
    """Batch after batch, each retried with its Idempotency-Key until the service acknowledges it."""
    serial = first_serial
    with httpx2.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {key}"}) as client:
        while not stop.is_set():
            items = [shipment_doc(serial=serial + n) for n in range(BATCH_ITEMS)]
            serial += BATCH_ITEMS
            headers = {"Idempotency-Key": uuid.uuid4().hex}
            with seen.lock:
                seen.sent.update(item["item_id"] for item in items)
            while True:
                started_in = seen.phase
                try:
                    status = client.post("/v1/assessments", json={"items": items}, headers=headers)
                except httpx2.TransportError:
                    status = None
                phase = started_in if seen.phase == started_in else "edge"
                with seen.lock:
                    code = status.status_code if status is not None else 0
                    seen.batches[phase, code] += 1
                    if code == 503 and "Retry-After" not in status.headers:  # type: ignore[union-attr]
                        seen.missing_retry_after += 1
                    if code == 200:
                        seen.acknowledged.update(item["item_id"] for item in items)
                        if seen.phase == "after" and seen.first_success_after_restore is None:
                            seen.first_success_after_restore = time.monotonic()
                        break
                time.sleep(RETRY_PAUSE_S)


def _probe_readiness(url: str, seen: Observations, stop: threading.Event) -> None:
    with httpx2.Client(base_url=url, timeout=10) as client:
        while not stop.is_set():
            started_in = seen.phase
            status = client.get("/readyz").status_code
            phase = started_in if seen.phase == started_in else "edge"
            with seen.lock:
                seen.readiness[phase, status] += 1
            time.sleep(0.25)


def _stored(database_url: str, partner_key: str, item_ids: set[str]) -> tuple[int, int]:
    """(rows, distinct item ids) the key's partner has among `item_ids`."""
    parsed = split_token(partner_key)
    assert parsed is not None
    partner = select(ApiKey.partner_id).where(ApiKey.prefix == parsed[1]).scalar_subquery()
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows, distinct = connection.execute(
                select(func.count(), func.count(func.distinct(Assessment.item_id))).where(
                    Assessment.partner_id == partner, Assessment.item_id.in_(sorted(item_ids))
                )
            ).one()
    finally:
        engine.dispose()
    return int(rows), int(distinct)


def run_outage_trial(
    *, service_url: str, partner_key: str, proxy: TcpProxy, direct_database_url: str, outage_s: float
) -> OutageReport:
    """Cut the database for `outage_s` under load, restore it, and report what the clients saw."""
    seen, stop = Observations(), threading.Event()
    workers = [
        threading.Thread(
            target=_send_batches, args=(service_url, partner_key, 10_000_000 * (n + 1), seen, stop)
        )
        for n in range(SENDERS)
    ]
    workers.append(threading.Thread(target=_probe_readiness, args=(service_url, seen, stop)))
    for worker in workers:
        worker.start()
    try:
        time.sleep(2)
        seen.phase = "edge"
        proxy.cut()
        seen.phase = "down"
        time.sleep(outage_s)
        seen.phase = "edge"
        proxy.restore()
        restored = time.monotonic()
        seen.phase = "after"
        deadline = restored + RECOVERY_DEADLINE_S
        while seen.first_success_after_restore is None and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
    recovered = seen.first_success_after_restore
    stored, distinct = _stored(direct_database_url, partner_key, seen.sent)
    return OutageReport(
        outage_s=outage_s,
        batches=dict(seen.batches),
        readiness=dict(seen.readiness),
        missing_retry_after=seen.missing_retry_after,
        recovered_after_s=None if recovered is None else round(recovered - restored, 2),
        acknowledged=len(seen.acknowledged),
        stored=stored,
        stored_distinct=distinct,
    )
