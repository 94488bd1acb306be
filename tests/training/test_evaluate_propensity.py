"""Without ground truth, the inverse-propensity estimate from the random lane covers the true recall."""

from pathlib import Path

import numpy as np
import pytest

from model.artifact import ModelArtifact
from training.evaluate import Evaluation, Truth, evaluate, evaluation_period
from training.market.profile import default_market_profile
from training.replay import replay
from training.simulate import ScenarioConfig, simulate

# A world whose random lane is large enough to find some drug items: 5% of items inspected, 70% of that at random.
RANDOM_LANE_WORLD = ScenarioConfig(
    days=14,
    items_per_day=3000,
    illicit_share=1e-2,
    inspection_rate=0.05,
    random_share_of_capacity=0.7,
    seed=11,
)


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> tuple[Evaluation, Evaluation]:
    """The same test period evaluated against ground truth and against confirmed findings only."""
    directory = tmp_path_factory.mktemp("random-lane-world")
    simulate(RANDOM_LANE_WORLD, default_market_profile(seed=RANDOM_LANE_WORLD.seed), directory)
    artifact = ModelArtifact.load(model_dir)
    data = replay(directory / "shipments.jsonl", directory / "outcomes.jsonl", artifact.profile)
    test = evaluation_period(data, share=0.5)
    raw = np.asarray(artifact.raw_scores(test.features), dtype=np.float64)
    truth = Truth.read(directory / "truth.jsonl")
    return (
        evaluate(test, raw, artifact.calibration, truth=truth),
        evaluate(test, raw, artifact.calibration),
    )


def test_the_estimate_from_findings_alone_covers_the_truth(
    evaluations: tuple[Evaluation, Evaluation],
) -> None:
    with_truth, findings_only = evaluations
    estimate = findings_only.propensity
    assert estimate is not None
    assert estimate.random_findings >= 5
    assert estimate.estimated_drug_items_low <= with_truth.positives <= estimate.estimated_drug_items_high
    for name in ("model", "rules_lane", "market_profile"):
        for estimated, true in zip(estimate.selectors[name], getattr(with_truth, name), strict=True):
            assert estimated.recall_low <= true.recall <= estimated.recall_high, (name, estimated, true)
            assert estimated.precision_low <= true.precision <= estimated.precision_high, (
                name,
                estimated,
                true,
            )


def test_recall_among_findings_flatters_where_the_estimate_does_not(
    evaluations: tuple[Evaluation, Evaluation],
) -> None:
    with_truth, findings_only = evaluations
    assert findings_only.positives < with_truth.positives / 2  # most drug items are never inspected
    assert findings_only.headline("model").recall > with_truth.headline("model").recall
