"""FastAPI dependencies as Annotated aliases: session, settings, scorer, authenticated partner or officer."""

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from anyio import to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from app.auth import authenticate_officer
from app.credentials import OFFICER_TOKEN_PREFIX, PARTNER_KEY_PREFIX, Role, VerifiedKeys
from app.db.tables import Officer, Partner
from app.errors import Forbidden, ServiceUnavailable, Unauthorized
from app.metrics import Metrics
from app.model_holder import ModelHolder, serving_scorer
from app.oidc import OidcVerifier
from app.scoring import Scorer
from app.services.assessments import AssessmentPolicy
from app.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="Partner API key or officer token")


async def _session(request: Request) -> AsyncIterator[Session]:
    # scope="function" below: the commit happens before the response is sent, so a 2xx means committed. The
    # dependency is async on purpose: its commit must not wait for a free worker thread while the threads
    # wait for the lock this very transaction holds (SQLite serialises writers).
    with request.app.state.sessions() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# The accessors of app state are async: FastAPI runs every plain `def` dependency in a worker thread, a
# thread hop per dependency per request for an attribute read.
async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def request_scorer(request: Request) -> Scorer:
    """The model serving `request`; 503 while none is loaded."""
    scorer = serving_scorer(request.app.state)
    if scorer is None:
        raise ServiceUnavailable("no model is loaded; see /readyz")
    return scorer


async def _scorer(request: Request) -> Scorer:
    return request_scorer(request)


async def _models(request: Request) -> ModelHolder:
    holder: ModelHolder | None = request.app.state.models
    if holder is None:
        raise ServiceUnavailable("no model is loaded; see /readyz")
    return holder


async def _policy(request: Request) -> AssessmentPolicy:
    policy: AssessmentPolicy = request.app.state.policy
    return policy


async def _read_session(request: Request) -> AsyncIterator[Session]:
    """A session for routes that only read: on SQLite it reads a WAL snapshot and never takes the write lock."""
    with request.app.state.read_sessions() as session:
        try:
            yield session
        finally:
            session.rollback()


async def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def _session_factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    return factory


async def _read_sessions(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.read_sessions
    return factory


SessionDep = Annotated[Session, Depends(_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(_read_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(_settings)]
SessionFactoryDep = Annotated[sessionmaker[Session], Depends(_session_factory)]
ReadSessionsDep = Annotated[sessionmaker[Session], Depends(_read_sessions)]
ScorerDep = Annotated[Scorer, Depends(_scorer)]
ModelsDep = Annotated[ModelHolder, Depends(_models)]
PolicyDep = Annotated[AssessmentPolicy, Depends(_policy)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send 'Authorization: Bearer <key>'")
    return credentials.credentials


# Credentials are checked in their own short session, so the request's transaction (which on SQLite holds the
# write lock from its first statement) starts only when the route needs it. A key verified within
# PARCEL_RADAR_API_KEY_CACHE_SECONDS is not read again (and costs no worker thread).
# The read sessions come from app state, not a dependency: every dependency FastAPI resolves costs the request
# CPU on the event loop, and this one runs on every partner request.
async def _partner(request: Request, credentials: BearerDep) -> Partner:
    token = _token(credentials)
    if token.startswith(OFFICER_TOKEN_PREFIX + "_"):
        raise Forbidden("officer tokens cannot file shipments; use a partner API key")
    keys: VerifiedKeys = request.app.state.verified_keys
    partner = keys.cached(token) or await to_thread.run_sync(
        keys.verify, request.app.state.read_sessions, token
    )
    if partner is None:
        raise Unauthorized("unknown or revoked API key")
    return partner


async def _oidc(request: Request) -> OidcVerifier | None:
    verifier: OidcVerifier | None = getattr(request.app.state, "oidc", None)
    return verifier


OidcDep = Annotated[OidcVerifier | None, Depends(_oidc)]


def _officer(
    read_sessions: ReadSessionsDep, sessions: SessionFactoryDep, oidc: OidcDep, credentials: BearerDep
) -> Officer:
    token = _token(credentials)
    if token.startswith(PARTNER_KEY_PREFIX + "_"):
        raise Forbidden("partner keys have no access to customs routes")
    return authenticate_officer(read_sessions, token=token, oidc=oidc, sessions=sessions).officer


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
