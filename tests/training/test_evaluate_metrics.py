"""Evaluation figures cannot flatter: intervals, too few to judge, calibration a constant predictor fails."""

import math

import numpy as np
import pytest

from model.artifact import Calibration
from model.features import FEATURE_NAMES
from training.dataset import Dataset
from training.evaluate import CONFIRMED_FINDINGS, Evaluation, Truth, evaluate
from training.metrics import at_rate, calibration_quality, random_at_rate, wilson_interval
from training.propensity import random_lane_weights
from training.report import NOT_JUDGED_ON_FINDINGS, TOO_FEW, render_report, targets
from training.unseen import AcrossWorlds

IDENTITY = Calibration(raw=[0.0, 1.0], probability=[0.0, 1.0])


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (5, 10, 0.2366, 0.7634)],
)
def test_wilson_interval_matches_published_values(
    successes: int, trials: int, low: float, high: float
) -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (score interval without correction)
    assert wilson_interval(successes, trials) == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_without_trials_is_undefined() -> None:
    assert all(math.isnan(bound) for bound in wilson_interval(0, 0))


def test_recall_and_precision_carry_their_intervals() -> None:
    labels = np.zeros(1000, dtype=np.bool_)
    labels[:10] = True
    scores = -np.arange(1000, dtype=np.float64)  # the 10 drug items rank first
    row = at_rate(scores, labels, 0.01, np.random.default_rng(0))
    assert (row.found, row.positives, row.selected) == (10, 10, 10)
    assert (row.recall_low, row.recall_high) == pytest.approx(wilson_interval(10, 10))
    assert (row.precision_low, row.precision_high) == pytest.approx(wilson_interval(10, 10))
    chance = random_at_rate(labels, 0.01)
    assert chance.recall == 0.01
    assert chance.recall_low <= chance.recall <= chance.recall_high


def _dataset(count: int) -> Dataset:
    return Dataset(
        features=np.zeros((count, len(FEATURE_NAMES))),
        posted_at=np.arange(count, dtype=np.float64) * 60.0,
        item_ids=[f"IT{i:08d}" for i in range(count)],
        inspected=np.zeros(count, dtype=np.bool_),
        found=np.zeros(count, dtype=np.bool_),
        selection_probability=np.full(count, np.nan),
        selection_reason=np.full(count, "", dtype="<U8"),
        destination=np.full(count, "DE"),
        mail_class=np.full(count, "U"),
    )


def _world(count: int, prevalence: float, seed: int) -> tuple[Dataset, np.ndarray, Truth]:
    """Items with a known chance of carrying drugs, and labels drawn from exactly that chance."""
    rng = np.random.default_rng(seed)
    chance = np.clip(rng.lognormal(np.log(prevalence) - 1.0, 1.4, count), 0.0, 1.0)
    illicit = rng.random(count) < chance
    data = _dataset(count)
    return data, chance, Truth(dict(zip(data.item_ids, illicit.tolist(), strict=True)), {})


def _statuses(evaluation: Evaluation) -> dict[str, str]:
    return {line: status for line, _, _, status in targets(evaluation)}


def test_a_constant_predictor_fails_the_calibration_targets_a_calibrated_one_passes() -> None:
    data, chance, truth = _world(60_000, 2e-3, seed=3)
    calibrated = evaluate(data, chance, IDENTITY, truth=truth)
    assert calibrated.positives >= 30
    prevalence = calibrated.calibration.prevalence
    always_prevalence = evaluate(data, np.full(len(data), prevalence), IDENTITY, truth=truth)
    always_zero = evaluate(data, np.zeros(len(data)), IDENTITY, truth=truth)
    calibration_lines = (
        "Brier skill against the prevalence",
        "log-loss skill against the prevalence",
        "mean predicted probability / prevalence",
    )
    assert [_statuses(calibrated)[line] for line in calibration_lines] == ["PASS"] * 3
    assert _statuses(always_prevalence)["log-loss skill against the prevalence"] == "FAIL"
    assert _statuses(always_prevalence)["Brier skill against the prevalence"] == "FAIL"
    assert [_statuses(always_zero)[line] for line in calibration_lines] == ["FAIL"] * 3
    # the plain ECE would have passed the predictor that always says 0
    assert always_zero.expected_calibration_error <= 0.02
    # the top-5% reliability curve looks only where decisions are made: ten equal-count bins of 3,000 items
    assert [row["count"] for row in calibrated.reliability_top] == [300.0] * 10
    assert math.isnan(calibration_quality(np.zeros(10), np.zeros(10, np.bool_)).brier_skill)  # no drug items


def test_no_target_is_judged_on_fewer_than_30_drug_items() -> None:
    data, chance, truth = _world(10_000, 1e-3, seed=4)
    evaluation = evaluate(data, chance, IDENTITY, truth=truth)
    assert 0 < evaluation.positives < 30
    assert set(_statuses(evaluation).values()) == {TOO_FEW}
    assert TOO_FEW in render_report("v", {}, evaluation)


def test_confirmed_findings_are_named_for_what_they_are_and_not_judged() -> None:
    data, chance, _ = _world(50_000, 1e-3, seed=5)
    top = np.argsort(-chance)[:200]
    data.inspected[top] = True
    data.found[top[:40]] = True
    data.selection_reason[top] = "rule"
    evaluation = evaluate(data, chance, IDENTITY)
    assert evaluation.labels == CONFIRMED_FINDINGS
    assert set(_statuses(evaluation).values()) == {NOT_JUDGED_ON_FINDINGS}
    assert (
        evaluation.propensity is None
    )  # no random lane: nothing to estimate recall beyond the findings from
    assert "biased toward what the old policy selected" in render_report("v", {}, evaluation)


def test_random_lane_weight_is_the_days_sampling_fraction_among_items_the_other_lanes_left() -> None:
    data = _dataset(100)  # 100 minutes of one day
    data.inspected[:10] = True
    data.selection_reason[:6] = "rule"
    data.selection_reason[6:10] = "random"
    weights = random_lane_weights(data)
    # 94 items left by the rules lane, 4 drawn from them: each stands for 94 / 4 items
    assert weights[:6].tolist() == [1.0] * 6
    assert weights[6:10] == pytest.approx([94 / 4] * 4)
    assert weights[10:].sum() == 0.0


def test_intervals_over_worlds_stay_within_the_figures_range() -> None:
    low_recalls = AcrossWorlds.of([0.0, 0.0, 0.1])
    assert low_recalls.low == 0.0 < low_recalls.mean < low_recalls.high
    high_recalls = AcrossWorlds.of([1.0, 1.0, 0.9], upper=1.0)
    assert high_recalls.low < high_recalls.mean < high_recalls.high == 1.0
    unbounded = AcrossWorlds.of([1.0, 1.0, 0.9])
    assert unbounded.high > 1.0
