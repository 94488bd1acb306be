"""FastAPI dependencies as Annotated aliases: session, settings, scorer, authenticated partner or officer."""

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from app.credentials import OFFICER_TOKEN_PREFIX, PARTNER_KEY_PREFIX, Role, officer_for_token, partner_for_key
from app.db.engine import session_scope
from app.db.tables import Officer, Partner
from app.errors import Forbidden, ServiceUnavailable, Unauthorized
from app.scoring import Scorer
from app.services.assessments import AssessmentPolicy
from app.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="Partner API key or officer token")


def _session(request: Request) -> Iterator[Session]:
    # scope="function" below: commit happens before the response is sent, so a 2xx means committed.
    yield from session_scope(request.app.state.sessions)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _scorer(request: Request) -> Scorer:
    scorer: Scorer | None = request.app.state.scorer
    if scorer is None:
        raise ServiceUnavailable("no model is loaded; see /readyz")
    return scorer


def _policy(request: Request) -> AssessmentPolicy:
    policy: AssessmentPolicy = request.app.state.policy
    return policy


def _session_factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    return factory


SessionDep = Annotated[Session, Depends(_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(_settings)]
SessionFactoryDep = Annotated[sessionmaker[Session], Depends(_session_factory)]
ScorerDep = Annotated[Scorer, Depends(_scorer)]
PolicyDep = Annotated[AssessmentPolicy, Depends(_policy)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send 'Authorization: Bearer <key>'")
    return credentials.credentials


def _partner(session: SessionDep, credentials: BearerDep) -> Partner:
    token = _token(credentials)
    if token.startswith(OFFICER_TOKEN_PREFIX + "_"):
        raise Forbidden("officer tokens cannot file shipments; use a partner API key")
    partner = partner_for_key(session, token)
    if partner is None:
        raise Unauthorized("unknown or revoked API key")
    return partner


def _officer(session: SessionDep, credentials: BearerDep) -> Officer:
    token = _token(credentials)
    if token.startswith(PARTNER_KEY_PREFIX + "_"):
        raise Forbidden("partner keys have no access to customs routes")
    officer = officer_for_token(session, token)
    if officer is None:
        raise Unauthorized("unknown, expired or revoked officer token")
    return officer


PartnerDep = Annotated[Partner, Depends(_partner)]
OfficerDep = Annotated[Officer, Depends(_officer)]


def require_roles(*roles: Role) -> Callable[[Officer], Officer]:
    """A dependency admitting only officers with one of `roles` (admin always passes)."""
    allowed = {r.value for r in roles} | {Role.ADMIN.value}

    def check(officer: OfficerDep) -> Officer:
        if officer.role not in allowed:
            raise Forbidden(f"this action needs one of the roles: {', '.join(sorted(allowed))}")
        return officer

    return check


ReviewerDep = Annotated[Officer, Depends(require_roles(Role.OFFICER, Role.SUPERVISOR))]
