"""Multi-world training: several simulated worlds, each replayed with its own history, labelled by ground truth."""

import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from model.market_profile import MarketProfile
from training.dataset import Dataset
from training.evaluate import Truth
from training.pipeline import Progress, Summary, TrainingResult, World, fit_and_write, make_world
from training.replay import replay
from training.simulate import ScenarioConfig, simulate
from training.train import TimeSplit, TrainConfig

# The shipped model's worlds: six weeks of 10,000 items a day, with five times the default illicit share so
# that each world holds about 200 drug items; the calibration is brought back to the deployment share.
TRAINING_WORLD = ScenarioConfig(days=42, items_per_day=10_000, illicit_share=5e-4)
DEFAULT_SEEDS = (0, 1, 2)


def parse_seeds(text: str) -> tuple[int, ...]:
    """`0,1,2` or `0-3` (inclusive) as a tuple of distinct seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        seeds.extend(range(int(low), int(high or low) + 1))
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds {text!r}: give distinct integers, e.g. 0,1,2")
    return tuple(seeds)


def simulate_and_replay(
    scenario: ScenarioConfig, market: MarketProfile, features_profile: MarketProfile, *, workers: int = 2
) -> tuple[Dataset, Truth]:
    """Simulate one world from `market` and replay it on its own (its history features see only its own past).

    `features_profile` is the profile the features read: the market itself when training, the artifact's
    profile when a trained model is evaluated on a world of another market.
    """
    with tempfile.TemporaryDirectory(prefix=f"radar-world-{scenario.seed}-") as scratch:
        directory = Path(scratch)
        simulate(scenario, market, directory, workers=workers)
        data = replay(
            directory / "shipments.jsonl", directory / "outcomes.jsonl", features_profile, workers=workers
        )
        return data, Truth.read(directory / "truth.jsonl")


def simulated_world(
    scenario: ScenarioConfig, profile: MarketProfile, config: TrainConfig, *, workers: int = 2
) -> World:
    """Simulate one world and replay it on its own, so its history features see only its own past."""
    data, truth = simulate_and_replay(scenario, profile, profile, workers=workers)
    return make_world(data, truth, config)


def _tagged(world: World, tag: str) -> tuple[Dataset, Truth]:
    """The world's items under ids prefixed by `tag`, so ids reused across worlds stay distinct."""
    data, truth = world.data, world.truth or Truth({}, {})
    ids = [f"{tag}/{item_id}" for item_id in data.item_ids]
    tagged = Dataset(
        features=data.features,
        posted_at=data.posted_at,
        item_ids=ids,
        inspected=data.inspected,
        found=data.found,
        selection_probability=data.selection_probability,
        selection_reason=data.selection_reason,
        destination=data.destination,
        mail_class=data.mail_class,
    )
    category = {f"{tag}/{i}": c for i, c in truth.category.items()}
    return tagged, Truth({f"{tag}/{i}": v for i, v in truth.illicit.items()}, category)


def combine(worlds: list[tuple[str, World]]) -> World:
    """One training set from several worlds: their rows side by side, each keeping its own time split."""
    parts = [_tagged(world, tag) for tag, world in worlds]

    def joined(name: str) -> np.ndarray:
        return np.concatenate([getattr(data, name) for data, _ in parts])

    data = Dataset(
        features=joined("features"),
        posted_at=joined("posted_at"),
        item_ids=[i for part, _ in parts for i in part.item_ids],
        inspected=joined("inspected"),
        found=joined("found"),
        selection_probability=joined("selection_probability"),
        selection_reason=joined("selection_reason"),
        destination=joined("destination"),
        mail_class=joined("mail_class"),
    )
    splits = [world.split for _, world in worlds]
    split = TimeSplit(
        train=np.concatenate([s.train for s in splits]),
        validation=np.concatenate([s.validation for s in splits]),
        test=np.concatenate([s.test for s in splits]),
        cuts=(min(s.cuts[0] for s in splits), min(s.cuts[1] for s in splits)),
    )
    truth = Truth(
        {k: v for _, t in parts for k, v in t.illicit.items()},
        {k: v for _, t in parts for k, v in t.category.items()},
    )
    labels = np.concatenate([world.truth_labels for _, world in worlds if world.truth_labels is not None])
    return World(data, split, truth, labels)


def train_on_worlds(
    seeds: tuple[int, ...],
    scenario: ScenarioConfig,
    profile: MarketProfile,
    out_dir: Path,
    config: TrainConfig,
    *,
    progress: Progress | None = None,
    workers: int = 2,
) -> TrainingResult:
    """Train one model on the worlds of `seeds` and write its artifact; the seeds go into the manifest."""
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    worlds = []
    for seed in seeds:
        say(f"world {seed}: simulating {scenario.days} days x {scenario.items_per_day:,} items and replaying")
        worlds.append(
            (f"s{seed}", simulated_world(replace(scenario, seed=seed), profile, config, workers=workers))
        )
    seconds = {"simulate and replay": time.perf_counter() - started}
    world = combine(worlds)
    extra: Summary = {
        "seeds": ",".join(str(s) for s in seeds),
        "world_days": scenario.days,
        "world_items_per_day": scenario.items_per_day,
        "world_illicit_share": scenario.illicit_share,
    }
    manifest, evaluation, seconds["fit"] = fit_and_write(
        world, profile, out_dir, config, extra_summary=extra, say=say
    )
    return TrainingResult(
        manifest=manifest, evaluation=evaluation, dataset_items=len(world.data), seconds=seconds
    )
