"""Vendors who post from the simulated country: their persistent habits, buyers and adaptation after seizures."""

from dataclasses import dataclass, field

import numpy as np

from model.market_profile import WEIGHT_BANDS, CorridorProfile, MarketProfile
from model.taxonomy import DrugCategory
from training.simulate.clock import HOUR_PROBABILITIES
from training.simulate.identities import PartyDict, Rng, person, vendor_identity
from training.simulate.places import locale_for
from training.simulate.records import pick

STYLES = {"private_letter": 0.5, "small_shop": 0.35, "anonymous": 0.15}
CHANNEL_BY_STYLE = {
    "private_letter": {"mailbox": 0.8, "counter": 0.2},
    "small_shop": {"parcel_locker": 0.6, "counter": 0.4},
    "anonymous": {"mailbox": 1.0},
}
POSTAGE_BY_CHANNEL = {"mailbox": "stamps", "counter": "stamps", "parcel_locker": "online_label"}
DECLARED_BY_STYLE = {
    "private_letter": {"gift": 0.45, "documents": 0.35, "none": 0.2},
    "small_shop": {"sale_of_goods": 0.5, "gift": 0.3, "commercial_sample": 0.2},
    "anonymous": {"none": 0.6, "gift": 0.4},
}
IDENTITY_STYLE = {"private_letter": "private", "small_shop": "business", "anonymous": "name_only"}
COVER_STORIES: tuple[tuple[str, str], ...] = (
    ("Birthday card", "490900"), ("Greeting card", "490900"), ("Gift", "950300"), ("Documents", "490199"),
    ("Photos", "491191"), ("Cosmetics sample", "330499"), ("Tea", "090230"), ("Jewellery", "711719"),
    ("Accessories", "392690"), ("Bath salts", "330730"), ("Vitamins", "210690"), ("Stickers", "491110"),
)  # fmt: skip
ADAPTATIONS = ("identity", "posting_place", "packaging")
DESTINATION_CONCENTRATION = 5.0
CATEGORY_CONCENTRATION = 1.5


@dataclass(frozen=True)
class OriginMarket:
    """The market profile's corridors from one posting country, aggregated for drawing vendors."""

    destinations: tuple[str, ...]
    destination_mix: np.ndarray
    corridors: dict[str, CorridorProfile]
    category_mix: dict[str, float]
    weight_bands: np.ndarray
    weekday_mix: np.ndarray

    @classmethod
    def of(cls, profile: MarketProfile, origin: str) -> "OriginMarket":
        """The corridors of `profile` from `origin`, with their shares of its monthly items."""
        corridors = {c.destination: c for (o, _), c in sorted(profile.corridors.items()) if o == origin}
        corridors = {d: c for d, c in corridors.items() if c.monthly_items > 0}
        if not corridors:
            raise ValueError(f"the market profile has no corridor from {origin}")
        items = np.array([c.monthly_items for c in corridors.values()], dtype=np.float64)
        shares = items / items.sum()
        categories: dict[str, float] = {}
        bands = np.zeros(len(WEIGHT_BANDS))
        weekdays = np.zeros(7)
        for share, corridor in zip(shares, corridors.values(), strict=True):
            for category, value in corridor.category_mix.items():
                categories[category] = categories.get(category, 0.0) + share * value
            bands += share * np.array([corridor.weight_bands.get(b, 0.0) for b in WEIGHT_BANDS])
            weekdays += share * np.asarray(corridor.weekday_mix[:7], dtype=np.float64)
        return cls(
            tuple(corridors), shares, corridors, categories, bands / bands.sum(), weekdays / weekdays.sum()
        )


@dataclass
class Buyer:
    """Somebody who orders from a vendor; dealers buy wholesale and come back often."""

    buyer_id: str
    party: PartyDict
    country: str
    wholesale: bool


@dataclass
class Habits:
    """What a vendor does the same way every time, until a seizure makes it change."""

    style: str
    identities: list[PartyDict]
    channel: str
    postage: str
    posting_city: int
    offices: list[str]
    hours: np.ndarray
    weekdays: np.ndarray
    mail_class: dict[str, str]
    tracked: dict[str, bool]
    declared: str
    cover_story: tuple[str, str]
    bands: dict[str, int]
    version: int = 0


@dataclass
class Vendor:
    """One seller shipping from the posting country."""

    vendor_id: str
    categories: list[str]
    category_weights: np.ndarray
    destinations: tuple[str, ...]
    destination_weights: np.ndarray
    weekly_items: float
    band_loyalty: float
    habits: Habits
    buyers: list[Buyer] = field(default_factory=list)
    active: bool = True


def _dirichlet_around(rng: Rng, mix: np.ndarray, concentration: float) -> np.ndarray:
    draws = rng.gamma(np.maximum(mix * concentration, 1e-3))
    shares: np.ndarray = draws / draws.sum()
    return shares


def new_vendor(rng: Rng, vendor_id: str, market: OriginMarket, home: str, mean_weekly: float) -> Vendor:
    """A vendor drawn from the market: half sell one drug type, half stay in one weight band per product."""
    categories = sorted(market.category_mix)
    base = np.array([market.category_mix[c] for c in categories])
    weights = _dirichlet_around(rng, base / base.sum(), CATEGORY_CONCENTRATION)
    if rng.random() < 0.5:
        weights = (np.arange(len(categories)) == int(np.argmax(weights))).astype(np.float64)
    sold = [c for c, w in zip(categories, weights, strict=True) if w > 0.02]
    sold_weights = np.array([w for w in weights if w > 0.02])
    destinations = _dirichlet_around(rng, market.destination_mix, DESTINATION_CONCENTRATION)
    return Vendor(
        vendor_id=vendor_id,
        categories=sold,
        category_weights=sold_weights / sold_weights.sum(),
        destinations=market.destinations,
        destination_weights=destinations,
        weekly_items=float(rng.lognormal(np.log(mean_weekly) - 0.32, 0.8)),
        band_loyalty=1.0 if rng.random() < 0.5 else 0.6,
        habits=_new_habits(rng, market, home, sold),
    )


def _new_habits(rng: Rng, market: OriginMarket, home: str, categories: list[str]) -> Habits:
    style = pick(rng, STYLES)
    city = int(rng.integers(len(locale_for(home).cities)))
    channel = pick(rng, CHANNEL_BY_STYLE[style])
    posting_days = int(min(rng.integers(2, 5), np.count_nonzero(market.weekday_mix)))
    preferred_days = rng.choice(7, size=posting_days, replace=False, p=market.weekday_mix)
    weekdays = 0.15 * market.weekday_mix + 0.85 * np.isin(np.arange(7), preferred_days) / len(preferred_days)
    mail_class = {d: pick(rng, c.mail_class_mix or {"U": 1.0}) for d, c in market.corridors.items()}
    return Habits(
        style=style,
        identities=[
            vendor_identity(rng, home, city, IDENTITY_STYLE[style]) for _ in range(rng.integers(1, 4))
        ],
        channel=channel,
        postage=POSTAGE_BY_CHANNEL[channel],
        posting_city=city,
        offices=_offices(rng, home, city, channel),
        hours=_preferred_hours(rng, channel),
        weekdays=weekdays / weekdays.sum(),
        mail_class=mail_class,
        tracked={d: m != "U" or rng.random() < 0.3 for d, m in mail_class.items()},
        declared=pick(rng, DECLARED_BY_STYLE[style]),
        cover_story=COVER_STORIES[int(rng.integers(len(COVER_STORIES)))],
        bands={c: int(rng.choice(len(WEIGHT_BANDS), p=market.weight_bands)) for c in categories},
    )


def _offices(rng: Rng, home: str, city: int, channel: str) -> list[str]:
    spot = person(rng, home, city)["postcode"].replace(" ", "")[:4]
    kind = {"mailbox": "MB", "parcel_locker": "PL"}.get(channel)
    if kind is None:
        return [f"{home}-PO-{spot}"]
    return [
        f"{home}-{kind}-{spot}-{box}" for box in rng.choice(np.arange(1, 5), size=2, replace=False).tolist()
    ]


def _preferred_hours(rng: Rng, channel: str) -> np.ndarray:
    base = HOUR_PROBABILITIES[channel]
    favourite = rng.choice(24, size=2, replace=False, p=base)
    hours = 0.3 * base + 0.7 * np.isin(np.arange(24), favourite) / 2
    return np.cumsum(hours / hours.sum())


def adapt(rng: Rng, vendor: Vendor, kind: str, seized_identity: int, home: str) -> None:
    """Change the habit a seizure gave away: the identity used, the posting place, or the packaging."""
    habits = vendor.habits
    if kind == "identity":
        replacement = vendor_identity(rng, home, habits.posting_city, IDENTITY_STYLE[habits.style])
        habits.identities[min(seized_identity, len(habits.identities) - 1)] = replacement
    elif kind == "posting_place":
        city = int(rng.integers(len(locale_for(home).cities)))
        channel = pick(rng, {c: 1.0 for c in POSTAGE_BY_CHANNEL if c != habits.channel})
        habits.posting_city, habits.channel, habits.postage = city, channel, POSTAGE_BY_CHANNEL[channel]
        habits.offices = _offices(rng, home, city, channel)
        habits.hours = _preferred_hours(rng, channel)
    else:
        others = {d: 1.0 for d in ("gift", "documents", "sale_of_goods", "none") if d != habits.declared}
        habits.declared = pick(rng, others)
        habits.cover_story = COVER_STORIES[int(rng.integers(len(COVER_STORIES)))]
        last = len(WEIGHT_BANDS) - 2
        habits.bands = {c: b + 1 if b < last else b - 1 for c, b in habits.bands.items()}
    habits.version += 1


def category_of(label: str) -> DrugCategory:
    """The taxonomy member for a profile category label; unknown labels count as other drugs."""
    try:
        return DrugCategory(label)
    except ValueError:
        return DrugCategory.OTHER_DRUGS
