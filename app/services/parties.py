"""Clear-text parties of a held item: read only with a stated purpose, each read logged and audited."""

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.tables import Officer, PartyAccess
from app.errors import Forbidden, Gone
from app.services import audit
from app.services.claims import SUPERVISING_ROLES, actor
from app.services.review import QueueRow, load_case

Channel = Literal["api", "web"]


@dataclass(frozen=True)
class PartiesRead:
    row: QueueRow
    parties: dict[str, Any]
    access: PartyAccess


def read_parties(
    session: Session, *, case_id: int, officer: Officer, purpose: str, channel: Channel
) -> PartiesRead:
    """The sender and addressee in clear text, for the case's holder or a supervisor, logged with the purpose."""
    row = load_case(session, case_id)
    if row.case.claimed_by != officer.id and officer.role not in SUPERVISING_ROLES:
        raise Forbidden("claim the case first: only its holder or a supervisor may see the parties")
    if row.case.parties is None:
        raise Gone(f"the parties of case {case_id} were erased after the retention period")
    record = audit.append(
        session,
        actor=actor(officer),
        action="parties.read",
        subject=f"case:{case_id}",
        details={"by": officer.username, "purpose": purpose, "channel": channel},
    )
    access = PartyAccess(
        case_id=case_id,
        officer_id=officer.id,
        purpose=purpose,
        channel=channel,
        accessed_at=utcnow(),
        audit_seq=record.seq,
    )
    session.add(access)
    session.flush()
    return PartiesRead(row, dict(row.case.parties), access)


def access_log(session: Session, case_id: int) -> list[tuple[PartyAccess, str]]:
    """Who read a case's parties, when and why, oldest first."""
    rows = session.execute(
        select(PartyAccess, Officer.username)
        .join(Officer, Officer.id == PartyAccess.officer_id)
        .where(PartyAccess.case_id == case_id)
        .order_by(PartyAccess.id)
    )
    return list(rows)
