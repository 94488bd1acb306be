"""Partner routes: assess a batch of shipments, read one assessment back."""

from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Annotated, Any

import orjson
from anyio import to_thread
from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.api.deps import PartnerDep, ReadSessionDep, request_scorer
from app.api.error_docs import AUTHENTICATED, BatchValidationErrorBody, errors
from app.api.params import AssessmentId
from app.api.responses import model_response
from app.credentials import PartnerKind
from app.db.tables import Assessment, Partner
from app.errors import InvalidRequest, NotFound, UnsupportedMediaType, field_errors
from app.metrics import Metrics, count_batch
from app.schemas import AssessmentResponse, AssessmentView, ItemError
from app.scoring import Scorer
from app.services.assessments import AssessmentPolicy, assess_batch
from app.services.group_commit import GroupCommit
from app.services.idempotency import StoredResponse, request_fingerprint, run_once
from app.settings import Settings
from model.shipment import Shipment

router = APIRouter(prefix="/v1", tags=["assessments"])
_shipment = TypeAdapter(Shipment)
_ERROR_RESPONSES = {
    **errors(
        *AUTHENTICATED, 409, 413, 415, s409="A request with the same Idempotency-Key is still in flight"
    ),
    422: {
        "model": BatchValidationErrorBody,
        "description": "Invalid items, reported by index and field path",
    },
}


@dataclass(frozen=True)
class RawBody:
    content: bytes
    content_type: str | None


GROUPED_ITEMS = 10  # requests of up to this many items (and no Idempotency-Key) are committed in groups
GROUPED_BODY_BYTES = 64 * 1024  # bodies parsed on the event loop; larger ones in a worker thread


@dataclass(frozen=True)
class Assessing:
    """What the route takes from app state, read by one dependency: FastAPI resolves every dependency on
    every request, and eleven of them were a third of a lone request's CPU on the event loop."""

    sessions: sessionmaker[Session]
    scorer: Scorer
    settings: Settings
    policy: AssessmentPolicy
    metrics: Metrics
    group_commit: GroupCommit


async def _assessing(request: Request) -> Assessing:
    state = request.app.state
    return Assessing(
        state.sessions,
        request_scorer(request),
        state.settings,
        state.policy,
        state.metrics,
        state.group_commit,
    )


AssessingDep = Annotated[Assessing, Depends(_assessing)]


def _json_body(raw: bytes, content_type: str | None) -> dict[str, Any]:
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType("send the batch as application/json")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(
            [{"loc": "", "path": [], "message": f"invalid JSON: {exc}", "type": "json_invalid"}]
        ) from exc
    if not isinstance(body, dict):
        raise InvalidRequest(
            [{"loc": "", "path": [], "message": "the body is a JSON object", "type": "dict_type"}]
        )
    return body


def _envelope(body: dict[str, Any], max_items: int) -> tuple[list[Any], bool]:
    problems = [
        {"loc": key, "path": [key], "message": "unknown field", "type": "extra_forbidden"}
        for key in body
        if key not in {"items", "partial"}
    ]
    items, partial = body.get("items"), body.get("partial", False)
    if not isinstance(items, list) or not 1 <= len(items) <= max_items:
        problems.append(
            {
                "loc": "items",
                "path": ["items"],
                "type": "items_count",
                "message": f"items is a list of 1 to {max_items} shipments",
            }
        )
    if not isinstance(partial, bool):
        problems.append({"loc": "partial", "path": ["partial"], "message": "a boolean", "type": "bool_type"})
    if problems:
        raise InvalidRequest(problems)
    assert isinstance(items, list)
    return items, partial


def _validate_items(
    raw_items: list[Any], partner_kind: str
) -> tuple[list[tuple[int, Shipment]], list[ItemError]]:
    valid: list[tuple[int, Shipment]] = []
    errors: list[ItemError] = []
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(raw_items):
        prefix = ("items", index)
        try:
            # Strict JSON, as the schema reads: a boolean is no number and a number no text.
            shipment = _shipment.validate_json(orjson.dumps(raw), strict=True)
        except ValidationError as exc:
            errors.append(ItemError(index=index, errors=field_errors(exc.errors(), prefix)))
            continue
        problem = None
        natural_key = (shipment.item_id, shipment.posting.posted_at.date().isoformat())
        if partner_kind == PartnerKind.POST and shipment.item_id_scheme != "s10":
            problem = ("item_id_scheme", "posts file UPU S10 item ids; waybills are for courier partners")
        elif natural_key in seen:
            problem = ("item_id", f"the same item (id and posting date) is also at index {seen[natural_key]}")
        if problem:
            path = [*prefix, problem[0]]
            detail = {
                "loc": ".".join(map(str, path)),
                "path": path,
                "message": problem[1],
                "type": "value_error",
            }
            errors.append(ItemError(index=index, errors=[detail]))
            continue
        seen[natural_key] = index
        valid.append((index, shipment))
    return valid, errors


@router.post(
    "/assessments",
    response_model=AssessmentResponse,
    responses=_ERROR_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AssessmentRequest"}}},
        }
    },
)
async def assess(
    request: Request,
    assessing: AssessingDep,
    partner: PartnerDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> Response:
    """Assess a batch: one decision per item (release or hold), committed before the answer is sent.

    All-or-nothing by default: one invalid item rejects the batch with 422 listing every error by index and
    field path. With `"partial": true` the valid items are assessed and the invalid ones reported. With an
    `Idempotency-Key` header a retry returns the first answer (`Idempotent-Replayed: true`); the same key with
    another body gets 422, and while the first request is in flight 409. Small requests without a key that
    arrive together are committed together (they may share a `batch_id`).
    """
    body = RawBody(await request.body(), request.headers.get("content-type"))
    if len(body.content) > GROUPED_BODY_BYTES:  # parsing a large body would hold up the event loop
        return await to_thread.run_sync(partial(_assess_now, body, assessing, partner, idempotency_key))
    parsed = _parsed(body, assessing.settings, partner)
    if idempotency_key is None and not parsed.errors and len(parsed.valid) <= GROUPED_ITEMS:
        answer = await assessing.group_commit.assess(
            partner=partner, scorer=assessing.scorer, items=parsed.valid
        )
        return model_response(answer)
    return await to_thread.run_sync(partial(_assess_now, parsed, assessing, partner, idempotency_key))


@dataclass(frozen=True)
class ParsedRequest:
    valid: list[tuple[int, Shipment]]
    errors: list[ItemError]
    items: int
    content: bytes


def _parsed(body: RawBody, settings: Settings, partner: Partner) -> ParsedRequest:
    items, partial = _envelope(_json_body(body.content, body.content_type), settings.max_batch_items)
    valid, errors = _validate_items(items, partner.kind)
    if errors and (not partial or not valid):
        raise InvalidRequest([e.model_dump() for e in errors])
    return ParsedRequest(valid, errors, len(items), body.content)


def _assess_now(
    request: RawBody | ParsedRequest, assessing: Assessing, partner: Partner, idempotency_key: str | None
) -> Response:
    """The request in its own transaction, committed in the worker thread that runs it, before the answer is
    sent (only these requests open one: a grouped request's group has its own), with its idempotency record
    if it has a key."""
    settings = assessing.settings
    parsed = request if isinstance(request, ParsedRequest) else _parsed(request, settings, partner)
    with assessing.sessions.begin() as session:

        def work() -> AssessmentResponse:
            batch = assess_batch(
                session,
                scorer=assessing.scorer,
                partner=partner,
                items=parsed.valid,
                policy=assessing.policy,
                errors=parsed.errors,
            )
            count_batch(session, assessing.metrics, items=parsed.items, tally=batch.tally)
            return batch.response

        result = (
            work()
            if idempotency_key is None
            else run_once(
                session,
                partner_id=partner.id,
                key=idempotency_key,
                fingerprint=request_fingerprint("POST", "/v1/assessments", parsed.content),
                ttl=timedelta(hours=settings.idempotency_ttl_hours),
                work=work,
            )
        )
    # rendered after the commit: not while the batch holds its history rows
    if isinstance(result, StoredResponse):
        return Response(
            result.body,
            status_code=result.status_code,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    return model_response(result)


@router.get(
    "/assessments/{assessment_id}",
    response_model=AssessmentView,
    responses=errors(*AUTHENTICATED, 404, 422, s404="No such assessment of this partner"),
)
def read_assessment(
    assessment_id: AssessmentId, session: ReadSessionDep, partner: PartnerDep
) -> AssessmentView:
    """One of this partner's assessments (another partner's is reported as not found)."""
    row = session.scalar(
        select(Assessment).where(Assessment.id == assessment_id, Assessment.partner_id == partner.id)
    )
    if row is None:
        raise NotFound(f"no assessment {assessment_id!r}")
    return AssessmentView.model_validate(
        {
            "assessment_id": row.id,
            "batch_id": row.batch_id,
            "item_id": row.item_id,
            "decision": row.decision,
            "referral": row.referral,
            "assessed_at": row.created_at,
        }
    )
