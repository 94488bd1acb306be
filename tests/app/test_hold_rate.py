"""The realised hold rate meets the target whatever the pace: simulated items sent as fast as `assess_batch`
takes them, on a real SQLite file and on PostgreSQL, for a large partner and for a small one.

Each test builds a fresh service state (partners, history, live windows) and prints its figures.
"""

import math
import uuid
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.credentials import PartnerKind, create_partner
from app.db.base import utcnow
from app.db.engine import make_engine, session_factory
from app.db.migrate import upgrade
from app.db.tables import Assessment, Partner
from app.ids import new_id
from app.main import assessment_policy
from app.scoring import Scorer
from app.services.assessments import AssessmentPolicy, assess_batch
from app.services.live_threshold import ScoreWindow, threshold_for
from app.settings import Settings
from model.artifact import ModelArtifact
from model.entities import Pseudonymiser
from model.shipment import Shipment
from tests.conftest import TEST_SECRET, make_settings, pg_schema

RATE = 0.01  # the default inspection rate, 10% of it drawn at random
LARGE_ITEMS, LARGE_BATCH = 20_000, 1_000


@dataclass
class Sender:
    """One partner's items in the order it sends them, cut into the batch sizes it uses."""

    name: str
    items: list[Shipment]
    sizes: list[int]
    id: int = 0
    sent: int = 0
    held: int = 0
    batches: list[list[Shipment]] = field(default_factory=list)

    def __post_init__(self) -> None:
        start = 0
        for size in self.sizes:
            self.batches.append(self.items[start : start + size])
            start += size
        assert start == len(self.items)


def _feed(simulated_dir: Path) -> list[Shipment]:
    """The last days of the simulated feed, in posting order."""
    lines = (simulated_dir / "shipments.jsonl").read_bytes().splitlines()
    return [Shipment.model_validate(orjson.loads(line)) for line in lines[-LARGE_ITEMS:]]


@dataclass
class Run:
    sessions: sessionmaker[Session]
    scorer: Scorer
    policy: AssessmentPolicy
    settings: Settings

    def add(self, partner: Sender) -> None:
        with self.sessions() as session, session.begin():
            row = create_partner(
                session, name=f"{partner.name}-{uuid.uuid4().hex[:6]}", kind=PartnerKind.POST
            )
            session.flush()
            partner.id = row.id

    def send(self, partner: Sender, batch: list[Shipment]) -> None:
        with self.sessions() as session, session.begin():
            row = session.get(Partner, partner.id)
            assert row is not None
            response = assess_batch(
                session, scorer=self.scorer, partner=row, items=list(enumerate(batch)), policy=self.policy
            ).response
        partner.sent += len(response.decisions)
        partner.held += sum(d.decision == "hold" for d in response.decisions)

    def lanes(self, partner: Sender) -> dict[str | None, int]:
        with self.sessions() as session:
            reasons = session.scalars(
                select(Assessment.selection_reason).where(Assessment.partner_id == partner.id)
            ).all()
        return {reason: reasons.count(reason) for reason in set(reasons)}


@pytest.fixture(params=["sqlite", "postgresql"])
def run(request: pytest.FixtureRequest, tmp_path: Path, model_dir: Path) -> Iterator[Run]:
    """A fresh database of either kind, the shipped scorer and the service's policy at the default rate."""
    sqlite = nullcontext(f"sqlite:///{tmp_path / 'radar.db'}")
    with pg_schema("hold_rate") if request.param == "postgresql" else sqlite as url:
        upgrade(url)
        engine = make_engine(url)
        settings = make_settings(url, model_dir, inspection_rate=RATE, exploration_share=0.1)
        scorer = Scorer(ModelArtifact.load(model_dir), Pseudonymiser(TEST_SECRET.encode()))
        try:
            yield Run(session_factory(engine), scorer, assessment_policy(settings), settings)
        finally:
            engine.dispose()


def _report(partner: Sender, run: Run) -> float:
    rate = partner.held / partner.sent
    print(
        f"\n{partner.name}: {partner.sent} items, held {partner.held} ({rate:.3%}), lanes {run.lanes(partner)}"
    )
    return rate


@pytest.mark.parametrize("run", ["sqlite"], indirect=True)  # 20,000 items take a minute on PostgreSQL
def test_large_partner_sending_1000_item_batches_keeps_the_rate(run: Run, simulated_dir: Path) -> None:
    feed = _feed(simulated_dir)
    large = Sender("large", feed, [LARGE_BATCH] * (LARGE_ITEMS // LARGE_BATCH))
    run.add(large)
    for batch in large.batches:
        run.send(large, batch)
    rate = _report(large, run)
    assert abs(rate / RATE - 1) <= 0.15, f"held {rate:.3%} against {RATE:.1%}"


def test_small_partner_keeps_the_rate_from_its_first_item(run: Run, simulated_dir: Path) -> None:
    """500 items, 400 in batches of 50 and 100 one at a time, on their own and then beside a large partner."""
    feed = _feed(simulated_dir)
    sizes = [50] * 8 + [1] * 100
    alone = Sender("small alone", feed[:500], sizes)
    beside = Sender("small beside a large one", feed[1::40], sizes)
    large = Sender("large", feed[5_000:7_000], [LARGE_BATCH] * 2)
    for partner in (alone, beside, large):
        run.add(partner)
    for batch in alone.batches:
        run.send(alone, batch)
    for position, batch in enumerate(beside.batches):
        if position % 20 == 0 and large.batches:
            run.send(large, large.batches.pop(0))
        run.send(beside, batch)
    band = 2 * math.sqrt(RATE * (1 - RATE) / 500)
    for partner in (alone, beside):
        rate = _report(partner, run)
        assert abs(rate - RATE) <= band, f"held {rate:.3%} against {RATE:.1%} +- {band:.2%}"


def _fail_after_scoring(run: Run, sender: Sender, batch: list[Shipment]) -> None:
    with run.sessions() as session, session.begin():
        row = session.get(Partner, sender.id)
        assert row is not None
        assess_batch(session, scorer=run.scorer, partner=row, items=list(enumerate(batch)), policy=run.policy)
        raise RuntimeError("the batch fails after scoring")


def test_each_process_counts_every_committed_score_once(run: Run, simulated_dir: Path) -> None:
    """Two processes on one database: each window holds every committed score once (its own counted at the
    commit, the other's read by id) and a rolled-back batch counts nowhere."""
    settings = run.settings.model_copy(update={"live_refresh_seconds": 0})
    first, second = (Run(run.sessions, run.scorer, assessment_policy(settings), settings) for _ in range(2))
    sender = Sender("shared", _feed(simulated_dir)[:600], [100] * 6)
    first.add(sender)
    for process, batch in zip([first, second, first, second, first], sender.batches[:5], strict=True):
        process.send(sender, batch)
    with pytest.raises(RuntimeError, match="after scoring"):
        _fail_after_scoring(first, sender, sender.batches[5])
    with run.sessions() as session:
        model_holds = len(
            session.scalars(
                select(Assessment.id).where(
                    Assessment.partner_id == sender.id, Assessment.selection_reason == "model"
                )
            ).all()
        )
        for process in (first, second):
            window = process.policy.live._current(session, (sender.id, run.scorer.model_version))
            assert (len(window.scores), int(window.model_held.sum())) == (500, model_holds)


def test_a_half_rate_partner_far_behind_is_held_at_most_whole() -> None:
    """The correction never asks for more than every item (the largest capacity is half the items)."""
    window = ScoreWindow()
    window.add([(new_id(), utcnow(), float(score), None) for score in range(100)])
    rate = window.corrected_rate(0.5)
    threshold = threshold_for(window.scores, rate, "partner")
    assert rate == 1.0
    assert (threshold.raw, threshold.tie_probability) == (0.0, 1.0)


@pytest.mark.parametrize("run", ["sqlite"], indirect=True)
def test_a_new_model_version_starts_its_own_window(run: Run, simulated_dir: Path) -> None:
    """Scores of one model never set another's threshold: after a promotion the window starts from the batch."""
    sender = Sender("promoted", _feed(simulated_dir)[:3_000], [1_000] * 3)
    run.add(sender)
    for batch in sender.batches[:2]:
        run.send(sender, batch)
    scores, _ = run.scorer.scores(
        run.scorer.features(sender.batches[2], run.scorer.entity_keys(sender.batches[2]), {})
    )
    rate = RATE * 0.9
    live = run.policy.live
    with run.sessions() as session:
        kept = live.threshold(
            session,
            partner_id=sender.id,
            model_version=run.scorer.model_version,
            batch_scores=scores,
            rate=rate,
        )
        promoted = live.threshold(
            session, partner_id=sender.id, model_version="promoted-model", batch_scores=scores, rate=rate
        )
        window = live._current(session, (sender.id, run.scorer.model_version))
    assert promoted == threshold_for(scores, rate, "model version")
    mixed = np.concatenate([window.scores, scores])
    assert kept == threshold_for(mixed, window.corrected_rate(rate), "partner")
    assert kept != promoted
