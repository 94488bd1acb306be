"""The generator's parameters: vendor countries, their specialisations, activity and prices."""

# Vendor counts for US, UK, DE and NL are the press figures of market-facts.md; the other counts, the activity
# and the price levels were tuned until the simulated market met the market-level targets there
# (docs/market-data.md, "Calibration"). Nothing here is a target: revenue shares, order sizes and totals come
# out of simulating vendors and their orders.

from dataclasses import dataclass, field
from enum import StrEnum

from model.taxonomy import DrugCategory

C = DrugCategory


class Tier(StrEnum):
    """The order sizes a vendor serves: personal use, small dealers, wholesale."""

    RETAIL = "retail"
    MID = "mid"
    WHOLESALE = "wholesale"


class Scope(StrEnum):
    """Where a vendor ships: own country only, own continent, or worldwide."""

    DOMESTIC = "domestic"
    CONTINENT = "continent"
    WORLDWIDE = "worldwide"


@dataclass(frozen=True)
class CountrySpec:
    """The drug vendors of one country.

    `monthly_orders` is a retail vendor's mean; `wholesale_bias` multiplies a category's wholesale share.
    """

    vendors: int
    monthly_orders: float
    price_level: float
    category_mix: dict[DrugCategory, float]
    scope_mix: dict[Scope, float]
    wholesale_bias: dict[DrugCategory, float] = field(default_factory=dict)


_US_MIX = {
    C.CANNABIS: 0.47,
    C.STIMULANTS: 0.12,
    C.ECSTASY: 0.07,
    C.PRESCRIPTION: 0.19,
    C.PSYCHEDELICS: 0.1,
    C.OPIOIDS: 0.025,
    C.DISSOCIATIVES: 0.005,
    C.STEROIDS: 0.01,
    C.OTHER_DRUGS: 0.01,
}
_EU_MIX = {
    C.CANNABIS: 0.40,
    C.STIMULANTS: 0.2,
    C.ECSTASY: 0.14,
    C.PRESCRIPTION: 0.13,
    C.PSYCHEDELICS: 0.09,
    C.OPIOIDS: 0.015,
    C.DISSOCIATIVES: 0.015,
    C.STEROIDS: 0.005,
    C.OTHER_DRUGS: 0.005,
}
_NL_MIX = {
    C.CANNABIS: 0.05,
    C.STIMULANTS: 0.11,
    C.ECSTASY: 0.57,
    C.PRESCRIPTION: 0.06,
    C.PSYCHEDELICS: 0.11,
    C.OPIOIDS: 0.01,
    C.DISSOCIATIVES: 0.06,
    C.STEROIDS: 0.01,
    C.OTHER_DRUGS: 0.02,
}
_AU_MIX = {
    C.CANNABIS: 0.26,
    C.STIMULANTS: 0.3,
    C.ECSTASY: 0.21,
    C.PRESCRIPTION: 0.12,
    C.PSYCHEDELICS: 0.08,
    C.OPIOIDS: 0.01,
    C.DISSOCIATIVES: 0.01,
    C.STEROIDS: 0.005,
    C.OTHER_DRUGS: 0.005,
}
_ASIA_MIX = {C.PRESCRIPTION: 0.55, C.STEROIDS: 0.20, C.OTHER_DRUGS: 0.20, C.OPIOIDS: 0.05}
_HOME = {Scope.DOMESTIC: 0.55, Scope.CONTINENT: 0.15, Scope.WORLDWIDE: 0.30}
_UK = {Scope.DOMESTIC: 0.35, Scope.CONTINENT: 0.35, Scope.WORLDWIDE: 0.30}
_EUROPE = {Scope.DOMESTIC: 0.20, Scope.CONTINENT: 0.45, Scope.WORLDWIDE: 0.35}
_EXPORT = {Scope.DOMESTIC: 0.05, Scope.CONTINENT: 0.45, Scope.WORLDWIDE: 0.50}
_ISLAND = {Scope.DOMESTIC: 0.80, Scope.CONTINENT: 0.10, Scope.WORLDWIDE: 0.10}
_ABROAD = {Scope.WORLDWIDE: 1.0}

# Columns: drug vendors, mean monthly orders of a retail vendor, price level, category mix, reach.
COUNTRIES: dict[str, CountrySpec] = {
    "US": CountrySpec(890, 51.0, 1.0, _US_MIX, _HOME),
    "GB": CountrySpec(338, 52.0, 1.05, _EU_MIX, _UK),
    "AU": CountrySpec(150, 42.5, 1.7, _AU_MIX, _ISLAND),
    "DE": CountrySpec(225, 48.0, 0.9, _EU_MIX, _EUROPE),
    "NL": CountrySpec(225, 52.0, 0.8, _NL_MIX, _EXPORT, {C.ECSTASY: 4.0}),
    "CA": CountrySpec(110, 44.0, 1.05, _US_MIX, _HOME),
    "FR": CountrySpec(80, 41.5, 1.0, _EU_MIX, _EUROPE),
    "ES": CountrySpec(60, 41.5, 0.95, _EU_MIX, _EUROPE),
    "BE": CountrySpec(50, 41.5, 0.85, _NL_MIX, _EXPORT),
    "SE": CountrySpec(45, 41.5, 1.2, _EU_MIX, _EUROPE),
    "PL": CountrySpec(40, 38.5, 0.8, _EU_MIX, _EUROPE),
    "IT": CountrySpec(35, 38.5, 1.0, _EU_MIX, _EUROPE),
    "CZ": CountrySpec(25, 38.5, 0.8, _EU_MIX, _EUROPE),
    "AT": CountrySpec(25, 38.5, 0.95, _EU_MIX, _EUROPE),
    "CH": CountrySpec(20, 38.5, 1.3, _EU_MIX, _EUROPE),
    "DK": CountrySpec(20, 38.5, 1.15, _EU_MIX, _EUROPE),
    "NO": CountrySpec(15, 38.5, 1.4, _EU_MIX, _EUROPE),
    "FI": CountrySpec(15, 38.5, 1.3, _EU_MIX, _EUROPE),
    "IE": CountrySpec(15, 38.5, 1.1, _EU_MIX, _EUROPE),
    "NZ": CountrySpec(15, 38.5, 1.5, _AU_MIX, _ISLAND),
    "CN": CountrySpec(40, 41.5, 0.7, _ASIA_MIX, _ABROAD),
    "IN": CountrySpec(30, 41.5, 0.6, _ASIA_MIX, _ABROAD),
}
# Category prices away from the country's level: an ecstasy pill costs about EUR 4 in NL, 10 in the UK and 20
# in Australia (market-facts.md, prices).
CATEGORY_PRICE_LEVEL: dict[tuple[str, DrugCategory], float] = {
    ("NL", C.ECSTASY): 0.55,
    ("BE", C.ECSTASY): 0.6,
    ("AU", C.ECSTASY): 1.2,
}
# Vendors of counterfeits, tobacco, documents and the like, per drug vendor of the same country.
NON_DRUG_VENDORS_PER_DRUG_VENDOR = 0.14
# Share of each category's vendors per tier: pills and tabs are bought for personal use, powders and herbs
# also by small dealers.
TIER_MIX: dict[DrugCategory, tuple[float, float, float]] = {
    C.CANNABIS: (0.55, 0.35, 0.10),
    C.STIMULANTS: (0.60, 0.30, 0.10),
    C.ECSTASY: (0.60, 0.28, 0.12),
    C.OPIOIDS: (0.65, 0.28, 0.07),
    C.PSYCHEDELICS: (0.80, 0.18, 0.02),
    C.DISSOCIATIVES: (0.70, 0.25, 0.05),
    C.PRESCRIPTION: (0.75, 0.22, 0.03),
    C.STEROIDS: (0.70, 0.25, 0.05),
    C.OTHER_DRUGS: (0.80, 0.18, 0.02),
    C.NON_DRUG: (0.70, 0.25, 0.05),
}
# How many orders a month a vendor of each tier takes, relative to a retail vendor.
TIER_ACTIVITY: dict[Tier, float] = {Tier.RETAIL: 1.0, Tier.MID: 0.55, Tier.WHOLESALE: 0.17}
# Spread (sigma of the log) of monthly orders between vendors of the same country, category and tier.
ACTIVITY_SPREAD = 0.6
# Half of the vendors sell one drug type and half stay in one weight band (Christin 2017, market-facts.md).
SINGLE_CATEGORY_SHARE = 0.5
SINGLE_BAND_SHARE = 0.5
# Pull of a secondary category's listings relative to the main category's.
SECONDARY_LISTING_WEIGHT = 0.35
# Quantity discount: unit price falls as size ** -elasticity (Moeller et al. 2020: 0.10 to 0.21).
DISCOUNT_ELASTICITY = (0.10, 0.21)
# Buyers pick smaller sizes more often: a listing's pull is size ** -SIZE_PREFERENCE within a vendor.
SIZE_PREFERENCE = 0.35
# Share of orders on which the buyer leaves feedback; generated listings carry that many feedback counts.
FEEDBACK_RATE = 0.8
