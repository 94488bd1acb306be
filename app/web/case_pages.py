"""The case page and its forms: claim, release, outcome, lab result, correction and the clear-text parties."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.api.deps import MetricsDep, ModelsDep, ReadSessionDep, SessionDep
from app.api.params import CaseId
from app.errors import AppError, field_errors
from app.metrics import count_outcome
from app.schemas import CorrectionInput, LabResultInput, OutcomeInput, PartiesRequest
from app.services.case_detail import case_detail
from app.services.claims import SUPERVISING_ROLES, claim_case, release_case
from app.services.outcomes import complete_lab, correct_outcome, record_outcome
from app.services.parties import PartiesRead, read_parties
from app.services.web_sessions import SignedIn
from app.web.auth import ReviewerFormDep, ReviewerPageDep
from app.web.templating import mark_page, render
from model.shipment import OutcomeResult
from model.taxonomy import DrugCategory

router = APIRouter(prefix="/cases", include_in_schema=False, dependencies=[Depends(mark_page)])
DONE = {
    "claimed": "You hold this case now.",
    "released": "The case is back in the queue.",
    "outcome": "Outcome recorded.",
    "lab": "Lab result recorded.",
    "corrected": "Correction recorded; the earlier outcome is kept as superseded.",
}


@dataclass(frozen=True)
class OutcomeForm:
    """The fields of the outcome, lab result and correction forms, as the browser sent them."""

    result: str
    substance_category: str
    quantity_value: str
    quantity_unit: str
    note: str
    override_reason: str
    lab_reference: str
    reason: str

    def document(self, *extra: str) -> dict[str, Any]:
        document: dict[str, Any] = {
            "result": self.result or None,
            "substance_category": self.substance_category or None,
            "note": self.note.strip() or None,
        }
        if self.quantity_value.strip():
            document["quantity"] = {"value": self.quantity_value.strip(), "unit": self.quantity_unit}
        for name in extra:
            if value := getattr(self, name).strip():
                document[name] = value
        return document


def _outcome_form(
    result: Annotated[str, Form()] = "",
    substance_category: Annotated[str, Form()] = "",
    quantity_value: Annotated[str, Form()] = "",
    quantity_unit: Annotated[str, Form()] = "g",
    note: Annotated[str, Form()] = "",
    override_reason: Annotated[str, Form()] = "",
    lab_reference: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> OutcomeForm:
    return OutcomeForm(
        result,
        substance_category,
        quantity_value,
        quantity_unit,
        note,
        override_reason,
        lab_reference,
        reason,
    )


OutcomeFormDep = Annotated[OutcomeForm, Depends(_outcome_form)]


def _permissions(user: SignedIn, claimed_by: str | None, status: str) -> dict[str, bool]:
    mine = claimed_by == user.officer.username
    supervisor = user.officer.role in SUPERVISING_ROLES
    free = claimed_by is None or mine
    return {
        "mine": mine,
        "supervisor": supervisor,
        "needs_override": claimed_by is not None and not mine,
        "can_claim": status != "closed" and (claimed_by is None or (not mine and supervisor)),
        "can_release": claimed_by is not None and status != "closed" and (mine or supervisor),
        "can_decide": status in ("open", "claimed") and (free or supervisor),
        "can_complete": status == "pending_lab" and (free or supervisor),
        "can_see_parties": mine or supervisor,
    }


def _case_page(
    request: Request,
    session: SessionDep,
    models: ModelsDep,
    user: SignedIn,
    case_id: CaseId,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    detail = case_detail(session, case_id=case_id, models=models)
    context: dict[str, Any] = {
        "case": detail,
        "may": _permissions(user, detail.claimed_by, detail.status),
        "results": list(OutcomeResult),
        "lab_results": [OutcomeResult.SEIZED, OutcomeResult.NOTHING_FOUND, OutcomeResult.INCONCLUSIVE],
        "categories": list(DrugCategory),
        "errors": [],
        "form": None,
        "form_name": None,
        "parties": None,
        "flash": DONE.get(request.query_params.get("done", "")),
        **extra,
    }
    return render(request, "case.html", context, status_code)


@router.get("/{case_id}")
def case_page(
    case_id: CaseId, request: Request, session: ReadSessionDep, models: ModelsDep, user: ReviewerPageDep
) -> Response:
    """Decision, score, reasons in plain words, hits, metadata, outcomes, and the forms to act on it (read in
    a read-only session, so it never waits for a writer: reasons computed here, with the model that scored
    the item, are kept once the API's case view or an action opens the case for writing)."""
    with session.no_autoflush:  # a flush would try to write, and SQLite refuses that to a read snapshot
        return _case_page(request, session, models, user, case_id)


def _act(
    request: Request,
    session: SessionDep,
    models: ModelsDep,
    user: SignedIn,
    case_id: CaseId,
    action: Callable[[], Any],
    *,
    done: str,
    form: OutcomeForm | None = None,
    form_name: str | None = None,
    show: Callable[[Any], Response] | None = None,
) -> Response:
    """Run a form's action, then go back to the case (post/redirect/get) or `show` its result; on a refusal
    show the case again with the reasons, keeping what was typed."""
    try:
        result = action()
    except (AppError, ValidationError) as exc:
        session.rollback()  # nothing of a refused action is kept
        errors = field_errors(exc.errors()) if isinstance(exc, ValidationError) else [{"message": exc.detail}]
        status_code = 422 if isinstance(exc, ValidationError) else exc.status_code
        return _case_page(
            request, session, models, user, case_id, status_code=status_code,
            errors=errors, form=form, form_name=form_name,
        )  # fmt: skip
    if show is not None:
        return show(result)
    return RedirectResponse(f"/cases/{case_id}?done={done}", status_code=303)


def _hand_over(
    change: Callable[..., object], session: Session, case_id: int, user: SignedIn, override_reason: str
) -> Callable[[], object]:
    """A claim or release for `_act`, with the form's override reason (blank means none)."""
    reason = override_reason.strip() or None
    return lambda: change(session, case_id=case_id, officer=user.officer, override_reason=reason)


@router.post("/{case_id}/claim")
def claim(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    models: ModelsDep,
    user: ReviewerFormDep,
    override_reason: Annotated[str, Form()] = "",
) -> Response:
    action = _hand_over(claim_case, session, case_id, user, override_reason)
    return _act(request, session, models, user, case_id, action, done="claimed")


@router.post("/{case_id}/release")
def release(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    models: ModelsDep,
    user: ReviewerFormDep,
    override_reason: Annotated[str, Form()] = "",
) -> Response:
    action = _hand_over(release_case, session, case_id, user, override_reason)
    return _act(request, session, models, user, case_id, action, done="released")


@router.post("/{case_id}/outcome")
def outcome(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    models: ModelsDep,
    user: ReviewerFormDep,
    form: OutcomeFormDep,
    metrics: MetricsDep,
) -> Response:
    def action() -> object:
        parsed = OutcomeInput.model_validate(form.document("override_reason"))
        record = record_outcome(session, case_id=case_id, officer=user.officer, outcome=parsed)
        count_outcome(session, metrics, record)
        return record

    return _act(
        request, session, models, user, case_id, action, done="outcome", form=form, form_name="outcome"
    )


@router.post("/{case_id}/lab-result")
def lab_result(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    models: ModelsDep,
    user: ReviewerFormDep,
    form: OutcomeFormDep,
    metrics: MetricsDep,
) -> Response:
    def action() -> object:
        parsed = LabResultInput.model_validate(form.document("override_reason", "lab_reference"))
        record = complete_lab(session, case_id=case_id, officer=user.officer, lab=parsed)
        count_outcome(session, metrics, record)
        return record

    return _act(request, session, models, user, case_id, action, done="lab", form=form, form_name="lab")


@router.post("/{case_id}/correction")
def correction(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    models: ModelsDep,
    user: ReviewerFormDep,
    form: OutcomeFormDep,
    metrics: MetricsDep,
) -> Response:
    def action() -> object:
        parsed = CorrectionInput.model_validate({**form.document(), "reason": form.reason})
        record = correct_outcome(session, case_id=case_id, officer=user.officer, correction=parsed)
        count_outcome(session, metrics, record)
        return record

    return _act(
        request, session, models, user, case_id, action, done="corrected", form=form, form_name="correction"
    )


@router.post("/{case_id}/parties")
def parties(
    case_id: CaseId,
    request: Request,
    session: SessionDep,
    models: ModelsDep,
    user: ReviewerFormDep,
    purpose: Annotated[str, Form()] = "",
) -> Response:
    """Show the clear-text parties on this response only (never stored by the browser), logged with the purpose."""

    def action() -> PartiesRead:
        stated = PartiesRequest(purpose=purpose).purpose
        return read_parties(session, case_id=case_id, officer=user.officer, purpose=stated, channel="web")

    def show(read: PartiesRead) -> Response:
        return _case_page(request, session, models, user, case_id, parties=read.parties)

    return _act(request, session, models, user, case_id, action, done="", form_name="parties", show=show)
