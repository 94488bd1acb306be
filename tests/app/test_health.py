"""Liveness, readiness and the refusal of an altered model artifact."""

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.db.migrate import upgrade
from app.main import create_app
from model.artifact import ArtifactError
from tests.conftest import Service, make_settings


def test_ready_with_model_and_database(service: Service) -> None:
    assert service.client.get("/healthz").json() == {"status": "ok"}
    ready = service.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True


def test_not_ready_without_a_model(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    upgrade(url)
    with TestClient(create_app(make_settings(url, tmp_path / "no-model"))) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["model"] == "missing"
        assert client.get("/healthz").status_code == 200


def test_altered_artifact_is_refused_at_start(tmp_path: Path, model_dir: Path) -> None:
    altered = tmp_path / "model"
    shutil.copytree(model_dir, altered)
    with (altered / "model.txt").open("a") as handle:
        handle.write("\n")
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'radar.db'}", altered))
    with pytest.raises(ArtifactError, match=r"model\.txt does not match"), TestClient(app):
        pass
