"""The review workflow over HTTP: queue, case detail with reasons, outcomes, export, and who may do what."""

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from app.db.tables import Assessment, PartyHistory
from model.shipment import Outcome
from tests.app.test_assessments import feed_items, post
from tests.conftest import Service


def held_cases(service: Service, simulated_dir: Path) -> list[dict[str, Any]]:
    response = post(service, {"items": feed_items(simulated_dir, 1000)})
    assert response.status_code == 200
    queue = service.client.get("/v1/review/cases", params={"limit": 200}, headers=service.as_officer())
    assert queue.status_code == 200
    cases: list[dict[str, Any]] = queue.json()["cases"]
    assert cases, "the model held nothing in 1,000 simulated items"
    return cases


def test_queue_is_ordered_by_risk_and_paginated(service: Service, simulated_dir: Path) -> None:
    cases = held_cases(service, simulated_dir)
    scores = [c["score"] for c in cases]
    assert scores == sorted(scores, reverse=True)
    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = service.client.get("/v1/review/cases", params=params, headers=service.as_officer()).json()
        pages += page["cases"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [c["case_id"] for c in pages] == [c["case_id"] for c in cases]
    newest = service.client.get(
        "/v1/review/cases", params={"order": "newest", "limit": 200}, headers=service.as_officer()
    )
    assert [c["case_id"] for c in newest.json()["cases"]] == sorted(
        (c["case_id"] for c in cases), reverse=True
    )


def test_case_detail_explains_the_hold_in_plain_words(service: Service, simulated_dir: Path) -> None:
    case = held_cases(service, simulated_dir)[0]
    detail = service.client.get(f"/v1/review/cases/{case['case_id']}", headers=service.as_officer())
    assert detail.status_code == 200
    body = detail.json()
    assert body["decision"] == "hold"
    assert body["reasons"]
    assert all(r["contribution"] > 0 and r["sentence"] for r in body["reasons"])
    assert "name" not in body["shipment"]["sender"]  # parties are not in the metadata


def test_recording_a_seizure_closes_the_case_and_links_history(service: Service, simulated_dir: Path) -> None:
    case = held_cases(service, simulated_dir)[0]
    outcome = {
        "result": "seized",
        "substance_category": "ecstasy",
        "quantity": {"value": 50, "unit": "units"},
    }
    url = f"/v1/review/cases/{case['case_id']}/outcome"
    recorded = service.client.post(url, json=outcome, headers=service.as_officer())
    assert recorded.status_code == 201, recorded.text
    assert service.client.post(url, json=outcome, headers=service.as_officer()).status_code == 409
    closed = service.client.get("/v1/review/cases", params={"status": "closed"}, headers=service.as_officer())
    assert [c["case_id"] for c in closed.json()["cases"]] == [case["case_id"]]
    with service.session() as session:
        assessment = session.get(Assessment, case["assessment_id"])
        assert assessment is not None
        rows = session.scalars(
            select(PartyHistory).where(PartyHistory.entity_key.in_(assessment.entity_keys()))
        )
        assert {row.seizures for row in rows} == {1}
    export = service.client.get("/v1/review/outcomes.jsonl", headers=service.as_officer())
    assert export.status_code == 200
    lines = [Outcome.model_validate(orjson.loads(line)) for line in export.text.splitlines()]
    assert [(o.item_id, o.result.value, o.selection_reason) for o in lines] == [
        (case["item_id"], "seized", "model")
    ]


def test_outcome_validation(service: Service, simulated_dir: Path) -> None:
    case = held_cases(service, simulated_dir)[0]
    url = f"/v1/review/cases/{case['case_id']}/outcome"
    missing = service.client.post(url, json={"result": "seized"}, headers=service.as_officer())
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == "substance_category"
    unknown = service.client.post(url, json={"result": "lost"}, headers=service.as_officer())
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == "result"
    absent = service.client.post(
        "/v1/review/cases/999999/outcome", json={"result": "nothing_found"}, headers=service.as_officer()
    )
    assert absent.status_code == 404


def test_partner_keys_get_403_on_every_review_route(service: Service) -> None:
    routes = [
        ("GET", "/v1/review/cases"),
        ("GET", "/v1/review/cases/1"),
        ("POST", "/v1/review/cases/1/claim"),
        ("POST", "/v1/review/cases/1/release"),
        ("POST", "/v1/review/cases/1/outcome"),
        ("POST", "/v1/review/cases/1/lab-result"),
        ("POST", "/v1/review/cases/1/correction"),
        ("POST", "/v1/review/cases/1/parties"),
        ("GET", "/v1/review/outcomes.jsonl"),
    ]
    paths = service.client.get("/openapi.json").json()["paths"]
    review_routes = {
        (method.upper(), path.replace("{case_id}", "1"))
        for path, operations in paths.items()
        if path.startswith("/v1/review")
        for method in operations
    }
    assert review_routes == set(routes)  # a new review route must join this test
    for method, path in routes:
        response = service.client.request(method, path, headers=service.as_partner(), json={})
        assert response.status_code == 403, (method, path)
        assert service.client.request(method, path, json={}).status_code == 401
    analyst = service.client.get("/v1/review/cases", headers=service.as_officer(service.analyst_token))
    assert analyst.status_code == 403
