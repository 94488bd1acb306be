"""Calibration toward "this item carries drugs": isotonic blended with a Platt fit, anchored to a prevalence."""

import numpy as np
import numpy.typing as npt
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from model.artifact import Calibration
from model.market_profile import MarketProfile
from training.dataset import Dataset
from training.propensity import RANDOM_LANE, random_lane_weights

# The isotonic fit gets weight positives / (positives + this): with few positives the smooth Platt fit leads.
PLATT_PRIOR_POSITIVES = 50.0
MIN_PLATT_SLOPE = 0.05  # a ranking score never maps to a falling probability
GRID_POINTS = 120  # breakpoints of the stored table, denser toward the top scores
GRID_EXTENSION = 4.0  # raw-score units beyond the validation range, so the top never flattens at its edge
PROBABILITY_BOUNDS = (1e-12, 1.0 - 1e-9)
DAYS_PER_MONTH = 30.44


def expit(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))


def logit(p: npt.NDArray[np.float64] | float) -> npt.NDArray[np.float64]:
    return np.log(np.asarray(p, dtype=np.float64) / (1.0 - np.asarray(p, dtype=np.float64)))


def _grid(raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Raw-score breakpoints: quantiles, a tail of ever smaller top shares, and an extension either side."""
    levels = np.concatenate(
        [np.linspace(0.0, 0.9, GRID_POINTS // 2), 1.0 - np.geomspace(0.1, 1e-5, GRID_POINTS // 2)]
    )
    quantiles = np.quantile(raw, np.clip(levels, 0.0, 1.0))
    ends = [float(raw.min()) - GRID_EXTENSION, float(raw.max()) + GRID_EXTENSION]
    return np.unique(np.concatenate([quantiles, [raw.max()], ends]))


def _platt(
    raw: npt.NDArray[np.float64], labels: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> tuple[float, float]:
    """(slope, intercept) of the logistic regression of the labels on the raw score."""
    fit = LogisticRegression(C=1e6, max_iter=1000)
    fit.fit(raw.reshape(-1, 1), labels.astype(np.int64), sample_weight=weights)
    return max(float(fit.coef_[0, 0]), MIN_PLATT_SLOPE), float(fit.intercept_[0])


def fit_calibration(
    raw_scores: npt.NDArray[np.float64], labels: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> Calibration:
    """Weighted isotonic regression blended with a Platt fit, kept as a table of breakpoints.

    The Platt part is strictly positive and strictly increasing, so the blend is too: no item is shown 0%, and
    a higher raw score never gives a lower probability. Both parts reproduce the labels' weighted mean, so the
    table's mean over the fitting rows is their (weighted) prevalence.
    """
    if labels.sum() == 0 or labels.sum() == len(labels):
        raise ValueError("calibration needs both positive and negative labels")
    slope, intercept = _platt(raw_scores, labels, weights)
    isotonic = IsotonicRegression(out_of_bounds="clip", increasing=True, y_min=0.0, y_max=1.0)
    isotonic.fit(raw_scores, labels, sample_weight=weights)
    grid = _grid(raw_scores)
    share = float(labels.sum()) / (float(labels.sum()) + PLATT_PRIOR_POSITIVES)
    blended = share * isotonic.predict(grid) + (1.0 - share) * expit(slope * grid + intercept)
    probability = np.clip(blended, *PROBABILITY_BOUNDS)
    return Calibration(raw=[float(x) for x in grid], probability=[float(p) for p in probability])


def shift_log_odds(calibration: Calibration, delta: float) -> Calibration:
    """The same map with every probability's log-odds moved by `delta` (order and positivity are kept)."""
    odds = logit(np.clip(np.asarray(calibration.probability), *PROBABILITY_BOUNDS)) + delta
    return Calibration(raw=list(calibration.raw), probability=[float(p) for p in expit(odds)])


def shift_prevalence(calibration: Calibration, fitted: float, target: float) -> Calibration:
    """Prior-shift correction: probabilities fitted where prevalence was `fitted`, for a world where it is `target`.

    Bayes' rule with the class-conditional score distributions unchanged: the posterior log-odds move by the
    difference of the prior log-odds.
    """
    return shift_log_odds(calibration, float(logit(target) - logit(fitted)))


def mean_at_prevalence(
    calibration: Calibration,
    raw_scores: npt.NDArray[np.float64],
    labels: npt.NDArray[np.float64],
    target: float,
) -> float:
    """Mean probability over labelled items reweighted to a population whose prevalence is `target`.

    What a prior-shifted calibration should give on deployment traffic: its mean over the training worlds'
    own items is higher, since they hold more drug items than deployment traffic does.
    """
    prevalence = float(labels.mean())
    weights = np.where(labels > 0, target / prevalence, (1.0 - target) / (1.0 - prevalence))
    return float(np.average(calibration.apply(raw_scores), weights=weights))


def anchor_to_prevalence(
    calibration: Calibration, raw_scores: npt.NDArray[np.float64], target: float
) -> Calibration:
    """Shift the log-odds so that the mean probability over `raw_scores` (all traffic) equals `target`."""
    low, high = -30.0, 30.0
    for _ in range(60):
        middle = (low + high) / 2
        mean = float(shift_log_odds(calibration, middle).apply(raw_scores).mean())
        low, high = (middle, high) if mean < target else (low, middle)
    return shift_log_odds(calibration, (low + high) / 2)


def ipw_prevalence(data: Dataset) -> float | None:
    """Inverse-propensity estimate of the share of drug items: the other lanes' findings plus each random-lane
    finding weighted by one over that day's random sampling fraction (`training.propensity`).

    None without random-lane findings: then nothing in the outcomes says how many drug items went unseen.
    """
    random_findings = (data.selection_reason == RANDOM_LANE) & data.found
    if not random_findings.any():
        return None
    return float((random_lane_weights(data) * data.found).sum() / len(data))


def profile_prevalence(profile: MarketProfile, data: Dataset, origin: str, market_share: float) -> float:
    """Prior share of drug items: the profile's monthly vendor items from `origin`, the share of that market
    this post carries, over the traffic per month in the data."""
    days = max((float(data.posted_at.max()) - float(data.posted_at.min())) / 86_400.0, 1.0)
    monthly_traffic = len(data) / days * DAYS_PER_MONTH
    return profile.origin_monthly_items(origin) * market_share / monthly_traffic
