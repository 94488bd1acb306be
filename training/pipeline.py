"""The training pipeline end to end: replay, fit, calibrate, choose thresholds, evaluate, write the artifact."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import orjson

from model.artifact import Calibration, Manifest, write_artifact
from model.drift import DRIFT_REFERENCE_FILE, fit_reference
from model.market_profile import MarketProfile
from training.calibrate import (
    anchor_to_prevalence,
    fit_calibration,
    ipw_prevalence,
    mean_at_prevalence,
    profile_prevalence,
    shift_prevalence,
)
from training.champion import Champion, champion_section, compare_with_champion
from training.dataset import Dataset
from training.evaluate import Evaluation, Truth, evaluate
from training.replay import replay
from training.report import model_card, render_report
from training.train import (
    Fitter,
    TimeSplit,
    TrainConfig,
    fit_booster,
    labelled_rows,
    threshold_table,
    time_split,
)

Progress = Callable[[str], None]
Summary = dict[str, str | int | float]


@dataclass(frozen=True)
class TrainingInputs:
    """The files a model is trained from: the partner's shipments, customs outcomes, and optionally truth."""

    shipments: Path
    outcomes: Path | None
    profile: MarketProfile
    truth: Path | None = None


@dataclass(frozen=True)
class TrainingResult:
    manifest: Manifest
    evaluation: Evaluation
    dataset_items: int
    seconds: dict[str, float]


@dataclass(frozen=True)
class World:
    """One replayed period (its own history) with its time split and, for simulations, its ground truth."""

    data: Dataset
    split: TimeSplit
    truth: Truth | None
    truth_labels: npt.NDArray[np.bool_] | None


def make_world(data: Dataset, truth: Truth | None, config: TrainConfig) -> World:
    labels = None if truth is None else np.array([truth.illicit.get(i, False) for i in data.item_ids])
    return World(data, time_split(data.posted_at, config), truth, labels)


@dataclass(frozen=True)
class Calibrated:
    calibration: Calibration
    evaluated_with: Calibration  # at the prevalence of the fitted data, for the report on that data
    summary: Summary


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _training_summary(world: World, config: TrainConfig) -> Summary:
    data = world.data
    summary: Summary = {
        "period_start": _iso(float(data.posted_at.min())),
        "period_end": _iso(float(data.posted_at.max())),
        "validation_from": _iso(world.split.cuts[0]),
        "test_from": _iso(world.split.cuts[1]),
        "items": len(data),
        "inspected": int(data.inspected.sum()),
        "confirmed_findings": int(data.found.sum()),
        "label_strategy": config.labels,
        "seed": config.seed,
    }
    if world.truth_labels is not None:
        summary["training_positives"] = int(world.truth_labels[world.split.train].sum())
    return summary


def _anchor_target(world: World, config: TrainConfig, profile: MarketProfile) -> tuple[float | None, str]:
    """The prevalence that sets the level of probabilities learnt from findings, and where it comes from."""
    if config.prevalence is not None:
        return config.prevalence, "the given prevalence"
    if config.market_share is not None:
        prior = profile_prevalence(profile, world.data, config.posting_country, config.market_share)
        return prior, f"the market profile's prior at a {config.market_share:g} market share"
    if config.labels == "observed":
        before_test = world.data.subset(~world.split.test)  # prevalence drifts slowly: use all of it
        return ipw_prevalence(before_test), "the propensity-weighted findings"
    return None, ""


def calibrate(world: World, booster: lgb.Booster, config: TrainConfig, profile: MarketProfile) -> Calibrated:
    """Fit the calibration on the validation period, then set its level (see docs/learning.md)."""
    validation = np.flatnonzero(world.split.validation)
    raw = np.asarray(booster.predict(world.data.features[validation], raw_score=True), dtype=np.float64)
    rows, labels, weights = labelled_rows(
        world.data, world.split.validation, config.labels, world.truth_labels
    )
    position = np.searchsorted(validation, rows)
    fitted = fit_calibration(raw[position], labels, weights)
    fitted_level = float(fitted.apply(raw).mean())
    summary: Summary = {"training_prevalence": fitted_level}
    if config.labels == "truth":
        target, source = config.prevalence, "the deployment prevalence (prior shift)"
        prevalence = float(np.average(labels))
        calibration = fitted if target is None else shift_prevalence(fitted, prevalence, target)
        summary["prevalence"] = mean_at_prevalence(calibration, raw, labels, target or prevalence)
        evaluated_with = fitted
    else:
        target, source = _anchor_target(world, config, profile)
        calibration = fitted if target is None else anchor_to_prevalence(fitted, raw, target)
        summary["prevalence"] = float(calibration.apply(raw).mean())
        evaluated_with = calibration
    summary["calibration"] = f"{config.labels} labels" + (
        f", level set to {target:.3g} from {source}" if target else ", own level"
    )
    return Calibrated(calibration, evaluated_with, summary)


def fit_and_write(
    world: World,
    profile: MarketProfile,
    out_dir: Path,
    config: TrainConfig,
    *,
    extra_summary: Summary | None = None,
    init_model: lgb.Booster | None = None,
    champion: Champion | None = None,
    fit: Fitter = fit_booster,
    say: Progress = lambda _message: None,
) -> tuple[Manifest, Evaluation, float]:
    """Fit, calibrate, pick thresholds, evaluate on the test period and write the artifact; seconds to fit.

    With `champion` the report compares the model with it on the test period (or says there is none);
    `fit` fits the booster (in this process by default, on a Dask cluster with `training.distributed`).
    """
    split, data = world.split, world.data
    say(f"fitting LightGBM on {int(split.train.sum()):,} items ({config.labels} labels)")
    started = time.perf_counter()
    booster = fit(
        data,
        labelled_rows(data, split.train, config.labels, world.truth_labels),
        labelled_rows(data, split.validation, config.labels, world.truth_labels),
        config,
        init_model=init_model,
    )
    fit_seconds = time.perf_counter() - started
    calibrated = calibrate(world, booster, config, profile)
    validation_raw = np.asarray(booster.predict(data.features[split.validation], raw_score=True))
    thresholds = threshold_table(validation_raw.astype(np.float64), calibrated.calibration)
    # The validation period is the reference for drift: its history features are warm, as in service, and
    # its scores are of items the trees did not fit.
    drift_reference = fit_reference(
        data.features[split.validation], validation_raw.astype(np.float64), period="validation"
    )
    say("evaluating on the test period")
    test = data.subset(split.test)
    test_raw = np.asarray(booster.predict(test.features, raw_score=True), dtype=np.float64)
    evaluation = evaluate(test, test_raw, calibrated.evaluated_with, truth=world.truth, seed=config.seed)
    training = {**_training_summary(world, config), **calibrated.summary, **(extra_summary or {})}
    training["trees"] = booster.best_iteration or booster.current_iteration()
    headline = evaluation.headline("model")
    metrics: dict[str, float | int | str | list[dict[str, float]]] = {
        "test_labels": evaluation.labels,
        "test_items": evaluation.items,
        "test_positives": evaluation.positives,
        "recall_at_1pct": headline.recall,
        "precision_at_1pct": headline.precision,
        "random_recall_at_1pct": evaluation.headline("random").recall,
        "rules_lane_recall_at_1pct": evaluation.headline("rules_lane").recall,
        "pr_auc": evaluation.pr_auc["model"],
        "expected_calibration_error": evaluation.expected_calibration_error,
        "best_iteration": training["trees"],
    }
    sections: list[str] = []
    if champion is not None:
        comparison = compare_with_champion(test, test_raw, champion, config.seed)
        sections.append(champion_section(champion, comparison))
        metrics.update(comparison.metrics() if comparison else {})
    version = f"radar-{datetime.now(UTC):%Y%m%d%H%M%S}-s{config.seed}"
    manifest = write_artifact(
        out_dir,
        booster=booster,
        calibration=calibrated.calibration,
        profile=profile,
        version=version,
        created_at=datetime.now(UTC).isoformat(),
        training=training,
        metrics=metrics,
        thresholds=thresholds,
        extra_files={
            DRIFT_REFERENCE_FILE: drift_reference.to_json(),
            "report.html": render_report(version, training, evaluation, sections).encode(),
            "model_card.md": model_card(version, training, evaluation).encode(),
            "evaluation.json": orjson.dumps(
                evaluation.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY
            ),
        },
    )
    say(f"wrote {out_dir} (model {version})")
    return manifest, evaluation, fit_seconds


def train_model(
    inputs: TrainingInputs,
    out_dir: Path,
    config: TrainConfig,
    *,
    progress: Progress | None = None,
    workers: int = 2,
    init_model: lgb.Booster | None = None,
) -> TrainingResult:
    """Train from files and write a verified artifact (with report and model card) to `out_dir`."""
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    say(f"replaying {inputs.shipments} in time order")
    data = replay(
        inputs.shipments,
        inputs.outcomes,
        inputs.profile,
        workers=workers,
        on_progress=lambda n: say(f"  {n:,} items"),
    )
    seconds = {"replay": time.perf_counter() - started}
    world = make_world(data, Truth.read(inputs.truth) if inputs.truth else None, config)
    manifest, evaluation, seconds["fit"] = fit_and_write(
        world, inputs.profile, out_dir, config, init_model=init_model, say=say
    )
    return TrainingResult(manifest=manifest, evaluation=evaluation, dataset_items=len(data), seconds=seconds)
