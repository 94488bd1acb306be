"""Streaming the run to JSONL: shipments and truth in posting order, outcomes in order of inspection."""

import heapq
from pathlib import Path
from types import TracebackType
from typing import IO

SHIPMENTS_FILE = "shipments.jsonl"
OUTCOMES_FILE = "outcomes.jsonl"
TRUTH_FILE = "truth.jsonl"
SUMMARY_FILE = "summary.json"


class RunWriter:
    """Writes one day at a time; outcomes wait in a heap until no earlier inspection can still come."""

    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self._shipments: IO[bytes] = (out_dir / SHIPMENTS_FILE).open("wb")
        self._truth: IO[bytes] = (out_dir / TRUTH_FILE).open("wb")
        self._outcomes: IO[bytes] = (out_dir / OUTCOMES_FILE).open("wb")
        self._pending: list[tuple[float, str, bytes]] = []

    def __enter__(self) -> "RunWriter":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def write_day(self, shipments: bytes, truth: bytes, outcomes: list[tuple[float, str, bytes]]) -> None:
        """Append a day's shipment and truth lines; hold its outcome lines (inspected_at, item_id, line)."""
        self._shipments.write(shipments)
        self._truth.write(truth)
        for outcome in outcomes:
            heapq.heappush(self._pending, outcome)

    def flush_outcomes(self, before: float) -> None:
        """Write the outcomes inspected before `before` (epoch seconds), earliest first."""
        while self._pending and self._pending[0][0] < before:
            self._outcomes.write(heapq.heappop(self._pending)[2])

    def close(self) -> None:
        """Write every outcome still held and close the files."""
        self.flush_outcomes(float("inf"))
        for stream in (self._shipments, self._truth, self._outcomes):
            stream.close()
