"""Which importer reads a listing file: the layout named, or the one its header shows."""

from enum import StrEnum
from pathlib import Path

from training.market.agora import import_agora
from training.market.dumps import import_dump
from training.market.importers import ImportResult, import_contract
from training.market.prices import DEFAULT_BTC_EUR


class Layout(StrEnum):
    """Listing file layouts the importers read."""

    CONTRACT = "contract"
    AGORA = "agora"
    DUMP = "dump"


def detect_layout(path: Path) -> Layout:
    """Agora by its "Item Description" column, a dump by ship_from/ship_to without a currency, else the contract."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return Layout.CONTRACT
    with path.open("rb") as handle:
        header = handle.readline().decode("latin-1").lower()
    columns = {name.strip() for name in header.split(",")}
    if "item description" in columns:
        return Layout.AGORA
    if columns & {"ship_from", "ship_to"} and "currency" not in columns:
        return Layout.DUMP
    return Layout.CONTRACT


def import_listings(
    path: Path, layout: Layout | None = None, btc_eur: float = DEFAULT_BTC_EUR, market: str = "dump"
) -> ImportResult:
    """Listings of a file in `layout` (detected from the file when None), with the import report."""
    chosen = layout or detect_layout(path)
    if chosen is Layout.AGORA:
        return import_agora(path, btc_eur)
    if chosen is Layout.DUMP:
        return import_dump(path, market, btc_eur)
    return import_contract(path, btc_eur)
