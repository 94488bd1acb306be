"""Every route of the OpenAPI document against every kind of credential: who may call it, and nobody else."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.test_assessments import post
from tests.conftest import Service, start_service
from tests.factories import shipment_doc

PARTNERS = frozenset({"post", "courier"})
REVIEWERS = frozenset({"officer", "supervisor"})
POLICY_READERS = frozenset({"supervisor", "analyst"})
SUPERVISORS = frozenset({"supervisor"})
EVERYONE = frozenset({"none", "garbage", "post", "courier", "officer", "supervisor", "analyst"})
# Who may call what, as the README's API table promises it (written out, not read from the code under test).
ALLOWED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/readyz"): EVERYONE,
    ("POST", "/v1/assessments"): PARTNERS,
    ("GET", "/v1/assessments/{assessment_id}"): PARTNERS,
    ("GET", "/v1/review/cases"): REVIEWERS,
    ("GET", "/v1/review/cases/{case_id}"): REVIEWERS,
    ("POST", "/v1/review/cases/{case_id}/claim"): REVIEWERS,
    ("POST", "/v1/review/cases/{case_id}/release"): REVIEWERS,
    ("POST", "/v1/review/cases/{case_id}/outcome"): REVIEWERS,
    ("POST", "/v1/review/cases/{case_id}/lab-result"): REVIEWERS,
    ("POST", "/v1/review/cases/{case_id}/correction"): REVIEWERS,
    ("POST", "/v1/review/cases/{case_id}/parties"): REVIEWERS,
    ("GET", "/v1/review/outcomes.jsonl"): REVIEWERS,
    ("GET", "/v1/policy/capacity"): POLICY_READERS,
    ("PUT", "/v1/policy/capacity/{scope}"): SUPERVISORS,
    ("DELETE", "/v1/policy/capacity/{scope}"): SUPERVISORS,
    ("GET", "/v1/policy/lists"): POLICY_READERS,
    ("POST", "/v1/policy/lists"): SUPERVISORS,
    ("DELETE", "/v1/policy/lists/{entry_id}"): SUPERVISORS,
    ("GET", "/v1/policy/rules"): POLICY_READERS,
    ("PUT", "/v1/policy/rules/{rule_id}"): SUPERVISORS,
    ("POST", "/v1/policy/backtest"): POLICY_READERS,
    ("GET", "/v1/models"): POLICY_READERS,
}
PATH_VALUES = {"case_id": "1", "entry_id": "1", "scope": "office:NL-1012", "rule_id": "matrix-rule"}


@pytest.fixture
def matrix_service(tmp_path: Path, model_dir: Path) -> Iterator[Service]:
    """A service whose failed-authentication limit does not get in the way of a few hundred refusals."""
    yield from start_service(
        f"sqlite:///{tmp_path / 'radar.db'}", model_dir, auth_failures_per_address=10_000
    )


def _headers(service: Service, credential: str) -> dict[str, str]:
    token = {
        "none": None,
        "garbage": "prk_nothere1_not-a-real-secret",
        "post": service.partner_key,
        "courier": service.courier_key,
        "officer": service.officer_token,
        "supervisor": service.supervisor_token,
        "analyst": service.analyst_token,
    }[credential]
    return {} if token is None else {"Authorization": f"Bearer {token}"}


def test_no_credential_reaches_a_route_it_is_not_allowed(matrix_service: Service) -> None:
    service = matrix_service
    decided = post(service, {"items": [shipment_doc(serial=43_000_001)]})
    assessment_id = decided.json()["decisions"][0]["assessment_id"]
    operations = {
        (method.upper(), path)
        for path, item in service.client.get("/openapi.json").json()["paths"].items()
        for method in item
    }
    assert operations == set(ALLOWED), "a route was added or removed: say who may call it"
    values = {**PATH_VALUES, "assessment_id": assessment_id}
    tried, unexpected = 0, []
    for (method, template), allowed in sorted(ALLOWED.items()):
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
        for credential in sorted(EVERYONE):
            body = {} if method in ("POST", "PUT") else None
            response = service.client.request(method, path, json=body, headers=_headers(service, credential))
            tried += 1
            assert response.status_code < 500, (method, path, credential, response.text)
            refused = response.status_code in (401, 403)
            if refused == (credential in allowed):
                unexpected.append((method, path, credential, response.status_code))
    print(f"authorization matrix: {tried} pairs tried, {len(unexpected)} unexpected")
    assert tried == len(ALLOWED) * len(EVERYONE)
    assert unexpected == []


def test_a_partner_never_sees_another_partners_assessment(matrix_service: Service) -> None:
    service = matrix_service
    decided = post(service, {"items": [shipment_doc(serial=43_000_002)]})
    assessment_id = decided.json()["decisions"][0]["assessment_id"]
    mine = service.client.get(f"/v1/assessments/{assessment_id}", headers=service.as_partner())
    theirs = service.client.get(
        f"/v1/assessments/{assessment_id}", headers=service.as_partner(service.courier_key)
    )
    assert mine.status_code == 200
    assert theirs.status_code == 404
