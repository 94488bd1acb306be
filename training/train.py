"""Fitting: time split, label strategies (truth, observed, ipw), regularised LightGBM, thresholds."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import lightgbm as lgb
import numpy as np
import numpy.typing as npt

from model.artifact import Calibration, ThresholdEntry
from model.features import CATEGORICAL_FEATURES, FEATURE_NAMES, FEATURES
from training.dataset import Dataset

INSPECTION_RATES = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05)
LabelStrategy = Literal["truth", "ipw", "observed"]
LABEL_STRATEGIES: tuple[LabelStrategy, ...] = ("truth", "observed", "ipw")
MAX_PROPENSITY_WEIGHT = 1000.0
MIN_TRAINING_POSITIVES = 20


class InsufficientLabels(ValueError):
    """The training period has too few positive labels to learn from."""


@dataclass(frozen=True)
class TrainConfig:
    """How to split, label and fit. The defaults are the ones the default model is trained with.

    Regularisation keeps a model from memorising a few findings: a leaf needs `min_data_in_leaf` items and a
    hessian sum of `min_sum_hessian_in_leaf` (about that many expected positives), leaf values shrink by
    `lambda_l2`, the first `min_trees` rounds are always fitted, and early stopping watches average precision
    (a metric the positives dominate) rather than the log loss of a sea of negatives.
    """

    train_share: float = 0.6
    validation_share: float = 0.2
    labels: LabelStrategy = "observed"
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_data_in_leaf: int = 50
    min_sum_hessian_in_leaf: float = 0.5
    lambda_l2: float = 5.0
    min_trees: int = 60
    max_rounds: int = 500
    early_stopping_rounds: int = 60
    seed: int = 0
    prevalence: float | None = None  # the share of drug items the probabilities are calibrated to
    market_share: float | None = (
        None  # with findings only: the share of the profile's market this post carries
    )
    posting_country: str = "NL"  # the origin whose vendors the market-share prior counts


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
    train, validation, test = periods(posted_at, first, second)
    return TimeSplit(train=train, validation=validation, test=test, cuts=(first, second))


Cut = float | npt.NDArray[np.float64]


def periods(
    posted_at: npt.NDArray[np.float64], first: Cut, second: Cut
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Train, validation and test masks for the cuts (one pair, or one per item when worlds are mixed)."""
    return posted_at < first, (posted_at >= first) & (posted_at < second), posted_at >= second


Rows = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]


def labelled_rows(
    data: Dataset,
    mask: npt.NDArray[np.bool_],
    strategy: LabelStrategy,
    truth: npt.NDArray[np.bool_] | None = None,
) -> Rows:
    """(row index, label, weight) for fitting under the label strategy.

    truth: every item, labelled by the simulator's ground truth (simulations only): the target itself.
    observed: every item; a confirmed finding is positive, everything else (inspected clean or never
      inspected) negative. This learns "the old policy found drugs here"; its level needs an anchor.
    ipw: inspected items only, each weighted by 1 / the probability that the policy inspected it, so the
      inspected sample stands for all traffic (missing propensities count as 1).
    """
    if strategy == "truth":
        if truth is None:
            raise ValueError("truth labels need a ground-truth file (simulations only)")
        index = np.flatnonzero(mask)
        return index, truth[index].astype(np.float64), np.ones(len(index))
    if strategy == "observed":
        index = np.flatnonzero(mask)
        return index, data.found[index].astype(np.float64), np.ones(len(index))
    index = np.flatnonzero(mask & data.inspected)
    propensity = np.nan_to_num(data.selection_probability[index], nan=1.0)
    weights = np.minimum(1.0 / np.clip(propensity, 1e-9, 1.0), MAX_PROPENSITY_WEIGHT)
    return index, data.found[index].astype(np.float64), weights


def _lgb_dataset(data: Dataset, rows: Rows) -> lgb.Dataset:
    index, labels, weights = rows
    return lgb.Dataset(
        data.features[index],
        label=labels,
        weight=weights,
        feature_name=list(FEATURE_NAMES),
        categorical_feature=list(CATEGORICAL_FEATURES),
        free_raw_data=False,
    )


def booster_params(config: TrainConfig) -> dict[str, Any]:
    """LightGBM's parameters for the config (the Dask fit takes the same, less the thread count)."""
    return {
        "objective": "binary",
        "metric": ["average_precision", "binary_logloss"],
        "first_metric_only": True,
        "learning_rate": config.learning_rate,
        "num_leaves": config.num_leaves,
        "min_data_in_leaf": config.min_data_in_leaf,
        "min_sum_hessian_in_leaf": config.min_sum_hessian_in_leaf,
        "lambda_l2": config.lambda_l2,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "monotone_constraints": [f.monotone for f in FEATURES],
        "monotone_constraints_method": "intermediate",
        "num_threads": 2,
        "seed": config.seed,
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
    }


def require_positives(positives: int) -> None:
    """Refuse a training period with too few positive labels to learn anything that generalises."""
    if positives < MIN_TRAINING_POSITIVES:
        raise InsufficientLabels(
            f"the training period has {positives} positive labels; at least {MIN_TRAINING_POSITIVES} are "
            "needed to learn anything that generalises (train on more days or more worlds)"
        )


class Fitter(Protocol):
    """What fits the booster on labelled rows: `fit_booster` in this process, or a fit on a Dask cluster."""

    def __call__(
        self,
        data: Dataset,
        train_rows: Rows,
        valid_rows: Rows,
        config: TrainConfig,
        init_model: lgb.Booster | None = None,
    ) -> lgb.Booster: ...


def fit_booster(
    data: Dataset,
    train_rows: Rows,
    valid_rows: Rows,
    config: TrainConfig,
    init_model: lgb.Booster | None = None,
) -> lgb.Booster:
    """LightGBM on the training rows: `min_trees` rounds, then early stopping on the validation rows.

    With `init_model` (fine-tuning a shipped model on a partner's outcomes) boosting continues from its trees.
    """
    require_positives(int(train_rows[1].sum()))
    params = booster_params(config)
    train_set = _lgb_dataset(data, train_rows)
    if init_model is None:
        init_model = lgb.train(
            params, train_set, num_boost_round=config.min_trees, keep_training_booster=True
        )
    if valid_rows[1].sum() == 0:
        return init_model
    callbacks: list[Callable[..., Any]] = [lgb.early_stopping(config.early_stopping_rounds, verbose=False)]
    return lgb.train(
        params,
        train_set,
        num_boost_round=max(config.max_rounds - init_model.current_iteration(), 1),
        valid_sets=[_lgb_dataset(data, valid_rows)],
        init_model=init_model,
        callbacks=callbacks,
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
