"""Quantity and unit parsed from listing titles ("10g", "1 oz", "100 x 120mg", "50 pills", "10 tabs")."""

import re
from dataclasses import dataclass
from typing import Literal

from model.taxonomy import DrugCategory

GRAMS_PER: dict[str, float] = {
    "mg": 0.001,
    "g": 1.0,
    "gr": 1.0,
    "gram": 1.0,
    "grams": 1.0,
    "gramm": 1.0,
    "kg": 1000.0,
    "kilo": 1000.0,
    "kilos": 1000.0,
    "oz": 28.35,
    "ounce": 28.35,
    "ounces": 28.35,
    "lb": 453.6,
    "lbs": 453.6,
    "pound": 453.6,
    "pounds": 453.6,
    "ml": 1.0,
}
# Mass of one dose unit when the title does not say: a pressed pill, a blotter tab, a vial with its glass.
UNIT_MASS_G: dict[str, float] = {"pill": 0.35, "tab": 0.02, "vial": 15.0}
CATEGORY_UNIT_FORM: dict[DrugCategory, str] = {
    DrugCategory.PSYCHEDELICS: "tab",
    DrugCategory.STEROIDS: "vial",
}
_NOUN_FORMS: dict[str, str] = {
    "pill": "pill",
    "tablet": "pill",
    "cap": "pill",
    "capsule": "pill",
    "bar": "pill",
    "pc": "",
    "piece": "",
    "unit": "",
    "x": "",
    "tab": "",
    "blotter": "tab",
    "hit": "tab",
    "vial": "vial",
    "ampoule": "vial",
    "amp": "vial",
}
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_MASS_UNIT = r"(kg|kilos?|grams?|gramm|gr|g|oz|ounces?|lbs?|pounds?|ml)"
_NOUN = r"(pills?|tablets?|caps?|capsules?|bars?|pcs|pieces?|units?|tabs?|blotters?|hits?|vials?|ampoules?|amps?|x)"
_MULTIPACK = re.compile(rf"\b(\d+)\s*[x×*]\s*{_NUMBER}\s*(mg|mcg|ug|µg|g|ml)\b", re.IGNORECASE)
_DOSE_FIRST = re.compile(rf"\b{_NUMBER}\s*(mg|mcg|ug|µg)\s*[x×*]\s*(\d+)\b", re.IGNORECASE)
_COUNT = re.compile(rf"\b(\d+(?:,\d{{3}})*)\s*{_NOUN}(?![a-z])", re.IGNORECASE)
_MASS = re.compile(rf"(?<![\w.,]){_NUMBER}\s*{_MASS_UNIT}(?![a-z])", re.IGNORECASE)
_FRACTION = re.compile(rf"\b(\d+)\s*/\s*(\d+)\s*{_MASS_UNIT}(?![a-z])", re.IGNORECASE)
_WORDS = re.compile(
    r"\b(half|quarter)\s+(?:an?\s+)?(oz|ounce|pound|lb|kilo|kg)\b|\b(eighth|8th|qp|hp)\b", re.IGNORECASE
)
_WORD_GRAMS: dict[str, float] = {"eighth": 3.5, "8th": 3.5, "qp": 113.4, "hp": 226.8}
_WORD_SHARE: dict[str, float] = {"half": 0.5, "quarter": 0.25}
_DOSE = re.compile(rf"\b{_NUMBER}\s*(mg|mcg|ug|µg)\b", re.IGNORECASE)
_LEADING_COUNT = re.compile(r"^\s*(\d+)\s+(?!mg|mcg|ug|g\b)[a-z]", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedQuantity:
    """What one listing sells: grams of product, or a count of units (pills, tabs, vials) with their dose."""

    amount: float
    unit: Literal["g", "units"]
    form: str = ""
    dose_mg: float | None = None

    def product_grams(self, category: DrugCategory) -> float:
        """Mass of the product itself, before packaging."""
        if self.unit == "g":
            return self.amount
        form = self.form or CATEGORY_UNIT_FORM.get(category, "pill")
        return self.amount * UNIT_MASS_G[form]


def _number(text: str) -> float:
    if re.fullmatch(r"\d{1,3}(,\d{3})+", text):
        return float(text.replace(",", ""))
    return float(text.replace(",", "."))


def _dose_mg(value: str, unit: str) -> float:
    return _number(value) * (1.0 if unit.lower() == "mg" else 0.001)


def _noun_form(noun: str) -> str:
    singular = noun.lower().rstrip("s") or noun.lower()
    return _NOUN_FORMS.get(singular, "")


def parse_quantity(title: str) -> ParsedQuantity | None:
    """The quantity a title sells, or None when it names none; multipacks first, then counts, then masses."""
    for parser in (_multipack, _count, _mass, _words, _dose_only):
        found = parser(title)
        if found is not None and found.amount > 0:
            return found
    return None


def _multipack(title: str) -> ParsedQuantity | None:
    match = _MULTIPACK.search(title)
    if match:
        count, size, unit = int(match[1]), match[2], match[3].lower()
        if unit in ("g", "ml"):
            return ParsedQuantity(count * _number(size), "g")
        return ParsedQuantity(float(count), "units", "tab" if unit != "mg" else "", _dose_mg(size, unit))
    match = _DOSE_FIRST.search(title)
    if match:
        unit = match[2].lower()
        return ParsedQuantity(
            float(match[3]), "units", "tab" if unit != "mg" else "", _dose_mg(match[1], unit)
        )
    return None


def _count(title: str) -> ParsedQuantity | None:
    match = _COUNT.search(title)
    if not match:
        return None
    form = _noun_form(match[2])
    dose = _DOSE.search(title)
    dose_mg = _dose_mg(dose[1], dose[2]) if dose else None
    return ParsedQuantity(_number(match[1]), "units", form, dose_mg)


def _mass(title: str) -> ParsedQuantity | None:
    fraction = _FRACTION.search(title)
    if fraction and int(fraction[2]) > 0:
        share = int(fraction[1]) / int(fraction[2])
        return ParsedQuantity(share * GRAMS_PER[fraction[3].lower()], "g")
    match = _MASS.search(title)
    if not match:
        return None
    return ParsedQuantity(_number(match[1]) * GRAMS_PER[match[2].lower()], "g")


def _words(title: str) -> ParsedQuantity | None:
    match = _WORDS.search(title)
    if not match:
        return None
    if match[3]:
        return ParsedQuantity(_WORD_GRAMS[match[3].lower()], "g")
    return ParsedQuantity(_WORD_SHARE[match[1].lower()] * GRAMS_PER[match[2].lower()], "g")


def _dose_only(title: str) -> ParsedQuantity | None:
    dose = _DOSE.search(title)
    if not dose:
        return None
    leading = _LEADING_COUNT.match(title)
    count = float(leading[1]) if leading else 1.0
    unit = dose[2].lower()
    return ParsedQuantity(count, "units", "tab" if unit != "mg" else "", _dose_mg(dose[1], unit))
