"""Market intelligence: cryptomarket listings in, vendor shipping patterns out (docs/market-data.md)."""

from training.market.generator import GeneratedMarket, MarketSettings, generate_market
from training.market.profile import default_market_profile, learn_profile, profile_of_market

__all__ = [
    "GeneratedMarket",
    "MarketSettings",
    "default_market_profile",
    "generate_market",
    "learn_profile",
    "profile_of_market",
]
