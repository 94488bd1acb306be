"""Scale-out on PostgreSQL: batches/s with one and with two `python -m app serve` processes on one database,
and how long a batch holds its history row locks (the part two processes cannot overlap on shared keys).

Every pass files as a fresh partner on a fresh schema, with the same simulated 1,000-item batches (they
share corridors, so every two batches share locked rows) and the same number of batches in flight, spread
round-robin over the processes. To measure another checkout (say the code before), copy this file into its
bench/ and run it there: the servers run the code of the current directory.

Usage: python -m bench.scale_out [--model DIR] [--batches N] [--batch-items N] [--in-flight N]
                                  [--processes 1,2] [--lock-batches N]
"""

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.credentials import PartnerKind, create_partner, issue_api_key
from app.db.migrate import upgrade
from app.main import create_app
from app.settings import Settings
from bench.assess import PG_URL, Server, batch_bodies, database, serving, small_model

SECRET = "scale-out-bench-pseudonym-secret-of-48-characters!"
# The first statement of a batch that locks history: the row locks, or the global advisory lock before them.
HISTORY_LOCKS = ("INSERT INTO party_history (entity_key, first_seen", "SELECT pg_advisory_xact_lock(")


@contextmanager
def servers(model: Path, url: str, out: Path, count: int) -> Iterator[list[Server]]:
    """`count` server processes on one database, sharing the pseudonym secret (so the same history keys)."""
    with ExitStack() as stack:
        started = []
        for n in range(count):
            log = out / f"server-{n}.log"
            overrides = {"PARCEL_RADAR_PSEUDONYM_SECRET": SECRET}
            started.append(stack.enter_context(serving(model, url, log, overrides)))
        yield started


def batches_per_s(started: list[Server], bodies: list[bytes], in_flight: int) -> tuple[float, float]:
    """(batches/s, batch latency p50 in s) posting every body round-robin over the servers."""
    headers = {"Authorization": f"Bearer {started[0].partner_key()}", "Content-Type": "application/json"}
    clients = [httpx2.Client(base_url=s.url, timeout=300, headers=headers) for s in started]
    try:

        def post(number: int) -> float:
            began = time.perf_counter()
            response = clients[number % len(clients)].post("/v1/assessments", content=bodies[number])
            if response.status_code != 200:
                raise SystemExit(f"HTTP {response.status_code}: {response.text[:500]}")
            return time.perf_counter() - began

        for number in range(len(clients)):  # warm every process up (first request, connections)
            post(number)
        began = time.perf_counter()
        with ThreadPoolExecutor(in_flight) as pool:
            latencies = list(pool.map(post, range(len(bodies))))
        seconds = time.perf_counter() - began
    finally:
        for client in clients:
            client.close()
    return len(bodies) / seconds, float(np.median(latencies))


def locked_spans(url: str, model: Path, bodies: list[bytes]) -> tuple[float, float]:
    """(median s from the row-locking statement to the commit, median s per request) of batches posted one
    at a time to the app in this process (its engine's events time the statements)."""
    values: dict[str, Any] = {
        "environment": "production",
        "database_url": url,
        "model_dir": model,
        "pseudonym_secret": SECRET,
        "log_level": "WARNING",
    }
    locked_at: dict[int, float] = {}
    spans: list[float] = []
    requests: list[float] = []
    lock = threading.Lock()

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith(HISTORY_LOCKS):
            with lock:
                locked_at.setdefault(id(conn), time.perf_counter())

    def committed(conn: Any) -> None:
        with lock:
            if (began := locked_at.pop(id(conn), None)) is not None:
                spans.append(time.perf_counter() - began)

    upgrade(url)
    with TestClient(create_app(Settings.model_validate(values))) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "commit", committed)
        with client.app.state.sessions() as session, session.begin():  # type: ignore[attr-defined]
            partner = create_partner(session, name="lock-span", kind=PartnerKind.COURIER)
            headers = {"Authorization": f"Bearer {issue_api_key(session, partner=partner)}"}
        headers["Content-Type"] = "application/json"
        for body in bodies:
            began = time.perf_counter()
            assert client.post("/v1/assessments", content=body, headers=headers).status_code == 200
            requests.append(time.perf_counter() - began)
    if not spans:
        return float("nan"), float(np.median(requests[1:]))
    return float(np.median(spans[1:])), float(np.median(requests[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/default").resolve())
    parser.add_argument("--batches", type=int, default=24, help="timed batches per pass")
    parser.add_argument("--batch-items", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=4, help="batches in flight, over all processes")
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--lock-batches", type=int, default=8, help="batches timed for the locked span")
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",")]
    with tempfile.TemporaryDirectory(prefix="radar-scale-") as scratch:
        out = Path(scratch)
        model = args.model if (args.model / "manifest.json").is_file() else small_model(out)
        total = args.batches + max(counts)
        bodies = batch_bodies(None, total, args.batch_items, out / "feed")
        load = os.getloadavg()[0]
        print(f"code: {os.getcwd()}; database: {PG_URL}; {os.cpu_count()} cores; load {load:.1f}", flush=True)
        base = None
        for count in counts:
            with database(True, out) as url, servers(model, url, out, count) as started:
                rate, p50 = batches_per_s(started, bodies[: args.batches + count], args.in_flight)
            base = base or rate
            print(
                f"{count} process(es), {args.in_flight} batches in flight: {rate:.2f} batches/s "
                f"= {rate * args.batch_items:,.0f} items/s, batch p50 {p50:.3f} s, {rate / base:.2f}x one",
                flush=True,
            )
        with database(True, out) as url:
            span, request = locked_spans(url, model, bodies[: args.lock_batches + 1])
        print(
            f"one batch at a time, in process: history rows locked {span * 1000:.0f} ms of "
            f"{request * 1000:.0f} ms per request ({span / request:.0%})"
        )


if __name__ == "__main__":
    main()
