"""The review workflow on PostgreSQL: row locks, JSON-path filters, UTC day grouping, the audit chain."""

import re

import pytest

from tests.app.review_support import held_by_rule, verify_audit_cli
from tests.conftest import Service

pytestmark = pytest.mark.postgres


def test_review_workflow_on_postgres(pg_service: Service) -> None:
    cases = held_by_rule(pg_service, count=3, first_serial=77_000_000)
    headers = pg_service.as_officer()
    first, second = (f"/v1/review/cases/{c['case_id']}" for c in cases[:2])
    office = pg_service.client.get(
        "/v1/review/cases", params={"office": "NL-1012", "limit": 200}, headers=headers
    )
    assert {c["case_id"] for c in cases} <= {c["case_id"] for c in office.json()["cases"]}
    assert pg_service.client.post(f"{first}/claim", headers=headers).json()["status"] == "claimed"
    parties = pg_service.client.post(
        f"{first}/parties", json={"purpose": "Match against the seizure report"}, headers=headers
    )
    assert parties.status_code == 200
    seized = {"result": "seized", "substance_category": "opioids", "quantity": {"value": 2, "unit": "g"}}
    assert pg_service.client.post(f"{first}/outcome", json=seized, headers=headers).status_code == 201
    correction = {"result": "nothing_found", "reason": "Field test was a false positive"}
    assert pg_service.client.post(f"{first}/correction", json=correction, headers=headers).status_code == 201
    pending = pg_service.client.post(f"{second}/outcome", json={"result": "inconclusive"}, headers=headers)
    assert pending.json()["status"] == "pending_lab"
    lab = pg_service.client.post(f"{second}/lab-result", json=seized, headers=headers)
    assert lab.json()["status"] == "closed"
    pg_service.client.base_url = "https://testserver"  # the cookie is Secure
    signin = pg_service.client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', signin.text)
    assert token is not None
    pg_service.client.post("/signin", data={"token": pg_service.officer_token, "csrf_token": token.group(1)})
    dashboard = pg_service.client.get("/dashboard")
    assert dashboard.status_code == 200
    assert "opioids" in dashboard.text
    exit_code, output = verify_audit_cli(pg_service.settings.database_url)
    assert exit_code == 0, output
