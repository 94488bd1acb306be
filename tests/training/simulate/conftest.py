"""Fixtures: a hand-built market profile with Dutch-origin corridors (until training.market provides the real
one) and small simulated runs shared by the tests."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from model.market_profile import CorridorProfile, MarketProfile
from training.simulate import ScenarioConfig, SimulationSummary, simulate

DUTCH_CATEGORIES = {
    "ecstasy": 0.45,
    "stimulants": 0.2,
    "psychedelics": 0.1,
    "cannabis": 0.09,
    "prescription": 0.08,
    "dissociatives": 0.05,
    "opioids": 0.03,
}
LETTER_BANDS = {
    "0-20g": 0.25,
    "20-50g": 0.4,
    "50-100g": 0.18,
    "100-250g": 0.1,
    "250-500g": 0.04,
    "500-1000g": 0.02,
    "1000-2000g": 0.01,
}
WEEKDAYS = [0.2, 0.18, 0.17, 0.16, 0.17, 0.1, 0.02]
NEAR = {"U": 0.7, "C": 0.3}


def _corridor(origin: str, destination: str, monthly: float, classes: dict[str, float]) -> CorridorProfile:
    return CorridorProfile(
        origin=origin,
        destination=destination,
        monthly_items=monthly,
        monthly_revenue_eur=monthly * 90.0,
        category_mix=dict(DUTCH_CATEGORIES),
        weight_bands=dict(LETTER_BANDS),
        mail_class_mix=classes,
        weekday_mix=list(WEEKDAYS),
        median_order_eur=60.0,
    )


def dutch_profile() -> MarketProfile:
    corridors = [
        _corridor("NL", "NL", 900, NEAR),
        _corridor("NL", "DE", 1400, NEAR),
        _corridor("NL", "BE", 500, NEAR),
        _corridor("NL", "FR", 700, NEAR),
        _corridor("NL", "GB", 1100, {"U": 0.8, "C": 0.2}),
        _corridor("NL", "US", 1800, {"U": 0.85, "C": 0.1, "E": 0.05}),
        _corridor("NL", "AU", 1500, {"U": 0.5, "C": 0.2, "E": 0.3}),
        _corridor("US", "US", 20000, {"U": 0.9, "C": 0.1}),
    ]
    return MarketProfile(
        version="test-1",
        source="hand-built test fixture",
        period_start="2016-01-01",
        period_end="2016-01-31",
        corridors={(c.origin, c.destination): c for c in corridors},
    )


@pytest.fixture(scope="session")
def profile() -> MarketProfile:
    return dutch_profile()


SMALL = ScenarioConfig(days=3, items_per_day=4_000, illicit_share=3e-3, inspection_rate=0.01, seed=7)


@dataclass(frozen=True)
class Run:
    """A finished small simulation: its config, summary and parsed files."""

    config: ScenarioConfig
    out: Path
    summary: SimulationSummary
    shipments: list[dict[str, Any]]
    truth: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def run_scenario(config: ScenarioConfig, profile: MarketProfile, out: Path) -> Run:
    summary = simulate(config, profile, out)
    return Run(
        config=config,
        out=out,
        summary=summary,
        shipments=read_jsonl(out / "shipments.jsonl"),
        truth=read_jsonl(out / "truth.jsonl"),
        outcomes=read_jsonl(out / "outcomes.jsonl"),
    )


@pytest.fixture(scope="session")
def small_run(profile: MarketProfile, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_scenario(SMALL, profile, tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="session")
def adaptive_run(profile: MarketProfile, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Many vendor items, heavy inspection and certain adaptation, so vendors get caught and change."""
    config = ScenarioConfig(
        days=12,
        items_per_day=1_500,
        illicit_share=0.01,
        inspection_rate=0.05,
        random_share_of_capacity=0.5,
        adaptation_probability=1.0,
        exit_after_seizure=0.0,
        seed=11,
    )
    return run_scenario(config, profile, tmp_path_factory.mktemp("adaptive"))


@pytest.fixture(scope="session")
def vendor_run(profile: MarketProfile, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A fortnight with a handful of busy vendors, to compare their items with each other and with licit mail."""
    config = ScenarioConfig(
        days=14,
        items_per_day=1_500,
        illicit_share=5e-3,
        vendor_weekly_items=8.0,
        adaptation_probability=0.0,
        seed=5,
    )
    return run_scenario(config, profile, tmp_path_factory.mktemp("vendors"))
