"""Reading the training inputs: shipments and outcomes JSONL in the API's contracts, validated line by line."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import orjson
from pydantic import ValidationError

from model.shipment import Outcome, Shipment


class InputFileError(Exception):
    """A training input has a line that does not meet its contract; the message names file and line."""


@dataclass(frozen=True)
class Located:
    line: int
    shipment: Shipment


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def read_shipments(path: Path) -> Iterator[Located]:
    """Every shipment of a JSONL file in file order; a line that breaks the contract stops the read."""
    for number, line in _lines(path):
        try:
            yield Located(number, Shipment.model_validate_json(line))
        except ValidationError as exc:
            raise InputFileError(f"{path}:{number}: not a valid shipment: {exc}") from exc


def read_outcomes(path: Path) -> dict[tuple[str, date | None], list[Outcome]]:
    """Each item's outcome records keyed by (item_id, posted_on), in the order they became known
    (`known_at`, then file order): the last one is the item's current outcome, earlier ones were superseded."""
    outcomes: dict[tuple[str, date | None], list[Outcome]] = {}
    for number, line in _lines(path):
        try:
            outcome = Outcome.model_validate_json(line)
        except ValidationError as exc:
            raise InputFileError(f"{path}:{number}: not a valid outcome: {exc}") from exc
        outcomes.setdefault((outcome.item_id, outcome.posted_on), []).append(outcome)
    for records in outcomes.values():
        records.sort(key=lambda record: record.known_at)  # stable: ties keep file order
    return outcomes


def read_jsonl(path: Path) -> Iterator[dict[str, object]]:
    """Plain JSON objects, one per line (the simulator's ground-truth file)."""
    for number, line in _lines(path):
        document = orjson.loads(line)
        if not isinstance(document, dict):
            raise InputFileError(f"{path}:{number}: expected a JSON object")
        yield document
