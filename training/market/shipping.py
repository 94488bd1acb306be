"""How vendors ship: mail class and tracking per order, packaging weight, and the day the item is posted."""

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from model.market_profile import MAIL_CLASSES
from model.shipment import MailClass
from training.market.transactions import weekday_of

# Weekdays a vendor goes to the post (Monday = 0) and how common each habit is.
SHIP_DAY_PATTERNS: tuple[tuple[tuple[int, ...], float], ...] = (
    ((0, 1, 2, 3, 4), 0.55),
    ((0, 2, 4), 0.2),
    ((1, 3), 0.1),
    ((0, 1, 2, 3, 4, 5), 0.15),
)
# Heaviest product a vendor still sends as a letter (letter post is preferred: seen as more anonymous);
# a few vendors send everything as parcels.
LETTER_LIMITS_G: tuple[tuple[float, float], ...] = (
    (0.0, 0.1),
    (100.0, 0.15),
    (250.0, 0.3),
    (500.0, 0.3),
    (1000.0, 0.15),
)
# Packaging added to the product, uniform between these bounds (grams): envelope, barrier bags, decoy.
PACKAGING_G: dict[MailClass, tuple[float, float]] = {
    MailClass.LETTER: (12.0, 40.0),
    MailClass.PARCEL: (120.0, 450.0),
    MailClass.EMS: (150.0, 500.0),
}
PARCEL_TRACKED_SHARE = 0.7
# Buyers of large orders ask for tracking and express more often.
LARGE_ORDER_G = 100.0
LARGE_ORDER_EXPRESS_FACTOR = 2.5
VALUABLE_ORDER_EUR = 200.0
VALUABLE_ORDER_TRACKING_BONUS = 0.3
T = TypeVar("T")
_LETTER, _PARCEL, _EMS = (
    MAIL_CLASSES.index(c.value) for c in (MailClass.LETTER, MailClass.PARCEL, MailClass.EMS)
)
_PACKAGING_BOUNDS = np.array([PACKAGING_G[MailClass(c)] for c in MAIL_CLASSES])


@dataclass(frozen=True)
class ShippingHabits:
    """A vendor's persistent way of shipping."""

    letter_limit_g: float
    express_share: float
    tracked_letter_share: float
    ship_days: tuple[int, ...]


def _weighted(options: tuple[tuple[T, float], ...], rng: np.random.Generator) -> T:
    draw, total = rng.random(), 0.0
    for option, weight in options:
        total += weight
        if draw < total:
            return option
    return options[-1][0]


def draw_habits(rng: np.random.Generator) -> ShippingHabits:
    """One vendor's habits."""
    days = _weighted(SHIP_DAY_PATTERNS, rng)
    limit = _weighted(LETTER_LIMITS_G, rng)
    return ShippingHabits(
        letter_limit_g=limit,
        express_share=float(rng.beta(0.6, 12.0)),
        tracked_letter_share=float(rng.beta(1.2, 5.0)),
        ship_days=days,
    )


@dataclass(frozen=True)
class ShippingChoices:
    """Per order: mail class (MailClass values), tracked or not, gross weight in grams."""

    mail_class: NDArray[np.str_]
    tracked: NDArray[np.bool_]
    gross_g: NDArray[np.float64]


def choose_shipping(
    product_g: NDArray[np.float64],
    value_eur: NDArray[np.float64],
    letter_limit_g: NDArray[np.float64],
    express_share: NDArray[np.float64],
    tracked_letter_share: NDArray[np.float64],
    rng: np.random.Generator,
) -> ShippingChoices:
    """Letter up to the vendor's limit, else parcel; express by habit (more for large orders); tracking."""
    large = product_g >= LARGE_ORDER_G
    express = rng.random(product_g.size) < np.minimum(
        express_share * np.where(large, LARGE_ORDER_EXPRESS_FACTOR, 1), 0.9
    )
    letter = (product_g <= letter_limit_g) & ~express
    mail_class = np.where(express, _EMS, np.where(letter, _LETTER, _PARCEL))
    letter_tracking = tracked_letter_share + VALUABLE_ORDER_TRACKING_BONUS * (value_eur > VALUABLE_ORDER_EUR)
    tracked_chance = np.where(express, 1.0, np.where(letter, letter_tracking, PARCEL_TRACKED_SHARE))
    tracked = rng.random(product_g.size) < tracked_chance
    low, high = _PACKAGING_BOUNDS[mail_class].T
    return ShippingChoices(np.array(MAIL_CLASSES)[mail_class], tracked, product_g + rng.uniform(low, high))


def posting_days(
    ordered_on: NDArray[np.datetime64], ship_days: NDArray[np.bool_], rng: np.random.Generator
) -> NDArray[np.datetime64]:
    """The first of the vendor's posting weekdays after up to a day of handling; `ship_days` is (n, 7)."""
    ready = ordered_on + rng.integers(0, 2, ordered_on.size).astype("timedelta64[D]")
    weekday = weekday_of(ready)
    wait = np.full(ordered_on.size, -1, dtype=np.int64)
    for offset in range(7):
        opens = ship_days[np.arange(ordered_on.size), (weekday + offset) % 7] & (wait < 0)
        wait[opens] = offset
    posted: NDArray[np.datetime64] = ready + np.maximum(wait, 0).astype("timedelta64[D]")
    return posted
