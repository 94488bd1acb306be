"""Building blocks of the JSON records: simulated items, S10 ids, declarations and vectorised draws."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from training.simulate.places import EU_COUNTRIES

Record = dict[str, Any]
JSONL_CHUNK = 512
_S10_WEIGHTS = np.array([8, 6, 4, 2, 3, 5, 9, 7], dtype=np.int64)
_S10_POWERS = 10 ** np.arange(7, -1, -1, dtype=np.int64)
_INDICATORS = {
    ("U", "untracked"): "UA",
    ("U", "tracked"): "LA",
    ("U", "registered"): "RR",
    ("U", "insured"): "VV",
    ("C", "insured"): "CV",
}


@dataclass(slots=True)
class SimItem:
    """One simulated item before it gets its S10 id: local posting second, the shipment and its truth."""

    second: int
    shipment: Record
    truth: Record


def jsonl(records: Sequence[Record]) -> bytes:
    """JSON lines of `records`, joined in chunks: orjson hands every result a 4 KB buffer, so a day's worth of
    separate results would take ten times the memory of the text."""
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    chunks = range(0, len(records), JSONL_CHUNK)
    return b"".join(
        [b"".join([dumps(r, option=newline) for r in records[i : i + JSONL_CHUNK]]) for i in chunks]
    )


def service_indicator(mail_class: str, service: str) -> str:
    """The S10 service indicator for a mail class and service (UA letter, RR registered, CP parcel, EE EMS)."""
    if mail_class == "E":
        return "EE"
    return _INDICATORS.get((mail_class, service), "CP" if mail_class == "C" else "UA")


def s10_ids(indicators: Sequence[str], first_serial: int, country: str) -> list[str]:
    """Consecutive S10 ids from `first_serial`, check digits computed for the whole batch at once."""
    serials = (first_serial + np.arange(len(indicators), dtype=np.int64)) % 100_000_000
    digits = (serials[:, None] // _S10_POWERS) % 10
    check = 11 - (digits @ _S10_WEIGHTS) % 11
    check = np.where(check == 10, 0, np.where(check == 11, 5, check))
    return [
        f"{indicator}{serial:08d}{digit}{country}"
        for indicator, serial, digit in zip(indicators, serials.tolist(), check.tolist(), strict=True)
    ]


def needs_declaration(origin: str, destination: str) -> bool:
    """A CN22/CN23 is needed when the item leaves the posting country's customs territory."""
    if origin == destination:
        return False
    return not (origin in EU_COUNTRIES and destination in EU_COUNTRIES)


def content_line(
    description: str, value: float, net_weight_kg: float, hs_code: str | None = None, quantity: int = 1
) -> Record:
    """One CN23 contents line in EUR (weights in kg, at least a gram)."""
    line: Record = {
        "description": description,
        "quantity": quantity,
        "net_weight_kg": max(0.001, round(net_weight_kg, 3)),
        "value": round(value, 2),
        "currency": "EUR",
    }
    if hs_code is not None:
        line["hs_code"] = hs_code
    return line


def declaration(category: str, contents: list[Record], explanation: str | None = None) -> Record:
    """A CN22/CN23 declaration in EUR whose total is the sum of its lines."""
    record: Record = {
        "category": category,
        "contents": contents,
        "declared_value": round(sum(line["value"] for line in contents), 2),
        "currency": "EUR",
    }
    if explanation is not None:
        record["category_explanation"] = explanation
    return record


def pick(rng: np.random.Generator, mix: Mapping[str, float]) -> str:
    """One key of `mix`, drawn with probability proportional to its weight."""
    levels = list(mix)
    bounds = np.cumsum([mix[level] for level in levels])
    return levels[min(int(np.searchsorted(bounds, rng.random() * bounds[-1], side="right")), len(levels) - 1)]


def cumulative(rows: Sequence[dict[str, float]], levels: Sequence[str]) -> np.ndarray:
    """Row-normalised cumulative probabilities of `levels`, one row per condition (empty rows stay empty)."""
    table = np.array([[row.get(level, 0.0) for level in levels] for row in rows], dtype=np.float64)
    totals = table.sum(axis=1, keepdims=True)
    table = np.divide(table, totals, out=np.zeros_like(table), where=totals > 0)
    return np.cumsum(table, axis=1)


def draw(rng: np.random.Generator, cumulative_table: np.ndarray, condition: np.ndarray) -> np.ndarray:
    """One level index per item, drawn from the row of `cumulative_table` that its condition selects."""
    uniforms = rng.random(len(condition))
    last = cumulative_table.shape[1] - 1
    picked: np.ndarray = np.minimum((uniforms[:, None] > cumulative_table[condition]).sum(axis=1), last)
    return picked
