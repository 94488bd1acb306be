"""A case as officers see it (summary, reasons, hits, outcomes, clear-text access log), for API and pages."""

from sqlalchemy.orm import Session

from app.db.tables import OutcomeRecord
from app.model_holder import ModelHolder
from app.schemas import CaseDetail, CaseSummary, OutcomeView, PartyAccessView
from app.services.parties import access_log
from app.services.review import QueueRow, case_outcomes, ensure_reasons, load_case


def case_summary(row: QueueRow) -> CaseSummary:
    return CaseSummary.model_validate(
        {
            "case_id": row.case.id,
            "assessment_id": row.assessment.id,
            "item_id": row.assessment.item_id,
            "status": row.case.status,
            "score": row.case.score,
            "referral": row.case.referral,
            "origin": row.assessment.origin,
            "destination": row.assessment.destination,
            "mail_class": row.assessment.mail_class,
            "office": row.office,
            "created_at": row.case.created_at,
            "claimed_by": row.claimed_by,
        }
    )


def outcome_view(record: OutcomeRecord, username: str) -> OutcomeView:
    quantity = None
    if record.quantity_value is not None:
        quantity = {"value": record.quantity_value, "unit": record.quantity_unit}
    return OutcomeView.model_validate(
        {
            "outcome_id": record.id,
            "kind": record.kind,
            "current": not record.superseded,
            "result": record.result,
            "substance_category": record.substance_category,
            "quantity": quantity,
            "inspected_at": record.inspected_at,
            "recorded_by": username,
            "recorded_at": record.recorded_at,
            "note": record.note,
            "reason": record.reason,
            "lab_reference": record.lab_reference,
            "supersedes_id": record.supersedes_id,
        }
    )


def case_detail(session: Session, *, case_id: int, models: ModelHolder) -> CaseDetail:
    """The case with reasons in plain words from the model that scored it (computed and kept on first open);
    never the clear-text parties."""
    row = load_case(session, case_id)
    if row.case.reasons is None:
        ensure_reasons(row.case, models.scorer_for(row.assessment.model_version))
    accesses = [
        PartyAccessView(
            officer=username, purpose=access.purpose, channel=access.channel, accessed_at=access.accessed_at
        )
        for access, username in access_log(session, case_id)
    ]
    return CaseDetail.model_validate(
        {
            **case_summary(row).model_dump(),
            "claimed_at": row.case.claimed_at,
            "decision": row.assessment.decision,
            "selection_reason": row.assessment.selection_reason,
            "model_version": row.assessment.model_version,
            "threshold": row.assessment.threshold,
            "reasons": row.case.reasons or [],
            "hits": row.assessment.hits or [],
            "shipment": row.assessment.shipment,
            "outcomes": [outcome_view(r, name) for r, name in case_outcomes(session, case_id)],
            "parties_available": row.case.parties is not None,
            "parties_purge_after": row.case.purge_after,
            "party_access": accesses,
        }
    )
