"""Scale-out on PostgreSQL without a global lock: two `python -m app serve` processes take interleaved batches
of two families that share the corridors and the sender postcode area, and within a family also the senders
and addressees. Replayed in the order they committed, every item's features other than the four aggregate
ones equal one process's exactly; those four (postcode area and corridor counts) equal what one process gives
from the history without the other family's batches that committed while the batch ran (it saw a prefix of
them); the history rows end as one process leaves them (no lost update). Row locks on overlapping keys,
entity keys before aggregate keys, neither deadlock nor lose an update."""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import numpy.typing as npt
import orjson
import psycopg
import pytest
from pydantic import TypeAdapter
from sqlalchemy import select

from app.db.engine import make_engine, session_factory
from app.db.history_store import SqlHistoryStore
from app.db.migrate import upgrade
from app.db.tables import Assessment, AuditRecord, PartyHistory
from app.scoring import Scorer
from model.artifact import ModelArtifact
from model.entities import EntityKeys, Pseudonymiser
from model.features import AGGREGATE_FEATURES, FEATURE_NAMES, is_aggregate
from model.history import EntityState, record_hold
from model.shipment import Shipment
from tests.conftest import TEST_SECRET, pg_schema
from tests.factories import shipment_doc
from tests.faults.support import register_partner
from tests.test_serve import serve

BATCHES, ITEMS, IN_FLIGHT = 9, 200, 4
HOLD_S = 3.0  # long enough for the batches in flight to reach their history locks
SURNAMES = ["Bakker", "Visser", "Smit", "Mulder", "Bos", "Jansen", "Dekker", "Vos", "Meijer", "Peters"]
# Family f: senders 5f..5f+4 and addressees 8f..8f+7, posted at office f; every sender in Amsterdam 1015 (one
# postcode area), to three corridors from NL. Batch 0 has both families, then the batches alternate.
SENDERS = [
    {
        "name": f"Anna {surname}",
        "address_lines": [f"Keizersgracht {n + 1}"],
        "postcode": "1015 CX",
        "city": "Amsterdam",
    }
    for n, surname in enumerate(SURNAMES)
]
ADDRESSEES = [
    {"name": f"Buyer {n}", "address_lines": [f"{n} Main Street"], "postcode": "10115", "city": "Berlin"}
    for n in range(16)
]
OFFICES = ["NL-1012", "NL-1013"]
COUNTRIES = ["GB", "DE", "FR"]
AGGREGATES = [FEATURE_NAMES.index(name) for name in AGGREGATE_FEATURES]
EXACT = [i for i in range(len(FEATURE_NAMES)) if i not in AGGREGATES]
_shipment = TypeAdapter(Shipment)
Committed = list[tuple[str, list[Assessment]]]


def _item(serial: int, family: int, m: int) -> dict[str, Any]:
    """The m-th item of a family in a batch: one of its five senders to one of its eight addressees."""
    sender = {**SENDERS[5 * family + m % 5], "country": "NL"}
    addressee = {**ADDRESSEES[8 * family + m * 7 % 8], "country": COUNTRIES[m % len(COUNTRIES)]}
    document = shipment_doc(serial=90_000_000 + serial, sender=sender, addressee=addressee)
    document["posting"]["office_id"] = OFFICES[family]
    return document


def _batches() -> list[list[dict[str, Any]]]:
    first = [_item(n, n % 2, n // 2) for n in range(ITEMS)]
    return [first] + [[_item(b * ITEMS + n, b % 2, n) for n in range(ITEMS)] for b in range(1, BATCHES)]


def _committed(url: str) -> tuple[Committed, dict[str, EntityState]]:
    """Each batch's assessments by item index, batches in the order of their audit records (appended under
    the entity-key row locks: in commit order within a family), and the history rows as they ended."""
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
            history = SqlHistoryStore(session).load(session.scalars(select(PartyHistory.entity_key)))
    finally:
        engine.dispose()
    by_batch = [(batch, [r for r in rows if r.batch_id == batch]) for batch in order]
    return [(batch, assessed) for batch, assessed in by_batch if assessed], history  # a retry assesses none


def _only(states: dict[str, EntityState], *, aggregates: bool) -> dict[str, EntityState]:
    return {key: replace(state) for key, state in states.items() if is_aggregate(key) == aggregates}


class _Replay:
    """The committed batches through the in-memory store, as one process scores them."""

    def __init__(self, model_dir: Path, committed: Committed, sent: dict[str, Any]) -> None:
        self.scorer = Scorer(ModelArtifact.load(model_dir), Pseudonymiser(TEST_SECRET.encode()))
        self.batches: list[tuple[list[Assessment], list[Shipment], list[EntityKeys]]] = []
        self.families: list[int | None] = []
        for _, rows in committed:
            shipments = [
                _shipment.validate_json(orjson.dumps(sent[row.item_id]), strict=True) for row in rows
            ]
            self.batches.append((rows, shipments, self.scorer.entity_keys(shipments)))
            offices = {s.posting.office_id for s in shipments}
            self.families.append(OFFICES.index(offices.pop()) if len(offices) == 1 else None)

    def observe(self, position: int, states: dict[str, EntityState]) -> npt.NDArray[np.float64]:
        """Batch `position`'s features from `states`, which it then moves on (its items and holds)."""
        rows, shipments, keys = self.batches[position]
        features = self.scorer.features(shipments, keys, states)
        for row, item_keys in zip(rows, keys, strict=True):
            if row.decision == "hold":
                record_hold(states, (key for _, key in item_keys.items()))
        return features

    def others_before(self, position: int) -> list[int]:
        """The batches of the other family that come before batch `position` (none for the mixed first)."""
        family = self.families[position]
        return [p for p in range(position) if family is not None and self.families[p] not in (None, family)]

    def aggregates_seen(self, position: int, exact: dict[str, EntityState]) -> int | None:
        """How many of `others_before` the stored aggregate features of batch `position` include (the other
        batches before it are all in); None if no such prefix gives them. `exact`: the history before it."""
        stored = np.array([np.frombuffer(row.features, "<f8") for row in self.batches[position][0]])
        others = self.others_before(position)
        for seen in range(len(others) + 1):
            aggregates: dict[str, EntityState] = {}
            for earlier in (p for p in range(position) if p not in others[seen:]):
                self.observe(earlier, aggregates)
            states = {**_only(exact, aggregates=False), **_only(aggregates, aggregates=True)}
            features = self.observe(position, states)
            if np.allclose(features[:, AGGREGATES], stored[:, AGGREGATES], rtol=1e-9, atol=0):
                return seen
        return None


def _check_features(replay: _Replay) -> tuple[list[int], dict[str, EntityState]]:
    """Assert every stored feature vector as the module says; for each batch, how many of the other family's
    batches before it its aggregate features missed, and the history one process ends with."""
    exact: dict[str, EntityState] = {}
    missed = []
    for position, (rows, _, _) in enumerate(replay.batches):
        seen = replay.aggregates_seen(position, exact)
        assert seen is not None, f"batch {position}: its aggregate features match no prefix of the others"
        missed.append(len(replay.others_before(position)) - seen)
        for row, vector in zip(rows, replay.observe(position, exact), strict=True):
            assert np.frombuffer(row.features, "<f8")[EXACT].tobytes() == vector[EXACT].tobytes(), row.item_id
    return missed, exact


def _assert_same_history(history: dict[str, EntityState], exact: dict[str, EntityState]) -> None:
    """Entity rows exactly as one process leaves them; aggregate rows too, but for float rounding."""
    assert history.keys() == exact.keys()
    for key, state in exact.items():
        stored = history[key]
        if is_aggregate(key):
            counts = (stored.items_short, stored.items_long)
            assert counts == pytest.approx((state.items_short, state.items_long), rel=1e-9, abs=0), key
            stored = replace(stored, items_short=state.items_short, items_long=state.items_long)
        assert stored == state, key


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
def test_two_servers_score_as_one_process_but_for_concurrent_aggregates(
    tmp_path: Path, model_dir: Path
) -> None:
    batches = _batches()
    sent = {item["item_id"]: item for batch in batches for item in batch}
    with pg_schema("radar_scale_out") as url, _two_servers(tmp_path, url, model_dir) as servers:
        headers = register_partner(servers[0]).headers
        clients = [httpx2.Client(base_url=s.url, timeout=60, headers=headers) for s in servers]

        def post(number: int, server: int | None = None) -> int:
            # each family's batches alternate between the servers
            client = clients[number // 2 % 2 if server is None else server]
            answers[number] = client.post("/v1/assessments", json={"items": batches[number]})
            return answers[number].status_code

        answers: dict[int, httpx2.Response] = {}
        assert post(0) == 200  # every sender, addressee, office and corridor now has a history row
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
        committed, history = _committed(url)
    assert len(committed) == BATCHES
    missed, exact = _check_features(_Replay(model_dir, committed, sent))
    assert any(missed), "no batch ran while another family's committed: the merge went untested"
    _assert_same_history(history, exact)


def _count_once(url: str, keys: list[str], hold_s: float, locked: threading.Event, *, batch: bool) -> None:
    """One transaction: lock `keys`, count one more item on each, hold the locks a while, commit. As a batch
    (`batch`): the aggregate keys read unlocked and written last, merged if they moved on; else (as an
    outcome) every key locked at once."""
    engine = make_engine(url, pool_size=1)
    try:
        with session_factory(engine)() as session, session.begin():
            store = SqlHistoryStore(session)
            store.lock(key for key in keys if not (batch and is_aggregate(key)))
            states = store.load(keys)
            read = _only(states, aggregates=True)
            locked.set()
            for key in keys:
                state = states.setdefault(key, EntityState(0.0, 0.0, 0.0, 0.0))
                state.items_long += 1
            time.sleep(hold_s)  # another transaction reading now, without the lock, would lose this update
            store.save(_only(states, aggregates=False))
            deltas = {key: EntityState(0.0, 0.0, 0.0, 1.0) for key in keys if is_aggregate(key)}
            store.save_aggregates({key: states[key] for key in deltas}, read, deltas)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_overlapping_row_locks_neither_deadlock_nor_lose_an_update() -> None:
    existing = [f"k:{n:02d}" for n in range(10)]
    # shares k:04..k:06, new:b and both corridors with the second, which (as an outcome) locks them at once;
    # a third batch shares only the corridors with them, so it reads them while another holds them
    first = [*existing[:7], "new:a", "new:b", "cor:NL-DE", "cor:NL-XX"]
    second = [*reversed(existing[4:]), "new:c", "new:b", "cor:NL-XX", "cor:NL-DE"]
    third = ["m:00", "cor:NL-DE", "cor:NL-XX"]
    with pg_schema("radar_row_locks") as url:
        upgrade(url)
        engine = make_engine(url)
        with session_factory(engine)() as session, session.begin():
            initial = {key: EntityState(0.0, 0.0, 0.0, 0.0) for key in [*existing, "cor:NL-DE"]}
            SqlHistoryStore(session).save(initial)
        rounds = 5
        for _ in range(rounds):
            events = [threading.Event() for _ in range(3)]
            threads = [
                threading.Thread(target=_count_once, args=(url, keys, 0.1, event), kwargs={"batch": batch})
                for keys, event, batch in zip(
                    (first, second, third), events, (True, False, True), strict=True
                )
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            assert all(event.is_set() for event in events)
        with session_factory(engine)() as session:
            named = {*first, *second, *third}
            counts = {k: s.items_long for k, s in SqlHistoryStore(session).load(named).items()}
        engine.dispose()
    expected = {key: rounds * ((key in first) + (key in second) + (key in third)) for key in named}
    assert counts == expected
