"""Officer authentication for the API and the web sign-in (local tokens, or OIDC JWTs mapped to officers), and
the throttle on failed authentications that every worker process shares through the database."""

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.credentials import officer_token_owner, split_token
from app.db.base import utcnow
from app.db.tables import AuthFailure, Officer
from app.errors import NotFound, OrjsonResponse, Unauthorized, error_response
from app.oidc import OidcClaims, OidcVerifier, looks_like_jwt
from app.services import audit
from app.settings import Settings


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


@dataclass(frozen=True)
class AuthGuard:
    """Failed authentications per client address and per credential over a sliding window.

    An address past its limit is refused (429) before its next attempt is checked. A credential past its
    limit only turns the answer to a wrong secret into 429: whoever holds the real secret still gets in, so
    nobody can lock a partner or an officer out by failing with their public prefix."""

    read_sessions: sessionmaker[Session]
    sessions: sessionmaker[Session]
    per_address: int
    per_credential: int
    window: timedelta

    @classmethod
    def from_settings(
        cls, settings: Settings, read_sessions: sessionmaker[Session], sessions: sessionmaker[Session]
    ) -> "AuthGuard":
        return cls(
            read_sessions,
            sessions,
            per_address=settings.auth_failures_per_address,
            per_credential=settings.auth_failures_per_credential,
            window=timedelta(seconds=settings.auth_failure_window_seconds),
        )

    def limits(self, address: str, credential: str) -> dict[str, int]:
        """{bucket: limit}. A well-formed token is known by its public prefix (so guessing the secret of one
        key is limited wherever the guesses come from); anything else by a hash, never in clear."""
        parsed = split_token(credential)
        identity = parsed[1] if parsed else hashlib.sha256(credential.encode()).hexdigest()[:32]
        return {_address_bucket(address): self.per_address, f"credential:{identity}": self.per_credential}

    def retry_after(self, limits: dict[str, int]) -> int | None:
        """Seconds until an attempt is allowed again; None while every bucket is under its limit."""
        now = utcnow()
        with self.read_sessions() as session:
            rows = session.execute(
                select(AuthFailure.bucket, func.count(), func.min(AuthFailure.at))
                .where(AuthFailure.bucket.in_(limits), AuthFailure.at > now - self.window)
                .group_by(AuthFailure.bucket)
            ).all()
        waits = [
            max(1, math.ceil((oldest + self.window - now).total_seconds()))
            for bucket, failures, oldest in rows
            if failures >= limits[bucket]
        ]
        return max(waits, default=None)

    def address_wait(self, address: str) -> int | None:
        """Seconds until this address may try again; None while it is under its limit."""
        return self.retry_after({_address_bucket(address): self.per_address})

    def fail(self, limits: dict[str, int], *, sign_in_reason: str | None = None) -> int | None:
        """Count one failure, then the seconds to wait when it went past a limit (None: answer it as usual)."""
        self.record_failure(limits, sign_in_reason=sign_in_reason)
        return self.retry_after({bucket: limit + 1 for bucket, limit in limits.items()})

    def record_failure(self, limits: dict[str, int], *, sign_in_reason: str | None = None) -> None:
        """Count one failure in every bucket (and drop failures older than the window); a failed sign-in is
        also audited, in the same transaction."""
        now = utcnow()
        with self.sessions() as session, session.begin():
            session.execute(delete(AuthFailure).where(AuthFailure.at <= now - self.window))
            session.execute(insert(AuthFailure), [{"bucket": bucket, "at": now} for bucket in limits])
            if sign_in_reason is not None:
                address, credential = sorted(limits)
                audit.append(
                    session,
                    actor=address,
                    action="officer.sign_in_failed",
                    subject=credential,
                    details={"channel": "web", "reason": sign_in_reason},
                )


def metrics_refusal(settings: Settings, authorization: str | None) -> OrjsonResponse | None:
    """None when the caller may read /metrics: with PARCEL_RADAR_METRICS_TOKEN set, only with that bearer
    token; without one, everywhere but production (where /metrics is then not served at all)."""
    if settings.metrics_token is None:
        if settings.environment != "production":
            return None
        return error_response(NotFound.status_code, NotFound.error, "Not Found")
    expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
    if authorization is not None and hmac.compare_digest(authorization.encode(), expected):
        return None
    return error_response(
        Unauthorized.status_code,
        Unauthorized.error,
        "send 'Authorization: Bearer <metrics token>'",
        Unauthorized.headers,
    )


def _address_bucket(address: str) -> str:
    return f"address:{address[:64]}"
