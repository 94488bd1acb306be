"""Who works a case: claiming and releasing it, and the supervisor override of another officer's claim."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.credentials import Role
from app.db.base import utcnow
from app.db.tables import Officer, ReviewCase
from app.errors import Conflict, Forbidden
from app.services import audit
from app.services.review import QueueRow, load_case

SUPERVISING_ROLES = frozenset({Role.SUPERVISOR.value, Role.ADMIN.value})


def actor(officer: Officer) -> str:
    return f"officer:{officer.id}"


@dataclass(frozen=True)
class Override:
    """A supervisor acting on a case another officer holds; audited by whoever completes the action."""

    action: str
    holder: str
    reason: str


def take_over(
    row: QueueRow, *, officer: Officer, override_reason: str | None, action: str
) -> Override | None:
    """Check `officer` may act on the case, claiming it for them if unclaimed.

    The holder of a claim acts freely; anyone acts on an unclaimed case (and so claims it); a supervisor acts
    on another officer's case only with an override reason, and then holds it.
    """
    case = row.case
    override = None
    if case.claimed_by is not None and case.claimed_by != officer.id:
        holder = row.claimed_by or f"officer {case.claimed_by}"
        if officer.role not in SUPERVISING_ROLES:
            if override_reason:
                raise Forbidden("only a supervisor may override another officer's claim")
            raise Conflict(f"case {case.id} is claimed by {holder}; they or a supervisor may {action} it")
        if not override_reason:
            raise Conflict(f"case {case.id} is claimed by {holder}; give override_reason to take it over")
        override = Override(action, holder, override_reason)
    if case.claimed_by != officer.id:
        case.claimed_by, case.claimed_at = officer.id, utcnow()
    return override


def audit_override(
    session: Session, *, officer: Officer, case: ReviewCase, override: Override | None
) -> None:
    if override is None:
        return
    audit.append(
        session,
        actor=actor(officer),
        action="case.override",
        subject=f"case:{case.id}",
        details={
            "action": override.action,
            "previous_holder": override.holder,
            "reason": override.reason,
            "by": officer.username,
        },
    )


def _audit_hand_over(
    session: Session, *, officer: Officer, case: ReviewCase, override: Override | None, action: str
) -> None:
    """Audit a claim or release, after the override it needed (if any)."""
    audit_override(session, officer=officer, case=case, override=override)
    audit.append(
        session,
        actor=actor(officer),
        action=action,
        subject=f"case:{case.id}",
        details={"by": officer.username, "status": case.status},
    )


def claim_case(
    session: Session, *, case_id: int, officer: Officer, override_reason: str | None = None
) -> ReviewCase:
    """Claim an open case (or a pending one nobody holds); claiming a case one holds already changes nothing."""
    row = load_case(session, case_id, lock=True)
    case = row.case
    if case.status == "closed":
        raise Conflict(f"case {case_id} is closed")
    if case.claimed_by == officer.id:
        return case
    override = take_over(row, officer=officer, override_reason=override_reason, action="claim")
    if case.status == "open":
        case.status = "claimed"
    _audit_hand_over(session, officer=officer, case=case, override=override, action="case.claim")
    return case


def release_case(
    session: Session, *, case_id: int, officer: Officer, override_reason: str | None = None
) -> ReviewCase:
    """Give a case back to the queue; a pending case stays pending for whoever claims it next."""
    row = load_case(session, case_id, lock=True)
    case = row.case
    if case.status == "closed":
        raise Conflict(f"case {case_id} is closed")
    if case.claimed_by is None:
        raise Conflict(f"case {case_id} is not claimed")
    override = take_over(row, officer=officer, override_reason=override_reason, action="release")
    case.claimed_by, case.claimed_at = None, None
    if case.status == "claimed":
        case.status = "open"
    _audit_hand_over(session, officer=officer, case=case, override=override, action="case.release")
    return case
