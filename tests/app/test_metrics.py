"""GET /metrics: request counts by route template, assessment and review counters, request ids."""

from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from tests.app.review_support import held_by_rule
from tests.app.test_assessments import feed_items, post
from tests.conftest import Service
from tests.factories import shipment_doc


def samples(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def total(client: TestClient, name: str, **labels: str) -> float:
    """The sum of `name` over the samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples(client).items() if n == name and wanted <= ls)


def test_requests_are_counted_by_route_template_never_by_path(service: Service) -> None:
    service.client.get("/v1/review/cases/987654", headers=service.as_officer())
    service.client.get("/no/such/page/123")
    exposition = service.client.get("/metrics").text
    assert "987654" not in exposition
    assert "/no/such" not in exposition
    assert total(service.client, "parcel_radar_http_requests_total", route="/v1/review/cases/{case_id}") == 1
    assert total(service.client, "parcel_radar_http_requests_total", route="unmatched", status="404") == 1
    assert total(service.client, "parcel_radar_http_request_duration_seconds_count", route="/healthz") == 0
    version = service.client.get("/readyz").json()["checks"]["model"].removeprefix("ok: ")
    assert total(service.client, "parcel_radar_model_info", version=version) == 1


def test_a_batch_counts_its_items_by_decision_and_reason(service: Service, simulated_dir: Path) -> None:
    items = feed_items(simulated_dir, 200)
    headers = {**service.as_partner(), "Idempotency-Key": "metrics-batch-1"}
    decisions = post(service, {"items": items}, headers).json()["decisions"]
    held = sum(d["decision"] == "hold" for d in decisions)
    assert total(service.client, "parcel_radar_items_assessed_total") == 200
    assert total(service.client, "parcel_radar_items_assessed_total", decision="hold") == held
    assert total(service.client, "parcel_radar_review_cases_opened_total") == held
    assert total(service.client, "parcel_radar_batch_items_count") == 1
    assert total(service.client, "parcel_radar_batch_items_sum") == 200

    replay = post(service, {"items": items}, headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    resent = post(service, {"items": items[:10]})
    assert resent.status_code == 200
    # a replay and resent items get their first answers: nothing more was assessed
    assert total(service.client, "parcel_radar_items_assessed_total") == 200
    assert total(service.client, "parcel_radar_batch_items_count") == 2


def test_a_refused_batch_counts_nothing(service: Service) -> None:
    invalid = shipment_doc(serial=1, item_id="RR000000000NL")
    assert post(service, {"items": [shipment_doc(serial=2), invalid]}).status_code == 422
    assert total(service.client, "parcel_radar_items_assessed_total") == 0
    assert total(service.client, "parcel_radar_http_requests_total", status="422") == 1


def test_outcomes_count_results_and_closed_cases(service: Service) -> None:
    cases = held_by_rule(service, count=2, first_serial=41_000_000)
    officer = service.as_officer()
    seized = {"result": "seized", "substance_category": "cannabis"}
    for case in cases:
        url = f"/v1/review/cases/{case['case_id']}/outcome"
        assert service.client.post(url, json=seized, headers=officer).status_code == 201
    first = f"/v1/review/cases/{cases[0]['case_id']}"
    assert service.client.post(f"{first}/outcome", json=seized, headers=officer).status_code == 409
    correction = {"result": "nothing_found", "reason": "the lab found sugar, not cannabis"}
    url = f"{first}/correction"
    assert service.client.post(url, json=correction, headers=officer).status_code == 201
    name = "parcel_radar_outcomes_recorded_total"
    assert total(service.client, name, kind="inspection", result="seized") == 2
    assert total(service.client, name, kind="correction", result="nothing_found") == 1
    assert total(service.client, "parcel_radar_review_cases_closed_total") == 2
    assert total(service.client, "parcel_radar_review_cases_opened_total") == 2


def test_request_ids_are_propagated_when_sane_and_made_otherwise(service: Service) -> None:
    kept = service.client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42:1"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a.42:1"
    for unsafe in ("", "a b", "x" * 200, "<script>", "id\u00e9".encode()):
        answered = service.client.get("/healthz", headers={"X-Request-ID": unsafe})
        assert answered.headers["X-Request-ID"] not in {"", unsafe}
    generated = {service.client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(generated) == 3
    refused = service.client.post("/v1/assessments", content=b"{}" * 5_000_000, headers=service.as_partner())
    assert refused.status_code == 413
    assert refused.headers["X-Request-ID"]


def test_every_app_counts_in_its_own_registry(service: Service) -> None:
    service.client.get("/healthz")
    with TestClient(create_app(service.settings)) as other:
        assert total(other, "parcel_radar_http_requests_total", route="/healthz") == 0
    assert total(service.client, "parcel_radar_http_requests_total", route="/healthz") == 1


def test_an_unexpected_error_is_counted_and_names_its_request(service: Service) -> None:
    app = create_app(service.settings)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/broken", headers={"X-Request-ID": "bug-report-1"})
        assert answer.status_code == 500
        assert answer.headers["X-Request-ID"] == "bug-report-1"
        assert total(client, "parcel_radar_http_requests_total", route="/broken", status="500") == 1
