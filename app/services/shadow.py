"""Shadow scoring: a challenger scores every batch on the champion's feature matrix, without touching
decisions; and the comparison of the two on the same items and on the outcomes recorded since."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from app.db.tables import Assessment, CapacitySetting, OutcomeRecord, ShadowScore
from app.errors import Conflict, NotFound
from app.scoring import Scorer
from app.services.outcomes import found_drugs
from app.services.registry import serving_versions
from model.features import FeatureMatrix
from model.intervals import wilson_interval

TOO_FEW_FINDINGS = 30
_SHADOW_SCORES = cast(Table, ShadowScore.__table__)


def record_shadow_scores(
    session: Session, shadow: Scorer, assessment_ids: Sequence[str], features: FeatureMatrix
) -> None:
    """The challenger's scores of the rows just assessed, in the batch's transaction."""
    if not assessment_ids:
        return
    raw, probability = shadow.scores(features)
    session.execute(
        insert(_SHADOW_SCORES),
        [
            {"version": shadow.model_version, "assessment_id": i, "raw_score": r, "probability": p}
            for i, r, p in zip(assessment_ids, raw.tolist(), probability.tolist(), strict=True)
        ],
    )


@dataclass(frozen=True)
class Recall:
    """Findings a model would have held at the rate, out of the findings recorded, with a 95% interval."""

    found: int
    findings: int

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.found, self.findings)

    def describe(self) -> str:
        if not self.findings:
            return "no findings recorded yet"
        low, high = self.interval
        return (
            f"{self.found}/{self.findings} findings = {self.found / self.findings:.1%} "
            f"(95% interval {low:.1%} to {high:.1%})"
        )


@dataclass(frozen=True)
class ShadowComparison:
    """The challenger beside the models that decided, on the items both scored."""

    challenger: str
    champions: list[str]  # the versions that decided these items (more than one after a promotion)
    items: int
    rate: float
    held: int  # items each model holds at the rate, by raw score
    agreement: float  # share of items with the same decision
    rank_correlation: float  # Spearman, of the raw scores
    champion_only: int
    challenger_only: int
    champion_recall: Recall
    challenger_recall: Recall

    @property
    def findings(self) -> int:
        return self.champion_recall.findings

    @property
    def too_few_findings(self) -> bool:
        return self.findings < TOO_FEW_FINDINGS


def current_rate(session: Session, default_rate: float) -> float:
    """The global inspection rate in force (set by a supervisor, else the configured one)."""
    setting = session.get(CapacitySetting, "global")
    return setting.inspection_rate if setting is not None else default_rate


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties sharing their mean rank (as Spearman's correlation wants them)."""
    ranks = np.empty(len(values))
    ranks[np.argsort(values, kind="stable")] = np.arange(len(values))
    _, tie, size = np.unique(values, return_inverse=True, return_counts=True)
    return np.asarray(np.bincount(tie, weights=ranks)[tie] / size[tie], dtype=np.float64)


def _top(scores: np.ndarray, count: int) -> np.ndarray:
    """A mask of the `count` highest scores (ties in arrival order)."""
    held = np.zeros(len(scores), dtype=bool)
    held[np.argsort(-scores, kind="stable")[:count]] = True
    return held


def _found(session: Session, version: str) -> set[str]:
    """Assessments among the challenger's items whose current outcome found drugs."""
    rows = session.execute(
        select(OutcomeRecord.assessment_id, OutcomeRecord.result, OutcomeRecord.substance_category)
        .join(ShadowScore, ShadowScore.assessment_id == OutcomeRecord.assessment_id)
        .where(ShadowScore.version == version, OutcomeRecord.superseded.is_(False))
    )
    return {assessment for assessment, result, category in rows if found_drugs(result, category)}


def compare(session: Session, *, version: str | None, default_rate: float) -> ShadowComparison:
    """Agreement, the held sets and recall at the current rate; `version` defaults to the current shadow."""
    version = version or serving_versions(session)[1]
    if version is None:
        raise NotFound("no shadow model is set; name the version to compare")
    rows = session.execute(
        select(Assessment.id, Assessment.model_version, Assessment.raw_score, ShadowScore.raw_score)
        .join(ShadowScore, ShadowScore.assessment_id == Assessment.id)
        .where(ShadowScore.version == version)
        .order_by(Assessment.created_at, Assessment.id)
    ).all()
    if len(rows) < 2:
        raise Conflict(f"{version} has scored {len(rows)} items in shadow; nothing to compare yet")
    ids = [row[0] for row in rows]
    champion = np.array([row[2] for row in rows], dtype=np.float64)
    challenger = np.array([row[3] for row in rows], dtype=np.float64)
    rate = current_rate(session, default_rate)
    count = min(len(rows), max(1, math.ceil(rate * len(rows))))
    by_champion, by_challenger = _top(champion, count), _top(challenger, count)
    found = _found(session, version)
    is_finding = np.array([i in found for i in ids], dtype=bool)
    return ShadowComparison(
        challenger=version,
        champions=sorted({row[1] for row in rows}),
        items=len(rows),
        rate=rate,
        held=count,
        agreement=float(np.mean(by_champion == by_challenger)),
        rank_correlation=float(np.corrcoef(_ranks(champion), _ranks(challenger))[0, 1]),
        champion_only=int(np.sum(by_champion & ~by_challenger)),
        challenger_only=int(np.sum(by_challenger & ~by_champion)),
        champion_recall=Recall(int(np.sum(by_champion & is_finding)), int(is_finding.sum())),
        challenger_recall=Recall(int(np.sum(by_challenger & is_finding)), int(is_finding.sum())),
    )
