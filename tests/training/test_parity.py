"""The service, driven through its own scoring and outcome code, computes the training replay's features exactly.

The events are a simulated feed: each item is assessed by `assess_batch` on a real SQLite file or PostgreSQL,
every item the service holds gets an outcome through `record_outcome`, some after an inconclusive inspection
and a lab result (`complete_lab`), some corrected later (`correct_outcome`). The service's own export and the
items as submitted then go through the training replay, which must give every item the features the service
computed for it. Items are posted at the moment they are submitted, so the replay sees the service's order.

The service scores a batch before it counts the batch's holds, the replay counts each hold at once, so a
batch never carries two items of one sender (whose earlier holds are a feature).
"""

import random
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from app.credentials import PartnerKind, Role, create_officer, create_partner
from app.db.base import utcnow
from app.db.engine import make_engine, session_factory
from app.db.migrate import upgrade
from app.db.tables import Assessment, ModelFile, ModelVersion, Officer, Partner, ReviewCase
from app.main import assessment_policy
from app.schemas import CorrectionInput, LabResultInput, OutcomeInput
from app.scoring import Scorer
from app.services.assessments import AssessmentPolicy, assess_batch
from app.services.outcomes import complete_lab, correct_outcome, record_outcome
from app.services.review import export_outcomes
from model.artifact import MANIFEST_FILE, PROFILE_FILE, ModelArtifact, sha256_file
from model.entities import EntityKeys, Pseudonymiser
from model.features import FEATURE_NAMES, FeatureMatrix
from model.history import EntityState
from model.shipment import Outcome, OutcomeResult, Shipment
from model.taxonomy import DrugCategory
from tests.conftest import TEST_SECRET, make_settings, pg_schema
from tests.factories import shipment_doc
from training.cli import cli
from training.files import read_jsonl
from training.from_database import read_logged_dataset
from training.market.profile import default_market_profile
from training.parquet import read_profile, read_worlds
from training.replay import replay, seizure_changes
from training.service_db import database_engine
from training.train import TrainConfig

DAYS = timedelta(days=10)  # the part of the simulated feed that is replayed through the service
SAMPLE = 300  # other items sampled from it; every vendor item is added
BATCH = 20  # items per assess_batch call
RESOLVE_AFTER = 20  # items assessed between a hold and its outcome (and between an outcome and its follow-up)


class RecordingScorer(Scorer):
    """The service's scorer; it keeps every feature row it computed, in order."""

    def __init__(self, artifact: ModelArtifact, pseudonymiser: Pseudonymiser) -> None:
        super().__init__(artifact, pseudonymiser)
        self.rows: list[list[float]] = []

    def features(
        self,
        shipments: Sequence[Shipment],
        keys: Sequence[EntityKeys],
        states: MutableMapping[str, EntityState],
        static: FeatureMatrix | None = None,
    ) -> FeatureMatrix:
        matrix = super().features(shipments, keys, states, static)
        self.rows.extend(matrix.tolist())
        return matrix


@dataclass
class Hold:
    case_id: int
    held_at: datetime  # given as the inspection time: history must wait for the time of recording
    due: int  # the item count after which the next record is made
    illicit: bool
    steps: list[str]  # records still to make: "inspection", "inconclusive", "lab", "correction"


def _feed(simulated_dir: Path) -> tuple[list[Shipment], set[str]]:
    """The first DAYS of the feed in posting order: every vendor item and a sample of the others; vendor ids."""
    illicit = {str(t["item_id"]) for t in read_jsonl(simulated_dir / "truth.jsonl") if t.get("illicit")}
    shipments = [
        Shipment.model_validate_json(line)
        for line in (simulated_dir / "shipments.jsonl").read_bytes().splitlines()
    ]
    start = min(s.posting.posted_at for s in shipments)
    early = sorted(
        (s for s in shipments if s.posting.posted_at < start + DAYS), key=lambda s: s.posting.posted_at
    )
    step = max(1, len(early) // SAMPLE)
    return [s for n, s in enumerate(early) if n % step == 0 or s.item_id in illicit], illicit


@pytest.fixture(scope="module")
def feed(simulated_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """About 4000 shipments spread over the whole simulated feed, and the outcomes that belong to them."""
    directory = tmp_path_factory.mktemp("parity")
    everything = (simulated_dir / "shipments.jsonl").read_bytes().splitlines()
    lines = everything[:: max(1, len(everything) // 4000)]
    (directory / "shipments.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    ids = {orjson.loads(line)["item_id"] for line in lines}
    outcomes = [
        o
        for o in (simulated_dir / "outcomes.jsonl").read_bytes().splitlines()
        if orjson.loads(o)["item_id"] in ids
    ]
    (directory / "outcomes.jsonl").write_bytes(b"\n".join(outcomes) + b"\n")
    return directory / "shipments.jsonl", directory / "outcomes.jsonl"


def _steps(held: int, illicit: bool) -> list[str]:
    first = ["inconclusive", "lab"] if held % 4 == 0 else ["inspection"]
    return first + (["correction"] if held % 3 == 0 else [])


class Customs:
    """An officer working through the held cases with the service's outcome functions."""

    def __init__(self, sessions: sessionmaker[Session], officer_id: int) -> None:
        self.sessions, self.officer_id, self.open = sessions, officer_id, list[Hold]()

    def record(self, hold: Hold, count: int) -> None:
        step = hold.steps.pop(0)
        found = hold.illicit if step != "correction" else not hold.illicit
        fields: dict[str, object] = (
            {"result": "seized", "substance_category": DrugCategory.CANNABIS.value}
            if found
            else {"result": OutcomeResult.NOTHING_FOUND.value}
        )
        fields["inspected_at"] = hold.held_at
        with self.sessions() as session, session.begin():
            officer = session.get(Officer, self.officer_id)
            assert officer is not None
            if step == "inspection":
                record_outcome(session, case_id=hold.case_id, officer=officer, outcome=OutcomeInput(**fields))
            elif step == "inconclusive":
                inconclusive = OutcomeInput(result=OutcomeResult.INCONCLUSIVE, inspected_at=hold.held_at)
                record_outcome(session, case_id=hold.case_id, officer=officer, outcome=inconclusive)
            elif step == "lab":
                complete_lab(session, case_id=hold.case_id, officer=officer, lab=LabResultInput(**fields))
            else:
                correction = CorrectionInput(**fields, reason="Second look at the finding")
                correct_outcome(session, case_id=hold.case_id, officer=officer, correction=correction)
        hold.due = count + RESOLVE_AFTER

    def work(self, count: int, *, everything: bool = False) -> None:
        for hold in [h for h in self.open if everything or h.due <= count]:
            while hold.steps and (everything or hold.due <= count):
                self.record(hold, count)
        self.open = [h for h in self.open if h.steps]


def _setup(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as session, session.begin():
        partner = create_partner(session, name="parity-post", kind=PartnerKind.POST)
        officer = create_officer(session, username="parity", display_name="Parity", role=Role.OFFICER)
        session.flush()
        return partner.id, officer.id


def _batches(scorer: Scorer, feed: list[Shipment]) -> Iterator[list[Shipment]]:
    """Consecutive items, at most BATCH at a time, never two of one sender in a batch (see the module doc)."""
    batch: list[Shipment] = []
    senders: set[str] = set()
    for shipment, keys in zip(feed, scorer.entity_keys(feed), strict=True):
        if len(batch) == BATCH or (keys.sender is not None and keys.sender in senders):
            yield batch
            batch, senders = [], set()
        batch.append(shipment)
        senders.add(keys.sender or "")
    if batch:
        yield batch


def _assess(
    session: Session,
    scorer: Scorer,
    policy: AssessmentPolicy,
    partner_id: int,
    batch: list[Shipment],
    submitted_items: list[Shipment],
) -> list[tuple[Shipment, int]]:
    """Assess `batch`, each item posted as it is submitted; (item as submitted, case id) of those held."""
    submitted = [
        s.model_copy(update={"posting": s.posting.model_copy(update={"posted_at": utcnow()})}) for s in batch
    ]
    partner = session.get(Partner, partner_id)
    assert partner is not None
    response = assess_batch(
        session, scorer=scorer, partner=partner, items=list(enumerate(submitted)), policy=policy
    ).response
    held = []
    for decision in response.decisions:
        if decision.decision == "hold":
            case_id = session.scalar(
                select(ReviewCase.id).where(ReviewCase.assessment_id == decision.assessment_id)
            )
            assert case_id is not None
            held.append((submitted[decision.index], case_id))
    submitted_items.extend(submitted)
    return held


def _drive(
    sessions: sessionmaker[Session],
    scorer: Scorer,
    policy: AssessmentPolicy,
    feed: list[Shipment],
    illicit: set[str],
) -> list[Shipment]:
    """Every item through `assess_batch`, posted as it is submitted; the items as submitted."""
    partner_id, officer_id = _setup(sessions)
    customs, submitted, held = Customs(sessions, officer_id), list[Shipment](), 0
    for batch in _batches(scorer, feed):
        with sessions() as session, session.begin():
            holds = _assess(session, scorer, policy, partner_id, batch, submitted)
        for shipment, case_id in holds:
            bad = shipment.item_id in illicit
            customs.open.append(
                Hold(
                    case_id,
                    shipment.posting.posted_at,
                    len(submitted) + RESOLVE_AFTER,
                    bad,
                    _steps(held, bad),
                )
            )
            held += 1
        customs.work(len(submitted))
    customs.work(len(submitted), everything=True)
    return submitted


@contextmanager
def _sessions(url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@contextmanager
def _database(backend: str, directory: Path) -> Iterator[str]:
    """A migrated database on `backend`: a SQLite file in `directory`, or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'parity.db'}"
        upgrade(url)
        yield url
        return
    with pg_schema("parity") as url:
        upgrade(url)
        yield url


@dataclass(frozen=True)
class Driven:
    """A database the service filled from the feed, and what it computed on the way."""

    url: str
    events: list[Shipment]
    submitted: list[Shipment]
    exported: list[bytes]
    scored_rows: list[list[float]]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def driven(
    request: pytest.FixtureRequest,
    simulated_dir: Path,
    model_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Driven]:
    """The feed through the service's own assess_batch and outcome functions, on SQLite and PostgreSQL."""
    with _database(request.param, tmp_path_factory.mktemp("driven")) as url:
        artifact = ModelArtifact.load(model_dir)
        scorer = RecordingScorer(artifact, Pseudonymiser(TEST_SECRET.encode()))
        policy = assessment_policy(make_settings(url, model_dir, inspection_rate=0.25))
        events, illicit = _feed(simulated_dir)
        with _sessions(url) as sessions:
            submitted = _drive(sessions, scorer, policy, events, illicit)
            with sessions() as session:
                exported = list(export_outcomes(session))
        yield Driven(url, events, submitted, exported, scorer.rows)


def _logged_features(url: str) -> dict[str, npt.NDArray[np.float64]]:
    """The feature log as stored: each assessment's vector read back from its bytes."""
    with _sessions(url) as sessions, sessions() as session:
        rows = session.execute(select(Assessment.item_id, Assessment.features)).all()
    logged = {item_id: features for item_id, features in rows if features is not None}
    assert len(logged) == len(rows)
    return {item_id: np.frombuffer(features, dtype="<f8") for item_id, features in logged.items()}


def _mismatched(expected: npt.NDArray[np.float64], actual: npt.NDArray[np.float64]) -> list[str]:
    return [
        name
        for i, name in enumerate(FEATURE_NAMES)
        if not np.array_equal(expected[:, i], actual[:, i], equal_nan=True)
    ]


def test_the_service_computes_and_logs_the_replay_features_for_the_same_events(
    driven: Driven, model_dir: Path, tmp_path: Path
) -> None:
    submitted, exported = driven.submitted, driven.exported
    (tmp_path / "shipments.jsonl").write_bytes(b"\n".join(s.model_dump_json().encode() for s in submitted))
    (tmp_path / "outcomes.jsonl").write_bytes(b"".join(exported))
    records = [Outcome.model_validate_json(line) for line in exported]
    assert sum(r.superseded for r in records) > 5
    assert sum(r.found_drugs for r in records) > 5
    assert all(r.known_at > r.inspected_at for r in records if r.superseded)
    profile = ModelArtifact.load(model_dir).profile
    expected = replay(tmp_path / "shipments.jsonl", tmp_path / "outcomes.jsonl", profile)
    actual = np.asarray(driven.scored_rows, dtype=np.float64)
    assert expected.features.shape == actual.shape == (len(driven.events), len(FEATURE_NAMES))
    linked = [FEATURE_NAMES.index(name) for name in ("sender_seizures", "addressee_seized_senders")]
    assert (np.nan_to_num(actual[:, linked]) > 0).any(axis=0).all()  # seizures reached later items
    assert _mismatched(expected.features, actual) == []
    logged = _logged_features(driven.url)
    assert len(logged) == len(set(expected.item_ids)) == len(expected)
    stored = np.stack([logged[item_id] for item_id in expected.item_ids])
    assert _mismatched(expected.features, stored) == []
    assert np.isnan(stored).any()  # missing values stay NaN in the log


def test_shuffling_future_outcomes_leaves_earlier_features_alone(
    feed: tuple[Path, Path], tmp_path: Path
) -> None:
    profile = default_market_profile(seed=0)
    shipments, outcomes_path = feed
    outcomes = [Outcome.model_validate_json(line) for line in outcomes_path.read_bytes().splitlines()]
    cut = sorted(o.known_at for o in outcomes)[len(outcomes) // 2]
    future = [o for o in outcomes if o.known_at > cut]
    assert any(o.found_drugs for o in outcomes if o.known_at <= cut)
    shuffled_ids = [(o.item_id, o.posted_on) for o in future]
    random.Random(3).shuffle(shuffled_ids)
    rewritten = [o for o in outcomes if o.known_at <= cut] + [
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


def test_a_case_links_and_unlinks_its_seizure_when_each_record_became_known() -> None:
    base = {"item_id": "RR123456785NL", "inspected_at": "2026-03-03T09:00:00+00:00"}
    seized = {**base, "result": "seized", "substance_category": "cannabis"}
    records = [
        Outcome.model_validate(
            {**base, "result": "inconclusive", "recorded_at": "2026-03-03T10:00:00+00:00"}
        ),
        Outcome.model_validate({**seized, "recorded_at": "2026-03-09T10:00:00+00:00"}),  # the lab result
        Outcome.model_validate({**seized, "recorded_at": "2026-03-10T10:00:00+00:00"}),  # same finding again
        Outcome.model_validate(
            {**base, "result": "nothing_found", "recorded_at": "2026-03-12T10:00:00+00:00"}
        ),
    ]
    keys = EntityKeys(None, None, None, None, None, "cor:NL-GB")
    changes = seizure_changes(records, 7, keys)
    assert [(datetime.fromtimestamp(at, UTC).day, linked) for at, _, _, linked in changes] == [
        (9, True),
        (12, False),
    ]


def _register_champion(url: str, artifact_dir: Path) -> str:
    """Put an artifact in the registry as champion, the way the service keeps it (files in the database)."""
    manifest = ModelArtifact.load(artifact_dir).manifest
    with _sessions(url) as sessions, sessions() as session, session.begin():
        if session.get(ModelVersion, manifest.version) is None:
            session.add(
                ModelVersion(
                    version=manifest.version,
                    status="champion",
                    manifest_sha256=sha256_file(artifact_dir / MANIFEST_FILE),
                    metrics=manifest.metrics,
                    registered_by="test",
                    promoted_at=utcnow(),
                )
            )
            session.flush()
            for name in [*manifest.files, MANIFEST_FILE]:
                session.add(
                    ModelFile(version=manifest.version, name=name, content=(artifact_dir / name).read_bytes())
                )
    return manifest.version


def _train(*arguments: str) -> Result:
    return CliRunner().invoke(cli, ["train", *arguments], catch_exceptions=False)


def test_a_model_trains_from_the_service_database_and_is_compared_with_the_registry_champion(
    driven: Driven, model_dir: Path, tmp_path: Path
) -> None:
    champion = _register_champion(driven.url, model_dir)
    result = _train("--from-database", driven.url, "--out", str(tmp_path / "new"), "--seed", "2")
    assert result.exit_code == 0, result.output
    artifact = ModelArtifact.load(tmp_path / "new")
    training, metrics = artifact.manifest.training, artifact.manifest.metrics
    assert training["logged_items_used"] == training["logged_items_read"] == len(driven.events)
    assert training["confirmed_findings"] == sum(
        Outcome.model_validate_json(line).found_drugs
        for line in driven.exported
        if not Outcome.model_validate_json(line).superseded
    )
    assert metrics["champion_version"] == champion
    assert isinstance(metrics["champion_recall_at_1pct"], float)
    report = (tmp_path / "new" / "report.html").read_text()
    assert f"Against the champion {champion}" in report
    assert "confirmed findings" in report
    assert "among confirmed findings" in result.output
    engine = database_engine(driven.url)
    dataset, _ = read_logged_dataset(engine)
    engine.dispose()
    assert dataset.inspected.sum() == len(
        {Outcome.model_validate_json(line).assessment_id for line in driven.exported}
    )


def _few_items(model_dir: Path, directory: Path) -> str:
    """A database where the service assessed a few ordinary letters and no outcome is known."""
    url = f"sqlite:///{directory / 'few.db'}"
    upgrade(url)
    letters = [Shipment.model_validate(shipment_doc(serial)) for serial in range(1000, 1060)]
    scorer = Scorer(ModelArtifact.load(model_dir), Pseudonymiser(TEST_SECRET.encode()))
    policy = assessment_policy(make_settings(url, model_dir))
    with _sessions(url) as sessions:
        partner_id, _ = _setup(sessions)
        with sessions() as session, session.begin():
            _assess(session, scorer, policy, partner_id, letters, [])
    return url


def test_training_from_a_database_says_why_it_cannot(model_dir: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(empty)
    few = _few_items(model_dir, tmp_path)
    refusals = {
        "no usable logged items in the period (0 read": ("--from-database", empty),
        "(0 read, 0 from before the feature log": ("--from-database", few, "--since", "2999-01-01"),
        "truth labels are not available": ("--from-database", few, "--labels", "truth"),
        "no SQLite database file": ("--from-database", f"sqlite:///{tmp_path / 'none.db'}"),
        "there is no champion to take it from (the registry has no champion)": ("--from-database", few),
        "the training period has 0 positive labels": ("--from-database", few, "--champion", str(model_dir)),
    }
    for expected, arguments in refusals.items():
        result = _train(*arguments, "--out", out)
        assert result.exit_code == 1, result.output
        assert "cannot train from the database" in result.output
        assert "Traceback" not in result.output
        assert expected in " ".join(result.output.split()), result.output
    _register_with_other_features(few, model_dir)
    result = _train("--from-database", few, "--champion", str(model_dir), "--out", out)
    assert result.exit_code == 1
    assert "0 from before the feature log, 60 logged with another feature list" in " ".join(
        result.output.split()
    )


def _register_with_other_features(url: str, artifact_dir: Path) -> None:
    """Register the model that scored `url`'s items with a manifest listing one feature under another name."""
    manifest = orjson.loads((artifact_dir / MANIFEST_FILE).read_bytes())
    manifest["features"][0]["name"] = "renamed_feature"
    with _sessions(url) as sessions, sessions() as session, session.begin():
        session.add(ModelVersion(version=manifest["version"], status="retired", manifest_sha256="0" * 64,
                                 metrics={}, registered_by="test"))  # fmt: skip
        session.flush()
        session.add(
            ModelFile(version=manifest["version"], name=MANIFEST_FILE, content=orjson.dumps(manifest))
        )


def test_the_feature_log_exports_to_parquet_as_logged(
    driven: Driven, model_dir: Path, tmp_path: Path
) -> None:
    """`export-parquet --from-database`: what a Dask cluster trains on is the feature log, row for row."""
    out = tmp_path / "parquet"
    command = ["export-parquet", "--from-database", driven.url, "--out", str(out)]
    result = CliRunner().invoke(cli, [*command, "--profile", str(model_dir / PROFILE_FILE)])
    assert result.exit_code == 0, result.output
    world, _ = read_worlds(out, TrainConfig(labels="observed"))
    logged = _logged_features(driven.url)
    assert sorted(world.data.item_ids) == sorted(logged)
    stored = np.stack([logged[item_id] for item_id in world.data.item_ids])
    assert _mismatched(stored, world.data.features) == []
    engine = database_engine(driven.url)
    dataset, _ = read_logged_dataset(engine)
    engine.dispose()
    np.testing.assert_array_equal(world.data.found, dataset.found)
    assert world.truth_labels is None
    assert read_profile(out).to_json() == ModelArtifact.load(model_dir).profile.to_json()
