"""`python -m training`: simulate, learn market profiles, train and evaluate models."""

import time
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from model.artifact import ModelArtifact
from model.market_profile import MarketProfile
from training.distributed_cli import export_parquet_command, score_parquet_command, train_dask_command
from training.evaluate_cli import evaluate_command, evaluate_worlds_command, print_evaluation
from training.market.cli import app as market_app
from training.market.profile import default_market_profile, profile_from_listings_file
from training.pipeline import TrainingInputs, train_model
from training.retrain import train_from_database
from training.service_db import DatabaseTrainingError
from training.simulate import ScenarioConfig
from training.simulate.cli import app as simulate_app
from training.train import LABEL_STRATEGIES, InsufficientLabels, LabelStrategy, TrainConfig
from training.worlds import TRAINING_WORLD, parse_seeds, train_on_worlds

cli = typer.Typer(help="Parcel Radar offline learning.", no_args_is_help=True)
cli.add_typer(market_app, name="market", help="Cryptomarket listings: import, generate, profile, report.")
cli.add_typer(
    simulate_app, name="simulate", help="Simulate a partner's postal traffic with customs outcomes."
)
console = Console()


def _profile(listings: Path | None, profile: Path | None, seed: int) -> MarketProfile:
    if profile is not None:
        return MarketProfile.load(profile)
    if listings is not None:
        return profile_from_listings_file(listings)
    return default_market_profile(seed=seed)


DATE_OPTION = typer.Option(formats=["%Y-%m-%d"], help="With --from-database: first or last posting day (UTC)")


def _strategy(labels: str) -> LabelStrategy:
    if labels not in LABEL_STRATEGIES:
        raise typer.BadParameter(f"labels is one of {', '.join(LABEL_STRATEGIES)}")
    return labels


def _train_from_database(
    url: str,
    out: Path,
    config: TrainConfig,
    period: tuple[date | None, date | None],
    champion: Path | None,
    profile: MarketProfile | None,
) -> None:
    """`train --from-database`: a refusal is one line saying why, never a traceback."""
    started = time.perf_counter()
    try:
        result = train_from_database(
            url, out, config, since=period[0], until=period[1], champion_dir=champion, profile=profile,
            say=console.print,
        )  # fmt: skip
    except (DatabaseTrainingError, InsufficientLabels) as exc:
        console.print(f"[red]cannot train from the database:[/] {exc}")
        raise typer.Exit(1) from exc
    print_evaluation(result.evaluation)
    metrics = result.manifest.metrics
    if "champion_version" in metrics:
        console.print(
            f"against the champion {metrics['champion_version']} on the same test period (among confirmed "
            f"findings): recall at 1% {metrics['recall_at_1pct']:.3f} vs {metrics['champion_recall_at_1pct']:.3f}"
        )
    else:
        console.print("no champion to compare with")
    console.print(
        f"{result.dataset_items:,} logged items in {time.perf_counter() - started:.0f} s; report: {out / 'report.html'}"
    )


WORKERS_OPTION = typer.Option(
    min=1, help="Processes that validate shipments and compute history-free features (history stays in order)"
)


@cli.command()
def train(
    out: Annotated[Path, typer.Option(help="Artifact directory to write")],
    shipments: Annotated[Path | None, typer.Option(help="Shipments JSONL (the API's contract)")] = None,
    outcomes: Annotated[Path | None, typer.Option(help="Outcomes JSONL (the outcome contract)")] = None,
    listings: Annotated[
        Path | None, typer.Option(help="Listings (CSV/JSONL) to learn the market profile")
    ] = None,
    profile: Annotated[Path | None, typer.Option(help="A market profile JSON instead of listings")] = None,
    truth: Annotated[Path | None, typer.Option(help="Ground truth JSONL (simulations only)")] = None,
    simulate_feed: Annotated[
        bool, typer.Option("--simulate", help="Train on simulated worlds with ground-truth labels")
    ] = False,
    seeds: Annotated[str | None, typer.Option(help="With --simulate: world seeds, e.g. 0,1,2")] = None,
    days: Annotated[int | None, typer.Option(help="With --simulate: days per world")] = None,
    items_per_day: Annotated[int | None, typer.Option(help="With --simulate: items a day")] = None,
    illicit_share: Annotated[
        float | None, typer.Option(help="With --simulate: worlds' illicit share")
    ] = None,
    seed: Annotated[int, typer.Option()] = 0,
    labels: Annotated[
        str | None, typer.Option(help="truth (simulations), observed or ipw; default truth when known")
    ] = None,
    prevalence: Annotated[
        float | None,
        typer.Option(help="Share of drug items to calibrate to (simulate: the default scenario's)"),
    ] = None,
    market_share: Annotated[
        float | None,
        typer.Option(help="Findings only: share of the profile's vendor items this post carries"),
    ] = None,
    init_model: Annotated[
        Path | None, typer.Option(help="Fine-tune this artifact's model on your outcomes")
    ] = None,
    workers: Annotated[int, WORKERS_OPTION] = 2,
    from_database: Annotated[
        str | None,
        typer.Option(help="Train on the service's feature log and outcomes (a SQLite or PostgreSQL URL)"),
    ] = None,
    since: Annotated[datetime | None, DATE_OPTION] = None,
    until: Annotated[datetime | None, DATE_OPTION] = None,
    champion: Annotated[
        Path | None,
        typer.Option(
            help="With --from-database: the artifact to compare with (default: the registry's champion)"
        ),
    ] = None,
) -> None:
    """Train a model from your files, from the service's database, or from simulated worlds, and write a
    verified artifact with its report."""
    if from_database is not None:
        period = (since.date() if since else None, until.date() if until else None)
        config = TrainConfig(labels=_strategy(labels or "observed"), seed=seed, prevalence=prevalence,
                             market_share=market_share)  # fmt: skip
        given_profile = MarketProfile.load(profile) if profile else None
        _train_from_database(from_database, out, config, period, champion, given_profile)
        return
    strategy = _strategy(labels or ("truth" if simulate_feed or truth else "observed"))
    if strategy == "truth" and not (simulate_feed or truth):
        raise typer.BadParameter("truth labels need --truth or --simulate")
    market = _profile(listings, profile, seed)
    started = time.perf_counter()
    if simulate_feed:
        scenario = replace(
            TRAINING_WORLD,
            days=days or TRAINING_WORLD.days,
            items_per_day=items_per_day or TRAINING_WORLD.items_per_day,
            illicit_share=illicit_share or TRAINING_WORLD.illicit_share,
        )
        deployed = prevalence or ScenarioConfig().illicit_share
        config = TrainConfig(labels=strategy, seed=seed, prevalence=deployed, market_share=market_share)
        result = train_on_worlds(
            parse_seeds(seeds or str(seed)),
            scenario,
            market,
            out,
            config,
            progress=console.print,
            workers=workers,
        )
    else:
        if shipments is None:
            raise typer.BadParameter("give --shipments (and --outcomes), or --simulate")
        config = TrainConfig(labels=strategy, seed=seed, prevalence=prevalence, market_share=market_share)
        inputs = TrainingInputs(shipments=shipments, outcomes=outcomes, profile=market, truth=truth)
        start_from = ModelArtifact.load(init_model).booster if init_model else None
        result = train_model(
            inputs, out, config, progress=console.print, workers=workers, init_model=start_from
        )
    print_evaluation(result.evaluation)
    timings = ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items())
    console.print(
        f"{result.dataset_items:,} items in {time.perf_counter() - started:.0f} s ({timings}); report: {out / 'report.html'}"
    )


cli.command("evaluate")(evaluate_command)
cli.command("evaluate-worlds")(evaluate_worlds_command)
cli.command("export-parquet")(export_parquet_command)
cli.command("train-dask")(train_dask_command)
cli.command("score-parquet")(score_parquet_command)
