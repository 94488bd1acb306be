"""The model registry on SQLite and PostgreSQL: verified registration, audited promotion and rollback, the
service adopting its configured model, shadow scores, and reasons from the model that scored each case."""

import html
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import numpy as np
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text, update

from app.db.base import utcnow
from app.db.engine import make_engine, session_factory
from app.db.tables import (
    Assessment,
    AuditRecord,
    CapacitySetting,
    Officer,
    OutcomeRecord,
    ReviewCase,
    ShadowScore,
)
from app.services import registry
from app.services.shadow import compare
from model.artifact import ArtifactError, ModelArtifact, read_artifact_files
from model.explain import top_reasons
from tests.app.registry_support import SHIPPED, challenger_artifact, migrated_database, wait_for
from tests.app.review_support import held_by_rule, run_cli
from tests.app.test_web_pages import sign_in_form
from tests.conftest import Service, start_service


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from migrated_database(request.param, tmp_path)


def _statuses(url: str) -> dict[str, str]:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        statuses = {row.version: row.status for row in registry.list_versions(session)}
    engine.dispose()
    return statuses


def _audited(url: str) -> list[tuple[str, str, str]]:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        rows = session.execute(
            select(AuditRecord.actor, AuditRecord.action, AuditRecord.subject)
            .where(AuditRecord.action.like("model.%"))
            .order_by(AuditRecord.seq)
        )
        audited = [(actor, action, subject) for actor, action, subject in rows]
    engine.dispose()
    return audited


def test_register_refuses_an_altered_artifact(database_url: str, tmp_path: Path) -> None:
    altered = tmp_path / "altered"
    shutil.copytree(SHIPPED, altered)
    with (altered / "model.txt").open("a") as handle:
        handle.write("\n")
    code, output = run_cli(database_url, "models", "register", str(altered), "--promote")
    assert code == 1
    assert "model.txt does not match its sha256" in output, output
    assert _statuses(database_url) == {}
    assert run_cli(database_url, "models", "register", str(SHIPPED))[0] == 0
    version = ModelArtifact.load(SHIPPED).version
    engine = make_engine(database_url)
    with session_factory(engine)() as session, session.begin():
        session.execute(
            text("UPDATE model_files SET content = :content WHERE name = 'calibration.json'"),
            {"content": b'{"raw": [0, 1], "probability": [0, 1]}'},
        )
    with session_factory(engine)() as session, pytest.raises(ArtifactError, match=r"calibration\.json"):
        registry.load_artifact(session, version)
    engine.dispose()


def test_promote_and_rollback_are_audited(database_url: str, tmp_path: Path) -> None:
    shipped = ModelArtifact.load(SHIPPED).version
    challenger = challenger_artifact(tmp_path / "challenger")
    assert run_cli(database_url, "models", "register", str(SHIPPED), "--promote")[0] == 0
    assert run_cli(database_url, "models", "register", str(challenger), "--shadow")[0] == 0
    assert _statuses(database_url) == {shipped: "champion", "challenger-40": "shadow"}
    assert run_cli(database_url, "models", "promote", "challenger-40")[0] == 0
    assert _statuses(database_url) == {shipped: "retired", "challenger-40": "champion"}
    code, output = run_cli(database_url, "models", "rollback")
    assert code == 0
    assert f"{shipped} is the champion" in output, output
    assert _statuses(database_url) == {shipped: "champion", "challenger-40": "retired"}
    code, listing = run_cli(database_url, "models", "list")
    assert code == 0
    assert "retired" in listing, listing
    assert run_cli(database_url, "models", "promote", shipped)[0] == 1  # the champion already
    assert [(action, subject) for _, action, subject in _audited(database_url)] == [
        ("model.registered", f"model:{shipped}"),
        ("model.promoted", f"model:{shipped}"),
        ("model.registered", "model:challenger-40"),
        ("model.shadow", "model:challenger-40"),
        ("model.promoted", "model:challenger-40"),
        ("model.rolled_back", f"model:{shipped}"),
    ]
    assert run_cli(database_url, "verify-audit")[0] == 0


def test_rollback_needs_an_earlier_champion(database_url: str) -> None:
    assert run_cli(database_url, "models", "rollback")[0] == 1
    assert run_cli(database_url, "models", "register", str(SHIPPED), "--promote")[0] == 0
    code, output = run_cli(database_url, "models", "rollback")
    assert code == 1
    assert "only model that was ever champion" in output, output


@pytest.fixture
def switching(tmp_path: Path) -> Iterator[Service]:
    """The service on an empty registry, asking it for the champion every 0.1 s."""
    yield from start_service(
        f"sqlite:///{tmp_path / 'radar.db'}", SHIPPED, model_poll_seconds=0.1, web_cookie_secure=False
    )


def test_first_start_adopts_the_configured_model_and_officers_are_audited(switching: Service) -> None:
    url = switching.settings.database_url
    shipped = ModelArtifact.load(SHIPPED).version
    assert _statuses(url) == {shipped: "champion"}
    assert [actor for actor, _, _ in _audited(url)] == ["service", "service"]
    with switching.session() as session:
        created = session.scalars(select(AuditRecord.payload).where(AuditRecord.action == "officer.created"))
        roles = sorted(orjson.loads(payload)["details"]["role"] for payload in created)
    assert roles == ["analyst", "officer", "supervisor"]


def _serving(service: Service) -> str:
    return str(service.client.get("/readyz").json()["checks"]["model"])


def _case_features(service: Service, case_id: int) -> np.ndarray:
    with service.session() as session:
        case = session.get(ReviewCase, case_id)
        assert case is not None
        return np.array([[np.nan if v is None else v for v in case.features]], dtype=np.float64)


def _reason_views(artifact: ModelArtifact, features: np.ndarray) -> list[dict[str, object]]:
    return [
        {"feature": r.feature, "sentence": r.sentence, "value": r.value, "contribution": r.contribution}
        for r in top_reasons(artifact, features)[0]
    ]


def test_shadow_scores_then_promotion_keeps_reasons_of_the_scoring_model(
    switching: Service, tmp_path: Path
) -> None:
    shipped = ModelArtifact.load(SHIPPED)
    challenger_dir = challenger_artifact(tmp_path / "challenger")
    challenger = ModelArtifact.load(challenger_dir)
    with switching.session() as session, session.begin():
        registry.register(
            session, read_artifact_files(challenger_dir), actor="test", status=registry.ModelStatus.SHADOW
        )
    holder = cast(FastAPI, switching.client.app).state.models
    wait_for(lambda: holder.shadow is not None)
    cases = held_by_rule(switching, count=5)
    with switching.session() as session:
        shadow_rows = {
            row.assessment_id: row.raw_score
            for row in session.scalars(select(ShadowScore).where(ShadowScore.version == challenger.version))
        }
    assert set(shadow_rows) == {case["assessment_id"] for case in cases}
    for case in cases:
        expected = challenger.raw_scores(_case_features(switching, case["case_id"]))[0]
        assert shadow_rows[case["assessment_id"]] == pytest.approx(float(expected))

    with switching.session() as session, session.begin():
        registry.promote(session, challenger.version, actor="test")
    wait_for(lambda: _serving(switching) == f"ok: {challenger.version}")
    features = _case_features(switching, cases[1]["case_id"])
    assert _reason_views(shipped, features) != _reason_views(challenger, features)  # the test can tell
    detail = switching.client.get(f"/v1/review/cases/{cases[1]['case_id']}", headers=switching.as_officer())
    assert detail.status_code == 200
    assert detail.json()["model_version"] == shipped.version
    assert detail.json()["reasons"] == _reason_views(shipped, features)
    with switching.session() as session:
        kept = session.get(ReviewCase, cases[1]["case_id"])
        assert kept is not None
        assert kept.reasons == detail.json()["reasons"]
    sign_in_form(switching, switching.officer_token)
    page = switching.client.get(f"/cases/{cases[2]['case_id']}")  # the officer page, in a read-only session
    expected = _reason_views(shipped, _case_features(switching, cases[2]["case_id"]))
    assert page.status_code == 200
    assert all(html.escape(reason["sentence"]) in page.text for reason in expected), expected
    fresh = held_by_rule(switching, count=2, first_serial=32_000_000)
    later = switching.client.get(f"/v1/review/cases/{fresh[0]['case_id']}", headers=switching.as_officer())
    assert later.json()["model_version"] == challenger.version
    assert later.json()["reasons"] == _reason_views(
        challenger, _case_features(switching, fresh[0]["case_id"])
    )


def _craft(
    service: Service, assessment_ids: list[str], champion: list[float], challenger: list[float]
) -> None:
    with service.session() as session, session.begin():
        for assessment_id, mine, theirs in zip(assessment_ids, champion, challenger, strict=True):
            session.execute(update(Assessment).where(Assessment.id == assessment_id).values(raw_score=mine))
            session.execute(
                update(ShadowScore).where(ShadowScore.assessment_id == assessment_id).values(raw_score=theirs)
            )
        session.add(CapacitySetting(scope="global", inspection_rate=0.2, exploration_share=0.1))


def _outcome(
    service: Service, case: dict[str, object], result: str, category: str, *, superseded: bool
) -> None:
    with service.session() as session, session.begin():
        officer = session.scalars(select(Officer.id)).first()
        session.add(
            OutcomeRecord(
                case_id=case["case_id"],
                assessment_id=case["assessment_id"],
                result=result,
                substance_category=category,
                inspected_at=utcnow(),
                recorded_by=officer,
                superseded=superseded,
            )
        )


def test_compare_on_a_crafted_case(switching: Service, tmp_path: Path) -> None:
    """Ten items; the challenger swaps the first and third of the champion's ranking; at a 20% rate each
    holds two, and of the two findings the champion holds one, the challenger both."""
    with switching.session() as session, session.begin():
        files = read_artifact_files(challenger_artifact(tmp_path / "challenger"))
        registry.register(session, files, actor="test", status=registry.ModelStatus.SHADOW)
    holder = cast(FastAPI, switching.client.app).state.models
    wait_for(lambda: holder.shadow is not None)
    cases = held_by_rule(switching, count=10)
    champion = [10.0, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    _craft(switching, [c["assessment_id"] for c in cases], champion, [8.0, 9, 10, 7, 6, 5, 4, 3, 2, 1])
    _outcome(switching, cases[0], "nothing_found", "stimulants", superseded=False)
    _outcome(switching, cases[1], "seized", "stimulants", superseded=False)
    _outcome(switching, cases[2], "controlled_delivery", "cannabis", superseded=False)
    _outcome(switching, cases[3], "seized", "opioids", superseded=True)  # corrected since: not a finding
    _outcome(switching, cases[4], "seized", "non_drug", superseded=False)
    with switching.session() as session:
        result = compare(session, version=None, default_rate=0.01)
    assert (result.challenger, result.items, result.rate, result.held) == ("challenger-40", 10, 0.2, 2)
    assert result.agreement == pytest.approx(0.8)
    assert result.rank_correlation == pytest.approx(1 - 6 * (2**2 + 2**2) / (10 * (10**2 - 1)))
    assert (result.champion_only, result.challenger_only) == (1, 1)
    assert (result.champion_recall.found, result.challenger_recall.found, result.findings) == (1, 2, 2)
    assert result.too_few_findings
    code, output = run_cli(switching.settings.database_url, "models", "compare")
    assert code == 0
    assert "same decision on 80.00% of items" in output, output
    assert "2 findings recorded since the shadow started: too few to judge" in output, output
    view = switching.client.get("/v1/models", headers=switching.as_officer(switching.analyst_token))
    assert view.status_code == 200, view.text
    assert (view.json()["champion"], view.json()["shadow"]) == (
        ModelArtifact.load(SHIPPED).version,
        "challenger-40",
    )
    comparison = view.json()["comparison"]
    assert (comparison["agreement"], comparison["held"], comparison["too_few_findings"]) == (0.8, 2, True)
    recall = comparison["challenger_recall"]
    assert (recall["found"], recall["findings"]) == (2, 2)
    assert 0 < recall["low"] < recall["high"] == 1.0
    assert switching.client.get("/v1/models", headers=switching.as_officer()).status_code == 403
