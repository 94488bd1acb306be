"""Working cases over HTTP: filters, claims and overrides, lab results, corrections, clear-text access."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select, update

from app.credentials import Role
from app.db.base import utcnow
from app.db.tables import OutcomeRecord, PartyAccess, ReviewCase
from app.services.retention import purge
from model.shipment import Outcome
from tests.app.review_support import audit_actions, held_by_rule, new_officer, seizure_counts
from tests.app.test_review import held_cases
from tests.conftest import Service

SEIZURE = {"result": "seized", "substance_category": "cannabis", "quantity": {"value": 12.5, "unit": "g"}}


def _case_url(case: dict[str, Any], action: str = "") -> str:
    return f"/v1/review/cases/{case['case_id']}{'/' + action if action else ''}"


def _ids(service: Service, token: str | None = None, **params: Any) -> list[int]:
    response = service.client.get(
        "/v1/review/cases", params={"limit": 200, **params}, headers=service.as_officer(token)
    )
    assert response.status_code == 200, response.text
    return [c["case_id"] for c in response.json()["cases"]]


def _exported(service: Service) -> list[Outcome]:
    export = service.client.get("/v1/review/outcomes.jsonl", headers=service.as_officer())
    return [Outcome.model_validate(orjson.loads(line)) for line in export.text.splitlines()]


def test_queue_filters_by_office_corridor_referral_status_and_age(
    service: Service, simulated_dir: Path
) -> None:
    cases = held_cases(service, simulated_dir)
    everything = _ids(service)
    first = cases[0]
    office = first["office"]
    assert _ids(service, office=office) == [c["case_id"] for c in cases if c["office"] == office]
    corridor = {"origin": first["origin"], "destination": first["destination"]}
    assert _ids(service, **corridor) == [
        c["case_id"]
        for c in cases
        if (c["origin"], c["destination"]) == (first["origin"], first["destination"])
    ]
    for referral in ("inspect", "request_information"):
        assert _ids(service, referral=referral) == [c["case_id"] for c in cases if c["referral"] == referral]
    assert _ids(service, max_age_hours=1) == everything
    assert _ids(service, min_age_hours=1) == []
    assert _ids(service, status="claimed") == []
    service.client.post(_case_url(first, "claim"), headers=service.as_officer())
    assert _ids(service, status="claimed") == [first["case_id"]]
    assert _ids(service, mine=True, status="any") == [first["case_id"]]
    assert _ids(service, service.supervisor_token, mine=True, status="any") == []
    bad = service.client.get("/v1/review/cases", params={"origin": "NLD"}, headers=service.as_officer())
    assert bad.status_code == 422


def test_case_detail_shows_rule_hits_metadata_and_the_holder(service: Service) -> None:
    case = held_by_rule(service, count=1)[0]
    service.client.post(_case_url(case, "claim"), headers=service.as_officer())
    detail = service.client.get(_case_url(case), headers=service.as_officer()).json()
    assert detail["hits"] == [
        {"kind": "rule", "id": "gb-letters", "version": 1, "name": "Letters to GB", "action": "hold"}
    ]
    assert detail["shipment"]["posting"]["office_id"] == "NL-1012"
    assert set(detail["shipment"]["addressee"]) == {"country", "postcode_area"}  # no clear text
    assert detail["status"] == "claimed"
    assert detail["claimed_by"].startswith("officer-")
    assert detail["parties_available"] is True
    assert detail["party_access"] == []


def test_a_claimed_case_is_decided_by_its_holder_or_a_supervisor_override(service: Service) -> None:
    case = held_by_rule(service, count=1)[0]
    other = new_officer(service)
    assert service.client.post(_case_url(case, "claim"), headers=service.as_officer()).status_code == 200
    again = service.client.post(_case_url(case, "claim"), headers=service.as_officer())
    assert again.status_code == 200  # claiming one's own case changes nothing
    assert service.client.post(_case_url(case, "claim"), headers=service.as_officer(other)).status_code == 409
    blocked = service.client.post(_case_url(case, "outcome"), json=SEIZURE, headers=service.as_officer(other))
    assert blocked.status_code == 409
    assert "claimed by" in blocked.json()["detail"]
    not_allowed = service.client.post(
        _case_url(case, "outcome"),
        json={**SEIZURE, "override_reason": "I was there too"},
        headers=service.as_officer(other),
    )
    assert not_allowed.status_code == 403
    assert (
        service.client.post(_case_url(case, "release"), headers=service.as_officer(other)).status_code == 409
    )
    supervisor = service.as_officer(service.supervisor_token)
    no_reason = service.client.post(_case_url(case, "outcome"), json=SEIZURE, headers=supervisor)
    assert no_reason.status_code == 409
    overridden = service.client.post(
        _case_url(case, "outcome"),
        json={**SEIZURE, "override_reason": "Officer off sick; seizure confirmed on site"},
        headers=supervisor,
    )
    assert overridden.status_code == 201, overridden.text
    assert overridden.json()["status"] == "closed"
    actions = [action for action, _ in audit_actions(service, f"case:{case['case_id']}")]
    assert actions == ["case.claim", "case.override", "outcome.record"]
    override = orjson.loads(audit_actions(service, f"case:{case['case_id']}")[1][1])
    assert override["details"]["reason"] == "Officer off sick; seizure confirmed on site"
    assert override["details"]["previous_holder"].startswith("officer-")


def test_release_returns_the_case_to_the_queue(service: Service) -> None:
    case = held_by_rule(service, count=1)[0]
    assert service.client.post(_case_url(case, "release"), headers=service.as_officer()).status_code == 409
    service.client.post(_case_url(case, "claim"), headers=service.as_officer())
    released = service.client.post(_case_url(case, "release"), headers=service.as_officer())
    assert released.json() == {"case_id": case["case_id"], "status": "open", "claimed_by": None}
    other = new_officer(service)
    taken = service.client.post(_case_url(case, "claim"), headers=service.as_officer(other))
    assert taken.json()["status"] == "claimed"
    supervisor = service.as_officer(service.supervisor_token)
    forced = service.client.post(
        _case_url(case, "release"),
        json={"override_reason": "Reassigning the shift's cases"},
        headers=supervisor,
    )
    assert forced.json()["status"] == "open"
    actions = [action for action, _ in audit_actions(service, f"case:{case['case_id']}")]
    assert actions == ["case.claim", "case.release", "case.claim", "case.override", "case.release"]


def test_inconclusive_case_stays_pending_until_the_lab_result(service: Service) -> None:
    case = held_by_rule(service, count=1)[0]
    url = _case_url(case)
    pending = service.client.post(
        f"{url}/outcome",
        json={"result": "inconclusive", "substance_category": "stimulants"},
        headers=service.as_officer(),
    )
    assert pending.json()["status"] == "pending_lab"
    assert case["case_id"] in _ids(service, status="pending_lab")
    assert (
        service.client.post(f"{url}/outcome", json=SEIZURE, headers=service.as_officer()).status_code == 409
    )
    assert seizure_counts(service, case["assessment_id"]) == {0}
    not_a_lab_result = service.client.post(
        f"{url}/lab-result", json={"result": "not_presented"}, headers=service.as_officer()
    )
    assert not_a_lab_result.status_code == 422
    lab = {**SEIZURE, "substance_category": "stimulants", "lab_reference": "LAB-2026-0042"}
    done = service.client.post(f"{url}/lab-result", json=lab, headers=service.as_officer())
    assert done.status_code == 201, done.text
    assert done.json()["status"] == "closed"
    assert service.client.post(f"{url}/lab-result", json=lab, headers=service.as_officer()).status_code == 409
    outcomes = service.client.get(url, headers=service.as_officer()).json()["outcomes"]
    assert [(o["kind"], o["result"], o["current"]) for o in outcomes] == [
        ("inspection", "inconclusive", False),
        ("lab_result", "seized", True),
    ]
    assert outcomes[1]["supersedes_id"] == outcomes[0]["outcome_id"]
    assert outcomes[1]["inspected_at"] == outcomes[0]["inspected_at"]  # the inspection, not the lab, is dated
    exported = _exported(service)
    assert [(o.item_id, o.result.value, o.superseded) for o in exported] == [
        (case["item_id"], "inconclusive", True),
        (case["item_id"], "seized", False),
    ]
    assert exported[1].inspected_at == exported[0].inspected_at
    assert exported[1].known_at > exported[0].known_at  # the lab result is known when it was recorded
    assert seizure_counts(service, case["assessment_id"]) == {1}


def test_corrections_supersede_and_never_count_a_seizure_twice(service: Service) -> None:
    case = held_by_rule(service, count=1)[0]
    url = _case_url(case)
    service.client.post(f"{url}/outcome", json=SEIZURE, headers=service.as_officer())
    assert seizure_counts(service, case["assessment_id"]) == {1}
    no_reason = service.client.post(
        f"{url}/correction", json={"result": "nothing_found"}, headers=service.as_officer()
    )
    assert no_reason.status_code == 422
    stranger = service.client.post(
        f"{url}/correction",
        json={"result": "nothing_found", "reason": "not my case"},
        headers=service.as_officer(new_officer(service)),
    )
    assert stranger.status_code == 403
    fix = {"result": "nothing_found", "reason": "Lab found the powder was sugar"}
    corrected = service.client.post(f"{url}/correction", json=fix, headers=service.as_officer())
    assert corrected.status_code == 201, corrected.text
    assert seizure_counts(service, case["assessment_id"]) == {0}
    assert [(o.result.value, o.superseded) for o in _exported(service)] == [
        ("seized", True),
        ("nothing_found", False),
    ]
    category_fix = {**SEIZURE, "reason": "Second opinion: it was cannabis after all"}
    service.client.post(
        f"{url}/correction", json=category_fix, headers=service.as_officer(service.supervisor_token)
    )
    service.client.post(
        f"{url}/correction",
        json={**SEIZURE, "substance_category": "ecstasy", "reason": "Wrong category picked"},
        headers=service.as_officer(),
    )
    assert seizure_counts(service, case["assessment_id"]) == {1}  # seized -> seized does not link again
    exported = _exported(service)
    assert [(o.result.value, o.substance_category, o.superseded) for o in exported] == [
        ("seized", "cannabis", True),
        ("nothing_found", None, True),
        ("seized", "cannabis", True),
        ("seized", "ecstasy", False),
    ]
    with service.session() as session:
        records = session.scalars(select(OutcomeRecord).where(OutcomeRecord.case_id == case["case_id"])).all()
    assert [(r.kind, r.superseded) for r in records] == [
        ("inspection", True),
        ("correction", True),
        ("correction", True),
        ("correction", False),
    ]
    corrections = [p for a, p in audit_actions(service, f"case:{case['case_id']}") if a == "outcome.correct"]
    assert orjson.loads(corrections[0])["details"]["reason"] == "Lab found the powder was sugar"


def test_clear_text_parties_need_a_holder_and_a_purpose_and_are_logged(service: Service) -> None:
    case = held_by_rule(service, count=1)[0]
    url = f"{_case_url(case)}/parties"
    purpose = {"purpose": "Identify the addressee for a controlled delivery"}
    assert service.client.post(url, json=purpose, headers=service.as_officer()).status_code == 403
    service.client.post(_case_url(case, "claim"), headers=service.as_officer())
    assert service.client.post(url, json={"purpose": "why"}, headers=service.as_officer()).status_code == 422
    assert service.client.post(url, json={}, headers=service.as_officer()).status_code == 422
    read = service.client.post(url, json=purpose, headers=service.as_officer())
    assert read.status_code == 200, read.text
    assert read.json()["sender"]["name"] == "Jan de Vries"
    assert read.json()["addressee"]["city"] == "London"
    supervisor = service.client.post(
        url,
        json={"purpose": "Quality review of the officer's access"},
        headers=service.as_officer(service.supervisor_token),
    )
    assert supervisor.status_code == 200
    detail = service.client.get(_case_url(case), headers=service.as_officer()).json()
    assert [a["purpose"] for a in detail["party_access"]] == [
        purpose["purpose"],
        "Quality review of the officer's access",
    ]
    assert "Jan de Vries" not in str(detail)
    with service.session() as session:
        accesses = session.scalars(select(PartyAccess).order_by(PartyAccess.id)).all()
    assert [(a.channel, a.purpose) for a in accesses] == [
        ("api", purpose["purpose"]),
        ("api", "Quality review of the officer's access"),
    ]
    reads = [
        orjson.loads(p) for a, p in audit_actions(service, f"case:{case['case_id']}") if a == "parties.read"
    ]
    assert [r["details"]["purpose"] for r in reads] == [a.purpose for a in accesses]
    assert [r["seq"] for r in reads] == [a.audit_seq for a in accesses]
    with service.session() as session, session.begin():
        session.execute(
            update(ReviewCase)
            .where(ReviewCase.id == case["case_id"])
            .values(purge_after=utcnow() - timedelta(days=1))
        )
    with service.session() as session, session.begin():
        purge(session)
    assert service.client.post(url, json=purpose, headers=service.as_officer()).status_code == 410


def test_analysts_cannot_work_cases_and_admins_can(service: Service) -> None:
    case = held_by_rule(service, count=1)[0]
    analyst = service.as_officer(service.analyst_token)
    for action in ("claim", "release", "outcome", "lab-result", "correction", "parties"):
        assert service.client.post(_case_url(case, action), json={}, headers=analyst).status_code == 403
    admin = service.as_officer(new_officer(service, Role.ADMIN))
    assert service.client.post(_case_url(case, "claim"), headers=admin).json()["status"] == "claimed"
