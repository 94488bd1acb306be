"""Helpers for review tests: held items with a known rule hit, extra officers, audit records, history counts."""

import uuid
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import cli
from app.credentials import Role, create_officer, issue_officer_token
from app.db.tables import Assessment, AuditRecord, PartyHistory
from app.settings import get_settings
from tests.app.test_assessments import post
from tests.conftest import Service
from tests.factories import shipment_doc

HOLD_RULE = {"name": "Letters to GB", "conditions": {"destinations": ["GB"]}, "action": "hold"}


def held_by_rule(service: Service, count: int = 3, first_serial: int = 31_000_000) -> list[dict[str, Any]]:
    """`count` fresh items held by a 'hold' rule on the corridor, as queue rows (riskiest first)."""
    rule = service.client.put(
        "/v1/policy/rules/gb-letters", json=HOLD_RULE, headers=service.as_officer(service.supervisor_token)
    )
    assert rule.status_code == 200, rule.text
    items = [shipment_doc(serial=first_serial + n) for n in range(count)]
    response = post(service, {"items": items})
    assert response.status_code == 200, response.text
    assert {d["decision"] for d in response.json()["decisions"]} == {"hold"}
    queue = service.client.get(
        "/v1/review/cases", params={"status": "any", "limit": 200}, headers=service.as_officer()
    )
    wanted = {d["assessment_id"] for d in response.json()["decisions"]}
    return [c for c in queue.json()["cases"] if c["assessment_id"] in wanted]


def new_officer(service: Service, role: Role = Role.OFFICER) -> str:
    """A bearer token of a fresh officer with `role`."""
    with service.session() as session, session.begin():
        officer = create_officer(
            session, username=f"{role.value}-{uuid.uuid4().hex[:6]}", display_name=role.value, role=role
        )
        return issue_officer_token(session, officer=officer)


def audit_actions(service: Service, subject: str) -> list[tuple[str, str]]:
    """(action, payload) of every audit record about `subject`, in order."""
    with service.session() as session:
        rows = session.execute(
            select(AuditRecord.action, AuditRecord.payload)
            .where(AuditRecord.subject == subject)
            .order_by(AuditRecord.seq)
        ).all()
    return [(action, payload) for action, payload in rows]


def seizure_counts(service: Service, assessment_id: str) -> set[int]:
    """The seizure counts of every entity the assessed item names."""
    with service.session() as session:
        assessment = session.get(Assessment, assessment_id)
        assert assessment is not None
        rows = session.scalars(
            select(PartyHistory).where(PartyHistory.entity_key.in_(assessment.entity_keys()))
        )
        return {row.seizures for row in rows}


def run_cli(database_url: str, *args: str) -> tuple[int, str]:
    """(exit code, output with whitespace collapsed) of a real `python -m app` command on `database_url`."""
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, list(args), env={"PARCEL_RADAR_DATABASE_URL": database_url})
    finally:
        get_settings.cache_clear()
    return result.exit_code, " ".join(result.output.split())


def verify_audit_cli(database_url: str) -> tuple[int, str]:
    """The result of `python -m app verify-audit`."""
    return run_cli(database_url, "verify-audit")
