"""Point-in-time replay: shipments and outcomes in time order through the in-memory history store.

Each item's features see only what was known at its posting time: earlier items, earlier holds, and seizures
whose outcome had been recorded before it was posted. This is the same feature code the service runs.
"""

import heapq
import mmap
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from model.entities import EntityKeys, Pseudonymiser
from model.features import FEATURES, observe, shipment_row
from model.history import InMemoryHistoryStore, link_seizure, record_hold
from model.market_profile import MarketProfile
from model.shipment import Outcome, Shipment
from training.files import InputFileError, read_outcomes

CHUNK_ROWS = 50_000
TRAINING_SECRET = (
    b"parcel-radar-training-replay-key"  # history keys only need to be consistent within one replay
)


@dataclass
class Dataset:
    """Features and labels of every item, in time order, plus what evaluation breaks results down by."""

    features: npt.NDArray[np.float64]
    posted_at: npt.NDArray[np.float64]
    item_ids: list[str]
    inspected: npt.NDArray[np.bool_]
    found: npt.NDArray[np.bool_]
    selection_probability: npt.NDArray[np.float64]
    destination: npt.NDArray[np.str_]
    mail_class: npt.NDArray[np.str_]

    def __len__(self) -> int:
        return len(self.item_ids)

    def subset(self, mask: npt.NDArray[np.bool_]) -> "Dataset":
        index = np.flatnonzero(mask)
        return Dataset(
            features=self.features[index],
            posted_at=self.posted_at[index],
            item_ids=[self.item_ids[i] for i in index],
            inspected=self.inspected[index],
            found=self.found[index],
            selection_probability=self.selection_probability[index],
            destination=self.destination[index],
            mail_class=self.mail_class[index],
        )


@dataclass
class _Builder:
    chunks: list[npt.NDArray[np.float64]] = field(default_factory=list)
    rows: list[list[float]] = field(default_factory=list)
    posted_at: list[float] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)
    inspected: list[bool] = field(default_factory=list)
    found: list[bool] = field(default_factory=list)
    propensity: list[float] = field(default_factory=list)
    destination: list[str] = field(default_factory=list)
    mail_class: list[str] = field(default_factory=list)

    def add(self, shipment: Shipment, row: list[float], outcome: Outcome | None) -> None:
        self.rows.append(row)
        if len(self.rows) == CHUNK_ROWS:
            self.chunks.append(np.asarray(self.rows, dtype=np.float64))
            self.rows = []
        self.posted_at.append(shipment.posting.posted_at.timestamp())
        self.item_ids.append(shipment.item_id)
        self.inspected.append(outcome is not None)
        self.found.append(outcome is not None and outcome.found_drugs)
        probability = outcome.selection_probability if outcome else None
        self.propensity.append(np.nan if probability is None else probability)
        self.destination.append(shipment.addressee.country)
        self.mail_class.append(shipment.mail_class.value)

    def build(self) -> Dataset:
        if self.rows:
            self.chunks.append(np.asarray(self.rows, dtype=np.float64))
        features = np.concatenate(self.chunks) if self.chunks else np.zeros((0, len(FEATURES)))
        return Dataset(
            features=features,
            posted_at=np.asarray(self.posted_at, dtype=np.float64),
            item_ids=self.item_ids,
            inspected=np.asarray(self.inspected, dtype=np.bool_),
            found=np.asarray(self.found, dtype=np.bool_),
            selection_probability=np.asarray(self.propensity, dtype=np.float64),
            destination=np.asarray(self.destination, dtype=np.str_),
            mail_class=np.asarray(self.mail_class, dtype=np.str_),
        )


_POSTED_AT = re.compile(rb'"posted_at"\s*:\s*"([^"]+)"')


def _posted_at(line: bytes) -> float:
    """The posting time, read without parsing the whole line (validation happens in the replay itself)."""
    match = _POSTED_AT.search(line)
    if match is None:
        raise ValueError("no posted_at")
    return datetime.fromisoformat(match.group(1).decode()).timestamp()


def time_ordered_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of a JSONL file by posting time; files already in order are simply streamed."""
    index: list[tuple[float, int, int, int]] = []
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        offset, number = 0, 0
        while offset < len(data):
            end = data.find(b"\n", offset)
            end = len(data) if end < 0 else end
            number += 1
            line = data[offset:end]
            if line.strip():
                try:
                    index.append((_posted_at(line), number, offset, end))
                except ValueError as exc:
                    raise InputFileError(f"{path}:{number}: no readable posting.posted_at") from exc
            offset = end + 1
        ordered = sorted(index, key=lambda entry: (entry[0], entry[1]))
        for _, number, start, end in ordered:
            yield number, data[start:end]


def replay(
    shipments_path: Path,
    outcomes_path: Path | None,
    profile: MarketProfile,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> Dataset:
    """Features of every shipment as of its posting time, with outcome labels where an inspection happened."""
    outcomes = read_outcomes(outcomes_path) if outcomes_path else {}
    pseudonymiser = Pseudonymiser(TRAINING_SECRET)
    states = InMemoryHistoryStore().states
    pending: list[tuple[float, int, EntityKeys]] = []  # seizures, by the time they became known
    builder = _Builder()
    for count, (number, line) in enumerate(time_ordered_lines(shipments_path), start=1):
        try:
            shipment = Shipment.model_validate_json(line)
        except ValidationError as exc:
            raise InputFileError(f"{shipments_path}:{number}: not a valid shipment: {exc}") from exc
        now = shipment.posting.posted_at.timestamp()
        while pending and pending[0][0] <= now:
            known_at, _, seized_keys = heapq.heappop(pending)
            link_seizure(states, (key for _, key in seized_keys.items()), known_at)
        keys = pseudonymiser.keys_for(shipment)
        row = shipment_row(shipment, profile) + observe(states, keys, shipment)
        outcome = outcomes.get((shipment.item_id, shipment.posting.posted_at.date())) or outcomes.get(
            (shipment.item_id, None)
        )
        if outcome is not None:
            record_hold(states, (key for _, key in keys.items()))
            if outcome.found_drugs:
                heapq.heappush(pending, (outcome.inspected_at.timestamp(), count, keys))
        builder.add(shipment, row, outcome)
        if on_progress is not None and count % 10_000 == 0:
            on_progress(count)
    return builder.build()
