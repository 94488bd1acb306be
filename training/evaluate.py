"""Evaluation on the held-out test period: the model against random selection, the rules lane and the profile."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from model.artifact import Calibration
from training.baselines import market_profile_score, rules_lane_score
from training.dataset import Dataset
from training.files import read_jsonl
from training.metrics import (
    AtRate,
    at_rate,
    expected_calibration_error,
    pr_auc,
    random_at_rate,
    reliability_curve,
    top_share,
)
from training.train import INSPECTION_RATES

HEADLINE_RATE = 0.01
BREAKDOWN_MIN_POSITIVES = 3


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
    """Every figure of the evaluation report; `labels` says whether recall is against ground truth."""

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
    expected_calibration_error: float
    reliability: list[dict[str, float]]
    breakdowns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def headline(self, selector: str) -> AtRate:
        rows: list[AtRate] = getattr(self, selector)
        return next(row for row in rows if row.rate == HEADLINE_RATE)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _labels(data: Dataset, truth: Truth | None) -> tuple[npt.NDArray[np.bool_], str]:
    if truth is None:
        return data.found.copy(), "confirmed findings (inspected items only; recall is over what was found)"
    return np.array([truth.illicit.get(i, False) for i in data.item_ids], dtype=np.bool_), "ground truth"


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


def evaluate(
    data: Dataset,
    raw_scores: npt.NDArray[np.float64],
    calibration: Calibration,
    *,
    truth: Truth | None = None,
    seed: int = 0,
    categories: Mapping[str, str] | None = None,
) -> Evaluation:
    """Compare the model's ranking of `data` with the baselines at every inspection rate."""
    labels, label_source = _labels(data, truth)
    rules = rules_lane_score(data.features)
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
        expected_calibration_error=expected_calibration_error(probabilities, labels),
        reliability=reliability_curve(probabilities, labels),
        breakdowns={
            "destination": _breakdown(data.destination, raw_scores, labels, seed),
            "mail_class": _breakdown(data.mail_class, raw_scores, labels, seed),
            "category": _breakdown(category_groups, raw_scores, labels, seed),
        },
    )
