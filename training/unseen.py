"""Evaluation on simulated worlds the model never saw: the mean over worlds with its interval, and pooled counts.

Each world is a simulator seed other than the ones the model was trained on, simulated with that seed's
default market profile (as `training train --simulate` does), replayed with the artifact's own profile and
evaluated on its test period against ground truth.
"""

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from scipy import stats

from model.artifact import ModelArtifact
from training.baselines import TargetingRules
from training.evaluate import HEADLINE_RATE, Evaluation, evaluate, evaluation_period
from training.market.profile import default_market_profile
from training.metrics import AtRate
from training.simulate import ScenarioConfig
from training.worlds import simulate_and_replay

WORLD_SELECTORS = ("model", "rules_lane", "market_profile", "random")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class WorldResult:
    """One unseen world's test period: its size, its drug items, calibration level and every selector's curve."""

    seed: int
    items: int
    positives: int
    prevalence: float
    mean_probability: float
    mean_to_prevalence: float
    selectors: dict[str, list[AtRate]]


@dataclass(frozen=True)
class AcrossWorlds:
    """A non-negative figure over worlds: the mean of the per-world values with a 95% t interval, cut to the
    figure's range (0 up to `upper`, e.g. 1 for a recall)."""

    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float], upper: float = math.inf) -> "AcrossWorlds":
        finite = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
        if not len(finite):
            return cls(math.nan, math.nan, math.nan)
        mean = float(finite.mean())
        if len(finite) < 2:
            return cls(mean, math.nan, math.nan)
        half = float(stats.t.ppf(0.975, len(finite) - 1) * finite.std(ddof=1) / math.sqrt(len(finite)))
        return cls(mean, max(0.0, mean - half), min(upper, mean + half))


@dataclass(frozen=True)
class RateAcrossWorlds:
    """Recall at one inspection rate: mean over worlds (t interval), and pooled over worlds (Wilson interval)."""

    rate: float
    recall: AcrossWorlds
    pooled: AtRate


@dataclass(frozen=True)
class UnseenWorldsEvaluation:
    """The multi-world evaluation of one artifact: per world and across worlds."""

    model_version: str
    scenario: dict[str, Any]
    rules: dict[str, Any]
    worlds: list[WorldResult]
    recall: dict[str, list[RateAcrossWorlds]]
    mean_to_prevalence: AcrossWorlds

    def headline(self, selector: str) -> RateAcrossWorlds:
        return next(row for row in self.recall[selector] if row.rate == HEADLINE_RATE)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def trained_seeds(training: Mapping[str, Any]) -> set[int]:
    """The simulator seeds an artifact was trained on: `training["seed"]` and any `training["seeds"]` list."""
    seeds = training.get("seeds", [])
    listed = seeds.split(",") if isinstance(seeds, str) else seeds
    return {int(training["seed"])} | {int(seed) for seed in listed if str(seed).strip()}


def refuse_trained_seeds(artifact: ModelArtifact, seeds: Sequence[int]) -> None:
    """Raise ValueError unless `seeds` names at least one world and none the artifact was trained on."""
    seen = trained_seeds(artifact.manifest.training) & set(seeds)
    if seen:
        raise ValueError(f"seeds {sorted(seen)} are worlds the model was trained on; choose unseen seeds")
    if not seeds:
        raise ValueError("give at least one seed")


def _world(evaluation: Evaluation, seed: int) -> WorldResult:
    quality = evaluation.calibration
    return WorldResult(
        seed=seed,
        items=evaluation.items,
        positives=evaluation.positives,
        prevalence=quality.prevalence,
        mean_probability=quality.mean_probability,
        mean_to_prevalence=quality.mean_to_prevalence,
        selectors={name: getattr(evaluation, name) for name in WORLD_SELECTORS},
    )


def evaluate_world(
    artifact: ModelArtifact,
    scenario: ScenarioConfig,
    *,
    test_share: float,
    targeting_rules: TargetingRules,
    workers: int,
) -> WorldResult:
    """Simulate one world into a temporary directory, replay it and evaluate the artifact on its test period."""
    market = default_market_profile(seed=scenario.seed)
    data, truth = simulate_and_replay(scenario, market, artifact.profile, workers=workers)
    test = evaluation_period(data, share=test_share)
    raw = np.asarray(artifact.raw_scores(test.features), dtype=np.float64)
    evaluation = evaluate(
        test, raw, artifact.calibration, truth=truth, seed=scenario.seed, targeting_rules=targeting_rules
    )
    return _world(evaluation, scenario.seed)


def _pooled(rows: Iterable[AtRate], rate: float) -> AtRate:
    rows = list(rows)
    selected, found = sum(r.selected for r in rows), sum(r.found for r in rows)
    positives = sum(r.positives for r in rows)
    return AtRate.of(rate, selected, found, positives, positives / selected * rate if selected else 0.0)


def summarise(worlds: list[WorldResult]) -> dict[str, list[RateAcrossWorlds]]:
    """Each selector's recall at every rate across worlds (mean with t interval, and pooled with Wilson)."""
    summary: dict[str, list[RateAcrossWorlds]] = {}
    for name in WORLD_SELECTORS:
        rates = [row.rate for row in worlds[0].selectors[name]]
        summary[name] = [
            RateAcrossWorlds(
                rate,
                AcrossWorlds.of([w.selectors[name][i].recall for w in worlds], upper=1.0),
                _pooled((w.selectors[name][i] for w in worlds), rate),
            )
            for i, rate in enumerate(rates)
        ]
    return summary


def evaluate_unseen_worlds(
    artifact: ModelArtifact,
    seeds: Sequence[int],
    scenario: ScenarioConfig,
    *,
    test_share: float = 0.5,
    targeting_rules: TargetingRules | None = None,
    workers: int = 2,
    progress: Progress | None = None,
) -> UnseenWorldsEvaluation:
    """Evaluate `artifact` on one world per seed of `scenario`; refuses seeds the artifact was trained on."""
    refuse_trained_seeds(artifact, seeds)
    rules = targeting_rules or TargetingRules()
    worlds = []
    for seed in seeds:
        if progress is not None:
            progress(f"world {seed}: simulating {scenario.days} days x {scenario.items_per_day:,} items")
        world_scenario = replace(scenario, seed=seed)
        worlds.append(
            evaluate_world(
                artifact, world_scenario, test_share=test_share, targeting_rules=rules, workers=workers
            )
        )
    return UnseenWorldsEvaluation(
        model_version=artifact.version,
        scenario={**asdict(scenario), "seed": None, "seeds": list(seeds)},
        rules=rules.model_dump(mode="json"),
        worlds=worlds,
        recall=summarise(worlds),
        mean_to_prevalence=AcrossWorlds.of([w.mean_to_prevalence for w in worlds]),
    )
