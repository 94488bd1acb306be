"""Shared fixtures: a real trained model, SQLite files, a PostgreSQL schema per run, and the ASGI app."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.credentials import (
    PartnerKind,
    Role,
    create_officer,
    create_partner,
    issue_api_key,
    issue_officer_token,
)
from app.db.engine import make_engine, session_factory
from app.db.migrate import upgrade
from app.main import create_app
from app.settings import Settings
from training.market.profile import default_market_profile
from training.pipeline import TrainingInputs, train_model
from training.simulate import ScenarioConfig, simulate
from training.train import TrainConfig

TEST_SECRET = "test-pseudonym-secret-with-32-bytes-or-more"
PG_BASE_URL = os.environ.get("PARCEL_RADAR_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def simulated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated partner feed with a raised illicit share, so a model can be trained in seconds."""
    directory = tmp_path_factory.mktemp("simulated")
    config = ScenarioConfig(days=21, items_per_day=4000, illicit_share=5e-3, inspection_rate=0.02, seed=7)
    simulate(config, default_market_profile(seed=0), directory)
    return directory


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, simulated_dir: Path) -> Path:
    """A real artifact trained by the training pipeline on the simulated feed."""
    directory = tmp_path_factory.mktemp("model")
    inputs = TrainingInputs(
        shipments=simulated_dir / "shipments.jsonl",
        outcomes=simulated_dir / "outcomes.jsonl",
        profile=default_market_profile(seed=0),
        truth=simulated_dir / "truth.jsonl",
    )
    train_model(inputs, directory, TrainConfig(seed=1))
    return directory


@contextmanager
def pg_schema(prefix: str) -> Iterator[str]:
    """A fresh schema in the PostgreSQL `test` database, as a URL whose search_path is that schema; dropped after."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_BASE_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_BASE_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_BASE_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def fresh_database(kind: str, directory: Path, prefix: str) -> Iterator[str]:
    """An empty database of `kind` ("sqlite": a file in `directory`; "postgresql": a `pg_schema` named after
    `prefix`), unmigrated; for fixtures parametrised over both kinds."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'radar.db'}"
        return
    with pg_schema(prefix) as url:
        yield url


@pytest.fixture(scope="session")
def pg_base_url() -> Iterator[str]:
    """A schema of the PostgreSQL `test` database for this run, dropped afterwards."""
    with pg_schema("radar_test") as url:
        yield url


def make_settings(database_url: str, model_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "model_dir": model_dir,
        "pseudonym_secret": TEST_SECRET,
        "log_json": False,
        "log_level": "WARNING",
        **overrides,
    }
    return Settings.model_validate(values)


@dataclass
class Service:
    """A running app (lifespan entered) with its database and a partner and officers to call it as."""

    client: TestClient
    settings: Settings
    engine: Engine
    partner_key: str
    courier_key: str
    officer_token: str
    supervisor_token: str
    analyst_token: str

    def session(self) -> Session:
        return session_factory(self.engine)()

    def as_partner(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.partner_key}"}

    def as_officer(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.officer_token}"}


def start_service(database_url: str, model_dir: Path, **overrides: object) -> Iterator[Service]:
    settings = make_settings(database_url, model_dir, **overrides)
    upgrade(database_url)
    engine = make_engine(database_url)
    with session_factory(engine)() as session, session.begin():
        post = create_partner(session, name=f"post-{uuid.uuid4().hex[:6]}", kind=PartnerKind.POST)
        courier = create_partner(session, name=f"courier-{uuid.uuid4().hex[:6]}", kind=PartnerKind.COURIER)
        tokens = {}
        for role in (Role.OFFICER, Role.SUPERVISOR, Role.ANALYST):
            officer = create_officer(
                session, username=f"{role.value}-{uuid.uuid4().hex[:6]}", display_name=role.value, role=role
            )
            tokens[role] = issue_officer_token(session, officer=officer)
        keys = (issue_api_key(session, partner=post), issue_api_key(session, partner=courier))
    try:
        with TestClient(create_app(settings)) as client:
            yield Service(
                client,
                settings,
                engine,
                keys[0],
                keys[1],
                tokens[Role.OFFICER],
                tokens[Role.SUPERVISOR],
                tokens[Role.ANALYST],
            )
    finally:
        engine.dispose()


@pytest.fixture
def service(tmp_path: Path, model_dir: Path) -> Iterator[Service]:
    """The service on a fresh SQLite file."""
    yield from start_service(f"sqlite:///{tmp_path / 'radar.db'}", model_dir)


@pytest.fixture
def pg_service(pg_base_url: str, model_dir: Path) -> Iterator[Service]:
    """The service on the PostgreSQL test schema (shared by the run; tests use fresh partners)."""
    yield from start_service(pg_base_url, model_dir)
