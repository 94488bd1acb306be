"""Customs routes: the review queue, case detail, claims, outcomes, lab results, corrections, parties, export."""

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response
from fastapi.responses import StreamingResponse

from app.api.deps import MetricsDep, ModelsDep, ReadSessionDep, ReviewerDep, SessionDep
from app.api.error_docs import AUTHENTICATED, WITH_BODY, errors
from app.api.params import CaseId, Cursor, QueueFiltersQuery
from app.api.responses import model_response
from app.db.tables import OutcomeRecord, ReviewCase
from app.metrics import count_outcome
from app.schemas import (
    CaseDetail,
    CasePage,
    CaseState,
    CorrectionInput,
    LabResultInput,
    OutcomeInput,
    OutcomeRecorded,
    OverrideInput,
    PartiesRequest,
    PartiesView,
)
from app.services.case_detail import case_detail, case_summary
from app.services.claims import claim_case, release_case
from app.services.outcomes import complete_lab, correct_outcome, record_outcome
from app.services.parties import read_parties
from app.services.review import QueueOrder, export_outcomes, list_queue, officer_names

router = APIRouter(prefix="/v1/review", tags=["review"])
_READ_ERRORS = errors(*AUTHENTICATED, 422)
_CASE_ERRORS = errors(
    *AUTHENTICATED,
    *WITH_BODY,
    404,
    409,
    s404="No such case",
    s409="The case's state does not allow it, or another officer holds it",
)
OptionalOverride = Annotated[OverrideInput | None, Body()]


def _state(session: SessionDep, case: ReviewCase) -> CaseState:
    names = officer_names(session, {case.claimed_by} if case.claimed_by else set())
    return CaseState.model_validate(
        {"case_id": case.id, "status": case.status, "claimed_by": names.get(case.claimed_by or -1)}
    )


@router.get("/cases", response_model=CasePage, responses=_READ_ERRORS)
def queue(
    session: ReadSessionDep,
    officer: ReviewerDep,
    filters: QueueFiltersQuery,
    order: QueueOrder = "risk",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> CasePage:
    """Held items, riskiest (or newest) first, filtered by status, office, corridor, referral and age."""
    rows, next_cursor = list_queue(
        session, order=order, filters=filters, officer_id=officer.id, limit=limit, cursor=cursor
    )
    return CasePage(cases=[case_summary(row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/cases/{case_id}",
    response_model=CaseDetail,
    responses=errors(*AUTHENTICATED, 404, 422, s404="No such case"),
)
def case(case_id: CaseId, session: SessionDep, models: ModelsDep, _officer: ReviewerDep) -> Response:
    """A case: decision, score, reasons in plain words, rule and list hits, metadata, outcomes, access log."""
    return model_response(case_detail(session, case_id=case_id, models=models))


@router.post("/cases/{case_id}/claim", response_model=CaseState, responses=_CASE_ERRORS)
def claim(
    case_id: CaseId, session: SessionDep, officer: ReviewerDep, body: OptionalOverride = None
) -> Response:
    """Take a case; nobody else may decide it until it is released (a supervisor may override, audited)."""
    override = body.override_reason if body else None
    return model_response(
        _state(session, claim_case(session, case_id=case_id, officer=officer, override_reason=override))
    )


@router.post("/cases/{case_id}/release", response_model=CaseState, responses=_CASE_ERRORS)
def release(
    case_id: CaseId, session: SessionDep, officer: ReviewerDep, body: OptionalOverride = None
) -> Response:
    """Give a claimed case back to the queue."""
    override = body.override_reason if body else None
    return model_response(
        _state(session, release_case(session, case_id=case_id, officer=officer, override_reason=override))
    )


@router.post(
    "/cases/{case_id}/outcome", status_code=201, response_model=OutcomeRecorded, responses=_CASE_ERRORS
)
def add_outcome(
    case_id: CaseId, outcome: OutcomeInput, session: SessionDep, officer: ReviewerDep, metrics: MetricsDep
) -> Response:
    """Record what the inspection found: closes the case ('inconclusive' leaves it pending a lab result)."""
    record = record_outcome(session, case_id=case_id, officer=officer, outcome=outcome)
    return _recorded(session, metrics, record)


@router.post(
    "/cases/{case_id}/lab-result", status_code=201, response_model=OutcomeRecorded, responses=_CASE_ERRORS
)
def add_lab_result(
    case_id: CaseId, lab: LabResultInput, session: SessionDep, officer: ReviewerDep, metrics: MetricsDep
) -> Response:
    """Complete a case pending after an inconclusive inspection with the lab's result."""
    record = complete_lab(session, case_id=case_id, officer=officer, lab=lab)
    return _recorded(session, metrics, record)


@router.post(
    "/cases/{case_id}/correction", status_code=201, response_model=OutcomeRecorded, responses=_CASE_ERRORS
)
def add_correction(
    case_id: CaseId,
    correction: CorrectionInput,
    session: SessionDep,
    officer: ReviewerDep,
    metrics: MetricsDep,
) -> Response:
    """Replace the current outcome, saying why; the old record is kept and marked superseded."""
    record = correct_outcome(session, case_id=case_id, officer=officer, correction=correction)
    return _recorded(session, metrics, record)


def _recorded(session: SessionDep, metrics: MetricsDep, record: OutcomeRecord) -> Response:
    count_outcome(session, metrics, record)
    status = session.get_one(ReviewCase, record.case_id).status
    recorded = OutcomeRecorded.model_validate(
        {"outcome_id": record.id, "case_id": record.case_id, "status": status}
    )
    return model_response(recorded, status_code=201)


@router.post(
    "/cases/{case_id}/parties",
    response_model=PartiesView,
    responses={**_CASE_ERRORS, **errors(410)},
)
def parties(case_id: CaseId, request: PartiesRequest, session: SessionDep, officer: ReviewerDep) -> Response:
    """The clear-text sender and addressee, for the stated purpose; every read is logged and audited."""
    read = read_parties(session, case_id=case_id, officer=officer, purpose=request.purpose, channel="api")
    return model_response(
        PartiesView(
            case_id=case_id,
            sender=read.parties["sender"],
            addressee=read.parties["addressee"],
            access_id=read.access.id,
            purge_after=read.row.case.purge_after,
        )
    )


@router.get("/outcomes.jsonl", response_class=StreamingResponse, responses=errors(*AUTHENTICATED))
def outcomes_export(session: ReadSessionDep, _officer: ReviewerDep) -> StreamingResponse:
    """Every current outcome in the outcome contract, one JSON object per line (the training input)."""
    lines = list(export_outcomes(session))
    return StreamingResponse(iter(lines), media_type="application/x-ndjson")
