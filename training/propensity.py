"""Inverse-propensity (Horvitz-Thompson) estimate of recall and precision from the random inspection lane.

Without ground truth, the drug items nobody inspected are unknown. Items the other lanes inspected are
observed; the random lane inspects a uniform sample of the items the other lanes left on each day, so each
drug item it finds stands for 1 / (that day's sampling fraction) drug items among them. The estimate:

    drug items     = findings of the other lanes + sum over random-lane findings of 1 / fraction
    found at rate  = the same sums restricted to the items the selector puts in its top share

The sampling fraction is counted per day (random-lane inspections / items the other lanes left), which is
the design probability of the random draw. The logged `selection_probability` is not used as the weight: the
service logs that same draw probability, but the simulator logs each item's chance of inspection by any lane,
which for drug items includes the intelligence lane and would undercount what the random lane stands for.
"""

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from training.dataset import Dataset
from training.metrics import top_share

RANDOM_LANE = "random"
DRAWS = 4000
SECONDS_PER_DAY = 86_400.0
MIN_RANDOM_FINDINGS = 10


@dataclass(frozen=True)
class EstimatedAtRate:
    """Estimated recall and precision at one inspection rate, with 95% intervals."""

    rate: float
    recall: float
    recall_low: float
    recall_high: float
    precision: float
    precision_low: float
    precision_high: float


@dataclass(frozen=True)
class PropensityEstimate:
    """The inverse-propensity estimate for each selector, and what it rests on."""

    random_inspections: int
    random_findings: int
    other_lane_findings: int
    estimated_drug_items: float
    estimated_drug_items_low: float
    estimated_drug_items_high: float
    selectors: dict[str, list[EstimatedAtRate]]

    @property
    def reliable(self) -> bool:
        """Whether the random lane found enough drug items for the interval to mean much."""
        return self.random_findings >= MIN_RANDOM_FINDINGS


def random_lane_weights(data: Dataset) -> npt.NDArray[np.float64]:
    """1 / the day's random-lane sampling fraction for random-lane inspections, 1 for other inspections, else 0."""
    by_random = data.selection_reason == RANDOM_LANE
    by_other_lane = data.inspected & ~by_random
    days = np.floor(data.posted_at / SECONDS_PER_DAY).astype(np.int64)
    _, day = np.unique(days, return_inverse=True)
    left = np.bincount(day, weights=(~by_other_lane).astype(np.float64))
    drawn = np.bincount(day, weights=by_random.astype(np.float64))
    fraction = np.divide(drawn, left, out=np.zeros_like(drawn), where=left > 0)
    weights: npt.NDArray[np.float64] = by_other_lane.astype(np.float64)
    weights[by_random] = 1.0 / fraction[day[by_random]]
    return weights


def _unseen_drug_items(
    findings: int, weight: float, rng: np.random.Generator, extra: int
) -> npt.NDArray[np.float64]:
    """Draws of the drug items `findings` random-lane finds stand for: Gamma(k) for a lower, Gamma(k + 1)
    for an upper bound (the exact Poisson interval's construction), scaled by the inverse sampling fraction."""
    return weight * rng.gamma(findings + extra, 1.0, DRAWS)


@dataclass(frozen=True)
class _Counts:
    """Findings inside or outside a selection: observed by the other lanes, and sampled by the random lane."""

    observed: int
    sampled: int

    def draws(self, weight: float, rng: np.random.Generator, extra: int) -> npt.NDArray[np.float64]:
        return self.observed + _unseen_drug_items(self.sampled, weight, rng, extra)


def _bounds(
    inside: _Counts, outside: _Counts, selected: int, weight: float, rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """(recall low, recall high, precision low, precision high), each 95%."""
    low_found, high_found = inside.draws(weight, rng, 0), inside.draws(weight, rng, 1)
    low_missed, high_missed = outside.draws(weight, rng, 0), outside.draws(weight, rng, 1)
    with np.errstate(invalid="ignore"):
        recall_low = np.nan_to_num(low_found / (low_found + high_missed))
    return (
        float(np.percentile(recall_low, 2.5)),
        float(np.percentile(high_found / (high_found + low_missed), 97.5)),
        float(np.percentile(np.minimum(1.0, low_found / selected), 2.5)),
        float(np.percentile(np.minimum(1.0, high_found / selected), 97.5)),
    )


def propensity_estimate(
    data: Dataset, scores: dict[str, npt.NDArray[np.float64]], rates: tuple[float, ...], seed: int = 0
) -> PropensityEstimate:
    """Estimate each selector's recall and precision at `rates` from the outcomes of `data` alone.

    The point estimate weights each random-lane finding by its day's inverse sampling fraction. The interval
    treats the random lane's finding counts inside and outside the selection as Poisson, scaled by the mean
    inverse fraction (so a selection holding no random-lane finding still gets an upper bound); the other
    lanes' findings are observed, not sampled.
    """
    weights = random_lane_weights(data)
    by_random = data.selection_reason == RANDOM_LANE
    weight = float(weights[by_random].mean()) if by_random.any() else 0.0
    observed, sampled = data.found & ~by_random, data.found & by_random
    rng = np.random.default_rng(seed)
    drug_items = float((weights * data.found).sum())
    selectors: dict[str, list[EstimatedAtRate]] = {}
    for name, score in scores.items():
        rows = []
        for rate in rates:
            inside = np.zeros(len(data), dtype=np.bool_)
            inside[top_share(score, rate, np.random.default_rng(seed))] = True
            found = float((weights * data.found)[inside].sum())
            selected = max(int(inside.sum()), 1)
            counts = [_Counts(int(observed[m].sum()), int(sampled[m].sum())) for m in (inside, ~inside)]
            recall_low, recall_high, precision_low, precision_high = _bounds(
                counts[0], counts[1], selected, weight, rng
            )
            rows.append(
                EstimatedAtRate(
                    rate=rate,
                    recall=min(1.0, found / drug_items) if drug_items else math.nan,
                    recall_low=recall_low,
                    recall_high=recall_high,
                    precision=min(1.0, found / selected),
                    precision_low=precision_low,
                    precision_high=precision_high,
                )
            )
        selectors[name] = rows
    everything = _Counts(int(observed.sum()), int(sampled.sum()))
    return PropensityEstimate(
        random_inspections=int(by_random.sum()),
        random_findings=int(sampled.sum()),
        other_lane_findings=int(observed.sum()),
        estimated_drug_items=drug_items,
        estimated_drug_items_low=float(np.percentile(everything.draws(weight, rng, 0), 2.5)),
        estimated_drug_items_high=float(np.percentile(everything.draws(weight, rng, 1), 97.5)),
        selectors=selectors,
    )
