"""What the feature log costs a batch: 1,000 assessment-like rows inserted with and without the vectors.

Pairs of inserts alternate (without, with), so both sides see the same machine load; the medians and their
difference are printed per database. The vectors are encoded as the service does (float64 little-endian
bytes); a JSON list of floats, the obvious alternative, is timed too.

    python -m bench.feature_log --pairs 30 [--pg postgresql://127.0.0.1:5432/test]
"""

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import JSON, Column, Float, LargeBinary, MetaData, String, Table, create_engine, insert

from model.features import FEATURE_NAMES

ROWS = 1_000
KEYS = 11  # the pseudonymous entity keys an assessment carries


def _vectors() -> list[list[float]]:
    matrix = np.random.default_rng(0).random((ROWS, len(FEATURE_NAMES)))
    matrix[:, ::7] = np.nan  # missing values, as many features have
    rows: list[list[float]] = matrix.tolist()
    return rows


def _bytes(rows: list[list[float]]) -> list[Any]:
    return [np.asarray(row, "<f8").tobytes() for row in rows]


def _json(rows: list[list[float]]) -> list[Any]:
    return [[None if value != value else value for value in row] for row in rows]


def _timed_inserts(
    url: str, kind: Any, encode: Callable[[list[list[float]]], list[Any]], pairs: int
) -> tuple[float, float]:
    """Median seconds of a 1,000-row insert without and with the feature column filled."""
    metadata = MetaData()
    table = Table(f"feature_log_bench_{uuid.uuid4().hex[:8]}", metadata, Column("id", String(40), primary_key=True),
                  Column("shipment", JSON), *(Column(f"key_{i}", String(40)) for i in range(KEYS)),
                  Column("score", Float), Column("features", kind))  # fmt: skip
    engine = create_engine(url)
    metadata.create_all(engine)
    rows, times = _vectors(), {False: list[float](), True: list[float]()}
    try:
        for pair in range(pairs):
            for logged in (False, True):
                started = time.perf_counter()
                features = encode(rows) if logged else [None] * ROWS
                batch = [{"id": f"{pair}-{logged}-{i}", "shipment": {"item": i, "contents": "x" * 400},
                          **{f"key_{k}": "k" * 40 for k in range(KEYS)}, "score": 0.1, "features": vector}
                         for i, vector in enumerate(features)]  # fmt: skip
                with engine.begin() as connection:
                    connection.execute(insert(table), batch)
                times[logged].append(time.perf_counter() - started)
    finally:
        metadata.drop_all(engine)
        engine.dispose()
    return statistics.median(times[False]), statistics.median(times[True])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--pg", default="postgresql+psycopg://127.0.0.1:5432/test")
    arguments = parser.parse_args()
    rows, started = _vectors(), time.perf_counter()
    for _ in range(20):
        _bytes(rows)
    encoding = (time.perf_counter() - started) / 20
    print(
        f"encoding {ROWS:,} vectors of {len(FEATURE_NAMES)} features as float64 bytes: {encoding * 1000:.1f} ms"
    )
    with tempfile.TemporaryDirectory() as directory:
        urls = {"SQLite": f"sqlite:///{Path(directory) / 'bench.db'}", "PostgreSQL": arguments.pg}
        for name, url in urls.items():
            for label, kind, encode in (("float64 bytes", LargeBinary, _bytes), ("JSON list", JSON, _json)):
                without, with_log = _timed_inserts(url, kind, encode, arguments.pairs)
                print(f"{name}, {label}: {ROWS:,}-row insert {without * 1000:.1f} ms without, "
                      f"{with_log * 1000:.1f} ms with the vectors (+{(with_log - without) * 1000:.1f} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
