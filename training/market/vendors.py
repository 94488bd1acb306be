"""The vendor population: countries, persistent specialisations, tiers, reach, activity and habits."""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from model.codes import country_codes
from model.taxonomy import DrugCategory
from training.market.calibration import (
    ACTIVITY_SPREAD,
    CATEGORY_PRICE_LEVEL,
    COUNTRIES,
    DISCOUNT_ELASTICITY,
    NON_DRUG_VENDORS_PER_DRUG_VENDOR,
    SINGLE_BAND_SHARE,
    SINGLE_CATEGORY_SHARE,
    TIER_ACTIVITY,
    TIER_MIX,
    CountrySpec,
    Scope,
    Tier,
)
from training.market.catalogue import pick
from training.market.places import CONTINENTS, continent_of
from training.market.shares import apportion
from training.market.shipping import ShippingHabits, draw_habits

K = TypeVar("K")
_HANDLE_STARTS = ("Green", "Dutch", "Euro", "Silk", "Top", "Royal", "Happy", "Pure", "Lucky", "Golden")
_HANDLE_ENDS = ("Shop", "Store", "Labs", "Express", "Pharma", "Connect", "Kings", "Supply", "Garden")


@dataclass(frozen=True)
class Vendor:
    """One vendor: what it sells (main category first), at which sizes, to where, how often and how."""

    name: str
    country: str
    categories: tuple[DrugCategory, ...]
    tier: Tier
    single_band: bool
    monthly_orders: float
    scope: Scope
    ships_to: frozenset[str]
    habits: ShippingHabits
    price_level: float
    elasticity: float
    rating: float

    def category_price_level(self, category: DrugCategory) -> float:
        """The vendor's price level for one category (Dutch ecstasy is cheap, Australian dear)."""
        return self.price_level * CATEGORY_PRICE_LEVEL.get((self.country, category), 1.0)


def allocate(total: int, shares: Mapping[K, float]) -> list[K]:
    """`total` items split by `shares` with largest-remainder rounding (stratified, so seeds agree)."""
    return [key for key, count in apportion(total, shares).items() for _ in range(count)]


def ships_to_set(country: str, scope: Scope) -> frozenset[str]:
    """The ISO codes a vendor of `country` with `scope` ships to."""
    if scope is Scope.DOMESTIC:
        return frozenset({country})
    continent = continent_of(country)
    if scope is Scope.CONTINENT and continent in CONTINENTS:
        return CONTINENTS[continent]
    return country_codes()


def _tier_mix(spec: CountrySpec, category: DrugCategory) -> dict[Tier, float]:
    bias = spec.wholesale_bias.get(category, 1.0)
    retail, mid, wholesale = TIER_MIX[category]
    return {Tier.RETAIL: retail, Tier.MID: mid, Tier.WHOLESALE: wholesale * bias}


def _secondary(
    spec: CountrySpec, main: DrugCategory, single: bool, rng: np.random.Generator
) -> tuple[DrugCategory, ...]:
    if main is DrugCategory.NON_DRUG or single:
        return ()
    others = [c for c in spec.category_mix if c is not main]
    weights = np.array([spec.category_mix[c] for c in others])
    count = min(len(others), int(rng.integers(1, 3)))
    picked = rng.choice(len(others), size=count, replace=False, p=weights / weights.sum())
    return tuple(others[i] for i in picked)


def activity_factors(count: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """Relative order rates of `count` similar vendors: lognormal quantiles in random order, mean one.

    Quantiles rather than independent draws keep the spread between vendors but make a group's total the
    same for every seed, so the calibration does not hinge on a few lucky draws.
    """
    normal = NormalDist()
    quantiles = np.array([normal.inv_cdf((i + 0.5) / count) for i in range(count)])
    factors = np.exp(ACTIVITY_SPREAD * quantiles)
    return np.asarray(rng.permutation(factors / factors.mean()), dtype=np.float64)


def balanced_flags(count: int, share: float, rng: np.random.Generator) -> NDArray[np.bool_]:
    """`count` flags of which a `share` are set (rounded at random), in random order."""
    flags = np.arange(count) < int(count * share + rng.random())
    return np.asarray(rng.permutation(flags), dtype=np.bool_)


@dataclass(frozen=True)
class _Traits:
    activity: float
    single_band: bool
    single_category: bool


def _traits(count: int, rng: np.random.Generator) -> list[_Traits]:
    return [
        _Traits(float(a), bool(b), bool(c))
        for a, b, c in zip(
            activity_factors(count, rng),
            balanced_flags(count, SINGLE_BAND_SHARE, rng),
            balanced_flags(count, SINGLE_CATEGORY_SHARE, rng),
            strict=True,
        )
    ]


def _vendor(
    country: str,
    spec: CountrySpec,
    kind: tuple[DrugCategory, Tier],
    scope: Scope,
    traits: _Traits,
    rng: np.random.Generator,
) -> Vendor:
    main, tier = kind
    return Vendor(
        name=pick(_HANDLE_STARTS, rng) + pick(_HANDLE_ENDS, rng),
        country=country,
        categories=(main, *_secondary(spec, main, traits.single_category, rng)),
        tier=tier,
        single_band=traits.single_band,
        monthly_orders=spec.monthly_orders * TIER_ACTIVITY[tier] * traits.activity,
        scope=scope,
        ships_to=ships_to_set(country, scope),
        habits=draw_habits(rng),
        price_level=spec.price_level * rng.lognormal(0.0, 0.1),
        elasticity=float(rng.uniform(*DISCOUNT_ELASTICITY)),
        rating=float(np.round(rng.uniform(4.5, 5.0), 2)),
    )


def _country_vendors(country: str, spec: CountrySpec, rng: np.random.Generator) -> list[Vendor]:
    """The vendors of one country, stratified by main category and tier."""
    mains = allocate(spec.vendors, spec.category_mix)
    mains += [DrugCategory.NON_DRUG] * round(spec.vendors * NON_DRUG_VENDORS_PER_DRUG_VENDOR)
    kinds = [(m, tier) for m in dict.fromkeys(mains) for tier in allocate(mains.count(m), _tier_mix(spec, m))]
    scopes = iter(rng.permutation(np.array(allocate(len(kinds), spec.scope_mix), dtype=object)))
    return [
        _vendor(country, spec, kind, Scope(next(scopes)), traits, rng)
        for kind in dict.fromkeys(kinds)
        for traits in _traits(kinds.count(kind), rng)
    ]


def build_vendors(rng: np.random.Generator) -> list[Vendor]:
    """Every vendor of the calibrated market, with unique handles."""
    vendors = [v for country, spec in COUNTRIES.items() for v in _country_vendors(country, spec, rng)]
    return [replace(vendor, name=f"{vendor.name}{index:04d}") for index, vendor in enumerate(vendors)]
