"""Officer authentication for the API and the web sign-in: local tokens, or OIDC JWTs mapped to officers."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.credentials import officer_token_owner
from app.db.tables import Officer
from app.errors import Unauthorized
from app.oidc import OidcClaims, OidcVerifier, looks_like_jwt
from app.services import audit


@dataclass(frozen=True)
class Authenticated:
    """An officer, and when the credential they presented stops working (None: never)."""

    officer: Officer
    expires_at: datetime | None


def _free_username(session: Session, claims: OidcClaims) -> str:
    username = claims.username[:64]
    if session.scalar(select(Officer.id).where(Officer.username == username)) is None:
        return username
    return f"{claims.username[:55]}-{hashlib.sha256(claims.subject.encode()).hexdigest()[:8]}"


def _sync_officer(session: Session, claims: OidcClaims) -> Officer:
    officer = session.scalar(select(Officer).where(Officer.external_subject == claims.subject))
    if officer is None:
        officer = Officer(
            username=_free_username(session, claims),
            display_name=claims.display_name[:200],
            role=claims.role.value,
            office=claims.office,
            external_subject=claims.subject,
        )
        session.add(officer)
        session.flush()
        action = "officer.created"
    elif (officer.role, officer.office) != (claims.role.value, claims.office):
        officer.role, officer.office = claims.role.value, claims.office
        action = "officer.updated"
    else:
        return officer
    audit.append(
        session,
        actor="oidc",
        action=action,
        subject=f"officer:{officer.id}",
        details={"username": officer.username, "role": officer.role, "office": officer.office},
    )
    return officer


def _known(read_sessions: sessionmaker[Session], claims: OidcClaims) -> Officer | None:
    """The officer of the subject if nothing about them changed (the common case, no write needed)."""
    with read_sessions() as session:
        officer = session.scalar(select(Officer).where(Officer.external_subject == claims.subject))
    if officer is None or (officer.role, officer.office) != (claims.role.value, claims.office):
        return None
    return officer


def provision_officer(
    read_sessions: sessionmaker[Session], sessions: sessionmaker[Session], claims: OidcClaims
) -> Officer:
    """The officer for a token's subject: created on first sight, role and office kept in step (audited)."""
    if (officer := _known(read_sessions, claims)) is not None:
        return officer
    for _ in range(2):  # a concurrent first sight of the same subject wins the unique index; read it then
        try:
            with sessions() as session, session.begin():
                return _sync_officer(session, claims)
        except IntegrityError:
            continue
    raise Unauthorized("could not register the token's subject; try again")


def authenticate_officer(
    read_sessions: sessionmaker[Session],
    *,
    token: str,
    oidc: OidcVerifier | None,
    sessions: sessionmaker[Session],
) -> Authenticated:
    """The officer a bearer credential belongs to; Unauthorized when it is unknown, expired or revoked.

    Checked in short sessions of its own (read-only unless an OIDC subject is new or changed), so the caller's
    transaction starts only when it needs one.
    """
    if oidc is not None and looks_like_jwt(token):
        claims = oidc.verify(token)
        officer = provision_officer(read_sessions, sessions, claims)
        if officer.disabled_at is not None:
            raise Unauthorized("this officer is disabled")
        return Authenticated(officer, claims.expires_at)
    with read_sessions() as session:
        owner = officer_token_owner(session, token)
    if owner is None:
        raise Unauthorized("unknown, expired or revoked officer token")
    return Authenticated(*owner)
