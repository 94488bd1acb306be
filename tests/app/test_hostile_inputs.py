"""Inputs a hostile tester sends (issue 13): each gets a 4xx naming the field, never a 5xx."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from app.db.tables import AuditRecord
from tests.app.review_support import held_by_rule
from tests.app.test_assessments import post
from tests.app.test_web_pages import sign_in_form
from tests.conftest import Service, start_service
from tests.factories import shipment_doc

EMPTY_FORM = "status=any&office=&origin=&destination=&referral=&min_age_hours=&max_age_hours=&order=risk"
CONTROL_CHARACTERS = ["\x00", "\x07", "\x1b"]


@pytest.fixture
def web_service(tmp_path: Path, model_dir: Path) -> Iterator[Service]:
    yield from start_service(f"sqlite:///{tmp_path / 'radar.db'}", model_dir, web_cookie_secure=False)


def error_paths(response: Any) -> list[list[str | int]]:
    return [error["path"] for error in response.json()["detail"]]


def test_the_queue_forms_empty_fields_mean_no_filter(web_service: Service) -> None:
    cases = held_by_rule(web_service, count=2)
    api = web_service.client.get(f"/v1/review/cases?{EMPTY_FORM}", headers=web_service.as_officer())
    assert api.status_code == 200, api.text
    assert {c["case_id"] for c in cases} <= {c["case_id"] for c in api.json()["cases"]}
    for name in ("office", "origin", "destination", "min_age_hours", "max_age_hours", "referral", "cursor"):
        single = web_service.client.get(f"/v1/review/cases?{name}=", headers=web_service.as_officer())
        assert single.status_code == 200, (name, single.text)
    assert sign_in_form(web_service, web_service.officer_token).status_code == 303
    page = web_service.client.get(f"/queue?{EMPTY_FORM}")
    assert page.status_code == 200, page.text
    assert all(str(c["case_id"]) in page.text for c in cases)
    assert web_service.client.get("/queue?min_age_hours=1e20").status_code == 422
    assert web_service.client.get("/cases/99999999999999999999").status_code == 422


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("min_age_hours=1e20", "min_age_hours"),
        ("max_age_hours=inf", "max_age_hours"),
        ("min_age_hours=nan", "min_age_hours"),
        ("origin=NLD", "origin"),
        ("office=" + "x" * 33, "office"),
        ("office=NL%001012", "office"),
        ("limit=99999999999999999999", "limit"),
        ("status=shredded", "status"),
    ],
)
def test_bad_queue_filters_are_422_with_the_field_path(service: Service, query: str, field: str) -> None:
    response = service.client.get(f"/v1/review/cases?{query}", headers=service.as_officer())
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert ["query", field] in error_paths(response)


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        "W1siYSJdLCAxXQ==",  # [["a"], 1]
        "WzEuMCwgOTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ==",  # [1.0, 999999999999999999999999]
        "WyJOYU4iLCAxXQ==",  # ["NaN", 1]
        "WzEsIDIsIDNd",  # [1, 2, 3]
        "e30=",  # {}
    ],
)
def test_crafted_cursors_are_422(service: Service, cursor: str) -> None:
    for order in ("risk", "newest"):
        response = service.client.get(
            "/v1/review/cases", params={"cursor": cursor, "order": order}, headers=service.as_officer()
        )
        assert response.status_code == 422, response.text
        assert ["query", "cursor"] in error_paths(response)


def test_a_returned_cursor_still_pages(service: Service) -> None:
    cases = held_by_rule(service, count=3)
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1, "status": "any", **({"cursor": cursor} if cursor else {})}
        page = service.client.get("/v1/review/cases", params=params, headers=service.as_officer()).json()
        seen += [c["case_id"] for c in page["cases"]]
        if not (cursor := page["next_cursor"]):
            break
    assert sorted(seen, reverse=True) == sorted((c["case_id"] for c in cases), reverse=True)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/review/cases/99999999999999999999",
        "/v1/review/cases/2147483648",
        "/v1/review/cases/0",
        "/v1/review/cases/-1",
    ],
)
def test_out_of_range_case_ids_are_422(service: Service, path: str) -> None:
    for method, suffix in (("GET", ""), ("POST", "/claim"), ("POST", "/release")):
        response = service.client.request(method, path + suffix, headers=service.as_officer())
        assert response.status_code == 422, response.text
        assert ["path", "case_id"] in error_paths(response)


def test_unknown_case_and_list_entry_are_404(service: Service) -> None:
    assert service.client.get("/v1/review/cases/2147483647", headers=service.as_officer()).status_code == 404
    revoked = service.client.delete(
        "/v1/policy/lists/2147483647", headers=service.as_officer(service.supervisor_token)
    )
    assert revoked.status_code == 404
    huge = service.client.delete(
        "/v1/policy/lists/99999999999999999999", headers=service.as_officer(service.supervisor_token)
    )
    assert huge.status_code == 422


@pytest.mark.parametrize("scope", ["partner:99999999999999999999", "partner:2147483647", "partner:0"])
def test_capacity_for_an_unknown_partner_is_refused(service: Service, scope: str) -> None:
    supervisor = service.as_officer(service.supervisor_token)
    body = {"inspection_rate": 0.05, "exploration_share": 0.1}
    response = service.client.put(f"/v1/policy/capacity/{scope}", json=body, headers=supervisor)
    assert response.status_code in (404, 422), response.text
    assert service.client.get("/v1/policy/capacity", headers=supervisor).status_code == 200


def test_a_capacity_scope_can_be_deleted_audited_but_not_the_global_one(service: Service) -> None:
    supervisor = service.as_officer(service.supervisor_token)
    body = {"inspection_rate": 0.05, "exploration_share": 0.1}
    assert service.client.put("/v1/policy/capacity/office:NL-1012", json=body, headers=supervisor).is_success
    deleted = service.client.delete("/v1/policy/capacity/office:NL-1012", headers=supervisor)
    assert deleted.status_code == 200, deleted.text
    scopes = service.client.get("/v1/policy/capacity", headers=supervisor).json()["scopes"]
    assert "office:NL-1012" not in [s["scope"] for s in scopes]
    with service.session() as session:
        actions = [r.action for r in session.query(AuditRecord).filter_by(subject="capacity:office:NL-1012")]
    assert actions == ["capacity.set", "capacity.delete"]
    assert service.client.delete("/v1/policy/capacity/office:NL-1012", headers=supervisor).status_code == 404
    assert service.client.delete("/v1/policy/capacity/global", headers=supervisor).status_code == 422
    officer = service.client.delete("/v1/policy/capacity/office:NL-1012", headers=service.as_officer())
    assert officer.status_code == 403


@pytest.mark.parametrize("posted_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_posting_date_off_the_calendar_is_one_items_error(service: Service, posted_at: str) -> None:
    good = shipment_doc(serial=41_000_001)
    bad = shipment_doc(serial=41_000_002)
    bad["posting"] = {**bad["posting"], "posted_at": posted_at}
    whole = post(service, {"items": [good, bad]})
    assert whole.status_code == 422, whole.text
    assert whole.json()["detail"][0]["index"] == 1
    partial = post(service, {"items": [good, bad], "partial": True})
    assert partial.status_code == 200, partial.text
    assert [d["index"] for d in partial.json()["decisions"]] == [0]
    [error] = partial.json()["errors"]
    assert error["index"] == 1
    assert error["errors"][0]["path"] == ["items", 1, "posting", "posted_at"]


def nul_requests(service: Service, text: str) -> Iterator[tuple[str, Any]]:
    """(field, response) for a request carrying `text` in each kind of text field the API stores or queries."""
    supervisor = service.as_officer(service.supervisor_token)
    item = shipment_doc(serial=42_000_001)
    item["posting"] = {**item["posting"], "office_id": f"NL{text}1012"}
    yield "posting.office_id", post(service, {"items": [item]})
    sender = shipment_doc(serial=42_000_002)
    sender["sender"] = {**sender["sender"], "name": f"Jan{text}"}
    yield "sender.name", post(service, {"items": [sender]})
    yield (
        "office",
        service.client.get("/v1/review/cases", params={"office": f"A{text}"}, headers=service.as_officer()),
    )
    yield "assessment_id", service.client.get(f"/v1/assessments/A{quote(text)}", headers=service.as_partner())
    entry = {
        "list": "watch",
        "entity": "sender",
        "party": {"name": "Jan", "country": "NL"},
        "label": f"label{text}",
        "reason": "seen before",
    }
    yield "label", service.client.post("/v1/policy/lists", json=entry, headers=supervisor)
    rule = {"name": f"rule{text}", "conditions": {"origins": ["NL"]}, "action": "hold"}
    yield "name", service.client.put("/v1/policy/rules/nul-rule", json=rule, headers=supervisor)
    [case] = held_by_rule(service, count=1, first_serial=42_000_100 + ord(text))
    base = f"/v1/review/cases/{case['case_id']}"
    yield (
        "purpose",
        service.client.post(
            f"{base}/parties", json={"purpose": f"Checking the{text} seizure"}, headers=service.as_officer()
        ),
    )
    outcome = {"result": "nothing_found", "note": f"opened{text}"}
    yield "note", service.client.post(f"{base}/outcome", json=outcome, headers=service.as_officer())


def assert_control_characters_refused(service: Service) -> None:
    for text in CONTROL_CHARACTERS:
        for field, response in nul_requests(service, text):
            assert response.status_code in (404, 422), (field, repr(text), response.text)


def test_control_characters_are_refused_on_sqlite(service: Service) -> None:
    assert_control_characters_refused(service)


@pytest.mark.postgres
def test_control_characters_are_refused_on_postgres(pg_service: Service) -> None:
    assert_control_characters_refused(pg_service)


def test_tabs_and_newlines_in_a_note_are_kept(service: Service) -> None:
    [case] = held_by_rule(service, count=1, first_serial=43_000_001)
    outcome = {"result": "nothing_found", "note": "line one\n\tline two"}
    response = service.client.post(
        f"/v1/review/cases/{case['case_id']}/outcome", json=outcome, headers=service.as_officer()
    )
    assert response.status_code == 201, response.text


def assert_crafted_tokens_refused(service: Service) -> None:
    for text in CONTROL_CHARACTERS:
        for token in (f"pro_{text * 8}_x", f"pro_abcd{text}efg_x", f"pro_abcdefgh_{text}"):
            response = sign_in_form(service, token)
            assert response.status_code == 401, (repr(token), response.text)


def test_tokens_with_control_characters_are_unknown_on_sqlite(web_service: Service) -> None:
    assert_crafted_tokens_refused(web_service)


@pytest.mark.postgres
def test_tokens_with_control_characters_are_unknown_on_postgres(pg_base_url: str, model_dir: Path) -> None:
    for service in start_service(pg_base_url, model_dir, web_cookie_secure=False):
        assert_crafted_tokens_refused(service)
