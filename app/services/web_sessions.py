"""Signed-in browsers: a random session id (stored as SHA-256) with its CSRF token, expiry and sign-out."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.tables import Officer, WebSession
from app.services import audit


@dataclass(frozen=True)
class SignedIn:
    """A valid web session and its officer."""

    officer: Officer
    session_sha256: str
    csrf_token: str
    expires_at: datetime


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def open_web_session(session: Session, *, officer: Officer, expires_at: datetime) -> tuple[str, SignedIn]:
    """(cookie value, session) for a fresh sign-in; the cookie value is never stored."""
    cookie = secrets.token_urlsafe(32)
    row = WebSession(
        id_sha256=_sha256(cookie),
        officer_id=officer.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(row)
    audit.append(
        session,
        actor=f"officer:{officer.id}",
        action="officer.sign_in",
        subject=f"officer:{officer.id}",
        details={"by": officer.username, "channel": "web", "expires_at": expires_at.isoformat()},
    )
    return cookie, SignedIn(officer, row.id_sha256, row.csrf_token, expires_at)


def signed_in(session: Session, cookie: str) -> SignedIn | None:
    """The session a cookie names, if it is unexpired, not signed out, and its officer is enabled."""
    row = session.execute(
        select(WebSession, Officer)
        .join(Officer, Officer.id == WebSession.officer_id)
        .where(WebSession.id_sha256 == _sha256(cookie))
    ).first()
    if row is None:
        return None
    web_session, officer = row
    if web_session.revoked_at is not None or web_session.expires_at <= utcnow() or officer.disabled_at:
        return None
    return SignedIn(officer, web_session.id_sha256, web_session.csrf_token, web_session.expires_at)


def close_web_session(session: Session, *, signed: SignedIn) -> None:
    """Sign out: the session's cookie stops working at once."""
    row = session.get(WebSession, signed.session_sha256)
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at = utcnow()
    audit.append(
        session,
        actor=f"officer:{signed.officer.id}",
        action="officer.sign_out",
        subject=f"officer:{signed.officer.id}",
        details={"by": signed.officer.username, "channel": "web"},
    )
