"""The officer pages read in read-only sessions: they answer while a partner's batch holds SQLite's write lock,
instead of queueing behind it (bench/load.py measures their latency under sustained batches)."""

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.review_support import held_by_rule
from tests.app.test_web_pages import sign_in_form
from tests.conftest import Service, start_service

WITHOUT_WAITING_S = 2.0  # a page that waited for the write lock would take the 30 s busy timeout, then fail


@pytest.fixture
def web_service(tmp_path: Path, model_dir: Path) -> Iterator[Service]:
    yield from start_service(f"sqlite:///{tmp_path / 'radar.db'}", model_dir, web_cookie_secure=False)


def test_officer_pages_do_not_wait_for_a_writer(web_service: Service, tmp_path: Path) -> None:
    case_id = held_by_rule(web_service, count=1, first_serial=82_000_000)[0]["case_id"]
    assert sign_in_form(web_service, web_service.officer_token).status_code == 303
    writer = sqlite3.connect(tmp_path / "radar.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # what every batch holds from its first statement to its commit
        for path in ("/queue", f"/cases/{case_id}", "/dashboard"):
            started = time.monotonic()
            page = web_service.client.get(path)
            assert page.status_code == 200, (path, page.text[:300])
            assert time.monotonic() - started < WITHOUT_WAITING_S, path
    finally:
        writer.execute("ROLLBACK")
        writer.close()
