"""The market profile learner: orders (observed or estimated) aggregated per corridor into a MarketProfile."""

from datetime import date
from itertools import pairwise
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from model.market_profile import (
    MAIL_CLASSES,
    WEIGHT_BAND_EDGES_G,
    WEIGHT_BANDS,
    CorridorProfile,
    MarketProfile,
)
from training.market.estimates import DEFAULT_MONTHLY_ORDERS, feedback_rows, listing_rows
from training.market.generator import GeneratedMarket, MarketSettings, generate_market
from training.market.layouts import Layout, import_listings
from training.market.listings import Listing
from training.market.orders import OrderRows, rows_from_transactions
from training.market.prices import DEFAULT_BTC_EUR
from training.market.shares import exact_shares
from training.market.transactions import CATEGORY_ORDER, Transactions

LEARNER_VERSION = "market-learner/1"


def weighted_median(values: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    """The value below which half of the weight lies."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)]) if values.size else 0.0


def _shares(
    index: NDArray[np.int64], weights: NDArray[np.float64], names: tuple[str, ...]
) -> dict[str, float]:
    totals = np.bincount(index, weights=weights, minlength=len(names))
    return exact_shares({name: float(v) for name, v in zip(names, totals, strict=True) if v > 0})


def corridor_profile(rows: OrderRows) -> CorridorProfile:
    """The profile of one corridor's rows."""
    weight = rows.weight
    items = float(weight.sum())
    known = ~np.isnan(rows.gross_g)
    bands = np.searchsorted(np.array(WEIGHT_BAND_EDGES_G), rows.gross_g[known], side="right")
    return CorridorProfile(
        origin=str(rows.origin[0]),
        destination=str(rows.destination[0]),
        monthly_items=items,
        monthly_revenue_eur=float(weight @ rows.value_eur),
        category_mix=_shares(rows.category, weight, tuple(c.value for c in CATEGORY_ORDER)),
        weight_bands=_shares(bands, weight[known], WEIGHT_BANDS),
        mail_class_mix=exact_shares(
            dict(zip(MAIL_CLASSES, (weight @ rows.mail_class).tolist(), strict=True))
        ),
        weekday_mix=(weight @ rows.weekday / items).tolist(),
        median_order_eur=weighted_median(rows.value_eur, weight),
    )


def corridor_profiles(rows: OrderRows) -> dict[tuple[str, str], CorridorProfile]:
    """One profile per (origin, destination) with positive volume; rows without an origin are left out."""
    rows = rows.where((rows.origin != "") & (rows.destination != "") & (rows.weight > 0))
    keys = np.char.add(np.char.add(rows.origin, ">"), rows.destination)
    names, inverse = np.unique(keys, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(names.size + 1))
    groups = (rows.where(order[start:end]) for start, end in pairwise(starts))
    profiles = (corridor_profile(group) for group in groups)
    return {(p.origin, p.destination): p for p in profiles}


def _period(days: list[date]) -> tuple[str, str]:
    return (min(days).isoformat(), max(days).isoformat()) if days else ("", "")


def learn_profile(
    listings: list[Listing],
    transactions: Transactions | None = None,
    *,
    source: str,
    monthly_orders: float = DEFAULT_MONTHLY_ORDERS,
) -> MarketProfile:
    """Learn the profile from orders when there are any, else from feedback records, else from listings."""
    if transactions is not None and len(transactions):
        rows = rows_from_transactions(transactions)
        period = _period([transactions.ordered_on.min().item(), transactions.ordered_on.max().item()])
        method = "observed orders"
    elif any(x.feedback for x in listings):
        rows = feedback_rows(listings)
        period = _period([f.on for x in listings for f in x.feedback])
        method = "feedback records, one order each, spread by buyer demand where the destination is missing"
    else:
        rows = listing_rows(listings, monthly_orders)
        period = _period([x.observed_at for x in listings if x.observed_at is not None])
        method = f"listings only: {monthly_orders:,.0f} drug orders a month split by feedback counts"
    corridors = corridor_profiles(rows)
    kept, total = sum(c.monthly_items for c in corridors.values()), float(rows.weight.sum())
    notes = [f"method: {method}", f"drug items a month on corridors: {kept:,.0f} of {total:,.0f}"]
    if kept < total * (1 - 1e-9):
        notes.append("the rest has no known ships-from country or no destination among the buyer countries")
    return MarketProfile(LEARNER_VERSION, source, *period, corridors, notes)


def profile_of_market(market: GeneratedMarket) -> MarketProfile:
    """The profile learned from a generated market's orders."""
    s = market.settings
    source = f"generated market: seed {s.seed}, {s.months} months from {s.start}, growth {s.monthly_growth:g}/month"
    return learn_profile(market.listings, market.transactions, source=source)


def profile_from_listings_file(
    path: Path,
    layout: Layout | None = None,
    btc_eur: float = DEFAULT_BTC_EUR,
    monthly_orders: float = DEFAULT_MONTHLY_ORDERS,
) -> MarketProfile:
    """The profile learned from a listing file (contract CSV/JSONL, Agora or dump; detected when not given)."""
    result = import_listings(path, layout, btc_eur)
    source = f"{result.report.layout} import of {path.name}: {result.report.rows_kept} of {result.report.rows_read} rows"
    return learn_profile(result.listings, source=source, monthly_orders=monthly_orders)


def default_market_profile(seed: int = 0) -> MarketProfile:
    """The profile of the calibrated market (three months from January 2016); deterministic per seed."""
    return profile_of_market(generate_market(MarketSettings(seed=seed)))
