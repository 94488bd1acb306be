"""Selection metrics at inspection budgets, ranking and calibration quality."""

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score

Scores = npt.NDArray[np.float64]
Labels = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class AtRate:
    """What inspecting the top `rate` of items by a score finds."""

    rate: float
    selected: int
    found: int
    recall: float
    precision: float
    lift: float


def top_share(scores: Scores, rate: float, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """Indices of the ceil(rate * n) highest scores; ties are broken at random, as a real queue would."""
    count = min(len(scores), math.ceil(rate * len(scores)))
    order = np.lexsort((rng.random(len(scores)), -scores))
    return order[:count]


def at_rate(scores: Scores, labels: Labels, rate: float, rng: np.random.Generator) -> AtRate:
    selected = top_share(scores, rate, rng)
    found = int(labels[selected].sum())
    positives = int(labels.sum())
    prevalence = positives / len(labels) if len(labels) else 0.0
    precision = found / len(selected) if len(selected) else 0.0
    return AtRate(
        rate=rate,
        selected=len(selected),
        found=found,
        recall=found / positives if positives else math.nan,
        precision=precision,
        lift=precision / prevalence if prevalence else math.nan,
    )


def random_at_rate(labels: Labels, rate: float) -> AtRate:
    """The expectation of selecting `rate` of items uniformly at random."""
    positives = int(labels.sum())
    prevalence = positives / len(labels) if len(labels) else 0.0
    return AtRate(
        rate=rate,
        selected=math.ceil(rate * len(labels)),
        found=round(rate * positives),
        recall=rate if positives else math.nan,
        precision=prevalence,
        lift=1.0,
    )


def pr_auc(scores: Scores, labels: Labels) -> float:
    """Average precision (area under the precision-recall curve); NaN without positives."""
    return float(average_precision_score(labels, scores)) if labels.any() else math.nan


def expected_calibration_error(probabilities: Scores, labels: Labels, bins: int = 10) -> float:
    """Count-weighted mean |predicted - observed| over equal-width probability bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += members.sum() * abs(probabilities[members].mean() - labels[members].mean())
    return total / len(labels) if len(labels) else math.nan


def reliability_curve(probabilities: Scores, labels: Labels, bins: int = 10) -> list[dict[str, float]]:
    """Mean prediction vs observed frequency over equal-count bins of the predictions (for the plot)."""
    order = np.argsort(probabilities, kind="stable")
    rows = []
    for chunk in np.array_split(order, bins):
        if len(chunk):
            rows.append(
                {
                    "predicted": float(probabilities[chunk].mean()),
                    "observed": float(labels[chunk].mean()),
                    "count": float(len(chunk)),
                }
            )
    return rows
