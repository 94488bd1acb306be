"""The calibrated market generator: vendors put up listings, buyers place dated orders, vendors ship them."""

from dataclasses import dataclass, field
from datetime import date

import numpy as np
from numpy.typing import NDArray

from model.shipment import MailClass
from training.market.calibration import FEEDBACK_RATE
from training.market.demand import DESTINATIONS, destination_shares
from training.market.listings import Listing, ShippingOption
from training.market.offers import Offer, vendor_offers
from training.market.shipping import ShippingHabits, choose_shipping, posting_days
from training.market.transactions import CATEGORY_ORDER, Transactions
from training.market.vendors import Vendor, build_vendors

MARKET_NAME = "generated"
# Vendors whose buyers pick express at least this often list it as an option.
EXPRESS_OFFERED = 0.02


@dataclass(frozen=True)
class MarketSettings:
    """What to generate: seed, number of months from `start`, and monthly growth of order rates."""

    seed: int = 0
    months: int = 3
    start: date = date(2016, 1, 1)
    monthly_growth: float = 0.0

    @property
    def month_factors(self) -> NDArray[np.float64]:
        """Each month's order rate relative to the first."""
        return (1.0 + self.monthly_growth) ** np.arange(self.months, dtype=np.float64)


@dataclass(frozen=True)
class GeneratedMarket:
    """Vendors, their listings (listing_share: share of its vendor's orders) and the orders placed."""

    settings: MarketSettings
    vendors: list[Vendor]
    listings: list[Listing]
    listing_vendor: NDArray[np.int64]
    listing_share: NDArray[np.float64]
    transactions: Transactions = field(repr=False)


def _shipping_options(habits: ShippingHabits) -> tuple[ShippingOption, ...]:
    options = [
        ShippingOption(MailClass.LETTER, False),
        ShippingOption(MailClass.LETTER, True),
        ShippingOption(MailClass.PARCEL, True),
    ]
    if habits.express_share >= EXPRESS_OFFERED:
        options.append(ShippingOption(MailClass.EMS, True))
    return tuple(options)


def _order_days(
    rates: NDArray[np.float64], settings: MarketSettings, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.datetime64]]:
    """Vendor index and order day of every order: Poisson counts per vendor and month, days uniform."""
    counts = rng.poisson(rates[:, None] * settings.month_factors[None, :])
    vendor, month = np.nonzero(counts)
    repeats = counts[vendor, month]
    vendor, month = np.repeat(vendor, repeats), np.repeat(month, repeats)
    first = np.datetime64(settings.start, "M") + np.arange(settings.months + 1)
    starts = first.astype("datetime64[D]")
    lengths = np.diff(starts).astype(np.int64)
    offsets = np.floor(rng.random(vendor.size) * lengths[month]).astype(np.int64)
    return vendor.astype(np.int64), starts[month] + offsets.astype("timedelta64[D]")


def _pick(
    cumulative: NDArray[np.float64], rows: NDArray[np.int64], rng: np.random.Generator
) -> NDArray[np.int64]:
    """For each entry of `rows`, an index drawn from that row of per-row cumulative shares."""
    draws = rng.random(rows.size)[:, None]
    picked = np.minimum((cumulative[rows] < draws).sum(axis=1), cumulative.shape[1] - 1)
    return np.asarray(picked, dtype=np.int64)


def _listings_of_orders(
    order_vendor: NDArray[np.int64],
    listing_vendor: NDArray[np.int64],
    share: NDArray[np.float64],
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """The listing each order is for, drawn by share within its vendor."""
    # Listings are grouped by vendor and each vendor's shares sum to one, so the running sum of shares is
    # vendor index + cumulative share within the vendor: one sorted key over all listings.
    keys = np.cumsum(share)
    last = np.r_[listing_vendor[1:] != listing_vendor[:-1], True]
    keys[last] = listing_vendor[last] + 1.0
    draws = order_vendor + rng.random(order_vendor.size)
    return np.searchsorted(keys, draws, side="right").astype(np.int64)


def generate_market(settings: MarketSettings | None = None) -> GeneratedMarket:
    """Simulate the calibrated market: every figure in the report comes out of these orders."""
    settings = settings or MarketSettings()
    rng = np.random.default_rng(settings.seed)
    vendors = build_vendors(rng)
    offers = [vendor_offers(vendor, rng) for vendor in vendors]
    listing_vendor = np.repeat(np.arange(len(vendors)), [len(o) for o in offers]).astype(np.int64)
    flat = [offer for vendor_list in offers for offer in vendor_list]
    pull = np.array([o.pull for o in flat])
    share = pull / np.bincount(listing_vendor, weights=pull)[listing_vendor]
    order_vendor, ordered_on = _order_days(np.array([v.monthly_orders for v in vendors]), settings, rng)
    listing = _listings_of_orders(order_vendor, listing_vendor, share, rng)
    transactions = _ship(vendors, flat, listing, order_vendor, ordered_on, rng)
    sold = np.bincount(listing, minlength=len(flat))
    feedback = rng.binomial(sold, FEEDBACK_RATE)
    observed = ordered_on.max().item() if listing.size else settings.start
    options = [_shipping_options(vendor.habits) for vendor in vendors]
    listings = [
        _listing(vendors[v], offer, options[v], int(n), observed)
        for v, offer, n in zip(listing_vendor, flat, feedback, strict=True)
    ]
    return GeneratedMarket(settings, vendors, listings, listing_vendor, share, transactions)


def _listing(
    vendor: Vendor, offer: Offer, options: tuple[ShippingOption, ...], feedback_count: int, observed: date
) -> Listing:
    return Listing(
        market=MARKET_NAME,
        vendor=vendor.name,
        title=offer.title,
        category=offer.category,
        price_eur=offer.price_eur,
        ships_from=vendor.country,
        ships_to=vendor.ships_to,
        quantity=offer.quantity,
        shipping=options,
        rating=vendor.rating,
        feedback_count=feedback_count,
        observed_at=observed,
    )


def _ship(
    vendors: list[Vendor],
    offers: list[Offer],
    listing: NDArray[np.int64],
    vendor: NDArray[np.int64],
    ordered_on: NDArray[np.datetime64],
    rng: np.random.Generator,
) -> Transactions:
    """Destinations, shipping choices and posting days of the orders."""
    rows = {key: index for index, key in enumerate(dict.fromkeys((v.country, v.ships_to) for v in vendors))}
    cumulative = np.cumsum(np.array([destination_shares(*key) for key in rows]), axis=1)
    vendor_row = np.array([rows[(v.country, v.ships_to)] for v in vendors])
    destination = np.array(DESTINATIONS)[_pick(cumulative, vendor_row[vendor], rng)]
    product_g = np.array([o.quantity.product_grams(o.category) for o in offers])[listing]
    price = np.array([o.price_eur for o in offers])[listing]
    habits = [v.habits for v in vendors]
    choices = choose_shipping(
        product_g,
        price,
        np.array([h.letter_limit_g for h in habits])[vendor],
        np.array([h.express_share for h in habits])[vendor],
        np.array([h.tracked_letter_share for h in habits])[vendor],
        rng,
    )
    ship_days = np.zeros((len(vendors), 7), dtype=bool)
    for index, h in enumerate(habits):
        ship_days[index, list(h.ship_days)] = True
    return Transactions(
        listing=listing,
        ordered_on=ordered_on,
        posted_on=posting_days(ordered_on, ship_days[vendor], rng),
        origin=np.array([v.country for v in vendors])[vendor],
        destination=destination,
        category=np.array([CATEGORY_ORDER.index(o.category) for o in offers], dtype=np.int64)[listing],
        product_g=product_g,
        gross_g=choices.gross_g,
        price_eur=price,
        mail_class=choices.mail_class,
        tracked=choices.tracked,
    )
