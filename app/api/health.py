"""Liveness and readiness probes."""

from fastapi import APIRouter, Request
from sqlalchemy import text

from app.errors import OrjsonResponse
from app.model_holder import serving_scorer

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_class=OrjsonResponse, responses={503: {"description": "Not ready"}})
def readyz(request: Request) -> OrjsonResponse:
    """Ready when a verified model is loaded and the database answers."""
    checks: dict[str, str] = {}
    scorer = serving_scorer(request.app.state)
    checks["model"] = f"ok: {scorer.model_version}" if scorer is not None else "missing"
    if scorer is not None and (problem := request.app.state.models.problem) is not None:
        checks["registry"] = f"serving the model above; the registry's could not be loaded: {problem}"
    try:
        with request.app.state.read_sessions() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    ready = scorer is not None and checks["database"] == "ok"
    return OrjsonResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
