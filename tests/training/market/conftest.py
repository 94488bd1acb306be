"""Fixtures: the fixture files and one generated market shared by the market tests."""

from pathlib import Path

import pytest

from training.market.generator import GeneratedMarket, MarketSettings, generate_market

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def market() -> GeneratedMarket:
    """The calibrated market of seed 0, three months (the default profile's market)."""
    return generate_market(MarketSettings(seed=0))
