"""Customs routes: the review queue, case detail with reasons, outcomes and their export."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.api.deps import ReviewerDep, ScorerDep, SessionDep
from app.schemas import CaseDetail, CasePage, CaseSummary, OutcomeInput, OutcomeView
from app.services.review import (
    QueueOrder,
    QueueRow,
    case_outcomes,
    ensure_reasons,
    export_outcomes,
    list_queue,
    load_case,
    record_outcome,
)

router = APIRouter(prefix="/v1/review", tags=["review"])
_AUTH_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing, unknown, expired or revoked officer token"},
    403: {"description": "A partner key, or a role without access"},
}


def _summary(row: QueueRow) -> CaseSummary:
    return CaseSummary(
        case_id=row.case.id,
        assessment_id=row.assessment.id,
        item_id=row.assessment.item_id,
        status=row.case.status,
        score=row.case.score,
        referral=row.case.referral,
        origin=row.assessment.origin,
        destination=row.assessment.destination,
        mail_class=row.assessment.mail_class,
        created_at=row.case.created_at,
        claimed_by=row.claimed_by,
    )


@router.get("/cases", response_model=CasePage, responses=_AUTH_ERRORS)
def queue(
    session: SessionDep,
    _officer: ReviewerDep,
    order: QueueOrder = "risk",
    status: Annotated[str | None, Query(pattern="^(open|claimed|closed)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> CasePage:
    """Held items, riskiest (or newest) first, one page at a time."""
    rows, next_cursor = list_queue(session, order=order, status=status, limit=limit, cursor=cursor)
    return CasePage(cases=[_summary(row) for row in rows], next_cursor=next_cursor)


@router.get("/cases/{case_id}", response_model=CaseDetail, responses={**_AUTH_ERRORS, 404: {}})
def case_detail(case_id: int, session: SessionDep, scorer: ScorerDep, _officer: ReviewerDep) -> CaseDetail:
    """A case with its score, reasons in plain words, shipment metadata and outcomes so far."""
    row = load_case(session, case_id)
    ensure_reasons(row.case, scorer)
    outcomes = [
        OutcomeView.model_validate(
            {
                "outcome_id": record.id,
                "result": record.result,
                "substance_category": record.substance_category,
                "quantity": (
                    {"value": record.quantity_value, "unit": record.quantity_unit}
                    if record.quantity_value is not None
                    else None
                ),
                "inspected_at": record.inspected_at,
                "recorded_by": username,
                "recorded_at": record.recorded_at,
                "note": record.note,
                "supersedes_id": record.supersedes_id,
            }
        )
        for record, username in case_outcomes(session, case_id)
    ]
    return CaseDetail.model_validate(
        {
            **_summary(row).model_dump(),
            "decision": row.assessment.decision,
            "selection_reason": row.assessment.selection_reason,
            "model_version": row.assessment.model_version,
            "threshold": row.assessment.threshold,
            "reasons": row.case.reasons or [],
            "shipment": row.assessment.shipment,
            "outcomes": outcomes,
        }
    )


@router.post("/cases/{case_id}/outcome", status_code=201, responses={**_AUTH_ERRORS, 404: {}, 409: {}})
def add_outcome(
    case_id: int, outcome: OutcomeInput, session: SessionDep, officer: ReviewerDep
) -> dict[str, int]:
    """Record what the inspection found; closes the case and feeds seizures back into the history."""
    record = record_outcome(session, case_id=case_id, officer=officer, outcome=outcome)
    return {"outcome_id": record.id, "case_id": case_id}


@router.get("/outcomes.jsonl", response_class=StreamingResponse, responses=_AUTH_ERRORS)
def outcomes_export(session: SessionDep, _officer: ReviewerDep) -> StreamingResponse:
    """Every current outcome in the outcome contract, one JSON object per line (the training input)."""
    lines = list(export_outcomes(session))
    return StreamingResponse(iter(lines), media_type="application/x-ndjson")
