"""`python -m training`: simulate, learn market profiles, train and evaluate models."""

import shutil
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from model.artifact import ModelArtifact
from model.market_profile import MarketProfile
from training.evaluate_cli import evaluate_command, evaluate_worlds_command, print_evaluation
from training.market.cli import app as market_app
from training.market.profile import default_market_profile, profile_from_listings_file
from training.pipeline import TrainingInputs, train_model
from training.simulate import ScenarioConfig, simulate
from training.simulate.cli import app as simulate_app
from training.train import LabelStrategy, TrainConfig

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
        bool, typer.Option("--simulate", help="Train on the default simulated scenario")
    ] = False,
    days: Annotated[int | None, typer.Option(help="With --simulate: days to simulate")] = None,
    seed: Annotated[int, typer.Option()] = 0,
    labels: Annotated[str, typer.Option(help="Selective-label strategy: observed or ipw")] = "observed",
    workers: Annotated[int, WORKERS_OPTION] = 2,
) -> None:
    """Train a model from your files, or from a simulation, and write a verified artifact with its report."""
    if labels not in ("observed", "ipw"):
        raise typer.BadParameter("labels is 'observed' or 'ipw'")
    strategy: LabelStrategy = "ipw" if labels == "ipw" else "observed"
    market = _profile(listings, profile, seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="radar-sim-") as scratch:
        if simulate_feed:
            defaults = ScenarioConfig()
            config = ScenarioConfig(days=days or defaults.days, seed=seed)
            console.print(f"simulating {config.days} days of traffic (seed {seed})")
            simulate(config, market, Path(scratch), progress=True, workers=workers)
            shipments, outcomes, truth = (
                Path(scratch) / n for n in ("shipments.jsonl", "outcomes.jsonl", "truth.jsonl")
            )
        if shipments is None:
            raise typer.BadParameter("give --shipments (and --outcomes), or --simulate")
        inputs = TrainingInputs(shipments=shipments, outcomes=outcomes, profile=market, truth=truth)
        result = train_model(
            inputs, out, TrainConfig(labels=strategy, seed=seed), progress=console.print, workers=workers
        )
    print_evaluation(result.evaluation)
    timings = ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items())
    console.print(
        f"{result.dataset_items:,} items in {time.perf_counter() - started:.0f} s ({timings}); report: {out / 'report.html'}"
    )


cli.command("evaluate")(evaluate_command)
cli.command("evaluate-worlds")(evaluate_worlds_command)


@cli.command()
def promote(
    model: Annotated[Path, typer.Option(help="Artifact directory to promote")],
    to: Annotated[Path, typer.Option(help="The directory the service loads (PARCEL_RADAR_MODEL_DIR)")],
) -> None:
    """Verify an artifact and copy it to the served model directory (restart or reload the service after)."""
    artifact = ModelArtifact.load(model)
    staging = to.with_name(to.name + ".incoming")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(model, staging)
    ModelArtifact.load(staging)
    if to.exists():
        shutil.rmtree(to)
    staging.rename(to)
    console.print(f"promoted {artifact.version} to {to}")
