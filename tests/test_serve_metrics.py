"""`python -m app serve --workers 2` as real processes: one scrape of /metrics, whichever worker answers it,
counts the requests and items of both workers; a killed worker's counts stay counted, once, after uvicorn
replaces it; the directory the workers count in is emptied at start (or made and removed by `serve`)."""

import os
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import count
from pathlib import Path

import httpx2
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.faults.support import batch, register_partner
from tests.test_serve import Server, metric, serve, wait_until_ready

ITEMS, IN_FLIGHT, ROUNDS = 5, 4, 40
ASSESSED = "parcel_radar_items_assessed_total"
DEADLINE_S = 60


@contextmanager
def two_workers(tmp_path: Path, model_dir: Path, **environment: str) -> Iterator[Server]:
    database = f"sqlite:///{tmp_path / 'radar.db'}"
    yield from serve(tmp_path, database, model_dir, "--workers", "2", environment=environment)


class Traffic:
    """Batches of new items, each on a fresh connection (so the kernel hands them to either worker)."""

    def __init__(self, server: Server) -> None:
        self.url, self.headers = server.url, register_partner(server).headers
        self.serials = count(70_000_000, ITEMS)
        self.batches = 0

    def send(self, batches: int = IN_FLIGHT) -> None:
        def post(serial: int) -> int:
            with httpx2.Client(base_url=self.url, timeout=60, headers=self.headers) as client:
                return client.post("/v1/assessments", json=batch(serial, ITEMS)).status_code

        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            statuses = list(pool.map(post, [next(self.serials) for _ in range(batches)]))
        assert statuses == [200] * batches
        self.batches += batches


def scrapes(server: Server, times: int = 6) -> list[str]:
    """/metrics, each time on a fresh connection (answered by either worker)."""
    answers = []
    for _ in range(times):
        with httpx2.Client(base_url=server.url, timeout=30) as client:
            answer = client.get("/metrics")
            assert answer.status_code == 200, answer.text
            answers.append(answer.text)
    return answers


def worker_pids(exposition: str) -> set[int]:
    """The workers the scrape reports process figures of (every live worker, labelled by pid)."""
    return {
        int(sample.labels["pid"])
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "process_resident_memory_bytes"
    }


def assessed_by(shared: Path, pid: int) -> float:
    """The items one worker counted, read from its own file."""
    families = MultiProcessCollector.merge([str(path) for path in shared.glob(f"counter_{pid}.db")])  # type: ignore[no-untyped-call]
    return sum(s.value for family in families for s in family.samples if s.name == ASSESSED)


def until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"not within {DEADLINE_S} s: {what}"
        time.sleep(0.2)


def assert_totals(server: Server, traffic: Traffic) -> set[int]:
    """Every scrape counts all the batches and items sent so far, whichever worker answers; the workers seen."""
    pids = set()
    for exposition in scrapes(server):
        assert metric(exposition, ASSESSED) == traffic.batches * ITEMS
        assert metric(exposition, "parcel_radar_batch_items_sum") == traffic.batches * ITEMS  # grouped or not
        requests = metric(
            exposition, "parcel_radar_http_requests_total", route="/v1/assessments", status="200"
        )
        assert requests == traffic.batches
        answered = "parcel_radar_http_request_duration_seconds_count"
        assert metric(exposition, answered, route="/v1/assessments") == traffic.batches
        assert metric(exposition, "parcel_radar_model_info") == 1  # the answering worker's model, once
        seen = worker_pids(exposition)
        assert len(seen) == 2
        pids |= seen
    assert len(pids) == 2, "two workers, whichever answered"
    return pids


def stop(server: Server) -> None:
    """SIGTERM to uvicorn's supervisor: it stops the workers (each shuts its lifespan down), then exits."""
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    assert server.log.read_text().count("Application shutdown complete") >= 2


def test_a_scrape_counts_both_workers_and_a_killed_workers_counts_once(
    tmp_path: Path, model_dir: Path
) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_999999.db").write_bytes(b"an earlier run's counts")
    with two_workers(tmp_path, model_dir, PROMETHEUS_MULTIPROC_DIR=str(shared)) as server:
        assert not (shared / "counter_999999.db").exists(), "the directory is emptied before workers start"
        traffic = Traffic(server)
        pids = assert_totals(server, traffic)
        for _ in range(ROUNDS):  # until both workers assessed some
            traffic.send()
            if all(assessed_by(shared, pid) for pid in pids):
                break
        assert all(assessed_by(shared, pid) for pid in pids), "one worker took every batch"
        assert sum(assessed_by(shared, pid) for pid in pids) == traffic.batches * ITEMS
        assert_totals(server, traffic)

        killed = min(pids)
        os.kill(killed, signal.SIGKILL)
        until(lambda: worker_pids(scrapes(server, 1)[0]) - pids, "uvicorn replaced the killed worker")
        wait_until_ready(server)
        survivors = assert_totals(server, traffic)  # nothing lost, nothing counted twice
        assert killed not in survivors
        (replacement,) = survivors - pids
        for _ in range(ROUNDS):  # until the replacement assessed some too
            traffic.send()
            if assessed_by(shared, replacement):
                break
        assert assessed_by(shared, replacement), "the replacement took no batch"
        assert_totals(server, traffic)
        stop(server)


def test_two_workers_count_in_a_directory_of_their_own_removed_at_exit(
    tmp_path: Path, model_dir: Path
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    with two_workers(tmp_path, model_dir, TMPDIR=str(temporary)) as server:
        assert [path.name.startswith("parcel-radar-metrics-") for path in temporary.iterdir()] == [True]
        traffic = Traffic(server)
        for _ in range(3):
            traffic.send()
        assert_totals(server, traffic)
        stop(server)
    assert list(temporary.iterdir()) == []
