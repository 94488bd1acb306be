"""Read-only view of the model registry for supervisors and analysts: versions, what this worker serves, and
the shadow's comparison with the champion."""

import math
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import Field

from app.api.deps import ModelsDep, ReadSessionDep, SettingsDep, require_roles
from app.api.error_docs import AUTHENTICATED, errors
from app.credentials import Role
from app.db.tables import Officer
from app.errors import AppError
from app.schemas import Envelope
from app.services.registry import list_versions, serving_versions
from app.services.shadow import compare

router = APIRouter(prefix="/v1", tags=["models"])
ModelReaderDep = Annotated[Officer, Depends(require_roles(Role.SUPERVISOR, Role.ANALYST))]


class ModelVersionView(Envelope):
    version: str
    status: str = Field(description="registered, shadow, champion or retired")
    registered_at: datetime
    registered_by: str
    promoted_at: datetime | None
    retired_at: datetime | None
    metrics: dict[str, Any] = Field(description="The figures of the artifact's manifest (its test period)")


class RecallView(Envelope):
    found: int = Field(description="Findings the model would have held at the rate")
    findings: int
    low: float | None = Field(description="95% Wilson interval")
    high: float | None


class ShadowComparisonView(Envelope):
    challenger: str
    champions: list[str] = Field(description="The versions that decided the compared items")
    items: int
    rate: float
    held: int = Field(description="Items each model holds at the rate, by its raw score")
    agreement: float = Field(description="Share of items with the same decision")
    rank_correlation: float | None = Field(
        description="Spearman's, of the raw scores (None: a constant score)"
    )
    champion_only: int
    challenger_only: int
    champion_recall: RecallView
    challenger_recall: RecallView
    too_few_findings: bool = Field(description="Fewer than 30 findings: too few to judge")


class ModelRegistryView(Envelope):
    serving: str | None = Field(description="The version this worker serves")
    champion: str | None
    shadow: str | None
    versions: list[ModelVersionView]
    comparison: ShadowComparisonView | None = Field(
        description="The shadow beside the champion, once it scored"
    )


def _recall(found: int, findings: int, interval: tuple[float, float]) -> RecallView:
    low, high = interval
    known = findings > 0
    return RecallView(
        found=found, findings=findings, low=low if known else None, high=high if known else None
    )


def _comparison(session: ReadSessionDep, default_rate: float) -> ShadowComparisonView | None:
    try:
        result = compare(session, version=None, default_rate=default_rate)
    except AppError:  # no shadow, or it has not scored two items yet
        return None
    recalls = {
        name: _recall(recall.found, recall.findings, recall.interval)
        for name, recall in (("champion", result.champion_recall), ("challenger", result.challenger_recall))
    }
    return ShadowComparisonView(
        challenger=result.challenger,
        champions=result.champions,
        items=result.items,
        rate=result.rate,
        held=result.held,
        agreement=result.agreement,
        rank_correlation=None if math.isnan(result.rank_correlation) else result.rank_correlation,
        champion_only=result.champion_only,
        challenger_only=result.challenger_only,
        champion_recall=recalls["champion"],
        challenger_recall=recalls["challenger"],
        too_few_findings=result.too_few_findings,
    )


@router.get("/models", response_model=ModelRegistryView, responses=errors(*AUTHENTICATED))
def registry_view(
    session: ReadSessionDep, models: ModelsDep, settings: SettingsDep, _officer: ModelReaderDep
) -> ModelRegistryView:
    """Every registered version with its status and manifest figures, and the shadow's comparison."""
    champion, shadow = serving_versions(session)
    serving = models.champion.model_version if models.champion is not None else None
    return ModelRegistryView(
        serving=serving,
        champion=champion,
        shadow=shadow,
        versions=[
            ModelVersionView(
                version=row.version,
                status=row.status,
                registered_at=row.registered_at,
                registered_by=row.registered_by,
                promoted_at=row.promoted_at,
                retired_at=row.retired_at,
                metrics=row.metrics,
            )
            for row in list_versions(session)
        ],
        comparison=_comparison(session, settings.inspection_rate),
    )
