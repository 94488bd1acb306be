"""Importer for Hansa/Valhalla/Dream-style dumps: vendor, title, "12.50 EUR" prices, ship_from, ship_to."""

from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

from training.market.importers import ImportReport, ImportResult, import_rows, read_csv_rows
from training.market.listings import ListingRecord
from training.market.normalise import RowSkipped
from training.market.prices import DEFAULT_BTC_EUR, PriceError, parse_price

# Column names seen across scrapes of these markets, lower-case; the first name is the canonical one.
DUMP_COLUMNS: dict[str, tuple[str, ...]] = {
    "vendor": ("vendor", "vendor_name", "seller"),
    "title": ("title", "name", "product", "listing"),
    "price": ("price",),
    "ship_from": ("ship_from", "ships_from", "origin", "shipping_from"),
    "ship_to": ("ship_to", "ships_to", "destination", "shipping_to"),
    "category": ("category", "cat"),
}
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "date", "scraped_at", "time"),
    "market": ("market", "site"),
}


def _field(row: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    lowered = {key.lower(): value for key, value in row.items()}
    return next((lowered[name] for name in names if name in lowered), None)


def parse_timestamp(text: str) -> date | None:
    """A scrape time as ISO date/date-time or Unix seconds; None when it is neither."""
    cleaned = text.strip()
    try:
        if cleaned.isdigit():
            return datetime.fromtimestamp(int(cleaned), tz=UTC).date()
        return datetime.fromisoformat(cleaned.replace("Z", "+00:00")).date()
    except (ValueError, OverflowError, OSError):
        return None


def dump_record(row: Mapping[str, str], market: str) -> ListingRecord:
    """One dump row mapped onto the listing contract; raises RowSkipped for a missing column or bad price."""
    values: dict[str, str] = {}
    for canonical, names in DUMP_COLUMNS.items():
        found = _field(row, names)
        if found is None:
            raise RowSkipped(f"missing column {canonical!r}")
        values[canonical] = found.strip()
    try:
        price = parse_price(values["price"])
    except PriceError as exc:
        raise RowSkipped(str(exc)) from exc
    stamp = _field(row, OPTIONAL_COLUMNS["timestamp"])
    return ListingRecord(
        market=(_field(row, OPTIONAL_COLUMNS["market"]) or market).strip() or market,
        vendor=values["vendor"],
        title=values["title"][:500],
        category=values["category"][:300],
        price=price.amount,
        currency=price.currency,
        ships_from=values["ship_from"][:100],
        ships_to=[values["ship_to"][:200]] if values["ship_to"] else [],
        observed_at=parse_timestamp(stamp) if stamp else None,
    )


def import_dump(path: Path, market: str = "dump", btc_eur: float = DEFAULT_BTC_EUR) -> ImportResult:
    """Listings from a UTF-8 CSV dump in the Hansa/Valhalla/Dream layout."""
    report = ImportReport(str(path), "dump")
    return import_rows(read_csv_rows(path, "utf-8"), lambda r: dump_record(r, market), report, btc_eur)
