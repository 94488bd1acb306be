"""Outcomes: the inspection record, the lab result completing a pending case, corrections, and seizure links.

A case has one current outcome; a lab result or a correction supersedes it and the old record stays. The party
history counts a seizure while the case's current outcome is a drug finding: it is linked when an outcome
becomes one and unlinked when a correction takes it away, so corrections never count a seizure twice.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.history_store import SqlHistoryStore
from app.db.tables import Assessment, Officer, OutcomeRecord
from app.errors import Conflict, Forbidden
from app.schemas import CorrectionInput, LabResultInput, OutcomeFields, OutcomeInput
from app.services import audit
from app.services.claims import SUPERVISING_ROLES, actor, audit_override, take_over
from app.services.review import QueueRow, load_case
from model.entities import seizure_targets
from model.history import EntityState, link_seizure, unlink_seizure
from model.shipment import FINDING_RESULTS, OutcomeResult
from model.taxonomy import DrugCategory


def found_drugs(result: str, substance_category: str | None) -> bool:
    return result in FINDING_RESULTS and substance_category != DrugCategory.NON_DRUG.value


def current_outcome(session: Session, case_id: int) -> OutcomeRecord | None:
    return session.scalar(
        select(OutcomeRecord)
        .where(OutcomeRecord.case_id == case_id, OutcomeRecord.superseded.is_(False))
        .order_by(OutcomeRecord.id.desc())
        .limit(1)
    )


def _new_record(
    row: QueueRow, officer: Officer, fields: OutcomeFields, *, kind: str, inspected_at: datetime
) -> OutcomeRecord:
    return OutcomeRecord(
        case_id=row.case.id,
        assessment_id=row.assessment.id,
        kind=kind,
        result=fields.result.value,
        substance_category=fields.substance_category.value if fields.substance_category else None,
        quantity_value=fields.quantity.value if fields.quantity else None,
        quantity_unit=fields.quantity.unit if fields.quantity else None,
        inspected_at=inspected_at,
        recorded_by=officer.id,
        recorded_at=utcnow(),
        note=fields.note,
    )


def _locked_targets(
    session: Session, named: list[str]
) -> tuple[SqlHistoryStore, list[str], dict[str, EntityState]]:
    """Lock the rows of the seizure's targets in one pass, in the store's lock order (entity keys, then the
    aggregate keys a batch locks last, so neither waits for the other in a cycle): the targets depend on the
    senders' history, so they are guessed from an unlocked read and the lock is retried (from a savepoint) if
    they moved on. A batch that read an aggregate row before this commits merges its own items into it."""
    guess = set(seizure_targets(named, SqlHistoryStore(session).load(named)))
    while True:
        savepoint = session.begin_nested()
        store = SqlHistoryStore(session)
        states = store.load(guess, lock=True)
        targets = seizure_targets(named, states)
        if guess.issuperset(targets):
            savepoint.commit()
            return store, targets, states
        savepoint.rollback()  # releases the row locks taken since the savepoint
        guess.update(targets)


def _update_history(session: Session, assessment: Assessment, *, found: bool, known_at: datetime) -> None:
    store, targets, states = _locked_targets(session, assessment.entity_keys())
    if found:
        link_seizure(states, targets, known_at.timestamp())
    else:
        unlink_seizure(states, targets)
    store.save(states)


def _make_current(
    session: Session, row: QueueRow, record: OutcomeRecord, previous: OutcomeRecord | None
) -> None:
    """Store `record` as the case's outcome, superseding `previous`; set the case's status and history."""
    if previous is not None:
        previous.superseded = True
        record.supersedes_id = previous.id
    session.add(record)
    session.flush()
    before = previous is not None and found_drugs(previous.result, previous.substance_category)
    after = found_drugs(record.result, record.substance_category)
    if before != after:
        _update_history(session, row.assessment, found=after, known_at=record.recorded_at)
    pending = record.result == OutcomeResult.INCONCLUSIVE.value and record.kind != "lab_result"
    row.case.status = "pending_lab" if pending else "closed"
    row.case.closed_at = None if pending else record.recorded_at


def _audit(
    session: Session, *, officer: Officer, row: QueueRow, record: OutcomeRecord, action: str, **extra: Any
) -> None:
    audit.append(
        session,
        actor=actor(officer),
        action=action,
        subject=f"case:{row.case.id}",
        details={
            "outcome_id": record.id,
            "assessment_id": row.assessment.id,
            "result": record.result,
            "substance_category": record.substance_category,
            "quantity": [record.quantity_value, record.quantity_unit],
            "status": row.case.status,
            "by": officer.username,
            **extra,
        },
    )


def record_outcome(
    session: Session, *, case_id: int, officer: Officer, outcome: OutcomeInput
) -> OutcomeRecord:
    """The inspection's outcome: closes the case, or leaves it pending a lab result when inconclusive."""
    row = load_case(session, case_id, lock=True)
    if row.case.status == "closed":
        raise Conflict(f"case {case_id} already has an outcome; correct it instead")
    if row.case.status == "pending_lab":
        raise Conflict(f"case {case_id} awaits its lab result; record that instead")
    override = take_over(row, officer=officer, override_reason=outcome.override_reason, action="decide")
    record = _new_record(
        row, officer, outcome, kind="inspection", inspected_at=outcome.inspected_at or utcnow()
    )
    _make_current(session, row, record, None)
    audit_override(session, officer=officer, case=row.case, override=override)
    _audit(session, officer=officer, row=row, record=record, action="outcome.record")
    return record


def complete_lab(session: Session, *, case_id: int, officer: Officer, lab: LabResultInput) -> OutcomeRecord:
    """The lab's result for a pending case; it supersedes the inconclusive record and closes the case."""
    row = load_case(session, case_id, lock=True)
    previous = current_outcome(session, case_id)
    if row.case.status != "pending_lab" or previous is None:
        raise Conflict(f"case {case_id} is not waiting for a lab result")
    override = take_over(row, officer=officer, override_reason=lab.override_reason, action="complete")
    record = _new_record(
        row, officer, lab, kind="lab_result", inspected_at=lab.inspected_at or previous.inspected_at
    )
    record.lab_reference = lab.lab_reference
    _make_current(session, row, record, previous)
    audit_override(session, officer=officer, case=row.case, override=override)
    _audit(
        session,
        officer=officer,
        row=row,
        record=record,
        action="outcome.lab_result",
        supersedes=previous.id,
        lab_reference=lab.lab_reference,
    )
    return record


def correct_outcome(
    session: Session, *, case_id: int, officer: Officer, correction: CorrectionInput
) -> OutcomeRecord:
    """Replace the case's current outcome; allowed to its recorder, the case's holder and supervisors."""
    row = load_case(session, case_id, lock=True)
    previous = current_outcome(session, case_id)
    if previous is None:
        raise Conflict(f"case {case_id} has no outcome to correct")
    allowed = {previous.recorded_by, row.case.claimed_by}
    if officer.id not in allowed and officer.role not in SUPERVISING_ROLES:
        raise Forbidden(
            "only the officer who recorded the outcome, the case's holder or a supervisor may correct it"
        )
    record = _new_record(
        row,
        officer,
        correction,
        kind="correction",
        inspected_at=correction.inspected_at or previous.inspected_at,
    )
    record.reason = correction.reason
    _make_current(session, row, record, previous)
    _audit(
        session,
        officer=officer,
        row=row,
        record=record,
        action="outcome.correct",
        supersedes=previous.id,
        previous_result=previous.result,
        previous_substance_category=previous.substance_category,
        reason=correction.reason,
    )
    return record
