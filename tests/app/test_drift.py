"""Drift monitoring over real HTTP: a shifted feature raises the warning in /metrics and on the dashboard."""

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from app.db.engine import make_engine, session_factory
from app.db.tables import DriftCount
from model.artifact import MANIFEST_FILE, Manifest, ModelArtifact, sha256_file
from model.drift import DRIFT_REFERENCE_FILE, SCORE, fit_reference
from model.features import FEATURE_NAMES
from tests.app.test_web_pages import sign_in_form
from tests.conftest import Service, start_service
from training.replay import replay

ITEMS = 3000
BATCH = 500
WEIGHT_FACTOR = 4.0  # the shift: every served item weighs four times as much
LIMIT_KG = {"U": 2.0}  # what the contract accepts: letters up to 2 kg, other items up to 31.5 kg
OTHER_LIMIT_KG = 31.5


def _feed(simulated_dir: Path) -> list[dict[str, Any]]:
    with (simulated_dir / "shipments.jsonl").open("rb") as handle:
        return [orjson.loads(next(handle)) for _ in range(ITEMS)]


@pytest.fixture(scope="module")
def cold_start_model(tmp_path_factory: pytest.TempPathFactory, model_dir: Path, simulated_dir: Path) -> Path:
    """The test model with its drift reference refitted by the training code on a replay of the feed's
    first items, from no history.

    The trained reference is of a warm validation period, and a fresh database starts with no history, so
    its history features would rightly drift (as would the hours and channels of part of one day). The tests
    serve these same items to a fresh database: without the shift, nothing but the code path differs.
    """
    directory = tmp_path_factory.mktemp("cold-start-model")
    shutil.copytree(model_dir, directory, dirs_exist_ok=True)
    first = directory / "reference.jsonl"
    first.write_bytes(b"\n".join(orjson.dumps(item) for item in _feed(simulated_dir)))
    artifact = ModelArtifact.load(model_dir)
    data = replay(first, None, artifact.profile)
    reference = fit_reference(data.features, artifact.raw_scores(data.features), period="cold start")
    (directory / DRIFT_REFERENCE_FILE).write_bytes(reference.to_json())
    first.unlink()
    manifest = Manifest.model_validate_json((directory / MANIFEST_FILE).read_bytes())
    files = {**manifest.files, DRIFT_REFERENCE_FILE: sha256_file(directory / DRIFT_REFERENCE_FILE)}
    document = manifest.model_copy(update={"files": files}).model_dump()
    (directory / MANIFEST_FILE).write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    return directory


@pytest.fixture
def drift_service(tmp_path: Path, cold_start_model: Path) -> Iterator[Service]:
    yield from start_service(
        f"sqlite:///{tmp_path / 'radar.db'}",
        cold_start_model,
        web_cookie_secure=False,
        monitoring_refresh_seconds=0,
        drift_min_items=1000,
        drift_flush_seconds=0,  # counts in each batch's transaction: the monitoring reads them at once
    )


def _serve(service: Service, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), BATCH):
        response = service.client.post(
            "/v1/assessments", json={"items": items[start : start + BATCH]}, headers=service.as_partner()
        )
        assert response.status_code == 200, response.text[:300]


def _gauges(service: Service, name: str) -> dict[str, float]:
    text = service.client.get("/metrics").text
    return {
        labels: float(value)
        for labels, value in re.findall(rf'^{name}{{feature="([^"]+)"}} (\S+)$', text, flags=re.MULTILINE)
    }


def _warning(service: Service) -> float:
    match = re.search(
        r"^parcel_radar_drift_warning (\S+)$", service.client.get("/metrics").text, re.MULTILINE
    )
    assert match is not None
    return float(match.group(1))


def _dashboard(service: Service) -> str:
    assert sign_in_form(service, service.analyst_token).status_code == 303
    page = service.client.get("/dashboard")
    assert page.status_code == 200
    return page.text


def _shifted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every item four times as heavy, within what the contract accepts."""
    return [
        {
            **item,
            "gross_weight_kg": min(
                round(item["gross_weight_kg"] * WEIGHT_FACTOR, 3),
                LIMIT_KG.get(item["mail_class"], OTHER_LIMIT_KG),
            ),
        }
        for item in items
    ]


def test_the_training_pipeline_writes_a_reference_of_every_feature_and_the_score(model_dir: Path) -> None:
    artifact = ModelArtifact.load(model_dir)
    reference = artifact.drift_reference
    assert reference is not None
    assert reference.period == "validation"
    assert reference.items > 1000
    assert DRIFT_REFERENCE_FILE in artifact.manifest.files
    weights = reference.column("weight_g")
    assert len(weights.edges) == 9
    assert sum(weights.proportions) == pytest.approx(1.0)
    assert reference.columns[-1].name == SCORE


def test_unshifted_traffic_raises_no_warning(drift_service: Service, simulated_dir: Path) -> None:
    _serve(drift_service, _feed(simulated_dir))
    psi = _gauges(drift_service, "parcel_radar_drift_psi")
    print("largest PSI without a shift:", sorted(psi.items(), key=lambda kv: -kv[1])[:5])
    assert _warning(drift_service) == 0.0
    assert psi["weight_g"] < 0.1
    assert psi[SCORE] < 0.25
    page = _dashboard(drift_service)
    assert 'id="drift-warning"' not in page
    assert re.search(r'id="drift-status">(ok|watch)<', page)


def test_a_shifted_weight_raises_the_warning_in_metrics_and_on_the_dashboard(
    drift_service: Service, simulated_dir: Path
) -> None:
    _serve(drift_service, _shifted(_feed(simulated_dir)))
    psi = _gauges(drift_service, "parcel_radar_drift_psi")
    levels = _gauges(drift_service, "parcel_radar_drift_level")
    print("largest PSI with the weight shifted:", sorted(psi.items(), key=lambda kv: -kv[1])[:5])
    assert _warning(drift_service) == 1.0
    assert psi["weight_g"] >= 0.25
    assert levels["weight_g"] == 2.0
    assert levels["declared_category"] == 0.0  # what was not shifted is not blamed
    page = _dashboard(drift_service)
    warning = re.search(r'<div class="error" role="alert" id="drift-warning">(.*?)</div>', page, re.DOTALL)
    assert warning is not None
    assert "weight g" in warning.group(1)
    with drift_service.session() as session:  # one row per (day, version, feature, bin): batches added up
        counts = session.execute(select(DriftCount.feature, DriftCount.items)).all()
    assert sum(items for feature, items in counts if feature == SCORE) == ITEMS
    assert {feature for feature, _ in counts} == {*FEATURE_NAMES, SCORE}


def test_an_artifact_without_a_reference_still_loads_and_says_so(
    tmp_path: Path, model_dir: Path, simulated_dir: Path
) -> None:
    older = tmp_path / "older-model"
    shutil.copytree(model_dir, older)
    manifest = Manifest.model_validate_json((older / MANIFEST_FILE).read_bytes())
    files = {name: sha for name, sha in manifest.files.items() if name != DRIFT_REFERENCE_FILE}
    (older / DRIFT_REFERENCE_FILE).unlink()
    document = manifest.model_copy(update={"files": files}).model_dump()
    (older / MANIFEST_FILE).write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    assert ModelArtifact.load(older).drift_reference is None
    for service in start_service(f"sqlite:///{tmp_path / 'radar.db'}", older, web_cookie_secure=False):
        _serve(service, _feed(simulated_dir)[:BATCH])
        metrics = service.client.get("/metrics").text
        assert "parcel_radar_drift_reference 0.0" in metrics
        assert "No training reference" in _dashboard(service)
        with service.session() as session:
            assert session.scalars(select(DriftCount)).first() is None


def test_counts_buffered_in_process_are_written_at_shutdown(
    tmp_path: Path, model_dir: Path, simulated_dir: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    for service in start_service(url, model_dir, drift_flush_seconds=3600):  # no flush while serving
        _serve(service, _feed(simulated_dir)[:40])
        with service.session() as session:
            assert session.scalars(select(DriftCount)).first() is None
    engine = make_engine(url)  # the service has shut down: its lifespan flushed the counts
    try:
        with session_factory(engine)() as session:
            counts = session.execute(select(DriftCount.feature, DriftCount.items)).all()
    finally:
        engine.dispose()
    assert sum(items for feature, items in counts if feature == SCORE) == 40
