"""What vendors sell: products per category, their size ladders, reference prices and listing titles."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np

from model.taxonomy import DrugCategory
from training.market.calibration import Tier

C = DrugCategory
T = TypeVar("T")

# Listing sizes per tier, in grams or units. Ladders overlap at the tier edges, as real shops do.
LADDERS: dict[str, dict[Tier, tuple[float, ...]]] = {
    "weed": {
        Tier.RETAIL: (1, 3.5, 7, 14, 28),
        Tier.MID: (28, 56, 112),
        Tier.WHOLESALE: (250, 500, 1000),
    },
    "grams_cheap": {
        Tier.RETAIL: (1, 2, 3.5, 5, 7, 10, 14),
        Tier.MID: (14, 28, 56, 112),
        Tier.WHOLESALE: (112, 250, 500, 1000),
    },
    "grams_dear": {
        Tier.RETAIL: (0.5, 1, 2, 3.5, 5),
        Tier.MID: (7, 10, 14, 28),
        Tier.WHOLESALE: (28, 50, 100),
    },
    "pills": {
        Tier.RETAIL: (5, 10, 20, 25, 50),
        Tier.MID: (50, 100, 200),
        Tier.WHOLESALE: (250, 500, 1000),
    },
    "rx": {
        Tier.RETAIL: (10, 20, 30, 50, 100),
        Tier.MID: (100, 200, 300),
        Tier.WHOLESALE: (500, 1000, 2000),
    },
    "strong_pills": {Tier.RETAIL: (1, 2, 5, 10), Tier.MID: (20, 30, 50), Tier.WHOLESALE: (100, 200, 500)},
    "tabs": {Tier.RETAIL: (1, 5, 10, 25), Tier.MID: (50, 100), Tier.WHOLESALE: (100, 250, 500)},
    "vials": {Tier.RETAIL: (1, 2, 3), Tier.MID: (5, 10), Tier.WHOLESALE: (20, 50)},
    "goods": {Tier.RETAIL: (1, 2, 3), Tier.MID: (5, 10), Tier.WHOLESALE: (25, 50, 100)},
}


@dataclass(frozen=True)
class Product:
    """A product line: what one unit (gram or piece) costs at the reference price level, and its ladder."""

    name: str
    unit: Literal["g", "units"]
    unit_price_eur: float
    ladder: str
    form: str = ""
    dose_mg: float | None = None


PRODUCTS: dict[DrugCategory, tuple[Product, ...]] = {
    C.CANNABIS: (
        Product("Amnesia Haze", "g", 10.0, "weed"),
        Product("OG Kush", "g", 10.5, "weed"),
        Product("White Widow", "g", 9.5, "weed"),
        Product("Girl Scout Cookies", "g", 11.0, "weed"),
        Product("Afghan Hash", "g", 9.0, "weed"),
        Product("Cheese", "g", 9.5, "weed"),
    ),
    C.STIMULANTS: (
        Product("Colombian Cocaine 90%", "g", 80.0, "grams_dear"),
        Product("Cocaine Fishscale", "g", 75.0, "grams_dear"),
        Product("Amphetamine Speed Paste", "g", 10.0, "grams_cheap"),
        Product("Crystal Meth", "g", 60.0, "grams_dear"),
        Product("Mephedrone 4-MMC", "g", 20.0, "grams_dear"),
    ),
    C.ECSTASY: (
        Product("Tesla XTC pills", "units", 10.0, "pills", "pill", 250.0),
        Product("Blue Punisher XTC", "units", 11.0, "pills", "pill", 270.0),
        Product("Philipp Plein XTC pills", "units", 10.0, "pills", "pill", 240.0),
        Product("MDMA Crystal 84%", "g", 35.0, "grams_dear"),
    ),
    C.OPIOIDS: (
        Product("Heroin #4", "g", 90.0, "grams_dear"),
        Product("Oxycodone 30mg", "units", 25.0, "strong_pills", "pill", 30.0),
        Product("Opium", "g", 25.0, "grams_dear"),
    ),
    C.PSYCHEDELICS: (
        Product("LSD 150ug blotters", "units", 8.0, "tabs", "tab", 0.15),
        Product("Magic Mushrooms", "g", 8.0, "grams_cheap"),
        Product("2C-B 20mg pills", "units", 8.0, "pills", "pill", 20.0),
    ),
    C.DISSOCIATIVES: (
        Product("Ketamine shards", "g", 35.0, "grams_dear"),
        Product("MXE", "g", 40.0, "grams_dear"),
    ),
    C.PRESCRIPTION: (
        Product("Xanax 2mg bars", "units", 2.5, "rx", "pill", 2.0),
        Product("Valium 10mg", "units", 1.2, "rx", "pill", 10.0),
        Product("Modafinil 200mg", "units", 1.0, "rx", "pill", 200.0),
        Product("Viagra 100mg", "units", 1.5, "rx", "pill", 100.0),
        Product("Clonazepam 2mg", "units", 1.5, "rx", "pill", 2.0),
    ),
    C.STEROIDS: (
        Product("Testosterone Enanthate 10ml vial", "units", 40.0, "vials", "vial"),
        Product("Anavar 10mg", "units", 0.8, "rx", "pill", 10.0),
    ),
    C.OTHER_DRUGS: (
        Product("GHB", "g", 1.5, "grams_cheap"),
        Product("Kratom", "g", 0.3, "grams_cheap"),
        Product("Synthetic cannabinoid blend", "g", 8.0, "grams_cheap"),
    ),
    C.NON_DRUG: (
        Product("Replica Rolex Submariner", "units", 150.0, "goods"),
        Product("Counterfeit 50 EUR banknotes", "units", 12.0, "goods"),
        Product("Marlboro cigarettes carton", "units", 25.0, "goods"),
        Product("Fake ID card", "units", 120.0, "goods"),
    ),
}
_SUFFIXES = ("", "", " - stealth shipping", " **TOP QUALITY**", " | free shipping", " (lab tested)")


def unit_price(product: Product, size: float, level: float, elasticity: float) -> float:
    """Price of one listing of `size`: the unit price at `level`, with a quantity discount."""
    return float(product.unit_price_eur * level * size ** (1.0 - elasticity))


def pick(options: Sequence[T], rng: np.random.Generator) -> T:
    """One of `options`, uniformly."""
    return options[int(rng.random() * len(options))]


def _gram_text(size: float, rng: np.random.Generator) -> str:
    if size == 1000:
        return pick(("1kg", "1 kilo", "1000g"), rng)
    if size == 28:
        return pick(("1 oz", "28g", "28 grams"), rng)
    number = f"{size:g}"
    return pick((f"{number}g", f"{number} gram", f"{number} grams", f"{number}G"), rng)


def listing_title(product: Product, size: float, rng: np.random.Generator) -> str:
    """A title in one of the shapes markets use, e.g. "10g Amnesia Haze" or "100 x Xanax 2mg bars"."""
    suffix = pick(_SUFFIXES, rng)
    if product.unit == "g":
        quantity = _gram_text(size, rng)
        shapes = (f"{quantity} {product.name}", f"{product.name} - {quantity}", f"{product.name} {quantity}")
        return pick(shapes, rng) + suffix
    count = f"{size:g}"
    nouns = {"pill": "pills", "tab": "tabs", "vial": "vials"}
    noun = nouns.get(product.form, "pcs")
    shapes = (f"{count} x {product.name}", f"{count}x {product.name}", f"{count} {noun} {product.name}")
    return pick(shapes, rng) + suffix
