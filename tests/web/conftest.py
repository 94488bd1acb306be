"""A real uvicorn server on a free local port, on a SQLite file with the trained test model, for the browser."""

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, sync_playwright

from app.credentials import (
    PartnerKind,
    Role,
    create_officer,
    create_partner,
    issue_api_key,
    issue_officer_token,
)
from app.db.engine import make_engine, session_factory
from app.db.migrate import upgrade
from app.main import create_app
from tests.conftest import make_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class LiveServer:
    url: str
    database_url: str
    partner_key: str
    officer_token: str
    supervisor_token: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _credentials(database_url: str) -> tuple[str, str, str]:
    engine = make_engine(database_url)
    with session_factory(engine)() as session, session.begin():
        partner = create_partner(session, name="browser-post", kind=PartnerKind.POST)
        tokens = [
            issue_officer_token(
                session,
                officer=create_officer(
                    session, username=f"{role.value}-{uuid.uuid4().hex[:4]}", display_name=name, role=role
                ),
            )
            for role, name in ((Role.OFFICER, "Ada Officer"), (Role.SUPERVISOR, "Sam Supervisor"))
        ]
        key = issue_api_key(session, partner=partner)
    engine.dispose()
    return key, tokens[0], tokens[1]


@pytest.fixture
def live_server(tmp_path: Path, model_dir: Path) -> Iterator[LiveServer]:
    """The service under uvicorn in a thread; plain HTTP on 127.0.0.1, so the cookie is not marked Secure."""
    database_url = f"sqlite:///{tmp_path / 'radar.db'}"
    upgrade(database_url)
    key, officer, supervisor = _credentials(database_url)
    settings = make_settings(database_url, model_dir, web_cookie_secure=False)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", database_url, key, officer, supervisor)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless; no browser is ever downloaded."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
