"""Importers: the Agora layout, a Dream-style dump and the project's contract, including broken rows."""

from pathlib import Path

import pytest

from model.taxonomy import DrugCategory
from training.market.agora import import_agora, parse_rating
from training.market.dumps import import_dump
from training.market.importers import import_contract
from training.market.layouts import Layout, detect_layout

from .conftest import FIXTURES

AGORA_HEADER = b"Vendor, Category, Item, Item Description, Price, Origin, Destination, Rating, Remarks\n"


def test_agora_fixture_is_read_in_its_own_layout() -> None:
    raw = (FIXTURES / "agora_sample.csv").read_bytes()
    assert raw.startswith(AGORA_HEADER)
    assert b"\xf1" in raw  # latin-1, not UTF-8
    result = import_agora(FIXTURES / "agora_sample.csv", btc_eur=350.0)
    report = result.report
    assert report.rows_read == 80
    assert report.rows_kept == 79
    assert report.skipped == {"price not plausible (zero or above EUR 100,000)": 1}
    assert report.share(report.drug_rows_categorised, report.drug_rows) >= 0.95
    assert report.share(report.origins_mapped) >= 0.90
    assert report.unmapped["category 'Drugs/Unsorted'"] == 1
    assert report.unmapped["origin 'Torland' (undisclosed)"] == 2
    assert any("Torland" in line for line in report.summary())


def test_agora_rows_are_normalised() -> None:
    listings = {x.title: x for x in import_agora(FIXTURES / "agora_sample.csv", btc_eur=400.0).listings}
    hash_listing = listings["3.5 gram Moroccan Hash (Ketama)"]
    assert hash_listing.vendor == "Señor_Verde"
    assert hash_listing.category is DrugCategory.CANNABIS
    assert hash_listing.ships_from == "NL"
    assert hash_listing.price_eur == pytest.approx(0.06 * 400.0)
    assert hash_listing.product_grams == 3.5
    assert listings["1/4 oz OG Kush"].ships_to == {"US"}
    assert "AU" not in listings["MDMA crystal 84% - 5g"].ships_to
    assert listings["Crystal Meth 1g shards"].feedback_count == 0
    assert listings["10 pills Superman"].rating == 4.94


@pytest.mark.parametrize(
    ("text", "rating", "deals"),
    [
        ("4.96/5", 4.96, None),
        ("~4.9/5", 4.9, None),
        ("[0 deals]", None, 0),
        ("[12 deals]", None, 12),
        ("", None, None),
    ],
)
def test_agora_ratings(text: str, rating: float | None, deals: int | None) -> None:
    assert parse_rating(text) == (rating, deals)


def test_dump_fixture() -> None:
    result = import_dump(FIXTURES / "dream_sample.csv", market="dream")
    assert result.report.rows_read == result.report.rows_kept == 15
    by_title = {x.title: x for x in result.listings}
    assert by_title["100 x Tesla XTC 250mg"].price_eur == 120.0
    assert by_title["28g Girl Scout Cookies"].price_eur == pytest.approx(230 / 1.16)
    assert by_title["Ketamine 5 gram"].ships_from == "GB"
    assert str(by_title["Speed paste 50g, 65%"].observed_at) == "2017-05-01"
    assert by_title["OG Kush 3.5g"].observed_at is None
    assert by_title["MDMA crystal 10g"].ships_to >= {"US", "DE", "NL"}


def test_contract_csv_and_jsonl_fixtures() -> None:
    csv_result = import_contract(FIXTURES / "listings_sample.csv")
    assert csv_result.report.rows_kept == 8
    lsd = next(x for x in csv_result.listings if "LSD" in x.title)
    assert lsd.category is DrugCategory.PSYCHEDELICS
    assert lsd.price_eur == pytest.approx(0.2 * 350.0)
    jsonl = import_contract(FIXTURES / "listings_sample.jsonl")
    pills = jsonl.listings[0]
    assert len(pills.feedback) == 4
    assert [f.destination for f in pills.feedback] == ["DE", "GB", "US", None]
    assert pills.feedback[2].price_eur == 130.0


@pytest.mark.parametrize(
    ("name", "layout"),
    [
        ("agora_sample.csv", Layout.AGORA),
        ("dream_sample.csv", Layout.DUMP),
        ("listings_sample.csv", Layout.CONTRACT),
        ("listings_sample.jsonl", Layout.CONTRACT),
    ],
)
def test_layout_detection(name: str, layout: Layout) -> None:
    assert detect_layout(FIXTURES / name) is layout


def test_agora_importer_survives_broken_rows(tmp_path: Path) -> None:
    path = tmp_path / "broken_agora.csv"
    path.write_bytes(
        AGORA_HEADER
        + b"good,Drugs/Cannabis/Weed,10g Haze,,0.05 BTC,UK,Worldwide,4.9/5,\n"
        + b"badprice,Drugs/Cannabis/Weed,10g Haze,,N/A,UK,Worldwide,4.9/5,\n"
        + b"zero,Drugs/Cannabis/Weed,10g Haze,,0 BTC,UK,Worldwide,4.9/5,\n"
        + b"atlantis,Drugs/Cannabis/Weed,10g Haze,,0.05 BTC,Atlantis,Narnia,4.9/5,\n"
        + b"short,Drugs/Cannabis/Weed,10g Haze\n"
        + b"nul,Drugs/Cannabis/Weed,10g \x00Haze,,0.05 BTC,UK,Worldwide,4.9/5,\n"
        + b",Drugs/Cannabis/Weed,no vendor,,0.05 BTC,UK,Worldwide,4.9/5,\n"
        + b'huge,Drugs/Cannabis/Weed,10g Haze,"'
        + b"x" * 200_000
        + b'",0.05 BTC,UK,Worldwide,4.9/5,\n'
        + b'unclosed,Drugs/Cannabis/Weed,"10g Haze,,0.05 BTC,UK,Worldwide,4.9/5,\n'
    )
    report = import_agora(path).report
    assert report.rows_read == 9
    assert report.rows_kept == 2
    assert report.skipped["price not understood"] == 1
    assert report.skipped["invalid price: Input should be greater than 0"] == 1
    assert (
        report.skipped["wrong number of fields (3 for 9 columns)"] == 2
    )  # the short row, the unclosed quote
    assert report.skipped["bad encoding (not latin-1)"] == 1
    assert report.skipped["invalid vendor: String should have at least 1 character"] == 1
    assert report.skipped["unreadable CSV row (field larger than field limit (131072))"] == 1
    assert sum(report.skipped.values()) == 7
    assert report.unmapped["origin 'Atlantis' (unknown)"] == 1


def test_agora_file_without_a_column(tmp_path: Path) -> None:
    path = tmp_path / "no_price.csv"
    path.write_bytes(b"Vendor, Category, Item\nv,Drugs/Cannabis/Weed,10g Haze\n")
    report = import_agora(path).report
    assert (report.rows_read, report.rows_kept) == (1, 0)
    assert report.skipped == {"missing column 'Item Description'": 1}


def test_contract_importers_survive_broken_rows(tmp_path: Path) -> None:
    csv_path = tmp_path / "broken.csv"
    csv_path.write_bytes(
        b"market,vendor,title,category,price,currency,ships_from,ships_to,observed_at\n"
        b"m,v,10g Haze,cannabis,10,EUR,NL,worldwide,2016-01-01\n"
        b"m,v,10g Haze,cannabis,-3,EUR,NL,worldwide,2016-01-01\n"
        b"m,v,10g Haze,cannabis,ten,EUR,NL,worldwide,2016-01-01\n"
        b"m,v,10g Haze,cannabis,10,XMR,NL,worldwide,2016-01-01\n"
        b"m,v,10g Haze,cannabis,10,EUR,Atlantis,worldwide,2016-01-01\n"
        b"m,v,10g \xff\xfe Haze,cannabis,10,EUR,NL,worldwide,2016-01-01\n"
        b"m,v,10g Haze,cannabis\n"
        b"m,v,10g Haze,cannabis,10,EUR,NL,worldwide,yesterday\n"
    )
    report = import_contract(csv_path).report
    assert (report.rows_read, report.rows_kept) == (8, 2)
    assert report.skipped["bad encoding (not utf-8)"] == 1
    assert report.skipped["currency XMR has no euro rate"] == 1
    assert report.skipped["wrong number of fields (4 for 9 columns)"] == 1
    assert sum(report.skipped.values()) == 6

    jsonl_path = tmp_path / "broken.jsonl"
    jsonl_path.write_bytes(
        b'{"market": "m", "vendor": "v", "title": "10g Haze", "price": 10, "currency": "EUR", "ships_from": "NL"}\n'
        b'{"market": "m", "vendor": "v", "title": "10g \xff Haze", "price": 10, "currency": "EUR"}\n'
        b"not json\n"
        b"[1, 2]\n"
        b'{"market": "m", "vendor": "v", "title": "10g Haze", "currency": "EUR"}\n'
        b'{"market": "m", "vendor": "v", "title": "x", "price": 1, "currency": "EUR", "colour": "red"}\n'
        b'{"market": "m", "vendor": "v", "title": "x", "price": 1, "currency": "EUR", "feedback": [{"rating": 5}]}\n'
    )
    report = import_contract(jsonl_path).report
    assert (report.rows_read, report.rows_kept) == (7, 1)
    assert report.skipped["bad encoding (not UTF-8)"] == 1
    assert report.skipped["not JSON"] == 1
    assert report.skipped["not a JSON object"] == 1
    assert report.skipped["invalid price: Field required"] == 1
    assert report.skipped["invalid colour: Extra inputs are not permitted"] == 1
    assert report.skipped["invalid feedback.0.date: Field required"] == 1


def test_dump_importer_survives_broken_rows(tmp_path: Path) -> None:
    path = tmp_path / "broken_dump.csv"
    path.write_bytes(
        b"Vendor,Name,Price,Origin,Destination,Category,Date\n"
        b"v,10g Haze,12.50 EUR,Germany,EU,Drugs/Cannabis,2017-01-01\n"
        b"v,10g Haze,twelve,Germany,EU,Drugs/Cannabis,2017-01-01\n"
        b"v,10g Haze,12.50 EUR,Mordor,EU,Drugs/Cannabis,not a date\n"
        b"v,10g Haze \xc3\x28,12.50 EUR,Germany,EU,Drugs/Cannabis,2017-01-01\n"
        b"v,10g Haze\n"
    )
    report = import_dump(path).report
    assert (report.rows_read, report.rows_kept) == (5, 2)
    assert report.unmapped["origin 'Mordor' (unknown)"] == 1
    assert set(report.skipped) == {
        "price not understood",
        "bad encoding (not utf-8)",
        "wrong number of fields (2 for 7 columns)",
    }
