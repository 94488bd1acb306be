"""The service's SQL history gives the same features as the training replay, and the replay never looks ahead."""

import heapq
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pytest
from sqlalchemy.orm import Session

from app.db.engine import make_engine, session_factory
from app.db.history_store import SqlHistoryStore
from app.db.migrate import upgrade
from model.entities import EntityKeys, Pseudonymiser
from model.features import observe, shipment_row
from model.history import link_seizure, record_hold
from model.market_profile import MarketProfile
from model.shipment import Outcome, OutcomeResult, Shipment
from model.taxonomy import DrugCategory
from tests.conftest import pg_schema
from training.files import read_outcomes
from training.market.profile import default_market_profile
from training.replay import TRAINING_SECRET, replay

ITEMS = 4000


@pytest.fixture(scope="module")
def feed(simulated_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """About ITEMS shipments spread over the whole simulated feed, and the outcomes that belong to them."""
    directory = tmp_path_factory.mktemp("parity")
    everything = (simulated_dir / "shipments.jsonl").read_bytes().splitlines()
    lines = everything[:: max(1, len(everything) // ITEMS)]
    (directory / "shipments.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    ids = {orjson.loads(line)["item_id"] for line in lines}
    outcomes = [
        o
        for o in (simulated_dir / "outcomes.jsonl").read_bytes().splitlines()
        if orjson.loads(o)["item_id"] in ids
    ]
    (directory / "outcomes.jsonl").write_bytes(b"\n".join(outcomes) + b"\n")
    return directory / "shipments.jsonl", directory / "outcomes.jsonl"


def _sql_replay(
    session_of: Iterator[Session], shipments: Path, outcomes: Path, profile: MarketProfile
) -> np.ndarray:
    """The training replay's event order, but every read and write goes through the service's SQL store."""
    known = read_outcomes(outcomes)
    pseudonymiser = Pseudonymiser(TRAINING_SECRET)
    pending: list[tuple[float, int, EntityKeys]] = []
    rows = []
    items = sorted(
        (Shipment.model_validate_json(line) for line in shipments.read_bytes().splitlines()),
        key=lambda s: s.posting.posted_at.timestamp(),
    )
    for count, shipment in enumerate(items):
        now = shipment.posting.posted_at.timestamp()
        keys = pseudonymiser.keys_for(shipment)
        with next(session_of) as session, session.begin():
            store = SqlHistoryStore(session)
            while pending and pending[0][0] <= now:
                known_at, _, seized = heapq.heappop(pending)
                states = store.load(key for _, key in seized.items())
                link_seizure(states, [key for _, key in seized.items()], known_at)
                store.save(states)
            states = store.load(key for _, key in keys.items())
            rows.append(shipment_row(shipment, profile) + observe(states, keys, shipment))
            outcome = known.get((shipment.item_id, shipment.posting.posted_at.date()))
            if outcome is not None:
                record_hold(states, [key for _, key in keys.items()])
                if outcome.found_drugs:
                    heapq.heappush(pending, (outcome.inspected_at.timestamp(), count, keys))
            store.save(states)
    return np.asarray(rows, dtype=np.float64)


def _sessions(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    factory = session_factory(engine)
    try:
        while True:
            yield factory()
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'parity.db'}"
        upgrade(url)
        yield url
        return
    with pg_schema("parity") as url:
        upgrade(url)
        yield url


def test_sql_history_gives_the_replay_features_exactly(feed: tuple[Path, Path], database_url: str) -> None:
    profile = default_market_profile(seed=0)
    expected = replay(feed[0], feed[1], profile).features
    sessions = _sessions(database_url)
    try:
        actual = _sql_replay(sessions, feed[0], feed[1], profile)
    finally:
        sessions.close()
    assert expected.shape == actual.shape
    assert np.array_equal(expected, actual, equal_nan=True)


def test_shuffling_future_outcomes_leaves_earlier_features_alone(
    feed: tuple[Path, Path], tmp_path: Path
) -> None:
    profile = default_market_profile(seed=0)
    shipments, outcomes_path = feed
    outcomes = [Outcome.model_validate_json(line) for line in outcomes_path.read_bytes().splitlines()]
    cut = sorted(o.inspected_at for o in outcomes)[len(outcomes) // 2]
    future = [o for o in outcomes if o.inspected_at > cut]
    assert any(o.found_drugs for o in outcomes if o.inspected_at <= cut)
    shuffled_ids = [(o.item_id, o.posted_on) for o in future]
    random.Random(3).shuffle(shuffled_ids)
    rewritten = [o for o in outcomes if o.inspected_at <= cut] + [
        o.model_copy(update={"item_id": item_id, "posted_on": posted_on, "result": OutcomeResult.SEIZED,
                             "substance_category": DrugCategory.ECSTASY})
        for o, (item_id, posted_on) in zip(future, shuffled_ids, strict=True)
    ]  # fmt: skip
    shuffled_path = tmp_path / "outcomes.jsonl"
    shuffled_path.write_bytes(b"\n".join(o.model_dump_json().encode() for o in rewritten) + b"\n")
    original = replay(shipments, outcomes_path, profile)
    changed = replay(shipments, shuffled_path, profile)
    earlier = original.posted_at <= cut.timestamp()
    assert earlier.sum() > 100
    assert np.array_equal(original.features[earlier], changed.features[earlier], equal_nan=True)
    assert not np.array_equal(original.features[~earlier], changed.features[~earlier], equal_nan=True)
