"""Evaluation on the held-out test period: the model against random selection, the rules lane and the profile."""

import csv
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from model.artifact import Calibration
from training.baselines import TargetingRules, market_profile_score, rules_lane_score
from training.dataset import Dataset
from training.files import read_jsonl
from training.metrics import (
    AtRate,
    CalibrationQuality,
    at_rate,
    calibration_quality,
    expected_calibration_error,
    pr_auc,
    random_at_rate,
    reliability_curve,
    top_reliability_curve,
    top_share,
)
from training.propensity import RANDOM_LANE, PropensityEstimate, propensity_estimate
from training.train import INSPECTION_RATES

HEADLINE_RATE = 0.01
BREAKDOWN_MIN_POSITIVES = 3
GROUND_TRUTH = "ground truth"
CONFIRMED_FINDINGS = (
    "confirmed findings only: recall among confirmed findings, biased toward what the old policy selected"
)


@dataclass(frozen=True)
class Truth:
    """Ground truth of simulated items (never available for real traffic): illicit flag and category."""

    illicit: dict[str, bool]
    category: dict[str, str]

    @classmethod
    def read(cls, path: Path) -> "Truth":
        illicit: dict[str, bool] = {}
        category: dict[str, str] = {}
        for row in read_jsonl(path):
            item_id = str(row["item_id"])
            illicit[item_id] = bool(row["illicit"])
            if row.get("category"):
                category[item_id] = str(row["category"])
        return cls(illicit, category)


@dataclass
class Evaluation:
    """Every figure of the evaluation report; `labels` says whether recall is against ground truth.

    `propensity` is the inverse-propensity estimate from the random lane's outcomes (None without random-lane
    inspections); on real data it is the only recall figure that is not biased by the old policy.
    """

    labels: str
    items: int
    positives: int
    period_start: float
    period_end: float
    model: list[AtRate]
    random: list[AtRate]
    rules_lane: list[AtRate]
    market_profile: list[AtRate]
    pr_auc: dict[str, float]
    calibration: CalibrationQuality
    expected_calibration_error: float
    reliability: list[dict[str, float]]
    reliability_top: list[dict[str, float]]
    propensity: PropensityEstimate | None
    rules: dict[str, Any]
    breakdowns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def ground_truth(self) -> bool:
        return self.labels == GROUND_TRUTH

    def headline(self, selector: str) -> AtRate:
        rows: list[AtRate] = getattr(self, selector)
        return next(row for row in rows if row.rate == HEADLINE_RATE)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


SCORE_COLUMNS = ("item_id", "posted_at", "raw_score", "probability", "label", "inspected", "selection_reason")


def write_scores(
    path: Path,
    data: Dataset,
    raw_scores: npt.NDArray[np.float64],
    calibration: Calibration,
    truth: Truth | None,
) -> None:
    """Per-item scores as CSV: what was scored, when posted, the label evaluated against and the inspection."""
    labels, _ = labels_of(data, truth)
    probabilities = calibration.apply(raw_scores)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SCORE_COLUMNS)
        for i, item_id in enumerate(data.item_ids):
            writer.writerow(
                (
                    item_id,
                    datetime.fromtimestamp(data.posted_at[i], UTC).isoformat(),
                    repr(float(raw_scores[i])),
                    repr(float(probabilities[i])),
                    int(labels[i]),
                    int(data.inspected[i]),
                    data.selection_reason[i],
                )
            )


def labels_of(data: Dataset, truth: Truth | None) -> tuple[npt.NDArray[np.bool_], str]:
    """The labels evaluation scores against, and what they are."""
    if truth is None:
        return data.found.copy(), CONFIRMED_FINDINGS
    return np.array([truth.illicit.get(i, False) for i in data.item_ids], dtype=np.bool_), GROUND_TRUTH


def evaluation_period(data: Dataset, *, share: float, start: date | None = None) -> Dataset:
    """The items to evaluate: posted from `start` (UTC midnight) when given, else the last `share` of the period.

    What comes before is replayed too, so that party history is warm when the test period starts.
    """
    if start is not None:
        return data.subset(data.posted_at >= datetime.combine(start, time(), UTC).timestamp())
    if not len(data):
        return data
    first, last = float(data.posted_at.min()), float(data.posted_at.max())
    return data.subset(data.posted_at >= first + (last - first) * (1.0 - share))


def _breakdown(
    groups: npt.NDArray[np.str_], raw: npt.NDArray[np.float64], labels: npt.NDArray[np.bool_], seed: int
) -> list[dict[str, Any]]:
    """Recall at the headline rate within each group that holds enough positives to say anything."""
    selected = np.zeros(len(raw), dtype=np.bool_)
    selected[top_share(raw, HEADLINE_RATE, np.random.default_rng(seed))] = True
    rows = []
    for group in np.unique(groups[labels]):
        members = groups == group
        positives = int((labels & members).sum())
        if positives >= BREAKDOWN_MIN_POSITIVES:
            found = int((labels & members & selected).sum())
            rows.append(
                {
                    "group": str(group),
                    "items": int(members.sum()),
                    "positives": positives,
                    "found_at_1pct": found,
                    "recall_at_1pct": found / positives,
                }
            )
    return sorted(rows, key=lambda row: -row["positives"])


def _propensity(
    data: Dataset, scores: dict[str, npt.NDArray[np.float64]], seed: int
) -> PropensityEstimate | None:
    if not (data.selection_reason == RANDOM_LANE).any():
        return None
    return propensity_estimate(data, scores, INSPECTION_RATES, seed)


def evaluate(
    data: Dataset,
    raw_scores: npt.NDArray[np.float64],
    calibration: Calibration,
    *,
    truth: Truth | None = None,
    seed: int = 0,
    categories: Mapping[str, str] | None = None,
    targeting_rules: TargetingRules | None = None,
) -> Evaluation:
    """Compare the model's ranking of `data` with the baselines at every inspection rate."""
    labels, label_source = labels_of(data, truth)
    targeting_rules = targeting_rules or TargetingRules()
    rules = rules_lane_score(data.features, data.destination, targeting_rules)
    market = market_profile_score(data.features)
    probabilities = calibration.apply(raw_scores)

    def curve(scores: npt.NDArray[np.float64]) -> list[AtRate]:
        return [at_rate(scores, labels, rate, np.random.default_rng(seed)) for rate in INSPECTION_RATES]

    category = truth.category if truth else (categories or {})
    category_groups = np.array([category.get(i, "unknown") for i in data.item_ids], dtype=np.str_)
    return Evaluation(
        labels=label_source,
        items=len(data),
        positives=int(labels.sum()),
        period_start=float(data.posted_at.min()) if len(data) else 0.0,
        period_end=float(data.posted_at.max()) if len(data) else 0.0,
        model=curve(raw_scores),
        random=[random_at_rate(labels, rate) for rate in INSPECTION_RATES],
        rules_lane=curve(rules),
        market_profile=curve(market),
        pr_auc={
            "model": pr_auc(raw_scores, labels),
            "rules_lane": pr_auc(rules, labels),
            "market_profile": pr_auc(market, labels),
        },
        calibration=calibration_quality(probabilities, labels),
        expected_calibration_error=expected_calibration_error(probabilities, labels),
        reliability=reliability_curve(probabilities, labels),
        reliability_top=top_reliability_curve(raw_scores, probabilities, labels),
        propensity=_propensity(
            data, {"model": raw_scores, "rules_lane": rules, "market_profile": market}, seed
        ),
        rules=targeting_rules.model_dump(mode="json"),
        breakdowns={
            "destination": _breakdown(data.destination, raw_scores, labels, seed),
            "mail_class": _breakdown(data.mail_class, raw_scores, labels, seed),
            "category": _breakdown(category_groups, raw_scores, labels, seed),
        },
    )
