"""`PIN_CORES` (app.cores) on real `serve` processes: each worker keeps every thread on one core of its own,
the workers on different cores; a process that finds every core claimed serves unpinned; off, nothing is
pinned. The claims live in the temporary directory, so each test names its own."""

import fcntl
import os
import re
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx2
import pytest

from tests.test_serve import Server, readme_batch
from tests.test_serve import serve as serve_generator

serve = contextmanager(serve_generator)

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores, Linux"
)


def workers(server: Server) -> list[int]:
    """The server's worker processes (uvicorn's children started by multiprocessing's spawn)."""
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def cores_of_threads(pid: int) -> set[frozenset[int]]:
    """The set of cores each thread of `pid` may run on (one entry per distinct mask)."""
    return {frozenset(os.sched_getaffinity(int(thread))) for thread in os.listdir(f"/proc/{pid}/task")}


def assess(server: Server) -> None:
    """Assess the README's batch, so the serving threads exist."""
    created = server.cli("create-partner", f"cores-{uuid.uuid4().hex[:6]}", "--kind", "post")
    key = re.search(r"\bprk_\S+", created)
    assert key is not None, created
    with httpx2.Client(base_url=server.url, timeout=30) as client:
        for _ in range(4):  # over fresh connections: likely to reach both workers
            reply = client.post(
                "/v1/assessments",
                json=readme_batch(),
                headers={"Authorization": f"Bearer {key.group()}", "Connection": "close"},
            )
            assert reply.status_code == 200, reply.text


@pytest.fixture
def started(tmp_path: Path) -> tuple[Path, Path]:
    """The test's directory, and the temporary directory its servers claim cores in."""
    claims = tmp_path / "claims"
    claims.mkdir()
    return tmp_path, claims


def test_each_worker_keeps_its_threads_on_a_core_of_its_own(
    started: tuple[Path, Path], model_dir: Path
) -> None:
    tmp_path, claims = started
    environment = {"PARCEL_RADAR_PIN_CORES": "true", "TMPDIR": str(claims)}
    with serve(
        tmp_path, f"sqlite:///{tmp_path / 'radar.db'}", model_dir, "--workers", "2", environment=environment
    ) as server:
        assess(server)  # the worker threads exist by now, and inherited the core
        pids = workers(server)
        assert len(pids) == 2
        masks = [cores_of_threads(pid) for pid in pids]
        assert all(len(mask) == 1 and len(next(iter(mask))) == 1 for mask in masks), masks
        assert masks[0] != masks[1], "the two workers share a core"
        assert len(next(iter(cores_of_threads(server.process.pid)))) > 1, "the supervisor is not pinned"
        assert list(claims.glob("parcel-radar-core-*.lock"))


def test_a_process_finding_every_core_claimed_serves_unpinned(
    started: tuple[Path, Path], model_dir: Path
) -> None:
    tmp_path, claims = started
    with ExitStack() as held:
        for core in os.sched_getaffinity(0):  # another server process holds every core
            handle = held.enter_context((claims / f"parcel-radar-core-{core}.lock").open("ab"))
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        environment = {"PARCEL_RADAR_PIN_CORES": "true", "TMPDIR": str(claims)}
        with serve(
            tmp_path, f"sqlite:///{tmp_path / 'radar.db'}", model_dir, environment=environment
        ) as server:
            assess(server)
            assert cores_of_threads(server.process.pid) == {frozenset(os.sched_getaffinity(0))}
            assert "every core" in server.log.read_text()


def test_off_by_default(started: tuple[Path, Path], model_dir: Path) -> None:
    tmp_path, claims = started
    with serve(
        tmp_path, f"sqlite:///{tmp_path / 'radar.db'}", model_dir, environment={"TMPDIR": str(claims)}
    ) as server:
        assess(server)
        assert cores_of_threads(server.process.pid) == {frozenset(os.sched_getaffinity(0))}
        assert not list(claims.iterdir())


def test_a_core_whose_claim_cannot_be_opened_is_skipped(started: tuple[Path, Path], model_dir: Path) -> None:
    tmp_path, claims = started
    first, *others = sorted(os.sched_getaffinity(0))
    (claims / f"parcel-radar-core-{first}.lock").mkdir()  # e.g. another user's file: cannot be opened
    environment = {"PARCEL_RADAR_PIN_CORES": "true", "TMPDIR": str(claims)}
    with serve(tmp_path, f"sqlite:///{tmp_path / 'radar.db'}", model_dir, environment=environment) as server:
        assess(server)
        assert cores_of_threads(server.process.pid) == {frozenset({others[0]})}
