"""Sustained mixed traffic against a real uvicorn process: partner batches and single items, officer API reads,
the officer pages (queue, case, dashboard) and recorded outcomes, at a stated rate for N minutes.

Starts `python -m app serve` (production settings) on a temporary SQLite file, or with --pg on a fresh schema of
the PostgreSQL test database, sends requests open-loop at --rate per second (each kind by its share of MIX), and
prints per kind: requests, p50/p95/p99 latency and errors, the throughput in items/s, and whether the stored
assessment rows equal the items the service acknowledged. Bounded: at most 30 minutes and 200 requests/s,
localhost only. Exits 1 on any error or a row count that differs.

Usage: python -m bench.load [--minutes M] [--rate R] [--batch-items N] [--pg] [--model DIR]
"""

import argparse
import itertools
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import orjson
from sqlalchemy import func, select

from app.db.engine import make_engine
from app.db.tables import Assessment
from app.web.pages import SIGNIN_COOKIE
from app.web.templating import SESSION_COOKIE
from bench.assess import Server, database, serving, small_model
from training.market.profile import default_market_profile
from training.simulate import ScenarioConfig, simulate

MIX = {
    "batch": 0.25,
    "single": 0.25,
    "cases_api": 0.1,
    "queue_page": 0.15,
    "case_page": 0.1,
    "dashboard": 0.1,
    "outcome": 0.05,
}
PAGES = ("queue_page", "case_page", "dashboard")
PAGE_P95_TARGET_S = 0.3
MAX_MINUTES, MAX_RATE = 30, 200


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    acknowledged: int = 0
    held_cases: list[int] = field(default_factory=list)
    decided: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def simulated_items(count: int, out: Path) -> list[dict[str, Any]]:
    """`count` distinct simulated shipments in the API's contract."""
    days = count // 3000 + 2
    simulate(ScenarioConfig(seed=23, days=days, items_per_day=4000), default_market_profile(), out, workers=2)
    with (out / "shipments.jsonl").open("rb") as handle:
        return [orjson.loads(line) for line in itertools.islice(handle, count)]


def officer_token(server: Server) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app", "create-officer", "load-officer", "--role", "officer"],
        env=server.env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    found = re.search(r"\bpro_\S+", done.stdout)
    if found is None:
        raise SystemExit(f"create-officer printed no token:\n{done.stdout}{done.stderr}")
    return found.group()


def web_cookie(client: httpx2.Client, token: str) -> str:
    """Sign in through the form; the Secure cookie is sent back by hand (the bench talks plain HTTP)."""
    form = client.get("/signin")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    form_cookie = {"Cookie": f"{SIGNIN_COOKIE}={form.cookies[SIGNIN_COOKIE]}"}
    signed = client.post("/signin", data={"token": token, "csrf_token": csrf.group(1)},
                         headers=form_cookie, follow_redirects=False)  # fmt: skip
    if signed.status_code != 303:
        raise SystemExit(f"sign-in failed: {signed.status_code}")
    return f"{SESSION_COOKIE}={signed.cookies[SESSION_COOKIE]}"


class Traffic:
    """One request of each kind, recorded in the tally."""

    def __init__(
        self, client: httpx2.Client, partner: str, officer: str, cookie: str, items: Iterator[Any]
    ) -> None:
        self.client, self.tally, self.items, self.items_lock = client, Tally(), items, threading.Lock()
        self.partner = {"Authorization": f"Bearer {partner}"}
        self.officer = {"Authorization": f"Bearer {officer}"}
        self.page = {"Cookie": cookie}
        self.batch_items = 0

    def _next_items(self, count: int) -> list[Any]:
        with self.items_lock:
            return list(itertools.islice(self.items, count))

    def _assess(self, count: int) -> httpx2.Response:
        items = self._next_items(count)
        response = self.client.post("/v1/assessments", json={"items": items}, headers=self.partner)
        if response.status_code == 200:
            decisions = response.json()["decisions"]
            with self.tally.lock:
                self.tally.acknowledged += len(decisions)
        return response

    def _case_id(self) -> int | None:
        with self.tally.lock:
            return random.choice(self.tally.held_cases) if self.tally.held_cases else None

    def _cases_api(self) -> httpx2.Response:
        response = self.client.get("/v1/review/cases", params={"order": "newest"}, headers=self.officer)
        if response.status_code == 200:
            with self.tally.lock:
                self.tally.held_cases = [
                    c["case_id"]
                    for c in response.json()["cases"]
                    if c["status"] == "open" and c["case_id"] not in self.tally.decided
                ]
        return response

    def _case_page(self) -> httpx2.Response | None:
        case_id = self._case_id()
        return None if case_id is None else self.client.get(f"/cases/{case_id}", headers=self.page)

    def _outcome(self) -> httpx2.Response | None:
        case_id = self._case_id()
        if case_id is None:
            return None
        with self.tally.lock:
            if case_id in self.tally.decided:
                return None
            self.tally.decided.add(case_id)
        claim = self.client.post(f"/v1/review/cases/{case_id}/claim", headers=self.officer)
        if claim.status_code != 200:
            return claim
        body = {"result": "nothing_found", "note": "load test"}
        return self.client.post(f"/v1/review/cases/{case_id}/outcome", json=body, headers=self.officer)

    def request(self, kind: str) -> None:
        send: dict[str, Callable[[], httpx2.Response | None]] = {
            "batch": lambda: self._assess(self.batch_items),
            "single": lambda: self._assess(1),
            "cases_api": self._cases_api,
            "queue_page": lambda: self.client.get("/queue", headers=self.page),
            "case_page": self._case_page,
            "dashboard": lambda: self.client.get("/dashboard", headers=self.page),
            "outcome": self._outcome,
        }
        began = time.perf_counter()
        try:
            response = send[kind]()
        except httpx2.TransportError as exc:
            with self.tally.lock:
                self.tally.errors[kind].append(type(exc).__name__)
            return
        if response is None:
            return  # nothing to act on yet (no held case seen)
        seconds = time.perf_counter() - began
        with self.tally.lock:
            self.tally.latencies[kind].append(seconds)
            if response.status_code >= 400:
                self.tally.errors[kind].append(f"{response.status_code}")


def run(traffic: Traffic, minutes: float, rate: float) -> float:
    """Send `rate` requests a second for `minutes`, open loop; the seconds it took to drain."""
    kinds, weights = list(MIX), list(MIX.values())
    total = int(minutes * 60 * rate)
    chooser = random.Random(5)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for n in range(total):
            pause = began + n / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            pool.submit(traffic.request, chooser.choices(kinds, weights)[0])
    return time.perf_counter() - began


def stored_rows(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(Assessment)).scalar_one())
    finally:
        engine.dispose()


def report(tally: Tally, seconds: float, stored: int) -> bool:
    print(f"{'kind':<11} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for kind in MIX:
        latencies = tally.latencies.get(kind, [])
        p50, p95, p99 = np.percentile(latencies, [50, 95, 99]) * 1000 if latencies else (np.nan,) * 3
        print(
            f"{kind:<11} {len(latencies):>8} {p50:>8.0f} {p95:>8.0f} {p99:>8.0f} {len(tally.errors.get(kind, [])):>6}"
        )
    pages = [s for kind in PAGES for s in tally.latencies.get(kind, [])]
    page_p95 = float(np.percentile(pages, 95)) if pages else float("nan")
    errors = {kind: sorted(set(found)) for kind, found in tally.errors.items() if found}
    print(
        f"{tally.acknowledged:,} items acknowledged in {seconds:.0f} s = {tally.acknowledged / seconds:,.0f} items/s"
    )
    print(
        f"officer pages p95 {page_p95 * 1000:.0f} ms (target {PAGE_P95_TARGET_S * 1000:.0f} ms); errors: {errors or 'none'}"
    )
    print(f"stored assessment rows {stored:,}; acknowledged items {tally.acknowledged:,}: "
          f"{'equal' if stored == tally.acknowledged else 'DIFFERENT'}")  # fmt: skip
    return not errors and stored == tally.acknowledged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2)
    parser.add_argument("--rate", type=float, default=10, help="requests per second, all kinds together")
    parser.add_argument("--batch-items", type=int, default=100)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL test database instead of SQLite")
    parser.add_argument(
        "--model", type=Path, default=None, help="a model artifact (default: train a small one)"
    )
    args = parser.parse_args()
    if not (0 < args.minutes <= MAX_MINUTES and 0 < args.rate <= MAX_RATE and 1 <= args.batch_items <= 1000):
        raise SystemExit(f"--minutes up to {MAX_MINUTES}, --rate up to {MAX_RATE}, --batch-items 1 to 1000")
    with (
        tempfile.TemporaryDirectory(prefix="radar-load-") as scratch,
        database(args.pg, Path(scratch)) as url,
    ):
        out = Path(scratch)
        model = args.model or small_model(out)
        needed = (
            int(args.minutes * 60 * args.rate * (MIX["batch"] * args.batch_items + MIX["single"]) * 1.2)
            + 1000
        )
        items = iter(simulated_items(needed, out / "traffic"))
        with (
            serving(model, url, out / "server.log") as server,
            httpx2.Client(base_url=server.url, timeout=120) as client,
        ):
            officer = officer_token(server)
            traffic = Traffic(client, server.partner_key(), officer, web_cookie(client, officer), items)
            traffic.batch_items = args.batch_items
            seconds = run(traffic, args.minutes, args.rate)
        ok = report(traffic.tally, seconds, stored_rows(url))
    backend = "PostgreSQL" if args.pg else "SQLite"
    print(
        f"{backend}, {args.minutes} min at {args.rate}/s, batches of {args.batch_items}: {'OK' if ok else 'FAILED'}"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
