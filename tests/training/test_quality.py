"""The quality floor: trained on two small worlds, the model is measured on a third it never saw, against truth."""

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from model.artifact import ModelArtifact
from training.calibrate import mean_at_prevalence, shift_prevalence
from training.evaluate import Evaluation, evaluate
from training.market.profile import default_market_profile
from training.pipeline import TrainingResult, World
from training.simulate import ScenarioConfig
from training.train import TrainConfig
from training.worlds import simulated_world, train_on_worlds

# Small worlds of the default scenario with a raised illicit share, so that a test-sized world holds enough
# drug items to learn from and to measure (over 100 in the unseen world's second half); one process each
# (no worker start-up) keeps the module near half a minute. The shipped model is
# trained the same way on larger worlds by `make model`.
WORLD = ScenarioConfig(days=14, items_per_day=2500, illicit_share=8e-3)
TRAINING_SEEDS = (1, 2)
UNSEEN_SEED = 9
# Mean probability / prevalence on the unseen world must lie in this band (the issue's [0.5, 2]).
LEVEL_BAND = (0.5, 2.0)


@dataclass(frozen=True)
class Measured:
    result: TrainingResult
    artifact: ModelArtifact
    unseen: World
    labels: npt.NDArray[np.bool_]
    raw: npt.NDArray[np.float64]
    evaluation: Evaluation


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Measured:
    directory: Path = tmp_path_factory.mktemp("quality")
    profile = default_market_profile(seed=0)
    config = TrainConfig(labels="truth", seed=1)
    result = train_on_worlds(TRAINING_SEEDS, WORLD, profile, directory / "model", config, workers=1)
    artifact = ModelArtifact.load(directory / "model")
    world = simulated_world(
        replace(WORLD, seed=UNSEEN_SEED),
        profile,
        TrainConfig(train_share=0.5, validation_share=0.0),
        workers=1,
    )
    test = world.data.subset(world.split.test)  # the second half: history has warmed up before it
    assert world.truth is not None
    labels = np.array([world.truth.illicit.get(i, False) for i in test.item_ids])
    raw = np.asarray(artifact.raw_scores(test.features), dtype=np.float64)
    evaluation = evaluate(test, raw, artifact.calibration, truth=world.truth)
    unseen = World(test, world.split, world.truth, labels)
    return Measured(result, artifact, unseen, labels, raw, evaluation)


@pytest.mark.slow
def test_the_manifest_names_the_training_worlds_and_enough_trees(measured: Measured) -> None:
    training = measured.artifact.manifest.training
    assert training["seeds"] == "1,2"
    assert training["label_strategy"] == "truth"
    assert int(training["training_positives"]) >= 200
    assert int(training["trees"]) >= TrainConfig().min_trees


@pytest.mark.slow
def test_on_an_unseen_world_the_model_beats_the_rules_lane_and_the_profile(measured: Measured) -> None:
    evaluation = measured.evaluation
    assert evaluation.positives >= 30, "too few drug items in the unseen world to measure recall"
    model = evaluation.headline("model").recall
    assert model >= 2 * evaluation.headline("rules_lane").recall
    assert model >= evaluation.headline("market_profile").recall
    assert model >= 10 * evaluation.headline("random").recall


@pytest.mark.slow
def test_mean_probability_matches_the_unseen_prevalence(measured: Measured) -> None:
    ratio = measured.artifact.calibration.apply(measured.raw).mean() / measured.labels.mean()
    assert LEVEL_BAND[0] <= ratio <= LEVEL_BAND[1], ratio


@pytest.mark.slow
def test_a_prior_shift_follows_the_prevalence_of_deployment(measured: Measured) -> None:
    """Probabilities for a post with a fifth of the training worlds' prevalence keep their mean in the band.

    The unseen world's items are reweighted to that post's mix (drug items count a fifth as much).
    """
    fitted = float(measured.artifact.manifest.training["training_prevalence"])
    shifted = shift_prevalence(measured.artifact.calibration, fitted, fitted / 5)
    target = measured.labels.mean() / 5
    labels = measured.labels.astype(np.float64)
    ratio = mean_at_prevalence(shifted, measured.raw, labels, target) / target
    assert LEVEL_BAND[0] <= ratio <= LEVEL_BAND[1], ratio


@pytest.mark.slow
def test_no_item_is_shown_zero_and_higher_scores_never_mean_less(measured: Measured) -> None:
    probabilities = measured.artifact.calibration.apply(measured.raw)
    assert probabilities.min() > 0.0
    top = probabilities[measured.raw >= np.quantile(measured.raw, 0.99)]
    assert top.min() >= measured.labels.mean(), "the top 1% is shown as less likely than an average item"
    table = np.asarray(measured.artifact.calibration.probability)
    assert (np.diff(table) > 0).all()


@pytest.mark.slow
def test_thresholds_select_the_promised_share_of_traffic(measured: Measured) -> None:
    rates = [entry.inspection_rate for entry in measured.result.manifest.thresholds]
    raw = [entry.raw_score for entry in measured.result.manifest.thresholds]
    assert rates == sorted(rates)
    assert raw == sorted(raw, reverse=True)
