"""The review queue: held items filtered and ordered by risk, one case with its reasons, and outcome export."""

import base64
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal

import numpy as np
import orjson
from pydantic import Field, TypeAdapter
from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.tables import Assessment, Officer, OutcomeRecord, ReviewCase
from app.errors import NotFound
from app.schemas import QueueFilters, RowId
from app.scoring import Scorer
from model.shipment import Outcome

QueueOrder = Literal["risk", "newest"]


@dataclass(frozen=True)
class QueueRow:
    case: ReviewCase
    assessment: Assessment
    claimed_by: str | None

    @property
    def office(self) -> str | None:
        office = self.assessment.shipment.get("posting", {}).get("office_id")
        return str(office) if office is not None else None


@dataclass(frozen=True)
class QueueCursor:
    """Where the previous page ended: the last case's raw score and id."""

    raw_score: float
    case_id: int


_cursor_values = TypeAdapter(tuple[Annotated[float, Field(allow_inf_nan=False)], RowId])


def _encode_cursor(cursor: QueueCursor) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([cursor.raw_score, cursor.case_id])).decode()


def decode_cursor(text: str) -> QueueCursor:
    """The cursor `list_queue` returned; ValueError for anything else (a crafted or damaged cursor)."""
    try:
        raw_score, case_id = _cursor_values.validate_python(orjson.loads(base64.urlsafe_b64decode(text)))
    except ValueError as exc:  # base64, JSON and pydantic errors alike: not a score and a case id
        raise ValueError("not a cursor this API returned") from exc
    return QueueCursor(raw_score, case_id)


def office_of_posting() -> ColumnElement[str]:
    """posting.office_id of the stored shipment document (JSON path on SQLite and PostgreSQL alike)."""
    office: ColumnElement[str] = Assessment.shipment[("posting", "office_id")].as_string()
    return office


def _conditions(filters: QueueFilters, officer_id: int, now: datetime) -> list[ColumnElement[bool]]:
    wanted: list[ColumnElement[bool]] = []
    if filters.status != "any":
        wanted.append(ReviewCase.status == filters.status)
    if filters.office:
        wanted.append(office_of_posting() == filters.office)
    if filters.origin:
        wanted.append(Assessment.origin == filters.origin.upper())
    if filters.destination:
        wanted.append(Assessment.destination == filters.destination.upper())
    if filters.referral:
        wanted.append(ReviewCase.referral == filters.referral)
    if filters.min_age_hours is not None:
        wanted.append(ReviewCase.created_at <= now - timedelta(hours=filters.min_age_hours))
    if filters.max_age_hours is not None:
        wanted.append(ReviewCase.created_at >= now - timedelta(hours=filters.max_age_hours))
    if filters.mine:
        wanted.append(ReviewCase.claimed_by == officer_id)
    return wanted


def _queue_query(
    order: QueueOrder, filters: QueueFilters, officer_id: int, cursor: str | None
) -> Select[ReviewCase, Assessment]:
    query = (
        select(ReviewCase, Assessment)
        .join(Assessment, Assessment.id == ReviewCase.assessment_id)
        .where(*_conditions(filters, officer_id, utcnow()))
    )
    if order == "risk":
        if cursor:
            after = decode_cursor(cursor)
            query = query.where(
                or_(
                    ReviewCase.raw_score < after.raw_score,
                    and_(ReviewCase.raw_score == after.raw_score, ReviewCase.id < after.case_id),
                )
            )
        return query.order_by(ReviewCase.raw_score.desc(), ReviewCase.id.desc())
    if cursor:
        query = query.where(ReviewCase.id < decode_cursor(cursor).case_id)
    return query.order_by(ReviewCase.id.desc())


def list_queue(
    session: Session,
    *,
    order: QueueOrder,
    filters: QueueFilters,
    officer_id: int,
    limit: int,
    cursor: str | None,
) -> tuple[list[QueueRow], str | None]:
    """One page of cases, riskiest or newest first, and the cursor of the next page (None at the end)."""
    query = _queue_query(order, filters, officer_id, cursor).limit(limit + 1)
    rows = session.execute(query).all()
    names = officer_names(session, {case.claimed_by for case, _ in rows if case.claimed_by is not None})
    page = [QueueRow(case, assessment, names.get(case.claimed_by or -1)) for case, assessment in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1].case
        next_cursor = _encode_cursor(QueueCursor(last.raw_score, last.id))
    return page, next_cursor


def officer_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Officer.id, Officer.username).where(Officer.id.in_(ids))).all())


def load_case(session: Session, case_id: int, *, lock: bool = False) -> QueueRow:
    """A case and its assessment; `lock` holds the case row until the transaction ends (PostgreSQL)."""
    query = (
        select(ReviewCase, Assessment)
        .join(Assessment, Assessment.id == ReviewCase.assessment_id)
        .where(ReviewCase.id == case_id)
    )
    if lock:
        query = query.with_for_update(of=ReviewCase)
    row = session.execute(query).first()
    if row is None:
        raise NotFound(f"no case {case_id}")
    case, assessment = row
    names = officer_names(session, {case.claimed_by} if case.claimed_by else set())
    return QueueRow(case, assessment, names.get(case.claimed_by or -1))


def ensure_reasons(case: ReviewCase, scorer: Scorer | None) -> None:
    """Compute and keep the case's reasons the first time it is opened (contributions are costly), with the
    scorer of the model version that scored it (None: that version is not at hand, so no reasons)."""
    if case.reasons is not None or scorer is None:
        return
    vector = np.array([[math.nan if v is None else v for v in case.features]], dtype=np.float64)
    case.reasons = [
        {"feature": r.feature, "sentence": r.sentence, "value": r.value, "contribution": r.contribution}
        for r in scorer.reasons(vector)[0]
    ]


def case_outcomes(session: Session, case_id: int) -> list[tuple[OutcomeRecord, str]]:
    """Every outcome record of a case, oldest first, with the username of who recorded it."""
    rows = session.execute(
        select(OutcomeRecord, Officer.username)
        .join(Officer, Officer.id == OutcomeRecord.recorded_by)
        .where(OutcomeRecord.case_id == case_id)
        .order_by(OutcomeRecord.id)
    )
    return list(rows)


def export_outcomes(session: Session) -> Iterator[bytes]:
    """Every outcome record as JSON lines, oldest first: a lab result or correction follows the record it
    supersedes, which is kept and marked `superseded`; `recorded_at` is when the service learnt each one."""
    rows = session.execute(
        select(OutcomeRecord, Assessment)
        .join(Assessment, Assessment.id == OutcomeRecord.assessment_id)
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
                "recorded_at": record.recorded_at,
                "superseded": record.superseded,
                "result": record.result,
                "substance_category": record.substance_category,
                "quantity": quantity,
                "selection_reason": assessment.selection_reason,
                "selection_probability": assessment.selection_probability,
            }
        )
        yield outcome.model_dump_json(exclude_none=True).encode() + b"\n"
