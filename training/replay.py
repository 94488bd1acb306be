"""Point-in-time replay: shipments and outcomes in time order through the in-memory history store.

Each item's features see only what was known at its posting time: earlier items, earlier holds, and seizures
whose outcome had been recorded (`Outcome.known_at`) before it was posted. A case's records apply in the order
they were recorded, as in the service: a record that makes the case a drug finding links the seizure, one that
takes the finding away (a correction, a lab result) unlinks it. This is the same feature code the service runs.
"""

import gc
import heapq
import itertools
import mmap
import multiprocessing
import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date, datetime
from pathlib import Path

from pydantic import ValidationError

from model.entities import EntityKeys, Pseudonymiser, seizure_targets
from model.features import observe_at, shipment_matrix
from model.history import EntityState, InMemoryHistoryStore, link_seizure, record_hold, unlink_seizure
from model.market_profile import MarketProfile
from model.shipment import Outcome, Shipment
from training.dataset import Dataset, DatasetBuilder, PreparedChunk
from training.files import InputFileError, read_outcomes
from training.runtime import cycle_collector_paused

PREPARE_CHUNK = 2_000
PROGRESS_EVERY = 50_000
TRAINING_SECRET = (
    b"parcel-radar-training-replay-key"  # history keys only need to be consistent within one replay
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


_WORKER: list[tuple[MarketProfile, Pseudonymiser]] = []  # what a preparing process was started with


def _start_worker(profile: MarketProfile) -> None:
    _WORKER[:] = [(profile, Pseudonymiser(TRAINING_SECRET))]


def _start_worker_process(profile: MarketProfile) -> None:
    gc.disable()  # a preparing process only makes short-lived records without cycles (see cycle_collector_paused)
    _start_worker(profile)


def prepare_chunk(path: Path, chunk: list[tuple[int, bytes]]) -> PreparedChunk:
    """Validate lines against the shipment contract and compute what does not depend on history."""
    profile, pseudonymiser = _WORKER[0]
    shipments = []
    for number, line in chunk:
        try:
            shipments.append(Shipment.model_validate_json(line))
        except ValidationError as exc:
            raise InputFileError(f"{path}:{number}: not a valid shipment: {exc}") from exc
    posted = [shipment.posting.posted_at for shipment in shipments]
    corridors = [shipment.corridor for shipment in shipments]
    return PreparedChunk(
        item_ids=[shipment.item_id for shipment in shipments],
        posted_on=[moment.date() for moment in posted],
        posted_at=[moment.timestamp() for moment in posted],
        origins=[origin for origin, _ in corridors],
        destinations=[destination for _, destination in corridors],
        mail_classes=[shipment.mail_class.value for shipment in shipments],
        keys=[pseudonymiser.keys_for(shipment) for shipment in shipments],
        static=shipment_matrix(shipments, profile),
    )


def _chunks(lines: Iterator[tuple[int, bytes]]) -> Iterator[list[tuple[int, bytes]]]:
    while chunk := list(itertools.islice(lines, PREPARE_CHUNK)):
        yield chunk


def prepared_chunks(path: Path, profile: MarketProfile, workers: int) -> Iterator[PreparedChunk]:
    """The shipments of `path` in time order, in chunks prepared in `workers` processes (in this one when 1)."""
    chunks = _chunks(time_ordered_lines(path))
    if workers <= 1:
        _start_worker(profile)
        for chunk in chunks:
            yield prepare_chunk(path, chunk)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker_process, initargs=(profile,)
    ) as pool:
        in_flight: deque[Future[PreparedChunk]] = deque()
        for chunk in chunks:  # a bounded window of chunks in flight keeps memory flat
            in_flight.append(pool.submit(prepare_chunk, path, chunk))
            if len(in_flight) > 2 * workers:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()


def replay(
    shipments_path: Path,
    outcomes_path: Path | None,
    profile: MarketProfile,
    *,
    workers: int = 1,
    on_progress: Callable[[int], None] | None = None,
) -> Dataset:
    """Features of every shipment as of its posting time, with outcome labels where an inspection happened.

    Validation and history-free features run in `workers` processes; history is replayed here, in order.
    """
    outcomes = read_outcomes(outcomes_path) if outcomes_path else {}
    builder = DatasetBuilder()
    with cycle_collector_paused():
        _replay_chunks(prepared_chunks(shipments_path, profile, workers), outcomes, builder, on_progress)
    return builder.build()


SeizureChange = tuple[float, int, EntityKeys, bool]  # (known at, order, the item's keys, linked or unlinked)


def seizure_changes(records: list[Outcome], order: int, keys: EntityKeys) -> list[SeizureChange]:
    """The moments a case's records (oldest first) turn it into a drug finding or take the finding away."""
    changes, found = [], False
    for record in records:
        if record.found_drugs != found:
            found = record.found_drugs
            changes.append((record.known_at.timestamp(), order, keys, found))
    return changes


def apply_seizure_change(states: dict[str, EntityState], change: SeizureChange) -> None:
    """Link (or unlink) a seizure to the seized item's keys and the buyers its sender reached."""
    known_at, _, keys, linked = change
    targets = seizure_targets((key for _, key in keys.items()), states)
    if linked:
        link_seizure(states, targets, known_at)
    else:
        unlink_seizure(states, targets)


def _replay_chunks(
    chunks: Iterator[PreparedChunk],
    outcomes: dict[tuple[str, date | None], list[Outcome]],
    builder: DatasetBuilder,
    on_progress: Callable[[int], None] | None,
) -> None:
    """Observe every item of `chunks` in order, applying holds and seizures as they become known."""
    states = InMemoryHistoryStore().states
    pending: list[SeizureChange] = []  # seizures linked and unlinked, by the time they became known
    count = 0
    for chunk in chunks:
        history: list[list[float]] = []
        chunk_outcomes: list[Outcome | None] = []
        for item_id, posted_on, posted_at, origin, destination, keys in zip(
            chunk.item_ids, chunk.posted_on, chunk.posted_at, chunk.origins, chunk.destinations, chunk.keys,
            strict=True,
        ):  # fmt: skip
            count += 1
            while pending and pending[0][0] <= posted_at:
                apply_seizure_change(states, heapq.heappop(pending))
            history.append(observe_at(states, keys, posted_at, origin, destination))
            records = outcomes.get((item_id, posted_on)) or outcomes.get((item_id, None))
            if records:
                record_hold(states, (key for _, key in keys.items()))
                for change in seizure_changes(records, count, keys):
                    heapq.heappush(pending, change)
            chunk_outcomes.append(records[-1] if records else None)
        builder.add(chunk, history, chunk_outcomes)
        if on_progress is not None and count % PROGRESS_EVERY < len(chunk.item_ids):
            on_progress(count)
