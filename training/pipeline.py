"""The training pipeline end to end: replay, fit, calibrate, choose thresholds, evaluate, write the artifact."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson

from model.artifact import Manifest, write_artifact
from model.market_profile import MarketProfile
from training.dataset import Dataset
from training.evaluate import Evaluation, Truth, evaluate
from training.replay import replay
from training.report import model_card, render_report
from training.train import (
    TrainConfig,
    fit_booster,
    fit_calibration,
    labelled_rows,
    threshold_table,
    time_split,
)

Progress = Callable[[str], None]


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


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _training_summary(
    data: Dataset, cuts: tuple[float, float], config: TrainConfig
) -> dict[str, str | int | float]:
    return {
        "period_start": _iso(float(data.posted_at.min())),
        "period_end": _iso(float(data.posted_at.max())),
        "validation_from": _iso(cuts[0]),
        "test_from": _iso(cuts[1]),
        "items": len(data),
        "inspected": int(data.inspected.sum()),
        "confirmed_findings": int(data.found.sum()),
        "label_strategy": config.labels,
        "seed": config.seed,
    }


def train_model(
    inputs: TrainingInputs,
    out_dir: Path,
    config: TrainConfig,
    *,
    progress: Progress | None = None,
    workers: int = 2,
) -> TrainingResult:
    """Train from files and write a verified artifact (with report and model card) to `out_dir`."""
    say = progress or (lambda _message: None)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    say(f"replaying {inputs.shipments} in time order")
    data = replay(
        inputs.shipments,
        inputs.outcomes,
        inputs.profile,
        workers=workers,
        on_progress=lambda n: say(f"  {n:,} items"),
    )
    seconds["replay"] = time.perf_counter() - started
    split = time_split(data.posted_at, config)
    say(f"fitting LightGBM on {int(split.train.sum()):,} items ({config.labels} labels)")
    started = time.perf_counter()
    booster = fit_booster(data, split, config)
    seconds["fit"] = time.perf_counter() - started
    validation_raw = np.asarray(
        booster.predict(data.features[split.validation], raw_score=True), dtype=np.float64
    )
    rows, labels, weights = labelled_rows(data, split.validation, config.labels)
    position = {row: i for i, row in enumerate(np.flatnonzero(split.validation))}
    calibration = fit_calibration(validation_raw[[position[r] for r in rows]], labels, weights)
    thresholds = threshold_table(validation_raw, calibration)
    say("evaluating on the test period")
    test = data.subset(split.test)
    test_raw = np.asarray(booster.predict(test.features, raw_score=True), dtype=np.float64)
    truth = Truth.read(inputs.truth) if inputs.truth else None
    evaluation = evaluate(test, test_raw, calibration, truth=truth, seed=config.seed)
    training = _training_summary(data, split.cuts, config)
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
        "best_iteration": booster.best_iteration or booster.current_iteration(),
    }
    version = f"radar-{datetime.now(UTC):%Y%m%d%H%M%S}-s{config.seed}"
    report = render_report(version, training, evaluation)
    card = model_card(version, training, evaluation)
    manifest = write_artifact(
        out_dir,
        booster=booster,
        calibration=calibration,
        profile=inputs.profile,
        version=version,
        created_at=datetime.now(UTC).isoformat(),
        training=training,
        metrics=metrics,
        thresholds=thresholds,
        extra_files={
            "report.html": report.encode(),
            "model_card.md": card.encode(),
            "evaluation.json": orjson.dumps(
                evaluation.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY
            ),
        },
    )
    say(f"wrote {out_dir} (model {version})")
    return TrainingResult(manifest=manifest, evaluation=evaluation, dataset_items=len(data), seconds=seconds)
