"""Quantities and units parsed from listing titles."""

import pytest

from model.taxonomy import DrugCategory
from training.market.generator import GeneratedMarket
from training.market.quantities import ParsedQuantity, parse_quantity


@pytest.mark.parametrize(
    ("title", "amount", "unit"),
    [
        ("10g", 10.0, "g"),
        ("1 oz", 28.35, "g"),
        ("3.5 gram", 3.5, "g"),
        ("100 x 120mg", 100.0, "units"),
        ("50 pills", 50.0, "units"),
        ("1kg", 1000.0, "g"),
        ("10 tabs", 10.0, "units"),
        ("Amnesia Haze 10g - stealth shipping", 10.0, "g"),
        ("1/4 oz OG Kush", 7.0875, "g"),
        ("Speed paste half oz", 14.175, "g"),
        ("3,5g coke", 3.5, "g"),
        ("1,000 pills Tesla", 1000.0, "units"),
        ("Xanax 2mg x 100", 100.0, "units"),
        ("100 Xanax 2mg bars", 100.0, "units"),
        ("5 x 1g cocaine", 5.0, "g"),
        ("Weed 1lb", 453.6, "g"),
    ],
)
def test_title_forms(title: str, amount: float, unit: str) -> None:
    parsed = parse_quantity(title)
    assert parsed is not None
    assert parsed.unit == unit
    assert parsed.amount == pytest.approx(amount)


def test_dose_is_kept_apart_from_the_count() -> None:
    assert parse_quantity("100 x 120mg") == ParsedQuantity(100.0, "units", "", 120.0)
    assert parse_quantity("10x 150ug LSD") == ParsedQuantity(10.0, "units", "tab", 0.15)


@pytest.mark.parametrize("title", ["Facebook account hacking", "Rolex Submariner replica", "Mystery bag", ""])
def test_titles_without_a_quantity(title: str) -> None:
    assert parse_quantity(title) is None


def test_product_weight_follows_the_form() -> None:
    assert ParsedQuantity(10.0, "units").product_grams(DrugCategory.ECSTASY) == pytest.approx(3.5)
    assert ParsedQuantity(10.0, "units").product_grams(DrugCategory.PSYCHEDELICS) == pytest.approx(0.2)
    assert ParsedQuantity(3.5, "g").product_grams(DrugCategory.CANNABIS) == 3.5


def test_generated_titles_parse_back_to_what_was_listed(market: GeneratedMarket) -> None:
    drugs = [x for x in market.listings if x.is_drug]
    parsed = [(x.quantity, parse_quantity(x.title)) for x in drugs]
    agree = [
        truth is not None
        and found is not None
        and found.unit == truth.unit
        and found.amount == pytest.approx(truth.amount, rel=0.02)
        for truth, found in parsed
    ]
    assert sum(agree) / len(agree) >= 0.99
