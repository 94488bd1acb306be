"""The FastAPI application: lifespan (engine, model), middleware, error handlers and routers."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.api import assessments, health, models, policy, review
from app.auth import AuthGuard
from app.cores import pin_to_own_core
from app.credentials import VerifiedKeys
from app.db.engine import make_engine, session_factory
from app.errors import ServiceUnavailable, error_response, install_error_handlers
from app.logging import configure_logging
from app.metrics import install_metrics
from app.middleware import BodySizeLimit, FailedAuthThrottle, NoStore, RefuseEncodedBodies
from app.model_holder import ModelHolder, serving_scorer
from app.oidc import OidcVerifier
from app.schemas import AssessmentRequest
from app.scoring import Scorer
from app.services.assessments import AssessmentPolicy
from app.services.drift import DriftCountBuffer
from app.services.group_commit import GroupCommit
from app.services.live_threshold import LiveThresholds
from app.services.monitoring import Monitor
from app.services.policy import Capacity
from app.settings import Settings, get_settings
from app.web import install_web
from model.artifact import MANIFEST_FILE, ModelArtifact, read_artifact_files
from model.entities import Pseudonymiser

logger = logging.getLogger(__name__)
DATABASE_RETRY_AFTER_S = 5


def configured_artifact(settings: Settings) -> dict[str, bytes] | None:
    """The files of the configured artifact directory, or None when there is none."""
    if not (settings.model_dir / MANIFEST_FILE).is_file():
        logger.warning("no model artifact at %s", settings.model_dir)
        return None
    return read_artifact_files(settings.model_dir)


def model_holder(app: FastAPI, settings: Settings) -> ModelHolder:
    """The holder serving the registry's champion; the configured artifact (verified: ArtifactError if
    altered) becomes the champion while the registry has none."""
    files = configured_artifact(settings)
    configured = None
    if files is not None:
        configured = Scorer(ModelArtifact.from_files(files, settings.model_dir), app.state.pseudonymiser)
        logger.info("loaded model %s from %s", configured.model_version, settings.model_dir)
    holder = ModelHolder(
        sessions=app.state.sessions,
        read_sessions=app.state.read_sessions,
        pseudonymiser=app.state.pseudonymiser,
        configured=configured,
        poll_seconds=settings.model_poll_seconds,
    )
    holder.start(files)
    return holder


def assessment_policy(settings: Settings) -> AssessmentPolicy:
    return AssessmentPolicy(
        default_capacity=Capacity("default", settings.inspection_rate, settings.exploration_share),
        live=LiveThresholds(
            window=timedelta(hours=settings.live_window_hours),
            min_items=settings.live_min_items,
            refresh_seconds=settings.live_refresh_seconds,
        ),
        party_retention_days=settings.party_retention_days,
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if settings.pin_cores:  # first, before this process starts its threads (they inherit the core)
        pin_to_own_core()
    to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
    engine = make_engine(settings.database_url)
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.read_sessions = session_factory(engine, read_only=True)
    app.state.pseudonymiser = Pseudonymiser(settings.pseudonym_secret.get_secret_value().encode())
    app.state.models = await to_thread.run_sync(model_holder, app, settings)
    app.state.policy = replace(assessment_policy(settings), shadow=lambda: app.state.models.shadow)
    app.state.group_commit = GroupCommit(app.state.sessions, app.state.policy, app.state.metrics)
    app.state.oidc = OidcVerifier.from_settings(settings)
    app.state.auth_guard = AuthGuard.from_settings(settings, app.state.read_sessions, app.state.sessions)
    app.state.verified_keys = VerifiedKeys(settings.api_key_cache_seconds)
    drift_counts = None
    if settings.drift_flush_seconds > 0:
        drift_counts = DriftCountBuffer(app.state.sessions, settings.drift_flush_seconds)
        drift_counts.start()
    # Monitoring only reads (a dashboard view never waits for a writer): buffered drift counts reach it within
    # DRIFT_FLUSH_SECONDS, this process's as every other's.
    app.state.monitor = Monitor.from_settings(
        settings, app.state.read_sessions, lambda: serving_scorer(app.state)
    )
    gc.collect()
    gc.freeze()  # what start-up loaded lives as long as the process: keep it out of every collection
    try:
        yield
    finally:
        if drift_counts is not None:
            await to_thread.run_sync(drift_counts.stop)  # after the last request: its counts are written
        app.state.models.stop()
        engine.dispose()


def _openapi_with_manual_bodies(app: FastAPI) -> dict[str, Any]:
    """The assessment route parses its own body (for partial acceptance); document its schema anyway."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        request_schema = AssessmentRequest.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(request_schema.pop("$defs", {}))
        components["AssessmentRequest"] = request_schema
        app.openapi_schema = schema
    return app.openapi_schema


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    """The database cannot be reached (down, restarting, network cut, SQLite locked too long): nothing was
    committed, retry later. The pool replaces broken connections by itself once the database is back."""
    logger.warning("database unavailable on %s: %s", request.method, type(exc).__name__)
    return error_response(
        503,
        ServiceUnavailable.error,
        "the database is unavailable; nothing was committed, retry later",
        {"Retry-After": str(DATABASE_RETRY_AFTER_S)},
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; nothing is connected or loaded until the lifespan starts."""
    settings = settings or get_settings()
    configure_logging(settings)
    api_docs = settings.api_docs if settings.api_docs is not None else settings.environment != "production"
    app = FastAPI(
        title="Parcel Radar",
        version="0.1.0",
        description="Risk assessment of postal and courier shipments, and the customs review of held items.",
        lifespan=lifespan,
        # the service exports Prometheus metrics itself: no per-request check for OpenTelemetry providers
        telemetry={"tracing": False, "metrics": False, "logs": False},
        openapi_url="/openapi.json" if api_docs else None,
        docs_url="/docs" if api_docs else None,
        redoc_url="/redoc" if api_docs else None,
    )
    app.state.settings = settings
    app.state.models = None
    install_error_handlers(app)
    for database_error in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(database_error, _database_unavailable)
    app.add_middleware(FailedAuthThrottle)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RefuseEncodedBodies)
    app.add_middleware(NoStore)
    install_metrics(app)  # after the body limit, so its middleware is outside it and also sees the 413s
    app.include_router(health.router)
    app.include_router(assessments.router)
    app.include_router(review.router)
    app.include_router(policy.router)
    app.include_router(models.router)
    install_web(app)
    app.openapi = lambda: _openapi_with_manual_bodies(app)  # type: ignore[method-assign]
    return app
