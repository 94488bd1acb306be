"""The `simulate` command: run a scenario to JSONL files and print what was generated against its targets."""

import os
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from model.market_profile import MarketProfile
from training.market.profile import default_market_profile
from training.simulate.config import ScenarioConfig
from training.simulate.engine import simulate

app = typer.Typer(
    add_completion=False, help="Simulate a post's traffic with vendors and historical inspections."
)


def load_profile(path: Path | None, seed: int) -> MarketProfile:
    """The market profile saved at `path`, or the market generator's default profile for `seed`."""
    return MarketProfile.load(path) if path is not None else default_market_profile(seed)


@app.callback(invoke_without_command=True)
def simulate_command(
    days: Annotated[int, typer.Option(min=1, help="Days of posting to simulate")] = 56,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files")] = 0,
    out: Annotated[Path, typer.Option(help="Directory for the JSONL files and summary.json")] = Path(
        "var/sim"
    ),
    items_per_day: Annotated[
        int, typer.Option(min=100, help="Mean licit items per day over a year")
    ] = 20_000,
    illicit_share: Annotated[float, typer.Option(help="Share of items that are vendor items")] = 1e-4,
    inspection_rate: Annotated[
        float, typer.Option(help="Share of items the historical policy inspected")
    ] = 0.003,
    adaptation_probability: Annotated[
        float, typer.Option(help="Chance that a vendor changes identity, place or packaging after a seizure")
    ] = 0.6,
    start: Annotated[str | None, typer.Option(help="First posting day, YYYY-MM-DD")] = None,
    profile: Annotated[
        Path | None, typer.Option(help="Market profile JSON (default: the generator's)")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Processes that build days")] = min(
        2, os.cpu_count() or 1
    ),
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
) -> None:
    """Simulate DAYS of postal traffic from seed SEED into OUT and print the measured shares."""
    config = ScenarioConfig(
        seed=seed,
        days=days,
        items_per_day=items_per_day,
        illicit_share=illicit_share,
        inspection_rate=inspection_rate,
        adaptation_probability=adaptation_probability,
    )
    if start is not None:
        config = replace(config, start=date.fromisoformat(start))
    began = time.perf_counter()
    summary = simulate(config, load_profile(profile, seed), out, progress=progress, workers=workers)
    elapsed = time.perf_counter() - began
    console = Console()
    console.print(summary.table())
    console.print(
        f"{summary.items:,} items in {elapsed:.1f} s ({summary.items / elapsed:,.0f} items/s) -> {out}"
    )
