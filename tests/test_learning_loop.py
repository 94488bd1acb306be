"""The learning loop end to end on real parts, in one simulated world of seven weeks.

Weeks 1-4 train the first model (simulator outcomes and ground truth, as the shipped model is trained). A real
`python -m app serve` process then scores weeks 5-6 with its exploration lane, and an officer records, through
the API, what each held item really held (the simulator's truth). Vendors adapt in the simulated world as they
go (after the seizures of the simulator's own inspections; the service's holds do not feed back into it). A
model retrained from the service's database is registered and scores week 7 in shadow beside the champion, so
both rank the same items on the same features; it is promoted while a client keeps sending (no request
fails), and its recall on week 7 must be at least the old model's.
"""

import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import orjson
from sqlalchemy import select

from app.credentials import (
    PartnerKind,
    Role,
    create_officer,
    create_partner,
    issue_api_key,
    issue_officer_token,
)
from app.db.engine import one_off_session
from app.db.migrate import upgrade
from app.db.tables import Assessment, ShadowScore
from bench.assess import Server, serving
from model.artifact import ModelArtifact
from tests.app.registry_support import wait_for
from training.files import read_jsonl
from training.market.profile import default_market_profile
from training.metrics import at_rate
from training.pipeline import TrainingInputs, train_model
from training.retrain import train_from_database
from training.simulate import ScenarioConfig, simulate
from training.train import TrainConfig

WORLD = ScenarioConfig(days=49, items_per_day=600, illicit_share=0.01, inspection_rate=0.02, seed=11)
WEEK = timedelta(days=7)
BATCH = 500
INSPECTION_RATE = 0.03  # the service's capacity; a fifth of it is drawn at random (exploration)
SERVICE = {
    "PARCEL_RADAR_INSPECTION_RATE": str(INSPECTION_RATE),
    "PARCEL_RADAR_EXPLORATION_SHARE": "0.2",
    "PARCEL_RADAR_MODEL_POLL_SECONDS": "0.3",
    "PARCEL_RADAR_LOG_LEVEL": "WARNING",
}
SETTLE_S = 3.0  # longer than a poll plus loading an artifact
MAX_ROUNDS, PATIENCE = 150, 30  # both models' fitting budget: seconds, not minutes, on 2 shared cores


@dataclass(frozen=True)
class World:
    """The simulated feed cut into weeks, with the simulator's truth."""

    directory: Path
    weeks: dict[int, list[dict[str, Any]]]  # week number (1-7) -> shipments in posting order
    illicit: dict[str, bool]


def _week(document: dict[str, Any]) -> int:
    posted = datetime.fromisoformat(document["posting"]["posted_at"]).astimezone(UTC)
    return 1 + (posted - datetime.combine(WORLD.start, datetime.min.time(), UTC)) // WEEK


def _simulate(directory: Path) -> World:
    simulate(WORLD, default_market_profile(seed=0), directory)
    documents = [orjson.loads(line) for line in (directory / "shipments.jsonl").read_bytes().splitlines()]
    documents.sort(key=lambda d: datetime.fromisoformat(d["posting"]["posted_at"]))
    weeks: dict[int, list[dict[str, Any]]] = {}
    for document in documents:
        weeks.setdefault(min(_week(document), 7), []).append(document)
    truth = {str(t["item_id"]): bool(t["illicit"]) for t in read_jsonl(directory / "truth.jsonl")}
    return World(directory, weeks, truth)


def _first_model(world: World, out: Path) -> Path:
    """Trained on weeks 1-4 only: their shipments, the outcomes known by then, and their ground truth."""
    end = datetime.combine(WORLD.start, datetime.min.time(), UTC) + 4 * WEEK
    ids = {d["item_id"] for week in (1, 2, 3, 4) for d in world.weeks[week]}
    files = world.directory / "weeks-1-4"
    files.mkdir()
    (files / "shipments.jsonl").write_bytes(
        b"\n".join(orjson.dumps(d) for week in (1, 2, 3, 4) for d in world.weeks[week]) + b"\n"
    )
    outcomes = [
        line
        for line in (world.directory / "outcomes.jsonl").read_bytes().splitlines()
        if (o := orjson.loads(line))["item_id"] in ids
        and datetime.fromisoformat(o.get("recorded_at") or o["inspected_at"]) < end
    ]
    (files / "outcomes.jsonl").write_bytes(b"\n".join(outcomes) + b"\n")
    truth = [
        line
        for line in (world.directory / "truth.jsonl").read_bytes().splitlines()
        if orjson.loads(line)["item_id"] in ids
    ]
    (files / "truth.jsonl").write_bytes(b"\n".join(truth) + b"\n")
    inputs = TrainingInputs(
        files / "shipments.jsonl",
        files / "outcomes.jsonl",
        default_market_profile(seed=0),
        files / "truth.jsonl",
    )
    train_model(
        inputs,
        out,
        TrainConfig(labels="truth", seed=1, max_rounds=MAX_ROUNDS, early_stopping_rounds=PATIENCE),
        workers=1,
    )
    return out


def _credentials(url: str) -> tuple[int, str, str, str]:
    """The measured partner's id and key, a second partner's key (load), and an officer's token."""
    with one_off_session(url) as session, session.begin():
        post, second = (
            create_partner(session, name=name, kind=PartnerKind.POST) for name in ("post", "second")
        )
        keys = issue_api_key(session, partner=post), issue_api_key(session, partner=second)
        officer = create_officer(session, username="inspector", display_name="Inspector", role=Role.OFFICER)
        return post.id, keys[0], keys[1], issue_officer_token(session, officer=officer)


def _models(server: Server, *arguments: str) -> str:
    """`python -m app models ...`, the analyst's command, against the server's database."""
    done = subprocess.run(
        [sys.executable, "-m", "app", "models", *arguments],
        check=False,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@dataclass
class Partner:
    """A partner's client and the officer working its held items with the truth in hand."""

    client: httpx2.Client
    key: str
    officer: str
    illicit: dict[str, bool]
    outcomes: int = 0

    def send(self, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        decisions: list[dict[str, Any]] = []
        for start in range(0, len(documents), BATCH):
            response = self.client.post(
                "/v1/assessments",
                json={"items": documents[start : start + BATCH]},
                headers={"Authorization": f"Bearer {self.key}"},
            )
            assert response.status_code == 200, response.text
            decisions += response.json()["decisions"]
            self.inspect()
        return decisions

    def inspect(self) -> None:
        """Record the outcome of every open case: a seizure for an illicit item, nothing found otherwise."""
        headers = {"Authorization": f"Bearer {self.officer}"}
        while cases := self.client.get("/v1/review/cases?limit=200", headers=headers).json()["cases"]:
            for case in cases:
                found = self.illicit.get(case["item_id"], False)
                body = (
                    {"result": "seized", "substance_category": "cannabis"}
                    if found
                    else {"result": "nothing_found"}
                )
                response = self.client.post(
                    f"/v1/review/cases/{case['case_id']}/outcome", json=body, headers=headers
                )
                assert response.status_code == 201, response.text
                self.outcomes += 1


@dataclass
class Load:
    """A second partner sending batches until stopped; every status and model version that came back."""

    server: Server
    key: str
    documents: list[dict[str, Any]]
    answers: list[tuple[float, int, str | None]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx2.Client(base_url=self.server.url, timeout=60) as client:
            for start in range(0, len(self.documents), 50):
                if self.stop.is_set():
                    return
                response = client.post("/v1/assessments", json={"items": self.documents[start : start + 50]},
                                       headers=headers)  # fmt: skip
                version = response.json().get("model_version") if response.status_code == 200 else None
                self.answers.append((time.monotonic(), response.status_code, version))


def _retrain(url: str, out: Path) -> str:
    """`train --from-database` (observed labels), with the first model's fitting budget."""
    result = train_from_database(
        url,
        out,
        TrainConfig(labels="observed", seed=2, max_rounds=MAX_ROUNDS, early_stopping_rounds=PATIENCE),
        say=print,
    )
    comparison = result.manifest.metrics
    print(f"retrained on {result.dataset_items:,} logged items in {sum(result.seconds.values()):.0f} s; "
          f"recall at 1% among confirmed findings {comparison['recall_at_1pct']:.3f}, champion "
          f"{comparison['champion_version']} {comparison['champion_recall_at_1pct']:.3f}")  # fmt: skip
    return result.manifest.version


def _recalls(
    url: str, partner_id: int, shadow: str, illicit: dict[str, bool]
) -> tuple[dict[str, list[float]], int]:
    """Recall at 1%, the service's rate and 5% of the champion (as it scored) and the shadow on the partner's
    items both scored; and how many items that is."""
    with one_off_session(url) as session:
        rows = session.execute(
            select(Assessment.item_id, Assessment.raw_score, ShadowScore.raw_score)
            .join(ShadowScore, ShadowScore.assessment_id == Assessment.id)
            .where(ShadowScore.version == shadow, Assessment.partner_id == partner_id)
        ).all()
    labels = np.array([illicit.get(item_id, False) for item_id, _, _ in rows])
    figures = {}
    for name, column in (("champion", 1), ("retrained", 2)):
        scores = np.array([row[column] for row in rows], dtype=np.float64)
        figures[name] = [at_rate(scores, labels, rate, np.random.default_rng(0)).recall
                         for rate in (0.01, INSPECTION_RATE, 0.05)]  # fmt: skip
    return figures, len({item_id for item_id, _, _ in rows})


def test_the_service_learns_from_its_own_data_and_promotes_a_better_model(tmp_path: Path) -> None:
    started = time.perf_counter()
    world = _simulate(tmp_path / "world")
    print(f"simulated in {time.perf_counter() - started:.0f} s")
    first = _first_model(world, tmp_path / "first")
    print(f"first model at {time.perf_counter() - started:.0f} s")
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    upgrade(url)
    partner_id, key, second_key, officer = _credentials(url)
    with (
        serving(first, url, tmp_path / "server.log", SERVICE) as server,
        httpx2.Client(base_url=server.url, timeout=120) as client,
    ):
        champion = ModelArtifact.load(first).version
        assert champion in _models(server, "list")  # the service registers the model it starts with
        post = Partner(client, key, officer, world.illicit)
        served = post.send(world.weeks[5] + world.weeks[6])
        held = sum(d["decision"] == "hold" for d in served)
        print(f"weeks 5-6 served at {time.perf_counter() - started:.0f} s")
        retrained = _retrain(url, tmp_path / "retrained")
        _models(server, "register", str(tmp_path / "retrained"), "--shadow")
        time.sleep(SETTLE_S)
        print(f"retrained and registered at {time.perf_counter() - started:.0f} s")
        post.send(world.weeks[7])
        comparison = _models(server, "compare")
        load = Load(server, second_key, world.weeks[7] + world.weeks[6] + world.weeks[5])
        sender = threading.Thread(target=load.run)
        sender.start()
        try:
            wait_for(lambda: len(load.answers) >= 3, seconds=60)
            promoted = time.monotonic()
            _models(server, "promote", retrained)
            time.sleep(SETTLE_S)
            settled = time.monotonic()
            wait_for(lambda: sum(at > settled for at, _, _ in load.answers) >= 3, seconds=60)
        finally:
            load.stop.set()
            sender.join(timeout=120)
    statuses = [status for _, status, _ in load.answers]
    assert statuses == [200] * len(statuses), f"failed requests during the promotion: {statuses}"
    assert {v for at, _, v in load.answers if at < promoted} == {champion}
    assert {v for at, _, v in load.answers if at > settled} == {retrained}
    recalls, items = _recalls(url, partner_id, retrained, world.illicit)
    assert items == len(world.weeks[7]), "both models scored every item of week 7"
    positives = sum(world.illicit.get(d["item_id"], False) for d in world.weeks[7])
    print(comparison)
    print(
        f"weeks 5-6: {len(served):,} items served, {held:,} held, {post.outcomes:,} outcomes recorded; week 7: "
        f"{len(world.weeks[7]):,} items, {positives} drug items; recall at 1% / {INSPECTION_RATE:.0%} / 5%: "
        f"champion {' / '.join(f'{r:.3f}' for r in recalls['champion'])}, retrained "
        f"{' / '.join(f'{r:.3f}' for r in recalls['retrained'])} ({time.perf_counter() - started:.0f} s)"
    )
    assert recalls["retrained"][1] >= recalls["champion"][1]  # at the service's inspection rate
