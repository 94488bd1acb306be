"""Fitting: time split, selective-label weighting, LightGBM with early stopping, isotonic calibration, thresholds."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
from sklearn.isotonic import IsotonicRegression

from model.artifact import Calibration, ThresholdEntry
from model.features import CATEGORICAL_FEATURES, FEATURE_NAMES, FEATURES
from training.dataset import Dataset

INSPECTION_RATES = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05)
LabelStrategy = Literal["ipw", "observed"]
MAX_PROPENSITY_WEIGHT = 1000.0


@dataclass(frozen=True)
class TrainConfig:
    """How to split, label and fit. The defaults are the ones the default model is trained with."""

    train_share: float = 0.6
    validation_share: float = 0.2
    labels: LabelStrategy = "observed"
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_data_in_leaf: int = 20
    max_rounds: int = 400
    early_stopping_rounds: int = 40
    seed: int = 0


@dataclass(frozen=True)
class TimeSplit:
    train: npt.NDArray[np.bool_]
    validation: npt.NDArray[np.bool_]
    test: npt.NDArray[np.bool_]
    cuts: tuple[float, float]


def time_split(posted_at: npt.NDArray[np.float64], config: TrainConfig) -> TimeSplit:
    """Train on the earliest share of the period, validate on the next, test on the rest."""
    start, end = float(posted_at.min()), float(posted_at.max())
    first = start + (end - start) * config.train_share
    second = start + (end - start) * (config.train_share + config.validation_share)
    return TimeSplit(
        train=posted_at < first,
        validation=(posted_at >= first) & (posted_at < second),
        test=posted_at >= second,
        cuts=(first, second),
    )


def labelled_rows(
    data: Dataset, mask: npt.NDArray[np.bool_], strategy: LabelStrategy
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(row index, label, weight) for fitting under the selective-label strategy.

    observed: every item; a confirmed finding is positive, everything else (inspected clean or never
      inspected) negative. Unbiased where prevalence is tiny and inspection covers the risky regions.
    ipw: inspected items only, each weighted by 1 / the probability that the policy inspected it, so the
      inspected sample stands for all traffic (missing propensities count as 1).
    """
    if strategy == "observed":
        index = np.flatnonzero(mask)
        return index, data.found[index].astype(np.float64), np.ones(len(index))
    index = np.flatnonzero(mask & data.inspected)
    propensity = np.nan_to_num(data.selection_probability[index], nan=1.0)
    weights = np.minimum(1.0 / np.clip(propensity, 1e-9, 1.0), MAX_PROPENSITY_WEIGHT)
    return index, data.found[index].astype(np.float64), weights


def _lgb_dataset(
    data: Dataset,
    index: npt.NDArray[np.int64],
    labels: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
) -> lgb.Dataset:
    return lgb.Dataset(
        data.features[index],
        label=labels,
        weight=weights,
        feature_name=list(FEATURE_NAMES),
        categorical_feature=list(CATEGORICAL_FEATURES),
        free_raw_data=False,
    )


def fit_booster(data: Dataset, split: TimeSplit, config: TrainConfig) -> lgb.Booster:
    """LightGBM on the training period, early-stopped on the validation period's log loss."""
    train_rows = labelled_rows(data, split.train, config.labels)
    valid_rows = labelled_rows(data, split.validation, config.labels)
    if train_rows[1].sum() == 0:
        raise ValueError("the training period has no confirmed findings: there is nothing to learn from")
    params = {
        "objective": "binary",
        "learning_rate": config.learning_rate,
        "num_leaves": config.num_leaves,
        "min_data_in_leaf": config.min_data_in_leaf,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "monotone_constraints": [f.monotone for f in FEATURES],
        "monotone_constraints_method": "intermediate",
        "num_threads": 2,
        "seed": config.seed,
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
    }
    train_set = _lgb_dataset(data, *train_rows)
    callbacks: list[Callable[..., Any]] = []
    valid_sets = []
    if valid_rows[1].sum() > 0:
        valid_sets = [_lgb_dataset(data, *valid_rows).construct()]
        callbacks.append(lgb.early_stopping(config.early_stopping_rounds, verbose=False))
    return lgb.train(
        params, train_set, num_boost_round=config.max_rounds, valid_sets=valid_sets, callbacks=callbacks
    )


def fit_calibration(
    raw_scores: npt.NDArray[np.float64], labels: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> Calibration:
    """Isotonic regression of labels on raw scores, kept as its breakpoints for interpolation at serving."""
    isotonic = IsotonicRegression(out_of_bounds="clip", increasing=True, y_min=0.0, y_max=1.0)
    isotonic.fit(raw_scores, labels, sample_weight=weights)
    return Calibration(
        raw=[float(x) for x in isotonic.X_thresholds_], probability=[float(y) for y in isotonic.y_thresholds_]
    )


def threshold_table(
    raw_scores: npt.NDArray[np.float64], calibration: Calibration, rates: tuple[float, ...] = INSPECTION_RATES
) -> list[ThresholdEntry]:
    """For each inspection rate, the raw score at which that share of items scored at or above it."""
    entries = []
    for rate in rates:
        raw = float(np.quantile(raw_scores, 1.0 - rate, method="higher"))
        probability = float(calibration.apply(np.array([raw]))[0])
        entries.append(ThresholdEntry(inspection_rate=rate, raw_score=raw, probability=probability))
    return entries
