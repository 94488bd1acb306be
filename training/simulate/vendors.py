"""Vendors who post from the simulated country: their persistent habits, buyers and adaptation after seizures."""

from dataclasses import dataclass, field

import numpy as np

from model.market_profile import WEIGHT_BANDS, CorridorProfile, MarketProfile
from model.taxonomy import DrugCategory
from training.simulate.catalogue import SECTORS, Product
from training.simulate.clock import HOUR_PROBABILITIES
from training.simulate.identities import PartyDict, Rng, business, person
from training.simulate.places import locale_for
from training.simulate.records import pick
from training.simulate.rotation import rotated_identity
from training.simulate.segments import MAIL_CLASSES, SEGMENT_BY_NAME, SegmentSpec
from training.simulate.senders import SECTOR_NAMES, SECTOR_ORIGIN, office_area

# Each vendor poses as one kind of licit sender and draws its habits from that segment's own mixes.
PERSONAS = {"private_letter": 0.35, "small_shop": 0.29, "webshop": 0.14, "returns": 0.1, "anonymous": 0.12}
SEGMENT_OF_PERSONA = {
    "private_letter": "private",
    "small_shop": "small_seller",
    "webshop": "webshop",
    "returns": "returns",
    "anonymous": "private",
}
# Small sellers write a trading name on this share of their items, as licit sellers do (senders.py).
SHOP_BUSINESS_SHARE = 0.4
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


@dataclass(frozen=True)
class ShopFront:
    """The catalogue of a vendor posing as a webshop: the products it declares and their origin."""

    products: tuple[Product, ...]
    origin: str


@dataclass
class Habits:
    """What a vendor does the same way every time, until a seizure makes it change.

    Channel, postage and service are kept per mail class and drawn from the imitated segment's mixes; on
    `HABIT_KEPT` of its items the vendor follows them, on the others it posts like any sender of the segment.
    """

    style: str
    identities: list[PartyDict]
    posting_city: int
    area: str
    account: str
    boxes: list[int]
    channel: dict[str, str]
    postage: dict[str, str]
    service: dict[str, str]
    hours: dict[str, np.ndarray]
    weekdays: np.ndarray
    mail_class: dict[str, str]
    declared: str
    shop: ShopFront | None
    bands: dict[str, int]
    version: int = 0

    @property
    def spec(self) -> SegmentSpec:
        """The licit segment the vendor imitates."""
        return SEGMENT_BY_NAME[SEGMENT_OF_PERSONA[self.style]]


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
    style = pick(rng, PERSONAS)
    spec = SEGMENT_BY_NAME[SEGMENT_OF_PERSONA[style]]
    city = int(rng.integers(len(locale_for(home).cities)))
    posting_days = int(min(rng.integers(2, 5), np.count_nonzero(market.weekday_mix)))
    preferred_days = rng.choice(7, size=posting_days, replace=False, p=market.weekday_mix)
    weekdays = 0.15 * market.weekday_mix + 0.85 * np.isin(np.arange(7), preferred_days) / len(preferred_days)
    declared = pick(rng, spec.declared_mix)
    habits = Habits(
        style=style,
        identities=[_identity(rng, home, city, style) for _ in range(rng.integers(1, 4))],
        posting_city=city,
        area="",
        account="",
        boxes=[],
        channel={},
        postage={},
        service={m: pick(rng, spec.service_by_class.get(m, {"tracked": 1.0})) for m in MAIL_CLASSES},
        hours={},
        weekdays=weekdays / weekdays.sum(),
        mail_class={d: pick(rng, c.mail_class_mix or {"U": 1.0}) for d, c in market.corridors.items()},
        declared=declared,
        shop=_shop_front(rng, home) if style == "webshop" else None,
        bands={c: int(rng.choice(len(WEIGHT_BANDS), p=market.weight_bands)) for c in categories},
    )
    _move(rng, habits, home, city)
    return habits


def _identity(rng: Rng, home: str, city: int, style: str) -> PartyDict:
    shop = style == "webshop" or (style == "small_shop" and rng.random() < SHOP_BUSINESS_SHARE)
    return business(rng, home, city) if shop else person(rng, home, city)


def _shop_front(rng: Rng, home: str) -> ShopFront:
    """A general store front: every product of the catalogue, so that no one product stands out."""
    products = tuple(p for sector in SECTOR_NAMES for p in SECTORS[sector])
    sector = SECTOR_NAMES[int(rng.integers(len(SECTOR_NAMES)))]
    return ShopFront(products, SECTOR_ORIGIN.get(sector, home))


def _move(rng: Rng, habits: Habits, home: str, city: int, avoid: frozenset[str] = frozenset()) -> None:
    """Posting places and business account, channels (other than `avoid` where the segment allows), postage
    and hours in `city`."""
    spec = habits.spec
    habits.posting_city = city
    habits.area = office_area(person(rng, home, city))
    habits.account = f"{home}{int(rng.integers(10**7, 10**8))}"
    habits.boxes = rng.choice(np.arange(1, 5), size=2, replace=False).tolist()
    for mail_class in MAIL_CLASSES:
        mix = spec.channel_by_class.get(mail_class, {"counter": 1.0})
        fresh = {c: w for c, w in mix.items() if c not in avoid} or mix
        habits.channel[mail_class] = pick(rng, fresh)
    for channel in sorted(set(habits.channel.values())):
        habits.postage[channel] = pick(rng, spec.postage_by_channel[channel])
        habits.hours[channel] = _preferred_hours(rng, channel)


def _preferred_hours(rng: Rng, channel: str) -> np.ndarray:
    base = HOUR_PROBABILITIES[channel]
    popular = base**2 / (base**2).sum()
    favourite = rng.choice(24, size=2, replace=False, p=popular)
    hours = 0.5 * base + 0.5 * np.isin(np.arange(24), favourite) / 2
    return np.cumsum(hours / hours.sum())


def adapt(rng: Rng, vendor: Vendor, kind: str, seized_identity: int, home: str) -> dict[str, str]:
    """Change the habit a seizure gave away: the identity used, the posting place, or the packaging.

    Returns what an identity rotation changed (name new or variant, address kept or variant), else nothing.
    """
    habits = vendor.habits
    changed: dict[str, str] = {}
    if kind == "identity":
        slot = min(seized_identity, len(habits.identities) - 1)
        habits.identities[slot], changed = rotated_identity(
            rng, habits.identities[slot], home, habits.posting_city
        )
    elif kind == "posting_place":
        city = int(rng.integers(len(locale_for(home).cities)))
        _move(rng, habits, home, city, avoid=frozenset(habits.channel.values()))
    else:
        others = {d: w for d, w in habits.spec.declared_mix.items() if d != habits.declared}
        habits.declared = pick(rng, others or {"none": 1.0})
        last = len(WEIGHT_BANDS) - 2
        habits.bands = {c: b + 1 if b < last else b - 1 for c, b in habits.bands.items()}
    habits.version += 1
    return changed


def category_of(label: str) -> DrugCategory:
    """The taxonomy member for a profile category label; unknown labels count as other drugs."""
    try:
        return DrugCategory(label)
    except ValueError:
        return DrugCategory.OTHER_DRUGS
