"""What a production deployment shows to anyone: no API docs, /metrics only with its token, nothing cacheable
with personal data, and a compressed body refused as unsupported (415) rather than invalid."""

import gzip
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.conftest import Service, start_service
from tests.factories import shipment_doc

METRICS_TOKEN = "metrics-scraper-token-for-the-test"


@pytest.fixture
def production(tmp_path: Path, model_dir: Path) -> Iterator[Service]:
    yield from start_service(
        f"sqlite:///{tmp_path / 'radar.db'}", model_dir, environment="production", metrics_token=METRICS_TOKEN
    )


def test_production_serves_no_api_docs_and_metrics_only_with_the_token(production: Service) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert production.client.get(path).status_code == 404
    assert production.client.get("/metrics").status_code == 401
    assert production.client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    scraped = production.client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200
    assert "parcel_radar_http_requests_total" in scraped.text


def test_production_without_a_metrics_token_does_not_serve_metrics(tmp_path: Path, model_dir: Path) -> None:
    for service in start_service(f"sqlite:///{tmp_path / 'radar.db'}", model_dir, environment="production"):
        assert service.client.get("/metrics").status_code == 404


def test_outside_production_the_docs_are_served(service: Service) -> None:
    assert service.client.get("/openapi.json").status_code == 200
    assert service.client.get("/docs").status_code == 200


def test_answers_with_personal_data_are_not_cacheable(service: Service) -> None:
    answer = service.client.post(
        "/v1/assessments", json={"items": [shipment_doc(serial=81_000_001)]}, headers=service.as_partner()
    )
    assert answer.status_code == 200
    case_list = service.client.get("/v1/review/cases", headers=service.as_officer())
    for response in (answer, case_list, service.client.get("/signin")):
        assert response.headers["Cache-Control"] == "no-store"
    assert "no-store" not in service.client.get("/static/style.css").headers.get("Cache-Control", "")


def test_a_gzip_body_is_unsupported_not_invalid(service: Service) -> None:
    body = gzip.compress(orjson.dumps({"items": [shipment_doc(serial=81_000_002)]}))
    headers = {**service.as_partner(), "Content-Type": "application/json", "Content-Encoding": "gzip"}
    refused = service.client.post("/v1/assessments", content=body, headers=headers)
    assert refused.status_code == 415
    assert refused.json()["error"] == "unsupported_media_type"
