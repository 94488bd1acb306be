"""Scale-out on PostgreSQL without a global lock: two `python -m app serve` processes take interleaved batches
that share senders and corridors, and every item was scored with the history features one process gives it
when the batches are replayed in the order they committed; row locks on overlapping keys neither deadlock nor
lose an update."""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import orjson
import psycopg
import pytest
from pydantic import TypeAdapter
from sqlalchemy import select

from app.db.engine import make_engine, session_factory
from app.db.history_store import SqlHistoryStore
from app.db.migrate import upgrade
from app.db.tables import Assessment, AuditRecord
from app.scoring import Scorer
from model.artifact import ModelArtifact
from model.entities import Pseudonymiser
from model.history import EntityState, record_hold
from model.shipment import Shipment
from tests.conftest import TEST_SECRET, pg_schema
from tests.factories import shipment_doc
from tests.faults.support import register_partner
from tests.test_serve import serve

BATCHES, ITEMS, IN_FLIGHT = 9, 200, 4
HOLD_S = 3.0  # long enough for the batches in flight to reach their history reads
SENDERS = [
    {
        "name": f"Sender {n}",
        "address_lines": [f"Keizersgracht {n}"],
        "postcode": "1015 CX",
        "city": "Amsterdam",
    }
    for n in range(5)
]
ADDRESSEES = [
    {"name": f"Buyer {n}", "address_lines": [f"{n} Main Street"], "postcode": "10115", "city": "Berlin"}
    for n in range(8)
]
COUNTRIES = ["GB", "DE", "FR"]  # three corridors from NL, in every batch
_shipment = TypeAdapter(Shipment)


def _item(serial: int) -> dict[str, Any]:
    """Item `serial`: one of five senders to one of eight addressees, in one of three corridors."""
    sender = {**SENDERS[serial % len(SENDERS)], "country": "NL"}
    addressee = {**ADDRESSEES[serial * 7 % len(ADDRESSEES)], "country": COUNTRIES[serial % len(COUNTRIES)]}
    return shipment_doc(serial=90_000_000 + serial, sender=sender, addressee=addressee)


def _batches() -> list[list[dict[str, Any]]]:
    return [[_item(b * ITEMS + n) for n in range(ITEMS)] for b in range(BATCHES)]


def _committed(url: str) -> list[tuple[str, list[Assessment]]]:
    """Each batch's assessments by item index, batches in commit order: the audit sequence number a batch
    takes under its row locks grows with the commits of batches that share keys (the others commute)."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            subjects = session.scalars(
                select(AuditRecord.subject)
                .where(AuditRecord.action == "assessment.batch")
                .order_by(AuditRecord.seq)
            ).all()
            order = [subject.removeprefix("batch:") for subject in subjects]
            rows = session.scalars(select(Assessment).order_by(Assessment.item_index)).all()
    finally:
        engine.dispose()
    by_batch = [(batch, [r for r in rows if r.batch_id == batch]) for batch in order]
    return [(batch, assessed) for batch, assessed in by_batch if assessed]  # a replayed batch assesses none


def _replay(model_dir: Path, committed: list[tuple[str, list[Assessment]]], sent: dict[str, Any]) -> int:
    """Replay the batches in commit order through the in-memory store; assert each item's features equal
    those stored with its assessment (float64 bytes); the number of items compared."""
    scorer = Scorer(ModelArtifact.load(model_dir), Pseudonymiser(TEST_SECRET.encode()))
    states: dict[str, EntityState] = {}
    compared = 0
    for _, rows in committed:
        shipments = [_shipment.validate_json(orjson.dumps(sent[row.item_id]), strict=True) for row in rows]
        keys = scorer.entity_keys(shipments)
        features = scorer.features(shipments, keys, states)
        for row, vector, item_keys in zip(rows, features, keys, strict=True):
            assert row.features == np.asarray(vector, "<f8").tobytes(), row.item_id
            if row.decision == "hold":
                record_hold(states, (key for _, key in item_keys.items()))
            compared += 1
    return compared


@contextmanager
def _two_servers(tmp_path: Path, url: str, model_dir: Path) -> Iterator[list[Any]]:
    with ExitStack() as stack:
        servers = []
        for name in ("first", "second"):
            (tmp_path / name).mkdir()
            servers.append(stack.enter_context(contextmanager(serve)(tmp_path / name, url, model_dir)))
        yield servers


@contextmanager
def _history_held(url: str) -> Iterator[None]:
    """A transaction of the test's own holding every history row: batches sent meanwhile all wait in their
    transactions, and are let go together when it ends, so they run at the same time on both servers."""
    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        held = connection.execute("SELECT entity_key FROM party_history FOR UPDATE").fetchall()
        assert held, "the first batch left no history to hold"
        yield


@pytest.mark.postgres
def test_two_servers_score_as_one_process_in_commit_order(tmp_path: Path, model_dir: Path) -> None:
    batches = _batches()
    sent = {item["item_id"]: item for batch in batches for item in batch}
    with pg_schema("radar_scale_out") as url, _two_servers(tmp_path, url, model_dir) as servers:
        headers = register_partner(servers[0]).headers
        clients = [httpx2.Client(base_url=s.url, timeout=60, headers=headers) for s in servers]

        def post(number: int, server: int | None = None) -> int:
            client = clients[number % 2 if server is None else server]
            answers[number] = client.post("/v1/assessments", json={"items": batches[number]})
            return answers[number].status_code

        answers: dict[int, httpx2.Response] = {}
        assert post(0) == 200  # every sender, addressee and corridor now has a history row
        first = answers[0].json()["decisions"]
        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            with _history_held(url):
                futures = [pool.submit(post, number) for number in range(1, BATCHES)]
                time.sleep(HOLD_S)
            assert [answer.result() for answer in futures] == [200] * (BATCHES - 1)
        assert post(0, server=1) == 200  # the other server finds the items assessed: their first answers
        assert answers[0].json()["decisions"] == first
        for client in clients:
            client.close()
        committed = _committed(url)
    assert len(committed) == BATCHES
    assert _replay(model_dir, committed, sent) == BATCHES * ITEMS


def _count_once(url: str, keys: list[str], hold_s: float, locked: threading.Event) -> None:
    """One transaction: lock `keys`, count one more item on each, hold the locks a while, commit."""
    engine = make_engine(url, pool_size=1)
    try:
        with session_factory(engine)() as session, session.begin():
            store = SqlHistoryStore(session)
            states = store.load(keys, lock=True)
            locked.set()
            for key in keys:
                state = states.setdefault(key, EntityState(0.0, 0.0, 0.0, 0.0))
                state.items_long += 1
            time.sleep(hold_s)  # another transaction reading now, without the lock, would lose this update
            store.save(states)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_overlapping_row_locks_neither_deadlock_nor_lose_an_update() -> None:
    existing = [f"k:{n:02d}" for n in range(10)]
    first = [*existing[:7], "new:a", "new:b"]  # shares k:04..k:06 and new:b with the second
    second = [*reversed(existing[4:]), "new:c", "new:b"]
    with pg_schema("radar_row_locks") as url:
        upgrade(url)
        engine = make_engine(url)
        with session_factory(engine)() as session, session.begin():
            SqlHistoryStore(session).save({key: EntityState(0.0, 0.0, 0.0, 0.0) for key in existing})
        rounds = 5
        for _ in range(rounds):
            events = [threading.Event(), threading.Event()]
            threads = [
                threading.Thread(target=_count_once, args=(url, keys, 0.1, event))
                for keys, event in zip((first, second), events, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            assert all(event.is_set() for event in events)
        with session_factory(engine)() as session:
            counts = {k: s.items_long for k, s in SqlHistoryStore(session).load([*first, *second]).items()}
        engine.dispose()
    expected = {key: rounds * ((key in first) + (key in second)) for key in {*first, *second}}
    assert counts == expected
