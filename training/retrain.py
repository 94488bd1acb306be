"""Retraining from the service's database: the feature log and outcomes, fitted and compared with the champion."""

import time
from datetime import date
from pathlib import Path

from model.features import FEATURE_NAMES
from model.market_profile import MarketProfile
from training.champion import champion_from_directory, champion_from_registry
from training.from_database import read_service_database
from training.pipeline import Progress, TrainingResult, fit_and_write, make_world
from training.service_db import DatabaseTrainingError
from training.train import TrainConfig


def train_from_database(
    url: str,
    out_dir: Path,
    config: TrainConfig,
    *,
    since: date | None = None,
    until: date | None = None,
    champion_dir: Path | None = None,
    profile: MarketProfile | None = None,
    say: Progress = lambda _message: None,
) -> TrainingResult:
    """Train on the logged items of `url` and write an artifact whose report compares it with the champion.

    The market profile is the one the logged features were computed with: the champion's, unless given.
    """
    if config.labels == "truth":
        raise DatabaseTrainingError("truth labels are not available from a database: use observed or ipw")
    started = time.perf_counter()
    say("reading the feature log and outcomes")
    stored = read_service_database(url, since=since, until=until)
    data, counts = stored.dataset, stored.counts
    champion = (
        champion_from_directory(champion_dir) if champion_dir else champion_from_registry(stored.champion)
    )
    say(
        f"{counts.used:,} of {counts.read:,} logged items usable, {int(data.found.sum()):,} confirmed findings"
    )
    if counts.used == 0:
        raise DatabaseTrainingError(
            f"no usable logged items in the period ({counts.read:,} read, {counts.before_feature_log:,} from "
            f"before the feature log, {counts.other_features:,} logged with another feature list than the "
            f"{len(FEATURE_NAMES)} features of this code, {counts.awaiting_outcome:,} held awaiting an outcome)"
        )
    market = profile or (champion.artifact.profile if champion.artifact else None)
    if market is None:
        raise DatabaseTrainingError(
            "give --profile, the market profile the logged features were computed with: there is no champion "
            f"to take it from ({champion.source})"
        )
    seconds = {"read": time.perf_counter() - started}
    world = make_world(data, None, config)
    manifest, evaluation, seconds["fit"] = fit_and_write(
        world, market, out_dir, config, extra_summary=counts.summary(), champion=champion, say=say
    )
    return TrainingResult(manifest=manifest, evaluation=evaluation, dataset_items=len(data), seconds=seconds)
