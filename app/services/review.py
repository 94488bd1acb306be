"""The review workflow: the queue of held items, case detail with reasons, and recording outcomes."""

import base64
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import orjson
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.engine import lock_history
from app.db.history_store import SqlHistoryStore
from app.db.tables import Assessment, Officer, OutcomeRecord, ReviewCase
from app.errors import BadRequest, Conflict, InvalidRequest, NotFound
from app.schemas import OutcomeInput
from app.scoring import Scorer
from model.history import link_seizure
from model.shipment import FINDING_RESULTS, Outcome
from model.taxonomy import DrugCategory

QueueOrder = Literal["risk", "newest"]


@dataclass(frozen=True)
class QueueRow:
    case: ReviewCase
    assessment: Assessment
    claimed_by: str | None


def _encode_cursor(values: list[float | str | int]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode()


def _decode_cursor(cursor: str) -> list[float | str | int]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise BadRequest("cursor is not one this API returned") from exc
    if not isinstance(values, list) or len(values) != 2:
        raise BadRequest("cursor is not one this API returned")
    return values


def _queue_query(order: QueueOrder, status: str | None, cursor: str | None) -> Select[ReviewCase, Assessment]:
    query = select(ReviewCase, Assessment).join(Assessment, Assessment.id == ReviewCase.assessment_id)
    if status:
        query = query.where(ReviewCase.status == status)
    if order == "risk":
        if cursor:
            raw_score, case_id = _decode_cursor(cursor)
            query = query.where(
                or_(
                    ReviewCase.raw_score < raw_score,
                    and_(ReviewCase.raw_score == raw_score, ReviewCase.id < case_id),
                )
            )
        return query.order_by(ReviewCase.raw_score.desc(), ReviewCase.id.desc())
    if cursor:
        _, case_id = _decode_cursor(cursor)
        query = query.where(ReviewCase.id < case_id)
    return query.order_by(ReviewCase.id.desc())


def list_queue(
    session: Session, *, order: QueueOrder, status: str | None, limit: int, cursor: str | None
) -> tuple[list[QueueRow], str | None]:
    """One page of cases, riskiest or newest first, and the cursor of the next page (None at the end)."""
    rows = session.execute(_queue_query(order, status, cursor).limit(limit + 1)).all()
    names = _officer_names(session, {case.claimed_by for case, _ in rows if case.claimed_by is not None})
    page = [QueueRow(case, assessment, names.get(case.claimed_by or -1)) for case, assessment in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1].case
        next_cursor = _encode_cursor([last.raw_score, last.id])
    return page, next_cursor


def _officer_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Officer.id, Officer.username).where(Officer.id.in_(ids))).all())


def load_case(session: Session, case_id: int) -> QueueRow:
    row = session.execute(
        select(ReviewCase, Assessment)
        .join(Assessment, Assessment.id == ReviewCase.assessment_id)
        .where(ReviewCase.id == case_id)
    ).first()
    if row is None:
        raise NotFound(f"no case {case_id}")
    case, assessment = row
    names = _officer_names(session, {case.claimed_by} if case.claimed_by else set())
    return QueueRow(case, assessment, names.get(case.claimed_by or -1))


def ensure_reasons(case: ReviewCase, scorer: Scorer) -> None:
    """Compute and keep the case's reasons the first time it is opened (contributions are costly)."""
    if case.reasons is not None:
        return
    vector = np.array([[math.nan if v is None else v for v in case.features]], dtype=np.float64)
    case.reasons = [
        {"feature": r.feature, "sentence": r.sentence, "value": r.value, "contribution": r.contribution}
        for r in scorer.reasons(vector)[0]
    ]


def case_outcomes(session: Session, case_id: int) -> list[tuple[OutcomeRecord, str]]:
    rows = session.execute(
        select(OutcomeRecord, Officer.username)
        .join(Officer, Officer.id == OutcomeRecord.recorded_by)
        .where(OutcomeRecord.case_id == case_id)
        .order_by(OutcomeRecord.id)
    )
    return list(rows)


def record_outcome(
    session: Session, *, case_id: int, officer: Officer, outcome: OutcomeInput
) -> OutcomeRecord:
    """Store the outcome, close the case, and link a seizure to the item's entities in the history."""
    if outcome.result in FINDING_RESULTS and outcome.substance_category is None:
        raise InvalidRequest(
            [
                {
                    "loc": "substance_category",
                    "path": ["substance_category"],
                    "type": "missing",
                    "message": f"required when result is '{outcome.result}'",
                }
            ]
        )
    row = load_case(session, case_id)
    if row.case.status == "closed":
        raise Conflict(f"case {case_id} already has an outcome")
    now = utcnow()
    record = OutcomeRecord(
        case_id=case_id,
        assessment_id=row.assessment.id,
        result=outcome.result.value,
        substance_category=outcome.substance_category.value if outcome.substance_category else None,
        quantity_value=outcome.quantity.value if outcome.quantity else None,
        quantity_unit=outcome.quantity.unit if outcome.quantity else None,
        inspected_at=outcome.inspected_at or now,
        recorded_by=officer.id,
        recorded_at=now,
        note=outcome.note,
    )
    session.add(record)
    row.case.status = "closed"
    row.case.closed_at = now
    if outcome.result in FINDING_RESULTS and outcome.substance_category is not DrugCategory.NON_DRUG:
        _link_seizure(session, row.assessment, now)
    session.flush()
    return record


def _link_seizure(session: Session, assessment: Assessment, known_at: datetime) -> None:
    lock_history(session)
    store = SqlHistoryStore(session)
    states = store.load(assessment.entity_keys())
    link_seizure(states, assessment.entity_keys(), known_at.timestamp())
    store.save(states)


def export_outcomes(session: Session) -> Iterator[bytes]:
    """Current (not superseded) outcomes as JSON lines in the outcome contract, oldest first."""
    rows = session.execute(
        select(OutcomeRecord, Assessment)
        .join(Assessment, Assessment.id == OutcomeRecord.assessment_id)
        .where(OutcomeRecord.superseded.is_(False))
        .order_by(OutcomeRecord.id)
    )
    for record, assessment in rows:
        quantity = None
        if record.quantity_value is not None:
            quantity = {"value": record.quantity_value, "unit": record.quantity_unit}
        outcome = Outcome.model_validate(
            {
                "item_id": assessment.item_id,
                "posted_on": assessment.posted_on,
                "assessment_id": assessment.id,
                "inspected_at": record.inspected_at,
                "result": record.result,
                "substance_category": record.substance_category,
                "quantity": quantity,
                "selection_reason": assessment.selection_reason,
                "selection_probability": assessment.selection_probability,
            }
        )
        yield outcome.model_dump_json(exclude_none=True).encode() + b"\n"
