"""Importer for the public Agora dataset layout (latin-1 CSV, BTC prices, free-text places and ratings)."""

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from training.market.importers import ImportReport, ImportResult, import_rows, read_csv_rows
from training.market.listings import ListingRecord
from training.market.normalise import RowSkipped
from training.market.prices import DEFAULT_BTC_EUR, PriceError, parse_price

AGORA_COLUMNS = ("Vendor", "Category", "Item", "Item Description", "Price", "Origin", "Destination", "Rating")
_RATING = re.compile(r"^~?\s*(\d+(?:\.\d+)?)\s*/\s*5")
_DEALS = re.compile(r"\[\s*(\d+)\s+deals?\s*\]", re.IGNORECASE)


def parse_rating(text: str) -> tuple[float | None, int | None]:
    """Agora's rating column as (rating out of 5, completed deals): "4.96/5", "~4.9/5", "[0 deals]"."""
    rating = _RATING.match(text.strip())
    deals = _DEALS.search(text)
    value = float(rating[1]) if rating else None
    return (value if value is not None and value <= 5 else None), (int(deals[1]) if deals else None)


def agora_record(row: Mapping[str, str], observed_at: date | None = None) -> ListingRecord:
    """One Agora row mapped onto the listing contract; raises RowSkipped for a missing column or bad price."""
    missing = [c for c in AGORA_COLUMNS if c not in row]
    if missing:
        raise RowSkipped(f"missing column {missing[0]!r}")
    try:
        price = parse_price(row["Price"])
    except PriceError as exc:
        raise RowSkipped(str(exc)) from exc
    rating, deals = parse_rating(row["Rating"])
    return ListingRecord(
        market="agora",
        vendor=row["Vendor"].strip(),
        title=row["Item"].strip()[:500],
        description=row["Item Description"].strip()[:20_000],
        category=row["Category"].strip()[:300],
        price=price.amount,
        currency=price.currency,
        ships_from=row["Origin"].strip()[:100],
        ships_to=[row["Destination"].strip()[:200]] if row["Destination"].strip() else [],
        rating=rating,
        feedback_count=deals,
        observed_at=observed_at,
    )


def import_agora(
    path: Path, btc_eur: float = DEFAULT_BTC_EUR, observed_at: date | None = None
) -> ImportResult:
    """Listings from a file in the Agora layout; the dataset has no dates, so `observed_at` may supply one."""
    report = ImportReport(str(path), "Agora")
    return import_rows(
        read_csv_rows(path, "latin-1"), lambda r: agora_record(r, observed_at), report, btc_eur
    )
