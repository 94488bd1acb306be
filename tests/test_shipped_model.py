"""The model shipped in models/default loads with today's feature code and meets its own report's targets."""

from pathlib import Path

import orjson

from model.artifact import ModelArtifact
from training.report import (
    BRIER_SKILL_TARGET,
    LOG_LOSS_SKILL_TARGET,
    MEAN_TO_PREVALENCE_TARGET,
    MIN_POSITIVES_TO_JUDGE,
    RECALL_VS_RANDOM_TARGET,
)

SHIPPED = Path(__file__).resolve().parent.parent / "models" / "default"


def test_shipped_model_verifies() -> None:
    artifact = ModelArtifact.load(
        SHIPPED
    )  # refuses altered files or another feature list: retrain with `make model`
    assert artifact.manifest.training["label_strategy"] == "observed"
    assert {"report.html", "model_card.md", "evaluation.json"} <= set(artifact.manifest.files)


def test_shipped_model_report_meets_the_targets() -> None:
    evaluation = orjson.loads((SHIPPED / "evaluation.json").read_bytes())
    headline = {name: next(r for r in evaluation[name] if r["rate"] == 0.01) for name in ("model", "random")}
    assert evaluation["labels"] == "ground truth"
    assert evaluation["positives"] >= MIN_POSITIVES_TO_JUDGE, "too few drug items in the test period to judge"
    assert headline["model"]["recall"] >= RECALL_VS_RANDOM_TARGET * headline["random"]["recall"]
    calibration = evaluation["calibration"]
    assert calibration["brier_skill"] > BRIER_SKILL_TARGET
    assert calibration["log_loss_skill"] > LOG_LOSS_SKILL_TARGET
    low, high = MEAN_TO_PREVALENCE_TARGET
    assert low <= calibration["mean_to_prevalence"] <= high
