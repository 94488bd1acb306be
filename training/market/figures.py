"""Market-level figures measured on orders, and the calibration targets of market-facts.md they must meet."""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from model.taxonomy import DrugCategory
from training.market.transactions import CATEGORY_ORDER, Transactions

WHOLESALE_EUR = 1000.0
PERSONAL_USE_EUR = 100.0


@dataclass(frozen=True)
class Target:
    """One line of "What to reproduce": the accepted range and how market-facts.md states it."""

    key: str
    label: str
    low: float
    high: float
    stated: str
    unit: str = "%"


TARGETS: tuple[Target, ...] = (
    Target("revenue_US", "Drug revenue, vendors in the US", 34.0, 38.0, "36 ± 2"),
    Target("revenue_GB", "Drug revenue, vendors in the UK", 14.0, 18.0, "16 ± 2"),
    Target("revenue_AU", "Drug revenue, vendors in Australia", 9.1, 12.1, "10.6 ± 1.5"),
    Target("revenue_DE", "Drug revenue, vendors in Germany", 6.9, 9.9, "8.4 ± 1.5"),
    Target("revenue_NL", "Drug revenue, vendors in the Netherlands", 5.5, 9.5, "7-8 ± 1.5"),
    Target("rank_NL", "Rank of the Netherlands by drug revenue", 5, 5, "5th", "rank"),
    Target("category_cannabis", "All revenue, cannabis", 28.0, 34.0, "31 ± 3"),
    Target("category_stimulants", "All revenue, stimulants", 21.0, 27.0, "24 ± 3"),
    Target("category_ecstasy", "All revenue, ecstasy", 13.0, 19.0, "16 ± 3"),
    Target("nl_ecstasy", "Dutch vendors' revenue, ecstasy", 40.0, 55.0, "40-55"),
    Target("nl_cannabis", "Dutch vendors' revenue, cannabis", 0.0, 12.0, "under 12"),
    Target("wholesale_revenue", "Drug revenue in orders over EUR 1,000", 20.0, 30.0, "20-30"),
    Target("wholesale_orders", "Drug orders over EUR 1,000", 0.0, 5.0, "under 5"),
    Target("small_orders", "Drug orders under EUR 100", 45.0, 70.0, "45-70"),
    Target("monthly_revenue", "Drug revenue per month", 12.0, 22.0, "12-22", "M EUR"),
    Target("monthly_orders", "Drug orders per month", 71.25, 118.75, "95 ± 25%", "k"),
)


@dataclass(frozen=True)
class CalibrationLine:
    """A measured figure against its target."""

    target: Target
    value: float

    @property
    def passed(self) -> bool:
        return self.target.low <= self.value <= self.target.high


def _shares(keys: NDArray[np.str_] | NDArray[np.int64], weights: NDArray[np.float64]) -> dict[str, float]:
    names, codes = np.unique(keys, return_inverse=True)
    totals = np.bincount(codes, weights=weights, minlength=names.size)
    total = totals.sum()
    return (
        {str(name): float(value / total) for name, value in zip(names, totals, strict=True)} if total else {}
    )


def _category_shares(category: NDArray[np.int64], weights: NDArray[np.float64]) -> dict[str, float]:
    by_code = _shares(category, weights)
    return {c.value: by_code.get(str(i), 0.0) for i, c in enumerate(CATEGORY_ORDER)}


def revenue_by_country(orders: Transactions) -> dict[str, float]:
    """Share of drug revenue per vendor country, largest first."""
    drugs = orders.where(orders.is_drug)
    shares = _shares(drugs.origin, drugs.price_eur)
    return dict(sorted(shares.items(), key=lambda item: -item[1]))


def revenue_by_category(orders: Transactions) -> dict[str, float]:
    """Share of all revenue (drugs and the rest) per taxonomy category."""
    return _category_shares(orders.category, orders.price_eur)


def orders_by_category(orders: Transactions) -> dict[str, float]:
    """Share of drug orders per taxonomy category."""
    drugs = orders.where(orders.is_drug)
    return _category_shares(drugs.category, np.ones(len(drugs)))


def measure(orders: Transactions) -> dict[str, float]:
    """Every figure of TARGETS, in the targets' units, computed from the orders."""
    drugs = orders.where(orders.is_drug)
    price = drugs.price_eur
    countries = revenue_by_country(orders)
    categories = revenue_by_category(orders)
    dutch = drugs.where(drugs.origin == "NL")
    dutch_mix = _category_shares(dutch.category, dutch.price_eur)
    figures = {f"revenue_{code}": 100 * countries.get(code, 0.0) for code in ("US", "GB", "AU", "DE", "NL")}
    figures["rank_NL"] = float(list(countries).index("NL") + 1) if "NL" in countries else float("nan")
    for category in (DrugCategory.CANNABIS, DrugCategory.STIMULANTS, DrugCategory.ECSTASY):
        figures[f"category_{category.value}"] = 100 * categories[category.value]
    figures["nl_ecstasy"] = 100 * dutch_mix[DrugCategory.ECSTASY.value]
    figures["nl_cannabis"] = 100 * dutch_mix[DrugCategory.CANNABIS.value]
    large = price > WHOLESALE_EUR
    figures["wholesale_revenue"] = 100 * float(price[large].sum() / price.sum())
    figures["wholesale_orders"] = 100 * float(large.mean())
    figures["small_orders"] = 100 * float((price < PERSONAL_USE_EUR).mean())
    figures["monthly_revenue"] = float(price.sum()) / orders.months / 1e6
    figures["monthly_orders"] = len(drugs) / orders.months / 1e3
    return figures


def calibration_lines(orders: Transactions) -> list[CalibrationLine]:
    """The measured figures against every target, in the order of market-facts.md."""
    figures = measure(orders)
    return [CalibrationLine(target, figures[target.key]) for target in TARGETS]
