"""Performance figures side by side in one run, on the same simulated items: the model's own speed, the bare
in-process path, batches over HTTP on SQLite and PostgreSQL, single items at fixed offered rates, worker
processes, and the server's peak memory, as a table with each figure's ratio to the bare path. Under each HTTP
pass, what bounds it (bench/bounds.py): the machine's busy cores by who used them (server, PostgreSQL, this
client, other), CPU per item with the most items/s the cores allow at that cost, and on PostgreSQL how the
server's backends spent the pass (holding row locks, waiting on a lock and on which kind of row, before their
first write); with one batch in flight, the most that any concurrency gives if all batches share a locked row;
for workers, the most that the cores allow N workers at the first count's CPU.

Parts (--only, repeatable; default all): predict, bare, http-sqlite, http-pg, single, workers.

Usage: python -m bench.perf [--only PART] [--batches N] [--batch-items N] [--rates 50,200,400,800]
                            [--seconds S] [--workers 1,2] [--single-pg] [--single-workers N] [--model DIR]
                            [--server-python PATH]
"""

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import orjson
from pydantic import TypeAdapter

from bench.assess import Server, batch_bodies, database, run_pass, serving
from bench.bounds import Usage, watch
from bench.openloop import Step, closed_loop, open_loop, request_bytes
from model.artifact import ModelArtifact
from model.entities import Pseudonymiser
from model.features import FeatureMatrix, feature_matrix
from model.history import EntityState
from model.shipment import Shipment

PARTS = ("predict", "bare", "http-sqlite", "http-pg", "single", "workers")
SATURATION_CONCURRENCY = 32


@dataclass
class Table:
    """Rows of (figure, value, unit, ratio to the bare path or note), printed as they come and at the end."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)
    bare_items_per_s: float | None = None

    def add(self, figure: str, value: str, note: str = "") -> None:
        self.rows.append((figure, value, note))
        print(f"  {figure}: {value} {note}", flush=True)

    def items_per_s(self, figure: str, rate: float, note: str = "") -> None:
        ratio = f"= {rate / self.bare_items_per_s:.2f} of bare" if self.bare_items_per_s else ""
        self.add(figure, f"{rate:,.0f} items/s", " ".join(part for part in (ratio, note) if part))

    def print(self) -> None:
        width = max(len(row[0]) for row in self.rows)
        print(f"\n| {'figure':<{width}} | value | ratio / note |\n|{'-' * (width + 2)}|---|---|")
        for figure, value, note in self.rows:
            print(f"| {figure:<{width}} | {value} | {note} |")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def parsed_bodies(bodies: list[bytes]) -> list[list[Any]]:
    return [orjson.loads(body)["items"] for body in bodies]


def bare_path(bodies: list[bytes], artifact: ModelArtifact) -> tuple[float, list[FeatureMatrix]]:
    """Items/s of validate JSON, pseudonymise, features with in-memory history and predict, per batch."""
    shipment = TypeAdapter(Shipment)
    pseudonymiser = Pseudonymiser(b"bench-secret-" * 4)
    states: dict[str, EntityState] = {}
    matrices, items = [], 0
    began, cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        raw_items = orjson.loads(body)["items"]
        shipments = [shipment.validate_json(orjson.dumps(raw), strict=True) for raw in raw_items]
        keys = [pseudonymiser.keys_for(s) for s in shipments]
        features = feature_matrix(shipments, keys, states, artifact.profile)
        artifact.calibration.apply(artifact.raw_scores(features))
        matrices.append(features)
        items += len(shipments)
    print(f"  bare path CPU {(time.process_time() - cpu) * 1000 / items:.3f} ms/item", flush=True)
    return items / (time.perf_counter() - began), matrices


def predict_rate(artifact: ModelArtifact, matrices: list[FeatureMatrix]) -> float:
    """Rows/s of the booster alone, as the service calls it (raw scores, one thread, a batch at a time)."""
    best = 0.0
    for _ in range(3):
        began = time.perf_counter()
        for features in matrices:
            artifact.raw_scores(features)
        best = max(best, sum(len(m) for m in matrices) / (time.perf_counter() - began))
    return best


SERVER_PYTHON = [sys.executable]  # --server-python replaces it
SERVER_SETTINGS: dict[str, str] = {}  # settings the servers start with besides production's (--pin-cores)


@contextmanager
def server_on(use_pg: bool, out: Path, model: Path, workers: int = 1) -> Iterator[Server]:
    tag = f"{'pg' if use_pg else 'sqlite'}-{workers}"
    (out / tag).mkdir(parents=True, exist_ok=True)
    with (
        database(use_pg, out / tag) as url,
        serving(
            model, url, out / f"{tag}.log", SERVER_SETTINGS, workers=workers, python=SERVER_PYTHON[0]
        ) as server,
    ):
        yield server


def bounds(table: Table, usage: Usage, count: int, unit: str = "item") -> None:
    """The rows under a pass saying what bounds it: busy cores and CPU per item, and PostgreSQL's backends."""
    table.add("  cores, CPU per item", *usage.line(count, unit))
    if usage.backends is not None:
        table.add("  PostgreSQL backends", *usage.backends.line())


def http_batches(table: Table, server: Server, bodies: list[bytes], batch_items: int, label: str) -> None:
    for concurrency in (1, 4):
        token = server.partner_key()
        with watch(server) as watched:
            result = run_pass(server, bodies, concurrency, batch_items, token)
        p99 = float(np.percentile(result.latencies, 99))
        table.items_per_s(
            f"HTTP {label}, {batch_items:,}-item batches, {concurrency} in flight",
            result.items / result.seconds,
            f"(batch p99 {p99:.2f} s)",
        )
        bounds(table, watched.usage, result.items)
        if concurrency == 1 and (backends := watched.usage.backends) is not None and backends.holding_mean:
            serial = backends.holding_mean
            table.add(
                "  if all batches share a locked row",
                f"at most {result.items / result.seconds / serial:,.0f} items/s = {1 / serial:.2f}x this",
                f"(a lone batch holds its history row locks {serial:.0%} of its time; nothing overlaps that)",
            )


def single_items(
    table: Table, server: Server, items: list[Any], rates: list[float], seconds: float, label: str
) -> None:
    """Open-loop steps at each offered rate (stopping once saturated), then a closed-loop saturation run."""
    address = urlsplit(server.url)
    host, port = address.hostname or "127.0.0.1", address.port or 80

    def requests(count: int) -> list[bytes]:
        token = server.partner_key()  # a fresh partner per step: every item is scored, none replayed
        if count > len(items):
            raise SystemExit(f"{count} single items wanted, {len(items)} simulated; raise --batches")
        return [request_bytes("/v1/assessments", token, orjson.dumps({"items": [i]})) for i in items[:count]]

    for rate in rates:
        batch = requests(int(rate * seconds))
        with watch(server) as watched:
            step = open_loop(host, port, batch, rate)
        table.add(
            f"single items {label}, offered {rate:,.0f}/s",
            f"p50 {step.percentile_ms(50):.1f} ms, p99 {step.percentile_ms(99):.1f} ms",
            f"achieved {step.achieved:,.0f}/s, {step.failures}",
        )
        bounds(table, watched.usage, len(batch), "request")
        if step.achieved < 0.9 * rate:
            break
    batch = requests(int(max(rates) * seconds))
    with watch(server) as watched:
        flood: Step = closed_loop(host, port, batch, SATURATION_CONCURRENCY)
    table.add(
        f"single items {label}, saturation ({SATURATION_CONCURRENCY} in flight)",
        f"{flood.achieved:,.0f} requests/s",
        f"p99 {flood.percentile_ms(99):.1f} ms, {flood.failures}",
    )
    bounds(table, watched.usage, len(batch), "request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=PARTS, help="run only these parts")
    parser.add_argument("--model", type=Path, default=Path("models/default"))
    parser.add_argument("--batches", type=int, default=12, help="batches per HTTP pass (and the item pool)")
    parser.add_argument("--batch-items", type=int, default=1000)
    parser.add_argument("--rates", default="50,200,400,800", help="offered single-item rates, per second")
    parser.add_argument("--seconds", type=float, default=5, help="seconds per single-item rate")
    parser.add_argument("--workers", default="1,2", help="worker process counts for the workers part")
    parser.add_argument("--single-pg", action="store_true", help="single items on PostgreSQL, not SQLite")
    parser.add_argument(
        "--single-workers",
        type=int,
        default=1,
        help="server processes for single items (one runs on ~1 core)",
    )
    parser.add_argument(
        "--server-python",
        default=sys.executable,
        help="the interpreter that runs the server, e.g. of a venv with the runtime dependencies only (as the"
        " image has: LightGBM imports scikit-learn, pandas and pyarrow when they are installed)",
    )
    parser.add_argument(
        "--pin-cores",
        action="store_true",
        help="servers keep each process on one core of its own (PARCEL_RADAR_PIN_CORES, app.cores)",
    )
    args = parser.parse_args()
    SERVER_PYTHON[0] = args.server_python
    if args.pin_cores:
        SERVER_SETTINGS["PARCEL_RADAR_PIN_CORES"] = "true"
    parts = set(args.only or PARTS)
    table = Table()
    pinned = "each server process pinned to a core of its own" if args.pin_cores else "servers not pinned"
    print(f"{os.cpu_count()} cores; {pinned}; load average at start {load_average()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="radar-perf-") as scratch:
        out = Path(scratch)
        bodies = batch_bodies(None, args.batches, args.batch_items, out / "feed")
        artifact = ModelArtifact.load(args.model)
        bare, matrices = bare_path(bodies, artifact)
        table.bare_items_per_s = bare
        if "predict" in parts:
            rate = predict_rate(artifact, matrices)
            table.add("Booster.predict (raw scores, 1 thread)", f"{rate:,.0f} rows/s", "the limit")
        table.items_per_s("in-process bare path", bare, "(always measured: the ratios' base)")
        runs: dict[str, Callable[[], None]] = {
            "http-sqlite": lambda: _http(table, out, args.model, bodies, args.batch_items, use_pg=False),
            "http-pg": lambda: _http(table, out, args.model, bodies, args.batch_items, use_pg=True),
            "single": lambda: _single(table, out, args, [i for b in parsed_bodies(bodies) for i in b]),
            "workers": lambda: _workers(table, out, args.model, bodies, args.batch_items, args.workers),
        }
        for part, run in runs.items():
            if part in parts:
                run()
    print(f"load average at end {load_average()}")
    table.print()


def _http(
    table: Table, out: Path, model: Path, bodies: list[bytes], batch_items: int, *, use_pg: bool
) -> None:
    label = "PostgreSQL" if use_pg else "SQLite"
    with server_on(use_pg, out, model) as server:
        http_batches(table, server, bodies, batch_items, label)
        table.add(f"server peak RSS ({label})", f"{server.peak_rss_mb():,.0f} MB")


def _single(table: Table, out: Path, args: argparse.Namespace, items: list[Any]) -> None:
    rates = [float(r) for r in args.rates.split(",")]
    label = "PostgreSQL" if args.single_pg else "SQLite"
    if args.single_workers > 1:
        label += f", {args.single_workers} workers"
    with server_on(args.single_pg, out / "single", args.model, args.single_workers) as server:
        single_items(table, server, items, rates, args.seconds, label)


def _workers(
    table: Table, out: Path, model: Path, bodies: list[bytes], batch_items: int, counts: str
) -> None:
    """Batch throughput on PostgreSQL against the number of worker processes, two batches in flight each; the
    first count's CPU per item bounds what more workers can give on this machine's cores."""
    base: tuple[int, float, float] | None = (
        None  # workers, items/s, cores used by server, postgres and client
    )
    for workers in (int(n) for n in counts.split(",")):
        with server_on(True, out / f"workers-{workers}", model, workers) as server:
            token = server.partner_key()
            with watch(server) as watched:
                result = run_pass(server, bodies, 2 * workers, batch_items, token)
        rate, usage = result.items / result.seconds, watched.usage
        base = base or (workers, rate, usage.per_unit_s(result.items) * rate)
        cpu_bound = (
            f"; CPU allows at most {usage.cores / base[2]:.2f}x on {usage.cores} idle cores"
            f" ({base[0]} used {base[2]:.2f})"
            if base[0] != workers
            else ""
        )
        table.items_per_s(
            f"HTTP PostgreSQL, {workers} worker process(es)",
            rate,
            f"= {rate / base[1]:.2f}x {base[0]}{cpu_bound}",
        )
        bounds(table, watched.usage, result.items)


if __name__ == "__main__":
    main()
