"""The image's start command, `python -m app serve`, as a real process: migrations, readiness, the README's
example batch over real HTTP, /metrics, one JSON access-log line per request, and a clean stop on SIGTERM."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import TEST_SECRET

README = Path(__file__).resolve().parent.parent / "README.md"
READY_TIMEOUT_S = 60
REQUEST_ID = "serve-test-0001"


def readme_batch() -> dict[str, Any]:
    """The JSON body of the README's example request, so the documentation cannot drift from the contract."""
    found = re.search(r"<<'JSON'\n(.*?)\nJSON\n", README.read_text(), flags=re.DOTALL)
    assert found is not None, "README.md no longer has its example request (a heredoc ending in JSON)"
    body: dict[str, Any] = orjson.loads(found.group(1))
    return body


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]
    cwd: Path
    process: "subprocess.Popen[bytes]"
    log: Path

    def cli(self, *args: str) -> str:
        """Run `python -m app ARGS` against the same database and settings; its output."""
        done = subprocess.run(
            [sys.executable, "-m", "app", *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def stop(self) -> None:
        """SIGTERM, as `docker stop` sends it: the lifespan shuts down, then uvicorn re-raises the signal."""
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=30) == -signal.SIGTERM
        assert "Application shutdown complete" in self.log.read_text()


def wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx2.Client(base_url=server.url, timeout=2) as client:
        while time.monotonic() < deadline:
            assert server.process.poll() is None, f"the server exited:\n{server.log.read_text()}"
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.2)
    pytest.fail(f"not ready within {READY_TIMEOUT_S} s:\n{server.log.read_text()}")


def serve(
    tmp_path: Path,
    database_url: str,
    model_dir: Path,
    *options: str,
    environment: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """`python -m app serve OPTIONS` until ready, with test settings and `environment` besides; killed after."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PARCEL_RADAR_", "PROMETHEUS_"))},
        "PARCEL_RADAR_DATABASE_URL": database_url,
        "PARCEL_RADAR_MODEL_DIR": str(model_dir),
        "PARCEL_RADAR_ENVIRONMENT": "test",
        "PARCEL_RADAR_PSEUDONYM_SECRET": TEST_SECRET,
        "PARCEL_RADAR_LOG_JSON": "true",
        "PARCEL_RADAR_LOG_LEVEL": "INFO",
        **(environment or {}),
    }
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port), *options]
    with log.open("wb") as output:
        process = subprocess.Popen(  # a session of its own: killed with its workers, none left orphaned
            command, env=env, cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(f"http://127.0.0.1:{port}", env, tmp_path, process, log)
    try:
        wait_until_ready(server)
        yield server
    finally:
        with suppress(ProcessLookupError):  # the server and any worker of it still running
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path, model_dir: Path) -> Iterator[Server]:
    """`python -m app serve` on a fresh SQLite file, or on the run's PostgreSQL schema."""
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'radar.db'}"
    else:
        database_url = request.getfixturevalue("pg_base_url")
    yield from serve(tmp_path, database_url, model_dir)


def metric(exposition: str, name: str, **labels: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def test_the_start_command_serves_the_readme_example(server: Server) -> None:
    created = server.cli("create-partner", f"readme-post-{uuid.uuid4().hex[:6]}", "--kind", "post")
    key = re.search(r"\bprk_\S+", created)
    assert key is not None, created
    batch = readme_batch()
    headers = {"Authorization": f"Bearer {key.group()}", "X-Request-ID": REQUEST_ID}
    with httpx2.Client(base_url=server.url, timeout=30) as client:
        answer = client.post("/v1/assessments", json=batch, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["X-Request-ID"] == REQUEST_ID
        decisions = answer.json()["decisions"]
        assert [d["item_id"] for d in decisions] == [item["item_id"] for item in batch["items"]]
        assert {d["decision"] for d in decisions} <= {"release", "hold"}
        exposition = client.get("/metrics").text
    assert metric(exposition, "parcel_radar_items_assessed_total") == len(batch["items"])
    assert metric(exposition, "parcel_radar_batch_items_count") == 1
    requests = "parcel_radar_http_requests_total"
    assert metric(exposition, requests, method="POST", route="/v1/assessments", status="200") == 1
    assert metric(exposition, requests, route="/readyz", status="200") >= 1
    assert metric(exposition, "parcel_radar_model_info") == 1
    assert "pid=" not in exposition  # one process counts in memory and reports its own process_* figures
    assert metric(exposition, "process_resident_memory_bytes") > 0

    server.stop()
    log = server.log.read_text()
    access = [
        line
        for line in map(orjson.loads, filter(None, log.splitlines()))
        if line["logger"] == "app.access" and line["request_id"] == REQUEST_ID
    ]
    assert len(access) == 1
    assert access[0] | {"duration_ms": 0} == access[0] | {
        "method": "POST",
        "route": "/v1/assessments",
        "status": 200,
        "duration_ms": 0,
    }
    for secret in (key.group(), "Jan de Vries", "Keizersgracht", "SW1A"):
        assert secret not in log
