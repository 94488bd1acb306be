"""The audit log: officer actions are recorded, and `verify-audit` names the first edited, deleted or moved record."""

import re

import orjson
import pytest
from sqlalchemy import text

from tests.app.review_support import audit_actions, held_by_rule, verify_audit_cli
from tests.conftest import Service

TAMPERING = {
    "edit": [
        'UPDATE audit_log SET payload = replace(payload, \'"by":"officer-\', \'"by":"nobody-\') WHERE seq = :seq'
    ],
    "delete": ["DELETE FROM audit_log WHERE seq = :seq"],
    "reorder": [
        "UPDATE audit_log SET seq = -1 WHERE seq = :seq",
        "UPDATE audit_log SET seq = :seq WHERE seq = :seq + 1",
        "UPDATE audit_log SET seq = :seq + 1 WHERE seq = -1",
    ],
}


def _worked_case(service: Service) -> int:
    """A case claimed, its parties read, decided and corrected: one audit record for each action."""
    case = held_by_rule(service, count=1)[0]
    url = f"/v1/review/cases/{case['case_id']}"
    headers = service.as_officer()
    service.client.post(f"{url}/claim", headers=headers)
    service.client.post(
        f"{url}/parties", json={"purpose": "Compare the sender with the watchlist"}, headers=headers
    )
    service.client.post(f"{url}/outcome", json={"result": "nothing_found"}, headers=headers)
    correction = {"result": "not_presented", "reason": "The item was never brought to the bench"}
    assert service.client.post(f"{url}/correction", json=correction, headers=headers).status_code == 201
    return int(case["case_id"])


def _claim_seq(service: Service, case_id: int) -> int:
    with service.engine.connect() as connection:
        seq = connection.execute(
            text("SELECT seq FROM audit_log WHERE action = 'case.claim' AND subject = :subject"),
            {"subject": f"case:{case_id}"},
        ).scalar_one()
    return int(seq)


def test_officer_actions_are_audited_in_order(service: Service) -> None:
    case_id = _worked_case(service)
    records = audit_actions(service, f"case:{case_id}")
    assert [action for action, _ in records] == [
        "case.claim",
        "parties.read",
        "outcome.record",
        "outcome.correct",
    ]
    details = [orjson.loads(payload)["details"] for _, payload in records]
    assert details[1]["purpose"] == "Compare the sender with the watchlist"
    assert details[3]["previous_result"] == "nothing_found"
    assert all(d["by"].startswith("officer-") for d in details)
    exit_code, output = verify_audit_cli(service.settings.database_url)
    assert exit_code == 0, output
    checked = int(re.search(r"verified: (\d+) records", output).group(1))  # type: ignore[union-attr]
    assert checked >= 6  # the rule, the batch, and the four actions above


@pytest.mark.parametrize("tampering", sorted(TAMPERING))
def test_verify_audit_names_the_first_tampered_record(service: Service, tampering: str) -> None:
    seq = _claim_seq(service, _worked_case(service))
    with service.engine.begin() as connection:
        for statement in TAMPERING[tampering]:
            changed = connection.execute(text(statement), {"seq": seq})
            assert getattr(changed, "rowcount", 1) == 1
    exit_code, output = verify_audit_cli(service.settings.database_url)
    assert exit_code == 1, output
    first_broken = seq + 1 if tampering == "delete" else seq
    assert f"audit chain broken at record {first_broken}:" in output
