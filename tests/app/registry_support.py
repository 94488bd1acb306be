"""Helpers for registry tests: the shipped model, a challenger cut from it, databases, waiting for a switch."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import lightgbm as lgb

from app.db.migrate import upgrade
from model.artifact import ModelArtifact, write_artifact
from tests.conftest import fresh_database

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "default"
CHALLENGER_TREES = 40


def challenger_artifact(out: Path, version: str = "challenger-40", trees: int = CHALLENGER_TREES) -> Path:
    """The shipped model cut to its first `trees` trees: a real, different ranking, written in seconds."""
    base = ModelArtifact.load(SHIPPED)
    write_artifact(
        out,
        booster=lgb.Booster(model_str=base.booster.model_to_string(num_iteration=trees)),
        calibration=base.calibration,
        profile=base.profile,
        version=version,
        created_at=base.manifest.created_at,
        training=dict(base.manifest.training),
        metrics=dict(base.manifest.metrics),
        thresholds=list(base.manifest.thresholds),
    )
    return out


def migrated_database(kind: str, directory: Path) -> Iterator[str]:
    """A migrated SQLite file or PostgreSQL schema of its own (the registry must start empty)."""
    with fresh_database(kind, directory, "radar_registry") as url:
        upgrade(url)
        yield url


def wait_for(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not become true in time"
        time.sleep(0.05)
