"""`python -m training export-parquet | train-dask | score-parquet`: the feature log past one machine, on Dask.

The Dask and Parquet modules are imported by the commands themselves: they need the optional `distributed`
extra, which the rest of `python -m training` does without.
"""

import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from model.artifact import ModelArtifact
from model.market_profile import MarketProfile
from training.champion import champion_from_registry
from training.dataset import Dataset
from training.evaluate import Truth
from training.evaluate_cli import print_evaluation
from training.from_database import read_service_database
from training.market.profile import default_market_profile
from training.replay import replay
from training.service_db import DatabaseTrainingError
from training.simulate import ScenarioConfig
from training.train import LABEL_STRATEGIES, TrainConfig
from training.worlds import TRAINING_WORLD, parse_seeds, simulate_and_replay

console = Console()
SCHEDULER_OPTION = typer.Option(help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
LOCAL_WORKERS_OPTION = typer.Option(
    min=1, help="Without --scheduler: local worker processes, one thread each"
)
Worlds = list[tuple[str, Dataset, Truth | None]]


def _scenarios(seeds: str, days: int | None, items_per_day: int | None) -> list[ScenarioConfig]:
    """The worlds `train --simulate` trains on, one per seed."""
    scenario = replace(
        TRAINING_WORLD,
        days=days or TRAINING_WORLD.days,
        items_per_day=items_per_day or TRAINING_WORLD.items_per_day,
    )
    return [replace(scenario, seed=world_seed) for world_seed in parse_seeds(seeds)]


def _replayed(scenarios: list[ScenarioConfig], market: MarketProfile) -> Worlds:
    """Each world simulated from the market and replayed on its own, one after the other in this process."""
    worlds: Worlds = []
    for scenario in scenarios:
        console.print(
            f"world {scenario.seed}: simulating {scenario.days} days x {scenario.items_per_day:,} items"
        )
        data, truth = simulate_and_replay(scenario, market, market)
        worlds.append((f"s{scenario.seed}", data, truth))
    return worlds


def _logged(url: str, profile: Path | None) -> tuple[Worlds, MarketProfile]:
    """The service's feature log and outcomes, and the market profile its features were computed with."""
    try:
        stored = read_service_database(url)
    except DatabaseTrainingError as exc:
        raise typer.BadParameter(str(exc)) from exc
    champion = champion_from_registry(stored.champion)
    market = (
        MarketProfile.load(profile) if profile else (champion.artifact.profile if champion.artifact else None)
    )
    if market is None:
        raise typer.BadParameter(
            f"give --profile, the market profile the logged features were computed with ({champion.source})"
        )
    console.print(f"{stored.counts.used:,} of {stored.counts.read:,} logged items usable")
    return [("", stored.dataset, None)], market


def export_parquet_command(
    out: Annotated[Path, typer.Option(help="Directory to write the export to (new or empty)")],
    shipments: Annotated[Path | None, typer.Option(help="Shipments JSONL (the API's contract)")] = None,
    outcomes: Annotated[Path | None, typer.Option(help="Outcomes JSONL (the outcome contract)")] = None,
    from_database: Annotated[
        str | None, typer.Option(help="The service's database URL: its feature log and outcomes")
    ] = None,
    truth: Annotated[Path | None, typer.Option(help="Ground truth JSONL (simulations only)")] = None,
    profile: Annotated[Path | None, typer.Option(help="The market profile JSON the features read")] = None,
    seeds: Annotated[str | None, typer.Option(help="Simulate these worlds instead, e.g. 0,1,2")] = None,
    days: Annotated[int | None, typer.Option(help="With --seeds: days per world")] = None,
    items_per_day: Annotated[int | None, typer.Option(help="With --seeds: items a day")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the default market profile")] = 0,
    scheduler: Annotated[
        str | None, typer.Option(help="With --seeds: a Dask scheduler to run worlds on")
    ] = None,
    local_workers: Annotated[
        int | None, typer.Option(min=1, help="With --seeds: local Dask workers, one world each at a time")
    ] = None,
) -> None:
    """Write features and labels to Parquet, one folder a day: the service's feature log, a replayed feed or
    simulated worlds."""
    from training.distributed import dask_client, export_simulated_worlds  # noqa: PLC0415 (the optional extra)
    from training.parquet import export_worlds, require_new_export  # noqa: PLC0415

    try:
        require_new_export(out)
    except FileExistsError as exc:
        raise typer.BadParameter(str(exc)) from exc
    started = time.perf_counter()
    market = MarketProfile.load(profile) if profile else default_market_profile(seed=seed)
    if seeds is not None and (scheduler or local_workers):
        with dask_client(scheduler, local_workers or 2) as client:
            rows = export_simulated_worlds(client, _scenarios(seeds, days, items_per_day), market, out)
    elif seeds is not None:
        rows = export_worlds(_replayed(_scenarios(seeds, days, items_per_day), market), market, out)
    elif from_database is not None:
        worlds, logged_with = _logged(from_database, profile)
        rows = export_worlds(worlds, logged_with, out)
    elif shipments is not None:
        data = replay(shipments, outcomes, market, workers=2)
        rows = export_worlds([("", data, Truth.read(truth) if truth else None)], market, out)
    else:
        raise typer.BadParameter("give --from-database, --shipments (and --outcomes), or --seeds")
    console.print(f"wrote {rows:,} items to {out} in {time.perf_counter() - started:.0f} s")


def train_dask_command(
    parquet: Annotated[Path, typer.Option(help="A Parquet export (export-parquet)")],
    out: Annotated[Path, typer.Option(help="Artifact directory to write")],
    scheduler: Annotated[str | None, SCHEDULER_OPTION] = None,
    local_workers: Annotated[int, LOCAL_WORKERS_OPTION] = 2,
    labels: Annotated[str, typer.Option(help="truth (simulations), observed or ipw")] = "truth",
    seed: Annotated[int, typer.Option()] = 0,
    prevalence: Annotated[
        float | None, typer.Option(help="Share of drug items to calibrate to (truth: the deployment's)")
    ] = None,
    market_share: Annotated[
        float | None,
        typer.Option(help="Findings only: share of the profile's vendor items this post carries"),
    ] = None,
) -> None:
    """Train on a Parquet export with LightGBM's Dask mode and write the same verified artifact as `train`."""
    from training.distributed import dask_client, train_on_export  # noqa: PLC0415 (the optional extra)

    if labels not in LABEL_STRATEGIES:
        raise typer.BadParameter(f"labels is one of {', '.join(LABEL_STRATEGIES)}")
    deployed = prevalence or (ScenarioConfig().illicit_share if labels == "truth" else None)
    config = TrainConfig(labels=labels, seed=seed, prevalence=deployed, market_share=market_share)
    started = time.perf_counter()
    with dask_client(scheduler, local_workers) as client:
        result = train_on_export(client, parquet, out, config, say=console.print)
    print_evaluation(result.evaluation)
    timings = ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items())
    console.print(f"{result.dataset_items:,} items in {time.perf_counter() - started:.0f} s ({timings})")


def score_parquet_command(
    model: Annotated[Path, typer.Option(help="Artifact directory")],
    parquet: Annotated[Path, typer.Option(help="A Parquet export (export-parquet)")],
    out: Annotated[Path, typer.Option(help="Directory to write the scores to, one folder a day")],
    scheduler: Annotated[str | None, SCHEDULER_OPTION] = None,
    local_workers: Annotated[int, LOCAL_WORKERS_OPTION] = 2,
) -> None:
    """Back-score an export with an artifact on Dask: raw score and probability of every item, to Parquet."""
    from training.distributed import dask_client, score_export  # noqa: PLC0415 (the optional extra)

    artifact = ModelArtifact.load(model)
    started = time.perf_counter()
    with dask_client(scheduler, local_workers) as client:
        rows = score_export(client, artifact, parquet, out)
    console.print(f"scored {rows:,} items with {artifact.version} in {time.perf_counter() - started:.0f} s")
