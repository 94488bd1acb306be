"""Partner API keys and officer tokens: issued once in clear text, stored as SHA-256, checked in constant time."""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db.base import utcnow
from app.db.tables import ApiKey, Officer, OfficerToken, Partner, WebSession
from app.errors import Conflict, NotFound
from app.services import audit

PARTNER_KEY_PREFIX = "prk"
OFFICER_TOKEN_PREFIX = "pro"  # noqa: S105 - a token kind marker, not a secret
MAX_VERIFIED_KEYS = 10_000  # keys a process keeps verified before dropping the stale ones


class Role(StrEnum):
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    ADMIN = "admin"


class PartnerKind(StrEnum):
    POST = "post"
    COURIER = "courier"


@dataclass(frozen=True)
class IssuedSecret:
    """A freshly issued credential; `token` is shown once and never stored."""

    token: str
    prefix: str
    sha256: str


def _issue(kind: str) -> IssuedSecret:
    prefix = secrets.token_hex(4)
    token = f"{kind}_{prefix}_{secrets.token_urlsafe(32)}"
    return IssuedSecret(token=token, prefix=prefix, sha256=hashlib.sha256(token.encode()).hexdigest())


def split_token(token: str) -> tuple[str, str] | None:
    """(kind, prefix) of a well-formed token, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] not in {PARTNER_KEY_PREFIX, OFFICER_TOKEN_PREFIX} or len(parts[1]) != 8:
        return None
    if not (parts[1].isascii() and parts[1].isalnum()) or not token.isprintable():
        return None  # e.g. a NUL, which PostgreSQL cannot even compare: no issued token looks like that
    return parts[0], parts[1]


def matches(token: str, stored_sha256: str) -> bool:
    return hmac.compare_digest(hashlib.sha256(token.encode()).hexdigest(), stored_sha256)


def create_partner(session: Session, *, name: str, kind: PartnerKind) -> Partner:
    if session.scalar(select(Partner).where(Partner.name == name)) is not None:
        raise Conflict(f"partner {name!r} exists")
    partner = Partner(name=name, kind=kind.value)
    session.add(partner)
    session.flush()
    return partner


def issue_api_key(session: Session, *, partner: Partner) -> str:
    issued = _issue(PARTNER_KEY_PREFIX)
    session.add(ApiKey(partner_id=partner.id, prefix=issued.prefix, secret_sha256=issued.sha256))
    session.flush()
    return issued.token


def revoke_api_key(session: Session, *, prefix: str) -> None:
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        raise NotFound(f"no API key with prefix {prefix!r}")
    key.revoked_at = key.revoked_at or utcnow()


def create_officer(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: Role,
    office: str | None = None,
    actor: str = "cli",
) -> Officer:
    """A new customs user (audited, like the officers OIDC creates)."""
    if session.scalar(select(Officer).where(Officer.username == username)) is not None:
        raise Conflict(f"officer {username!r} exists")
    officer = Officer(username=username, display_name=display_name, role=role.value, office=office)
    session.add(officer)
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="officer.created",
        subject=f"officer:{officer.id}",
        details={"username": username, "role": officer.role, "office": office},
    )
    return officer


def issue_officer_token(session: Session, *, officer: Officer, valid_days: int | None = 90) -> str:
    issued = _issue(OFFICER_TOKEN_PREFIX)
    expires: datetime | None = utcnow() + timedelta(days=valid_days) if valid_days else None
    session.add(
        OfficerToken(
            officer_id=officer.id, prefix=issued.prefix, secret_sha256=issued.sha256, expires_at=expires
        )
    )
    session.flush()
    return issued.token


def partner_for_key(session: Session, token: str) -> Partner | None:
    """The partner owning a valid, unrevoked key, else None."""
    parsed = split_token(token)
    if parsed is None or parsed[0] != PARTNER_KEY_PREFIX:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parsed[1]))
    if key is None or key.revoked_at is not None or not matches(token, key.secret_sha256):
        return None
    return session.get(Partner, key.partner_id)


class VerifiedKeys:
    """Partners of the API keys this process verified in the last `seconds` (0: none kept), so a partner's
    steady stream of requests does not read its key on every one. A revoked key keeps working here until its
    entry is that old; unknown or wrong keys are never kept, so every failure is checked (and throttled)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._verified: dict[bytes, tuple[float, Partner]] = {}  # sha256 of the key -> (verified at, partner)

    def cached(self, token: str) -> Partner | None:
        """The partner of `token` if it was verified recently, else None (check it with `verify`)."""
        if self._seconds <= 0:
            return None
        hit = self._verified.get(hashlib.sha256(token.encode()).digest())
        if hit is None or time.monotonic() - hit[0] >= self._seconds:
            return None
        return hit[1]

    def verify(self, sessions: sessionmaker[Session], token: str) -> Partner | None:
        """The partner owning a valid, unrevoked key (read in a short session of its own), else None."""
        with sessions() as session:
            partner = partner_for_key(session, token)
        if partner is not None and self._seconds > 0:
            now = time.monotonic()
            if len(self._verified) >= MAX_VERIFIED_KEYS:
                self._verified = {k: v for k, v in self._verified.items() if now - v[0] < self._seconds}
            self._verified[hashlib.sha256(token.encode()).digest()] = (now, partner)
        return partner


def officer_token_owner(session: Session, token: str) -> tuple[Officer, datetime | None] | None:
    """(enabled officer, token expiry) for a valid, unexpired, unrevoked token, else None."""
    parsed = split_token(token)
    if parsed is None or parsed[0] != OFFICER_TOKEN_PREFIX:
        return None
    stored = session.scalar(select(OfficerToken).where(OfficerToken.prefix == parsed[1]))
    if stored is None or stored.revoked_at is not None or not matches(token, stored.secret_sha256):
        return None
    if stored.expires_at is not None and stored.expires_at <= utcnow():
        return None
    officer = session.get(Officer, stored.officer_id)
    if officer is None or officer.disabled_at is not None:
        return None
    return officer, stored.expires_at


def officer_for_token(session: Session, token: str) -> Officer | None:
    """The enabled officer owning a valid, unexpired, unrevoked token, else None."""
    owner = officer_token_owner(session, token)
    return owner[0] if owner is not None else None


def disable_officer(session: Session, *, username: str, actor: str) -> Officer:
    """Disable an officer: every token is revoked and every page session ends at once (audited)."""
    officer = session.scalar(select(Officer).where(Officer.username == username))
    if officer is None:
        raise NotFound(f"no officer {username!r}")
    now = utcnow()
    officer.disabled_at = officer.disabled_at or now
    tokens = session.execute(
        update(OfficerToken)
        .where(OfficerToken.officer_id == officer.id, OfficerToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.execute(
        update(WebSession)
        .where(WebSession.officer_id == officer.id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit.append(
        session,
        actor=actor,
        action="officer.disabled",
        subject=f"officer:{officer.id}",
        details={"username": username, "tokens_revoked": int(getattr(tokens, "rowcount", 0) or 0)},
    )
    return officer
