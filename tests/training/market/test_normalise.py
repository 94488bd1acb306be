"""Normalisation rules: places to ISO codes and regions, paths and titles to the taxonomy, prices to euros."""

import pytest

from model.codes import country_codes
from model.taxonomy import DrugCategory
from training.market.categories import classify
from training.market.places import EU, EUROPE, PlaceKind, parse_place
from training.market.prices import PriceError, parse_price, price_eur


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("USA", "US"),
        ("UK", "GB"),
        ("Netherlands", "NL"),
        ("Holland", "NL"),
        ("the United States", "US"),
        ("DE", "DE"),
    ],
)
def test_country_names(text: str, code: str) -> None:
    place = parse_place(text)
    assert place.kind is PlaceKind.COUNTRY
    assert place.country == code


def test_regions_and_qualifiers() -> None:
    assert parse_place("USA only").country == "US"
    assert parse_place("Europe").codes == EUROPE
    assert parse_place("EU").codes == EU
    assert parse_place("North America").codes == {"US", "CA", "MX"}
    assert parse_place("Worldwide").codes == country_codes()
    assert parse_place("Worldwide except Australia").codes == country_codes() - {"AU"}
    assert parse_place("Europe, USA").codes == EUROPE | {"US"}


@pytest.mark.parametrize(
    ("text", "kind"),
    [("Torland", PlaceKind.UNDISCLOSED), ("", PlaceKind.MISSING), ("Atlantis", PlaceKind.UNKNOWN)],
)
def test_places_that_map_to_nothing(text: str, kind: PlaceKind) -> None:
    place = parse_place(text)
    assert place.kind is kind
    assert not place.mapped


def test_lower_case_short_words_are_not_country_codes() -> None:
    assert parse_place("in").kind is PlaceKind.UNKNOWN


@pytest.mark.parametrize(
    ("path", "title", "category"),
    [
        ("Drugs/Cannabis/Weed", "", DrugCategory.CANNABIS),
        ("Drugs/Ecstasy/Pills", "", DrugCategory.ECSTASY),
        ("Drugs/Stimulants/Cocaine", "", DrugCategory.STIMULANTS),
        ("Drugs/Opioids/Oxycodone", "", DrugCategory.OPIOIDS),
        ("Drugs/Psychedelics/LSD", "", DrugCategory.PSYCHEDELICS),
        ("Drugs/Dissociatives/Ketamine", "", DrugCategory.DISSOCIATIVES),
        ("Drugs/Benzos", "", DrugCategory.PRESCRIPTION),
        ("Drugs/Steroids", "", DrugCategory.STEROIDS),
        ("Drugs/Other", "", DrugCategory.OTHER_DRUGS),
        ("Services/Hacking", "", DrugCategory.NON_DRUG),
        ("Other", "", DrugCategory.NON_DRUG),
        ("", "100 x Xanax 2mg bars", DrugCategory.PRESCRIPTION),
        ("Drugs", "MDMA crystal 84%", DrugCategory.ECSTASY),
        ("ecstasy", "", DrugCategory.ECSTASY),
        ("non_drug", "", DrugCategory.NON_DRUG),
    ],
)
def test_taxonomy(path: str, title: str, category: DrugCategory) -> None:
    found = classify(path, title)
    assert found.category is category
    assert found.matched


def test_an_unrecognised_drug_row_falls_back_and_says_so() -> None:
    found = classify("Drugs/Unsorted", "Mystery bag")
    assert found.category is DrugCategory.OTHER_DRUGS
    assert not found.matched


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("0.0502702566 BTC", 0.0502702566, "BTC"),
        ("12.50 EUR", 12.5, "EUR"),
        ("30 USD", 30.0, "USD"),
        ("$35", 35.0, "USD"),
        ("€ 60", 60.0, "EUR"),
        ("£55", 55.0, "GBP"),
        ("12,50 EUR", 12.5, "EUR"),
        ("1,234.50 USD", 1234.5, "USD"),
    ],
)
def test_price_forms(text: str, amount: float, currency: str) -> None:
    price = parse_price(text)
    assert price.amount == pytest.approx(amount)
    assert price.currency == currency


def test_prices_to_euros_with_a_configurable_bitcoin_rate() -> None:
    assert price_eur(parse_price("0.1 BTC"), btc_eur=400.0) == pytest.approx(40.0)
    assert price_eur(parse_price("116 USD")) == pytest.approx(100.0)


@pytest.mark.parametrize("text", ["free", "N/A", "abc BTC", "", "12 EUR 13"])
def test_unreadable_prices(text: str) -> None:
    with pytest.raises(PriceError):
        parse_price(text)


@pytest.mark.parametrize("text", ["1.5 XMR", "0 EUR", "2500 BTC"])
def test_prices_that_cannot_be_converted_or_are_placeholders(text: str) -> None:
    with pytest.raises(PriceError):
        price_eur(parse_price(text))
