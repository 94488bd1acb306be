"""What a generated market was told to produce per corridor, computed from its parameters, not its orders."""

from dataclasses import dataclass

import numpy as np

from training.market.demand import DESTINATIONS, destination_shares
from training.market.generator import GeneratedMarket
from training.market.transactions import CATEGORY_ORDER, NON_DRUG_CODE


@dataclass(frozen=True)
class ExpectedCorridor:
    """Expected drug items a month on a corridor and their category mix."""

    monthly_items: float
    category_mix: dict[str, float]


def expected_corridors(market: GeneratedMarket) -> dict[tuple[str, str], ExpectedCorridor]:
    """Vendor order rates x listing shares x destination shares, averaged over the generated months."""
    vendor_count = len(market.vendors)
    category = np.array([CATEGORY_ORDER.index(x.category) for x in market.listings])
    mix = np.zeros((vendor_count, len(CATEGORY_ORDER)))
    np.add.at(mix, (market.listing_vendor, category), market.listing_share)
    mix[:, NON_DRUG_CODE] = 0.0
    rate = np.array([v.monthly_orders for v in market.vendors]) * market.settings.month_factors.mean()
    shares = np.array([destination_shares(v.country, v.ships_to) for v in market.vendors])
    countries = np.array([v.country for v in market.vendors])
    expected: dict[tuple[str, str], ExpectedCorridor] = {}
    for origin in np.unique(countries):
        members = countries == origin
        flows = (rate[members, None] * shares[members]).T @ mix[members]
        for destination, flow in zip(DESTINATIONS, flows, strict=True):
            items = float(flow.sum())
            if items > 0:
                categories = {
                    c.value: float(f / items) for c, f in zip(CATEGORY_ORDER, flow, strict=True) if f > 0
                }
                expected[(str(origin), destination)] = ExpectedCorridor(items, categories)
    return expected
