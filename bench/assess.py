"""Assessment throughput over real HTTP: items/s, batch latency percentiles and the server's peak memory.

Starts `python -m app serve` (uvicorn, migrations on start) on a temporary SQLite file, or with --pg on a fresh
schema of the PostgreSQL test database, and posts batches of simulated items, first one at a time, then with
--concurrency batches in flight. Each pass files as a fresh partner, so every item is scored, never replayed.

Usage: python bench/assess.py [--model DIR] [--batches N] [--batch-items N] [--concurrency C]
                              [--shipments FILE.jsonl] [--pg]
"""

import argparse
import itertools
import math
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import numpy as np
import orjson
import psycopg

from training.market.profile import default_market_profile
from training.pipeline import TrainingInputs, train_model
from training.simulate import ScenarioConfig, simulate
from training.train import TrainConfig

PG_URL = os.environ.get("PARCEL_RADAR_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")
ITEMS_PER_DAY = 4000


def small_model(out: Path) -> Path:
    """Train a model on three weeks of simulated traffic with a raised illicit share (well under a minute)."""
    feed = out / "training-feed"
    config = ScenarioConfig(days=21, items_per_day=ITEMS_PER_DAY, illicit_share=5e-3, inspection_rate=0.02)
    profile = default_market_profile(seed=0)
    simulate(config, profile, feed, workers=2)
    inputs = TrainingInputs(feed / "shipments.jsonl", feed / "outcomes.jsonl", profile, feed / "truth.jsonl")
    train_model(inputs, out / "model", TrainConfig(seed=1))
    return out / "model"


def batch_bodies(shipments: Path | None, batches: int, batch_items: int, out: Path) -> list[bytes]:
    """`batches` request bodies of `batch_items` items each, from a file or a fresh simulation."""
    if shipments is None:
        days = math.ceil(1.5 * batches * batch_items / ITEMS_PER_DAY) + 1  # weekends carry less mail
        config = ScenarioConfig(seed=11, days=days, items_per_day=ITEMS_PER_DAY)
        simulate(config, default_market_profile(), out, workers=2)
        shipments = out / "shipments.jsonl"
    with shipments.open("rb") as handle:
        items = [orjson.loads(line) for line in itertools.islice(handle, batches * batch_items)]
    if len(items) < batches * batch_items:
        raise SystemExit(f"{shipments} has {len(items)} items; {batches} x {batch_items} are needed")
    chunks = [items[n : n + batch_items] for n in range(0, len(items), batch_items)]
    return [orjson.dumps({"items": chunk}) for chunk in chunks]


@contextmanager
def database(use_pg: bool, out: Path) -> Iterator[str]:
    """A temporary SQLite file, or a PostgreSQL schema created for this run and dropped afterwards."""
    if not use_pg:
        yield f"sqlite:///{out / 'bench.db'}"
        return
    schema = f"radar_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}&application_name={schema}"  # bench.bounds finds its backends
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]
    process: "subprocess.Popen[bytes]"
    workers: int = 1

    def partner_key(self) -> str:
        """A fresh partner's API key, made by the operator command."""
        name = f"bench-{uuid.uuid4().hex[:8]}"
        done = subprocess.run(
            [sys.executable, "-m", "app", "create-partner", name, "--kind", "courier"],
            env=self.env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        found = re.search(r"\bprk_\S+", done.stdout)
        if found is None:
            raise SystemExit(f"create-partner printed no key:\n{done.stdout}{done.stderr}")
        return found.group()

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server process and its worker processes (user + system)."""
        pids = [self.process.pid] + [
            int(child)
            for task in Path(f"/proc/{self.process.pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
        total = 0.0
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, flags=re.MULTILINE)
        return int(found.group(1)) / 1024 if found else float("nan")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(
    model: Path,
    database_url: str,
    log: Path,
    overrides: Mapping[str, str] | None = None,
    workers: int = 1,
    python: str = sys.executable,
) -> Iterator[Server]:
    """`python -m app serve` with production settings (or `overrides` of them), `workers` processes and JSON
    logs to `log`, run by `python` (another venv's, e.g. one with the runtime dependencies only); stopped
    with SIGTERM."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARCEL_RADAR_")},
        "PARCEL_RADAR_ENVIRONMENT": "production",
        "PARCEL_RADAR_DATABASE_URL": database_url,
        "PARCEL_RADAR_MODEL_DIR": str(model),
        "PARCEL_RADAR_PSEUDONYM_SECRET": secrets.token_urlsafe(48),
        **(overrides or {}),
    }
    command = [python, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", env, process, workers)
    try:
        deadline = time.monotonic() + 120
        with httpx2.Client(base_url=server.url, timeout=2) as client:
            while not _ready(client):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not become ready; see {log}")
                time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def _ready(client: httpx2.Client) -> bool:
    try:
        return client.get("/readyz").status_code == 200
    except httpx2.TransportError:
        return False


@dataclass(frozen=True)
class Pass:
    concurrency: int
    items: int
    seconds: float
    latencies: list[float]

    def line(self) -> str:
        p50, p95, p99 = np.percentile(self.latencies, [50, 95, 99])
        return (
            f"concurrency {self.concurrency}: {len(self.latencies)} batches, {self.items:,} items in "
            f"{self.seconds:.1f} s = {self.items / self.seconds:,.0f} items/s; "
            f"batch latency p50 {p50:.3f} s, p95 {p95:.3f} s, p99 {p99:.3f} s"
        )


def run_pass(
    server: Server, bodies: list[bytes], concurrency: int, batch_items: int, token: str | None = None
) -> Pass:
    """Post every body as a fresh partner (`token`'s, or a new one's) with `concurrency` requests in flight."""
    headers = {"Authorization": f"Bearer {token or server.partner_key()}", "Content-Type": "application/json"}
    limits = httpx2.Limits(max_connections=concurrency)
    with httpx2.Client(base_url=server.url, timeout=300, limits=limits) as client:

        def post(body: bytes) -> float:
            began = time.perf_counter()
            response = client.post("/v1/assessments", content=body, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"HTTP {response.status_code}: {response.text[:500]}")
            return time.perf_counter() - began

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            latencies = list(pool.map(post, bodies))
        seconds = time.perf_counter() - began
    return Pass(concurrency, len(bodies) * batch_items, seconds, latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/default"))
    parser.add_argument("--batches", type=int, default=20, help="batches per pass")
    parser.add_argument("--batch-items", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4, help="batches in flight in the second pass")
    parser.add_argument("--shipments", type=Path, default=None, help="JSONL in the API's shipment contract")
    parser.add_argument("--pg", action="store_true", help=f"use PostgreSQL ({PG_URL}) instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="radar-bench-") as scratch:
        out = Path(scratch)
        model = args.model
        if not (model / "manifest.json").is_file():
            print(f"no model at {model}: training a small one on a 21-day simulation (temporary)", flush=True)
            model = small_model(out)
        bodies = batch_bodies(args.shipments, args.batches, args.batch_items, out / "feed")
        with (
            database(args.pg, out) as database_url,
            serving(model, database_url, out / "server.log") as server,
        ):
            kind = "postgresql" if args.pg else "sqlite"
            print(f"database: {kind}; model: {model}; {os.cpu_count()} cores", flush=True)
            for concurrency in (1, args.concurrency):
                print(run_pass(server, bodies, concurrency, args.batch_items).line(), flush=True)
            print(f"server peak RSS: {server.peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
