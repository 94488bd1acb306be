"""Running `python -m app serve` processes switch their model under load: clients keep sending batches while
an analyst promotes a new champion and rolls it back; no request fails, and the answers' model_version follows
the registry in every process, without a restart (one server on SQLite; two replicas on one PostgreSQL)."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest
from sqlalchemy.orm import Session

from app.credentials import PartnerKind, create_partner, issue_api_key
from app.db.engine import one_off_session
from app.services import registry
from bench.assess import Server, serving
from model.artifact import ModelArtifact, read_artifact_files
from tests.app.registry_support import SHIPPED, challenger_artifact, migrated_database
from tests.factories import shipment_doc

BATCH_ITEMS = 20
SETTLE_S = 3.0  # longer than a poll (0.3 s) plus loading an artifact in each worker


@dataclass
class Load:
    """Batches sent by each client to its server until stopped, with what came back."""

    key: str
    answers: list[tuple[float, int, str | None]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, server: Server, first_serial: int) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        serial = first_serial
        with httpx2.Client(base_url=server.url, timeout=60) as client:
            while not self.stop.is_set():
                items = [shipment_doc(serial=serial + n) for n in range(BATCH_ITEMS)]
                serial += BATCH_ITEMS
                response = client.post("/v1/assessments", json={"items": items}, headers=headers)
                version = response.json().get("model_version") if response.status_code == 200 else None
                self.answers.append((time.monotonic(), response.status_code, version))

    def versions_since(self, moment: float) -> set[str | None]:
        return {version for at, _, version in list(self.answers) if at > moment}

    def wait_for_answers(self, count: int) -> None:
        deadline = time.monotonic() + 60
        while len(self.answers) < count:
            assert time.monotonic() < deadline, "the server stopped answering"
            time.sleep(0.05)


def _analyst(database_url: str, change: Callable[[Session], object]) -> float:
    """Make a registry change as the analyst's command does, in its own transaction; the moment it began."""
    started = time.monotonic()
    with one_off_session(database_url) as session, session.begin():
        change(session)
    return started


def _partner_key(database_url: str) -> str:
    with one_off_session(database_url) as session, session.begin():
        return issue_api_key(session, partner=create_partner(session, name="switch", kind=PartnerKind.POST))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from migrated_database(request.param, tmp_path)


def test_promotion_and_rollback_under_load_fail_no_request(database_url: str, tmp_path: Path) -> None:
    shipped = ModelArtifact.load(SHIPPED).version
    challenger = challenger_artifact(tmp_path / "challenger")
    overrides = {"PARCEL_RADAR_MODEL_POLL_SECONDS": "0.3", "PARCEL_RADAR_LOG_LEVEL": "WARNING"}
    replicas = 2 if database_url.startswith("postgresql") else 1
    with ExitStack() as stack:
        servers = [
            stack.enter_context(serving(SHIPPED, database_url, tmp_path / f"server-{n}.log", overrides))
            for n in range(replicas)
        ]
        load = Load(_partner_key(database_url))
        clients = [
            threading.Thread(target=load.run, args=(server, (n + 1) * 10_000_000))
            for n, server in enumerate(servers * 2)
        ]
        for client in clients:
            client.start()
        try:
            load.wait_for_answers(6)
            files = read_artifact_files(challenger)
            promoted = _analyst(
                database_url,
                lambda s: registry.register(s, files, actor="test", status=registry.ModelStatus.CHAMPION),
            )
            time.sleep(SETTLE_S)
            settled = time.monotonic()
            load.wait_for_answers(len(load.answers) + 10)
            rolled_back = _analyst(database_url, lambda s: registry.rollback(s, actor="test"))
            time.sleep(SETTLE_S)
            back = time.monotonic()
            load.wait_for_answers(len(load.answers) + 10)
        finally:
            load.stop.set()
            for client in clients:
                client.join(timeout=60)
    statuses = [status for _, status, _ in load.answers]
    assert statuses == [200] * len(statuses), f"failed requests: {[s for s in statuses if s != 200]}"
    assert {version for at, _, version in load.answers if at < promoted} == {shipped}
    assert {version for at, _, version in load.answers if settled < at < rolled_back} == {"challenger-40"}
    assert load.versions_since(back) == {shipped}
