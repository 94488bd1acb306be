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
The estimator itself (`model.propensity`) is the one the service's live estimate uses.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from model.propensity import MIN_RANDOM_FINDINGS, Findings, drug_items_interval, estimate_selection
from training.dataset import Dataset
from training.metrics import top_share

RANDOM_LANE = "random"
SECONDS_PER_DAY = 86_400.0


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

    def findings(mask: npt.NDArray[np.bool_]) -> Findings:
        return Findings(
            int(observed[mask].sum()), int(sampled[mask].sum()), float(weights[sampled & mask].sum())
        )

    everything = findings(np.ones(len(data), dtype=np.bool_))
    selectors: dict[str, list[EstimatedAtRate]] = {}
    for name, score in scores.items():
        rows = []
        for rate in rates:
            inside = np.zeros(len(data), dtype=np.bool_)
            inside[top_share(score, rate, np.random.default_rng(seed))] = True
            estimate = estimate_selection(
                findings(inside), findings(~inside), selected=int(inside.sum()), weight=weight, rng=rng
            )
            rows.append(EstimatedAtRate(rate=rate, **vars(estimate)))
        selectors[name] = rows
    low, high = drug_items_interval(everything, weight, rng)
    return PropensityEstimate(
        random_inspections=int(by_random.sum()),
        random_findings=everything.sampled,
        other_lane_findings=everything.observed,
        estimated_drug_items=everything.estimate,
        estimated_drug_items_low=low,
        estimated_drug_items_high=high,
        selectors=selectors,
    )
