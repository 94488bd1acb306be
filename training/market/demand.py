"""Where buyers are: relative demand per country and the destination mix of a listing's ships-to set."""

from functools import cache

import numpy as np
from numpy.typing import NDArray

from training.market.places import continent_of

# Relative number of cryptomarket buyers per country, shaped like the vendor countries of market-facts.md and
# scaled by population and internet use; only the ratios matter.
BUYER_WEIGHTS: dict[str, float] = {
    "US": 30.0,
    "GB": 11.0,
    "AU": 6.0,
    "DE": 9.0,
    "NL": 2.5,
    "CA": 5.0,
    "FR": 5.0,
    "ES": 3.0,
    "IT": 3.0,
    "BE": 1.8,
    "SE": 2.2,
    "DK": 1.0,
    "NO": 1.2,
    "FI": 1.2,
    "CH": 1.2,
    "AT": 1.2,
    "PL": 1.6,
    "CZ": 0.8,
    "IE": 1.0,
    "PT": 0.6,
    "GR": 0.4,
    "HU": 0.4,
    "RO": 0.3,
    "SI": 0.2,
    "SK": 0.2,
    "HR": 0.2,
    "BG": 0.2,
    "LU": 0.1,
    "NZ": 1.0,
    "JP": 0.3,
    "MX": 0.3,
    "BR": 0.3,
    "SG": 0.1,
    "IN": 0.2,
}
DESTINATIONS: tuple[str, ...] = tuple(BUYER_WEIGHTS)
# Buyers prefer a vendor in their own country (no customs on the way), then one on their continent
# ("trade is mostly within the same continent", market-facts.md).
DOMESTIC_PREFERENCE = 8.0
CONTINENT_PREFERENCE = 2.5


def affinity(origin: str, destination: str) -> float:
    """How much more a buyer in `destination` prefers a vendor in `origin` than one far away."""
    if origin == destination:
        return DOMESTIC_PREFERENCE
    same = continent_of(origin) == continent_of(destination) != "other"
    return CONTINENT_PREFERENCE if same else 1.0


@cache
def destination_shares(origin: str, ships_to: frozenset[str]) -> NDArray[np.float64]:
    """Share of a listing's orders going to each of DESTINATIONS, given where it ships from and to."""
    weights = np.array(
        [BUYER_WEIGHTS[d] * affinity(origin, d) if d in ships_to else 0.0 for d in DESTINATIONS],
        dtype=np.float64,
    )
    total = weights.sum()
    return weights / total if total > 0 else weights
