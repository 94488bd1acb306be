"""Selection metrics at inspection budgets with their intervals, ranking and calibration quality."""

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score

from model.intervals import wilson_interval

Scores = npt.NDArray[np.float64]
Labels = npt.NDArray[np.bool_]

TOP_SHARE_FOR_DECISIONS = 0.05
LOG_LOSS_FLOOR = 1e-15  # a probability of exactly 0 on a drug item costs log(1e-15), not infinity


@dataclass(frozen=True)
class AtRate:
    """What inspecting the top `rate` of items by a score finds, with 95% Wilson intervals.

    `positives` is the number of drug items the recall is over: below 30 the figure is too noisy to judge.
    """

    rate: float
    selected: int
    found: int
    positives: int
    recall: float
    recall_low: float
    recall_high: float
    precision: float
    precision_low: float
    precision_high: float
    lift: float

    @classmethod
    def of(cls, rate: float, selected: int, found: int, positives: int, prevalence: float) -> "AtRate":
        precision = found / selected if selected else 0.0
        recall_low, recall_high = wilson_interval(found, positives)
        precision_low, precision_high = wilson_interval(found, selected)
        return cls(
            rate=rate,
            selected=selected,
            found=found,
            positives=positives,
            recall=found / positives if positives else math.nan,
            recall_low=recall_low,
            recall_high=recall_high,
            precision=precision,
            precision_low=precision_low,
            precision_high=precision_high,
            lift=precision / prevalence if prevalence else math.nan,
        )


def top_share(scores: Scores, rate: float, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """Indices of the ceil(rate * n) highest scores; ties are broken at random, as a real queue would."""
    count = min(len(scores), math.ceil(rate * len(scores)))
    order = np.lexsort((rng.random(len(scores)), -scores))
    return order[:count]


def _prevalence(labels: Labels) -> float:
    return float(labels.mean()) if len(labels) else 0.0


def at_rate(scores: Scores, labels: Labels, rate: float, rng: np.random.Generator) -> AtRate:
    selected = top_share(scores, rate, rng)
    found = int(labels[selected].sum())
    return AtRate.of(rate, len(selected), found, int(labels.sum()), _prevalence(labels))


def random_at_rate(labels: Labels, rate: float) -> AtRate:
    """The expectation of selecting `rate` of items uniformly at random (found rounded to a whole item)."""
    positives = int(labels.sum())
    selected = math.ceil(rate * len(labels))
    expected = AtRate.of(rate, selected, round(rate * positives), positives, _prevalence(labels))
    exact_recall = rate if positives else math.nan
    return replace(expected, recall=exact_recall, precision=_prevalence(labels), lift=1.0)


def pr_auc(scores: Scores, labels: Labels) -> float:
    """Average precision (area under the precision-recall curve); NaN without positives."""
    return float(average_precision_score(labels, scores)) if labels.any() else math.nan


def expected_calibration_error(probabilities: Scores, labels: Labels, bins: int = 10) -> float:
    """Count-weighted mean |predicted - observed| over equal-width probability bins.

    Information only: at a prevalence of 1e-4 a model that always says 0 scores about 1e-4 here.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += members.sum() * abs(probabilities[members].mean() - labels[members].mean())
    return total / len(labels) if len(labels) else math.nan


@dataclass(frozen=True)
class CalibrationQuality:
    """Calibration measured against the predictor that always says the prevalence.

    A skill score is 1 - loss(model) / loss(prevalence): 0 for that constant predictor, negative for one that
    always says 0 (log-loss skill very much so), positive only for probabilities that tell items apart and are
    on the right scale. `mean_to_prevalence` is the mean predicted probability over the observed prevalence.
    """

    prevalence: float
    mean_probability: float
    mean_to_prevalence: float
    brier_skill: float
    log_loss_skill: float


def _log_loss(probabilities: Scores, labels: Labels) -> float:
    clipped = np.clip(probabilities, LOG_LOSS_FLOOR, 1.0 - LOG_LOSS_FLOOR)
    return float(-np.mean(np.where(labels, np.log(clipped), np.log1p(-clipped))))


def calibration_quality(probabilities: Scores, labels: Labels) -> CalibrationQuality:
    """Brier and log-loss skill against the prevalence, and the mean probability against the prevalence."""
    prevalence = _prevalence(labels)
    mean = float(probabilities.mean()) if len(probabilities) else math.nan
    if not 0.0 < prevalence < 1.0:
        return CalibrationQuality(prevalence, mean, math.nan, math.nan, math.nan)
    constant = np.full(len(labels), prevalence)
    brier = float(np.mean((probabilities - labels) ** 2))
    brier_reference = prevalence * (1.0 - prevalence)
    return CalibrationQuality(
        prevalence=prevalence,
        mean_probability=mean,
        mean_to_prevalence=mean / prevalence,
        brier_skill=1.0 - brier / brier_reference,
        log_loss_skill=1.0 - _log_loss(probabilities, labels) / _log_loss(constant, labels),
    )


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
                    "positives": float(labels[chunk].sum()),
                }
            )
    return rows


def top_reliability_curve(
    raw_scores: Scores, probabilities: Scores, labels: Labels, bins: int = 10
) -> list[dict[str, float]]:
    """The reliability curve within the top 5% of scores, where inspection decisions are made."""
    top = top_share(raw_scores, TOP_SHARE_FOR_DECISIONS, np.random.default_rng(0))
    return reliability_curve(probabilities[top], labels[top], bins)
