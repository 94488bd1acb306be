"""Horvitz-Thompson estimate of recall and precision from random-lane findings, shared by training and service.

Without ground truth, the drug items nobody inspected are unknown. Items the targeted lanes inspected are
observed; the random lane inspects a sample of the items those lanes left, so each drug item it finds stands
for 1 / (its sampling probability) drug items among them. For a selection (a share of items a selector
would hold), drug items inside and outside it are each the observed findings plus the weighted random-lane
findings; recall is inside / (inside + outside) and precision inside / selected.

The interval treats the random lane's finding counts as Poisson, scaled by the mean inverse sampling
probability (so a side holding no random-lane finding still gets an upper bound): a lower bound draws
Gamma(k), an upper bound Gamma(k + 1), the exact Poisson interval's construction. Observed findings are
counted, not sampled.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

DRAWS = 4000
MIN_RANDOM_FINDINGS = 10  # below this many random-lane findings the interval is too wide to mean much


@dataclass(frozen=True)
class Findings:
    """Drug findings on one side of a selection: `observed` by the targeted lanes (each counts once) and
    `sampled` by the random lane, whose inverse sampling probabilities sum to `sampled_weight`."""

    observed: int
    sampled: int
    sampled_weight: float

    @property
    def estimate(self) -> float:
        """The Horvitz-Thompson estimate of the drug items on this side."""
        return self.observed + self.sampled_weight

    def draws(self, weight: float, rng: np.random.Generator, extra: int) -> npt.NDArray[np.float64]:
        """Draws of the drug items on this side (`extra` 0 for a lower bound, 1 for an upper bound)."""
        return self.observed + weight * rng.gamma(self.sampled + extra, 1.0, DRAWS)


@dataclass(frozen=True)
class SelectionEstimate:
    """Estimated recall and precision of one selection, with 95% intervals."""

    recall: float
    recall_low: float
    recall_high: float
    precision: float
    precision_low: float
    precision_high: float


def estimate_selection(
    inside: Findings, outside: Findings, *, selected: int, weight: float, rng: np.random.Generator
) -> SelectionEstimate:
    """Recall and precision of a selection of `selected` items; `weight` is the mean inverse sampling
    probability of the random lane's inspections (it scales the interval's Poisson draws)."""
    found, total = inside.estimate, inside.estimate + outside.estimate
    selected = max(selected, 1)
    low_found, high_found = inside.draws(weight, rng, 0), inside.draws(weight, rng, 1)
    low_missed, high_missed = outside.draws(weight, rng, 0), outside.draws(weight, rng, 1)
    with np.errstate(invalid="ignore"):
        recall_low = np.nan_to_num(low_found / (low_found + high_missed))
        recall_high = np.nan_to_num(high_found / (high_found + low_missed), nan=1.0)
    return SelectionEstimate(
        recall=min(1.0, found / total) if total else float("nan"),
        recall_low=float(np.percentile(recall_low, 2.5)),
        recall_high=float(np.percentile(recall_high, 97.5)),
        precision=min(1.0, found / selected),
        precision_low=float(np.percentile(np.minimum(1.0, low_found / selected), 2.5)),
        precision_high=float(np.percentile(np.minimum(1.0, high_found / selected), 97.5)),
    )


def drug_items_interval(findings: Findings, weight: float, rng: np.random.Generator) -> tuple[float, float]:
    """95% interval of all drug items, from every finding of the period."""
    return (
        float(np.percentile(findings.draws(weight, rng, 0), 2.5)),
        float(np.percentile(findings.draws(weight, rng, 1), 97.5)),
    )


def proportion_interval(hits: int, trials: int, rng: np.random.Generator) -> tuple[float, float]:
    """95% Jeffreys interval of a rate observed as `hits` of `trials` (a hit rate of items all inspected)."""
    if trials <= 0:
        return 0.0, 1.0
    draws = rng.beta(hits + 0.5, trials - hits + 0.5, DRAWS)
    return float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))
