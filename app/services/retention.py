"""Retention: clear-text parties of held items are erased after their period; expired idempotency keys go."""

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.tables import ReviewCase
from app.services import audit
from app.services.idempotency import purge_expired


@dataclass(frozen=True)
class PurgeResult:
    parties_erased: int
    idempotency_records_deleted: int


def purge(session: Session, *, actor: str = "system:purge") -> PurgeResult:
    """Erase clear-text parties past `purge_after` and delete expired idempotency records (audited)."""
    now = utcnow()
    erased = session.execute(
        update(ReviewCase)
        .where(ReviewCase.parties.is_not(None), ReviewCase.purge_after <= now)
        .values(parties=None)
    )
    result = PurgeResult(int(getattr(erased, "rowcount", 0) or 0), purge_expired(session))
    audit.append(
        session,
        actor=actor,
        action="retention.purge",
        subject="retention",
        details={
            "parties_erased": result.parties_erased,
            "idempotency_records_deleted": result.idempotency_records_deleted,
        },
    )
    return result
