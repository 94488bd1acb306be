"""kill -9 of a uvicorn process in the middle of a batch sent with an Idempotency-Key: a new process serves
the retry with the same key at once, and the partner's rows number exactly the batch's items."""

import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.faults.support import batch, register_partner, stored_items
from tests.test_serve import serve

BATCH_ITEMS = 1000
RETRY_WITHIN_S = 10  # "at once": the old lease made this wait five minutes


def sqlite_write_locked(database_url: str) -> bool:
    """True while another connection holds the SQLite file's write lock (a batch is in its transaction)."""
    connection = sqlite3.connect(str(make_url(database_url).database), timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        connection.close()


def postgres_history_locked(database_url: str) -> bool:
    """True while some transaction holds party-history rows locked (a batch is in its transaction): the row
    locks every batch takes before its first write leave the table's RowExclusiveLock until the commit."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND mode = 'RowExclusiveLock'"
            " AND granted AND relation = 'party_history'::regclass AND pid <> pg_backend_pid()"
        ).fetchone()
    return row is not None and row[0] > 0


def wait_for(condition: Callable[[], bool], still_waiting: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and still_waiting():
        if condition():
            return
        time.sleep(0.01)
    pytest.fail("the batch was never seen inside its transaction")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_retry_after_kill_9_mid_batch_succeeds_at_once(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, model_dir: Path
) -> None:
    if backend == "sqlite":
        url, in_transaction = f"sqlite:///{tmp_path / 'radar.db'}", sqlite_write_locked
    else:
        url, in_transaction = request.getfixturevalue("pg_base_url"), postgres_history_locked
    body = batch(71_000_000, BATCH_ITEMS)
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir(), second_dir.mkdir()
    answered: dict[str, Any] = {}
    with contextmanager(serve)(first_dir, url, model_dir) as first:
        filer = register_partner(first)
        headers = {**filer.headers, "Idempotency-Key": f"crash-trial-{backend}"}

        def send() -> None:
            try:
                with httpx2.Client(base_url=first.url, timeout=60) as client:
                    answered["response"] = client.post("/v1/assessments", json=body, headers=headers)
            except httpx2.TransportError as exc:
                answered["error"] = exc

        sender = threading.Thread(target=send)
        sender.start()
        wait_for(lambda: in_transaction(url), sender.is_alive, timeout=30)
        first.process.kill()  # SIGKILL: no shutdown, no rollback, no cleanup of any kind
        first.process.wait(timeout=30)
        sender.join(timeout=30)
    assert "error" in answered, f"the batch was answered before the kill: {answered}"
    assert stored_items(url, filer.name) == (0, 0)

    with (
        contextmanager(serve)(second_dir, url, model_dir) as second,
        httpx2.Client(base_url=second.url, timeout=60) as client,
    ):
        started = time.monotonic()
        retry = client.post("/v1/assessments", json=body, headers=headers)
        elapsed = time.monotonic() - started
        assert retry.status_code == 200, retry.text
        assert "Idempotent-Replayed" not in retry.headers
        assert elapsed < RETRY_WITHIN_S
        assert stored_items(url, filer.name) == (BATCH_ITEMS, BATCH_ITEMS)  # 0 lost, 0 duplicated
        replay = client.post("/v1/assessments", json=body, headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.text == retry.text
    assert stored_items(url, filer.name) == (BATCH_ITEMS, BATCH_ITEMS)
    print(f"{backend}: killed mid-batch; retry of {BATCH_ITEMS} items answered 200 in {elapsed:.2f} s")
