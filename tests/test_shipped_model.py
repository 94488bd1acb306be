"""The model shipped in models/default loads with today's feature code and meets its targets on unseen worlds."""

from pathlib import Path

import orjson

from model.artifact import ModelArtifact
from training.report import (
    BRIER_SKILL_TARGET,
    LOG_LOSS_SKILL_TARGET,
    MEAN_TO_PREVALENCE_TARGET,
    MIN_POSITIVES_TO_JUDGE,
    RECALL_VS_RANDOM_TARGET,
    RECALL_VS_RULES_TARGET,
)
from training.unseen import trained_seeds

SHIPPED = Path(__file__).resolve().parent.parent / "models" / "default"
# Written by `make unseen-report`: the shipped model on five simulated worlds it never saw.
UNSEEN = SHIPPED / "unseen" / "evaluation.json"
UNSEEN_WORLDS = 5
MIN_POSITIVES_PER_WORLD = 50


def test_shipped_model_verifies() -> None:
    artifact = ModelArtifact.load(
        SHIPPED
    )  # refuses altered files or another feature list: retrain with `make model`
    assert artifact.manifest.training["label_strategy"] == "truth"
    assert len(trained_seeds(artifact.manifest.training)) >= 3
    assert {"report.html", "model_card.md", "evaluation.json", "drift_reference.json"} <= set(
        artifact.manifest.files
    )
    assert artifact.drift_reference is not None  # drift monitoring has its training reference


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


def test_shipped_model_beats_the_baselines_on_worlds_it_never_saw() -> None:
    unseen = orjson.loads(UNSEEN.read_bytes())
    assert unseen["model_version"] == ModelArtifact.load(SHIPPED).version, "rerun `make unseen-report`"
    worlds = unseen["worlds"]
    assert len(worlds) >= UNSEEN_WORLDS
    assert not {w["seed"] for w in worlds} & trained_seeds(ModelArtifact.load(SHIPPED).manifest.training)
    assert min(w["positives"] for w in worlds) >= MIN_POSITIVES_PER_WORLD

    def mean_recall(selector: str) -> float:
        row = next(r for r in unseen["recall"][selector] if r["rate"] == 0.01)
        return float(row["recall"]["mean"])

    assert mean_recall("model") >= RECALL_VS_RULES_TARGET * mean_recall("rules_lane")
    assert mean_recall("model") >= mean_recall("market_profile")
    low, high = MEAN_TO_PREVALENCE_TARGET
    assert low <= unseen["mean_to_prevalence"]["mean"] <= high
