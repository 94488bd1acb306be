"""The live estimate: recall and precision of the targeted lanes, from the random lane's outcomes and logged
selection probabilities (Horvitz-Thompson, `model.propensity`).

Items the targeted lanes (model, rule, watchlist) hold are all inspected, so their findings are counted. The
drug items they leave are estimated from the random lane: each random-lane finding stands for
1 / (its logged selection probability) drug items. Recall is the targeted findings over all drug items so
estimated; precision is the targeted lanes' hit rate. Only concluded inspections count (seized, nothing
found, controlled delivery): while many cases are open, the figures are provisional.
"""

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.tables import Assessment, OutcomeRecord
from app.services.dashboard import CONCLUDED, drug_finding
from model.propensity import (
    MIN_RANDOM_FINDINGS,
    Findings,
    SelectionEstimate,
    drug_items_interval,
    estimate_selection,
    proportion_interval,
)

TARGETED_LANES = ("model", "rule", "watchlist")
RANDOM_LANE = "random"
INTERVAL_SEED = 0  # the interval's draws are fixed, so the same outcomes always give the same figures


@dataclass(frozen=True)
class LaneOutcomes:
    """Concluded inspections of one lane, its drug findings, and the findings' summed inverse probabilities."""

    inspections: int = 0
    findings: int = 0
    inverse_probability: float = 0.0
    findings_inverse_probability: float = 0.0


@dataclass(frozen=True)
class LiveEstimate:
    """The estimate over assessments scored in the last `days` days; `recall` is None without random lane."""

    days: int
    targeted: LaneOutcomes
    random: LaneOutcomes
    drug_items: float
    drug_items_low: float
    drug_items_high: float
    recall: SelectionEstimate | None
    precision_low: float
    precision_high: float

    @property
    def precision(self) -> float | None:
        return self.targeted.findings / self.targeted.inspections if self.targeted.inspections else None

    @property
    def reliable(self) -> bool:
        """Whether the random lane found enough drug items for the interval to mean much."""
        return self.random.findings >= MIN_RANDOM_FINDINGS


def _lane_outcomes(session: Session, days: int) -> dict[str, LaneOutcomes]:
    found = drug_finding()
    inverse = 1.0 / func.nullif(Assessment.selection_probability, 0.0)
    rows = session.execute(
        select(
            Assessment.selection_reason,
            func.count(),
            func.count().filter(found),
            func.coalesce(func.sum(inverse), 0.0),
            func.coalesce(func.sum(inverse).filter(found), 0.0),
        )
        .join(Assessment, Assessment.id == OutcomeRecord.assessment_id)
        .where(
            OutcomeRecord.superseded.is_(False),
            OutcomeRecord.result.in_(CONCLUDED),
            Assessment.created_at >= utcnow() - timedelta(days=days),
        )
        .group_by(Assessment.selection_reason)
    ).all()
    return {
        str(lane): LaneOutcomes(int(n), int(f), float(w), float(fw)) for lane, n, f, w, fw in rows if lane
    }


def live_estimate(session: Session, *, days: int) -> LiveEstimate:
    """Recall and precision of the targeted lanes over the last `days` days, with 95% intervals."""
    lanes = _lane_outcomes(session, days)
    targeted = LaneOutcomes(
        sum(lanes.get(lane, LaneOutcomes()).inspections for lane in TARGETED_LANES),
        sum(lanes.get(lane, LaneOutcomes()).findings for lane in TARGETED_LANES),
    )
    random = lanes.get(RANDOM_LANE, LaneOutcomes())
    rng = np.random.default_rng(INTERVAL_SEED)
    inside = Findings(targeted.findings, 0, 0.0)
    outside = Findings(0, random.findings, random.findings_inverse_probability)
    weight = random.inverse_probability / random.inspections if random.inspections else 0.0
    recall = (
        estimate_selection(inside, outside, selected=targeted.inspections, weight=weight, rng=rng)
        if random.inspections
        else None
    )
    everything = Findings(targeted.findings, random.findings, random.findings_inverse_probability)
    low, high = drug_items_interval(everything, weight, rng)
    precision_low, precision_high = proportion_interval(targeted.findings, targeted.inspections, rng)
    return LiveEstimate(
        days=days,
        targeted=targeted,
        random=random,
        drug_items=everything.estimate,
        drug_items_low=low,
        drug_items_high=high,
        recall=recall,
        precision_low=precision_low,
        precision_high=precision_high,
    )
