"""Import machinery shared by every layout, the import report, and the project's own contract (CSV, JSONL)."""

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import orjson
from pydantic import ValidationError

from training.market.listings import Listing, ListingRecord
from training.market.normalise import Normalised, RowSkipped, normalise
from training.market.prices import DEFAULT_BTC_EUR

Row = dict[str, str]
RowT = TypeVar("RowT", Row, Mapping[str, object])
_BAD_BYTES = re.compile(r"[\udc80-\udcff\x00]")


@dataclass
class ImportReport:
    """Rows read, kept and skipped (with reasons), and how much of the kept rows normalisation understood."""

    source: str
    layout: str
    rows_read: int = 0
    rows_kept: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    drug_rows: int = 0
    drug_rows_categorised: int = 0
    origins_mapped: int = 0
    destinations_mapped: int = 0
    quantities_parsed: int = 0
    unmapped: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        """Count one row left out."""
        self.skipped[reason] += 1

    def keep(self, row: Normalised) -> None:
        """Count one kept row and what its normalisation understood."""
        self.rows_kept += 1
        if row.drug_row:
            self.drug_rows += 1
            self.drug_rows_categorised += row.classification.matched
            if not row.classification.matched:
                self.unmapped[f"category {row.category_text!r}"] += 1
        self.origins_mapped += row.origin.mapped
        if not row.origin.mapped:
            self.unmapped[f"origin {row.origin_text!r} ({row.origin.kind})"] += 1
        self.destinations_mapped += row.destinations.mapped
        self.quantities_parsed += row.listing.quantity is not None

    def share(self, count: int, of: int | None = None) -> float:
        """`count` as a share of kept rows (or of `of`), 0 when there is nothing to divide by."""
        total = self.rows_kept if of is None else of
        return count / total if total else 0.0

    def summary(self) -> list[str]:
        """The report as plain lines for the CLI and the logs."""
        lines = [
            f"{self.layout} import of {self.source}: {self.rows_read} rows read, {self.rows_kept} kept, "
            f"{sum(self.skipped.values())} skipped",
            f"drug rows categorised: {self.drug_rows_categorised}/{self.drug_rows} "
            f"({self.share(self.drug_rows_categorised, self.drug_rows):.1%})",
            f"origins mapped to a country or region: {self.share(self.origins_mapped):.1%}",
            f"destinations mapped: {self.share(self.destinations_mapped):.1%}",
            f"quantities parsed from titles: {self.share(self.quantities_parsed):.1%}",
        ]
        lines += [f"skipped {n}: {reason}" for reason, n in self.skipped.most_common()]
        lines += [f"not mapped {n}: {what}" for what, n in self.unmapped.most_common(20)]
        return lines


@dataclass(frozen=True)
class ImportResult:
    """The listings an import kept, and its report."""

    listings: list[Listing]
    report: ImportReport


def read_csv_rows(path: Path, encoding: str) -> Iterator[Row | str]:
    """Rows of a CSV file as header-keyed dicts (headers stripped), or a skip reason for a broken row."""
    text = path.read_bytes().decode(encoding, errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(reader, [])]
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield f"unreadable CSV row ({exc})"
            continue
        if not any(c.strip() for c in cells):
            continue
        if any(_BAD_BYTES.search(c) for c in cells):
            yield f"bad encoding (not {encoding})"
        elif len(cells) != len(header):
            yield f"wrong number of fields ({len(cells)} for {len(header)} columns)"
        else:
            yield dict(zip(header, cells, strict=True))


def read_jsonl_rows(path: Path) -> Iterator[Mapping[str, object] | str]:
    """Objects of a JSONL file, or a skip reason for a line that is not UTF-8 JSON holding an object."""
    with path.open("rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                document = orjson.loads(line.decode("utf-8"))
            except UnicodeDecodeError:
                yield "bad encoding (not UTF-8)"
                continue
            except orjson.JSONDecodeError:
                yield "not JSON"
                continue
            yield document if isinstance(document, dict) else "not a JSON object"


def validation_reason(exc: ValidationError) -> str:
    """The first validation error as a short reason, without the offending value."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "row"
    return f"invalid {where}: {error['msg']}"


def import_rows(
    rows: Iterable[RowT | str],
    to_record: Callable[[RowT], ListingRecord],
    report: ImportReport,
    btc_eur: float = DEFAULT_BTC_EUR,
) -> ImportResult:
    """Map each row onto the contract and normalise it, counting every row kept or skipped."""
    listings: list[Listing] = []
    for row in rows:
        report.rows_read += 1
        if isinstance(row, str):
            report.skip(row)
            continue
        try:
            normalised = normalise(to_record(row), btc_eur)
        except RowSkipped as exc:
            report.skip(str(exc))
            continue
        except ValidationError as exc:
            report.skip(validation_reason(exc))
            continue
        report.keep(normalised)
        listings.append(normalised.listing)
    return ImportResult(listings, report)


def _contract_record(row: Mapping[str, object]) -> ListingRecord:
    return ListingRecord.model_validate({k: v for k, v in row.items() if v not in ("", None)})


def import_contract(path: Path, btc_eur: float = DEFAULT_BTC_EUR) -> ImportResult:
    """Listings in the project's contract: JSONL (`.jsonl`, feedback records allowed) or CSV (UTF-8)."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        report = ImportReport(str(path), "contract JSONL")
        return import_rows(read_jsonl_rows(path), _contract_record, report, btc_eur)
    report = ImportReport(str(path), "contract CSV")
    return import_rows(read_csv_rows(path, "utf-8"), _contract_record, report, btc_eur)
