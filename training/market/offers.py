"""A generated vendor's listings: products of its categories at sizes of its tier, priced with a discount."""

from dataclasses import dataclass

import numpy as np

from model.taxonomy import DrugCategory
from training.market.calibration import SECONDARY_LISTING_WEIGHT, SIZE_PREFERENCE
from training.market.catalogue import LADDERS, PRODUCTS, Product, listing_title, unit_price
from training.market.quantities import ParsedQuantity
from training.market.vendors import Vendor

PRICE_NOISE = 0.08


@dataclass(frozen=True)
class Offer:
    """One listing of a generated vendor, with its pull on that vendor's buyers (relative order rate)."""

    category: DrugCategory
    product: Product
    size: float
    price_eur: float
    pull: float
    title: str

    @property
    def quantity(self) -> ParsedQuantity:
        """What one order holds, as the title parser would read it."""
        return ParsedQuantity(self.size, self.product.unit, self.product.form, self.product.dose_mg)


def _sizes(product: Product, vendor: Vendor, rng: np.random.Generator) -> tuple[float, ...]:
    ladder = LADDERS[product.ladder][vendor.tier]
    if not vendor.single_band:
        return ladder
    start = int(rng.integers(0, len(ladder)))
    return ladder[start : start + int(rng.integers(1, 3))]


def vendor_offers(vendor: Vendor, rng: np.random.Generator) -> list[Offer]:
    """The listings of one vendor: one to three products of its main category, one of each other category."""
    offers: list[Offer] = []
    for rank, category in enumerate(vendor.categories):
        products = PRODUCTS[category]
        count = min(len(products), 1 if rank else int(rng.integers(1, 4)))
        weight = (1.0 if rank == 0 else SECONDARY_LISTING_WEIGHT) / count
        level = vendor.category_price_level(category)
        for index in rng.choice(len(products), size=count, replace=False):
            product = products[index]
            for size in _sizes(product, vendor, rng):
                price = unit_price(product, size, level, vendor.elasticity) * rng.lognormal(0.0, PRICE_NOISE)
                title = listing_title(product, size, rng)
                offers.append(
                    Offer(category, product, size, round(price, 2), weight * size**-SIZE_PREFERENCE, title)
                )
    return offers
