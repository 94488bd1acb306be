"""The partner contract over real HTTP (ASGI): decisions per item, errors per field, nothing half-written."""

import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import cli
from app.credentials import revoke_api_key, split_token
from app.db.tables import Assessment, Partner, PartyHistory, ReviewCase
from app.settings import Settings, get_settings
from tests.conftest import Service, start_service
from tests.factories import shipment_doc


def feed_items(simulated_dir: Path, count: int) -> list[dict[str, Any]]:
    with (simulated_dir / "shipments.jsonl").open("rb") as handle:
        return [orjson.loads(next(handle)) for _ in range(count)]


def row_counts(service: Service) -> tuple[int, int, int]:
    with service.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Assessment)) or 0,
            session.scalar(select(func.count()).select_from(PartyHistory)) or 0,
            session.scalar(select(func.count()).select_from(ReviewCase)) or 0,
        )


def post(service: Service, body: Any, headers: dict[str, str] | None = None) -> Any:
    return service.client.post(
        "/v1/assessments", json=body, headers=service.as_partner() if headers is None else headers
    )


def test_batch_gets_one_decision_per_item(service: Service, simulated_dir: Path) -> None:
    items = feed_items(simulated_dir, 300)
    response = post(service, {"items": items})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [d["index"] for d in body["decisions"]] == list(range(300))
    assert {d["decision"] for d in body["decisions"]} <= {"release", "hold"}
    assert all("score" not in d and "reasons" not in d for d in body["decisions"])
    assert [d["item_id"] for d in body["decisions"]] == [i["item_id"] for i in items]
    held = [d for d in body["decisions"] if d["decision"] == "hold"]
    assert all(d["referral"] in {"inspect", "request_information"} for d in held)
    assessments, history, cases = row_counts(service)
    assert (assessments, cases) == (300, len(held))
    assert history > 300  # senders, addressees, addresses, areas and corridors
    first = body["decisions"][0]
    view = service.client.get(f"/v1/assessments/{first['assessment_id']}", headers=service.as_partner())
    assert view.status_code == 200
    assert view.json()["decision"] == first["decision"]
    assert "score" not in view.json()


def test_resent_items_get_their_first_answer(service: Service) -> None:
    items = [shipment_doc(serial=n) for n in range(10_000_000, 10_000_005)]
    first = post(service, {"items": items}).json()["decisions"]
    again = post(service, {"items": items[2:]}).json()["decisions"]
    assert [d["assessment_id"] for d in again] == [d["assessment_id"] for d in first[2:]]
    assert row_counts(service)[0] == 5


def _error_locations(response: Any) -> list[str]:
    detail = response.json()["detail"]
    return sorted(e["loc"] for item in detail for e in item.get("errors", [item]))


@pytest.mark.parametrize(
    ("mutate", "location"),
    [
        (lambda d: d.update(item_id="RR123456784NL"), "items.1.item_id"),
        (lambda d: d["addressee"].update(country="XX"), "items.1.addressee.country"),
        (lambda d: d.update(gross_weight_kg=-0.1), "items.1.gross_weight_kg"),
        (lambda d: d["posting"].update(posted_at="2026-03-02T10:00:00"), "items.1.posting.posted_at"),
        (
            lambda d: d.update(item_id="1Z999AA10123456784", item_id_scheme="waybill"),
            "items.1.item_id_scheme",
        ),
        (lambda d: d.pop("sender"), "items.1.sender"),
    ],
)
def test_invalid_item_rejects_the_batch_with_its_field_path(
    service: Service, mutate: Any, location: str
) -> None:
    items = [shipment_doc(serial=20_000_000 + n) for n in range(3)]
    mutate(items[1])
    response = post(service, {"items": items})
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert _error_locations(response) == [location]
    assert row_counts(service) == (0, 0, 0)


def test_partial_mode_assesses_the_valid_items(service: Service) -> None:
    items = [shipment_doc(serial=30_000_000 + n) for n in range(3)]
    items[0]["addressee"]["country"] = "XX"
    response = post(service, {"items": items, "partial": True})
    assert response.status_code == 200
    body = response.json()
    assert [d["index"] for d in body["decisions"]] == [1, 2]
    assert [e["index"] for e in body["errors"]] == [0]
    assert row_counts(service)[0] == 2


def test_courier_may_file_waybills(service: Service) -> None:
    item = shipment_doc(item_id="1Z999AA10123456784", item_id_scheme="waybill")
    assert post(service, {"items": [item]}, service.as_partner(service.courier_key)).status_code == 200


def test_duplicate_item_within_a_batch_is_refused(service: Service) -> None:
    response = post(service, {"items": [shipment_doc(), shipment_doc()]})
    assert response.status_code == 422
    assert _error_locations(response) == ["items.1.item_id"]


@pytest.mark.parametrize(
    ("body", "location"),
    [({"items": []}, "items"), ({}, "items"), ({"items": [{}], "extra": 1}, "extra"), ([1, 2], "")],
)
def test_envelope_errors(service: Service, body: Any, location: str) -> None:
    response = post(service, body)
    assert response.status_code == 422
    assert location in [e["loc"] for e in response.json()["detail"]]


def test_oversized_batch_and_body(service: Service) -> None:
    items = [shipment_doc(serial=40_000_000 + n) for n in range(service.settings.max_batch_items + 1)]
    too_many = post(service, {"items": items})
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["loc"] == "items"
    huge = b'{"items": [' + b" " * (service.settings.max_body_bytes + 1) + b"]}"
    response = service.client.post(
        "/v1/assessments", content=huge, headers={**service.as_partner(), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert row_counts(service) == (0, 0, 0)


def test_wrong_content_type_and_malformed_json(service: Service) -> None:
    headers = service.as_partner()
    form = service.client.post(
        "/v1/assessments", content=b"items=1", headers={**headers, "Content-Type": "text/plain"}
    )
    assert form.status_code == 415
    broken = service.client.post(
        "/v1/assessments", content=b'{"items": [', headers={**headers, "Content-Type": "application/json"}
    )
    assert broken.status_code == 422
    assert broken.json()["detail"][0]["type"] == "json_invalid"


def test_credentials(service: Service) -> None:
    body = {"items": [shipment_doc()]}
    assert post(service, body, headers={}).status_code == 401
    assert post(service, body, headers=service.as_partner("prk_00000000_nope")).status_code == 401
    assert post(service, body, headers=service.as_officer()).status_code == 403
    prefix = split_token(service.partner_key)
    assert prefix is not None
    with service.session() as session, session.begin():
        revoke_api_key(session, prefix=prefix[1])
    revoked = post(service, body)
    assert revoked.status_code == 401
    assert revoked.json()["error"] == "unauthorized"
    assert row_counts(service) == (0, 0, 0)


@pytest.mark.parametrize("cache_seconds", [0, 3])
def test_a_revoked_key_stops_working_within_the_key_cache_time(
    tmp_path: Path, model_dir: Path, cache_seconds: float
) -> None:
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    for service in start_service(url, model_dir, api_key_cache_seconds=cache_seconds):
        assert post(service, {"items": [shipment_doc()]}).status_code == 200
        verified_at = time.monotonic()  # at the latest
        prefix = split_token(service.partner_key)
        assert prefix is not None
        with service.session() as session, session.begin():
            revoke_api_key(session, prefix=prefix[1])
        again = post(service, {"items": [shipment_doc()]}).status_code
        assert (
            time.monotonic() - verified_at < 2
        )  # the revocation and the retry took well under the cache time
        assert again == (200 if cache_seconds else 401)  # this process still trusts the key it verified
        time.sleep(max(0.0, verified_at + cache_seconds - time.monotonic()))
        assert post(service, {"items": [shipment_doc()]}).status_code == 401


def test_partners_cannot_read_each_others_assessments(service: Service) -> None:
    decision = post(service, {"items": [shipment_doc()]}).json()["decisions"][0]
    other = service.client.get(
        f"/v1/assessments/{decision['assessment_id']}", headers=service.as_partner(service.courier_key)
    )
    assert other.status_code == 404


def test_key_rotation_through_the_cli(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    with service.session() as session:
        partner_name = session.scalar(select(Partner.name).where(Partner.kind == "post"))
    monkeypatch.setenv("PARCEL_RADAR_DATABASE_URL", service.settings.database_url)
    get_settings.cache_clear()
    try:
        issued = CliRunner().invoke(cli, ["issue-key", str(partner_name)])
        old_prefix = split_token(service.partner_key)
        assert old_prefix is not None
        revoked = CliRunner().invoke(cli, ["revoke-key", old_prefix[1]])
    finally:
        get_settings.cache_clear()
    assert issued.exit_code == 0, issued.output
    assert revoked.exit_code == 0, revoked.output
    new_key = issued.output.split()[-1]
    assert post(service, {"items": [shipment_doc()]}).status_code == 401
    assert post(service, {"items": [shipment_doc()]}, headers=service.as_partner(new_key)).status_code == 200


def test_the_largest_batch_the_settings_allow_is_one_history_read(
    tmp_path: Path, model_dir: Path, simulated_dir: Path
) -> None:
    largest = Settings.model_fields["max_batch_items"].metadata
    limit = next(bound.le for bound in largest if hasattr(bound, "le"))
    for service in start_service(f"sqlite:///{tmp_path / 'radar.db'}", model_dir, max_batch_items=limit):
        response = post(service, {"items": feed_items(simulated_dir, limit)})
        assert response.status_code == 200, response.text[:500]
        assert len(response.json()["decisions"]) == limit


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_an_item_that_names_no_party_is_assessed_once(request: pytest.FixtureRequest, database: str) -> None:
    """Its only history keys are aggregate ones (the corridor), so its batch locks them before the check for
    items already assessed (they are its only rows a retry could wait on), and still writes them last."""
    service: Service = request.getfixturevalue("service" if database == "sqlite" else "pg_service")
    item = shipment_doc(serial=97_000_001, sender={"country": "IS"}, addressee={"country": "MT"})
    del item["posting"]["office_id"]
    first = post(service, {"items": [item]})
    assert first.status_code == 200, first.text
    again = post(service, {"items": [item]})
    assert again.json()["decisions"] == first.json()["decisions"]
    with service.session() as session:
        corridor = session.get(PartyHistory, "cor:NL-MT")
        assessed = session.scalar(select(func.count()).where(Assessment.item_id == item["item_id"]))
    assert corridor is not None
    assert corridor.items_long >= 1.0
    assert assessed == 1
