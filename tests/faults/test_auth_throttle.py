"""Brute force against bearer authentication and the sign-in page, on two uvicorn processes sharing one
database: failures counted by one process are refused by the other (429 with Retry-After), per credential
and per client address; failed sign-ins are audited without the token."""

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select

from app.db.engine import make_engine
from app.db.tables import AuditRecord
from tests.faults.support import register_partner
from tests.test_serve import Server, serve

PER_CREDENTIAL, PER_ADDRESS = 3, 5
LIMITS = (
    f"PARCEL_RADAR_AUTH_FAILURES_PER_CREDENTIAL={PER_CREDENTIAL}\n"
    f"PARCEL_RADAR_AUTH_FAILURES_PER_ADDRESS={PER_ADDRESS}\n"
    "PARCEL_RADAR_WEB_COOKIE_SECURE=false\n"
)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[tuple[Server, Server]]:
    """Two `python -m app serve` processes on one SQLite file, with small limits (read from their .env); the
    tests use addresses and credentials of their own, so they do not count against each other."""
    tmp_path = tmp_path_factory.mktemp("two-workers")
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    with ExitStack() as stack:
        servers = []
        for name in ("one", "two"):
            directory = tmp_path / name
            directory.mkdir()
            (directory / ".env").write_text(LIMITS)
            servers.append(stack.enter_context(contextmanager(serve)(directory, url, model_dir)))
        yield servers[0], servers[1]


def from_address(address: str, token: str) -> dict[str, str]:
    return {"X-Forwarded-For": address, "Authorization": f"Bearer {token}"}


def test_failed_bearer_checks_are_limited_across_processes(two_workers: tuple[Server, Server]) -> None:
    one, two = two_workers
    filer = register_partner(one)
    prefix = filer.key.split("_")[1]
    with httpx2.Client(base_url=one.url) as first, httpx2.Client(base_url=two.url) as second:
        for n in range(PER_CREDENTIAL):  # guesses at the secret of one real key, from changing addresses
            guess = first.get("/v1/assessments/x", headers=from_address(f"10.0.0.{n}", f"prk_{prefix}_{n}"))
            assert guess.status_code == 401
        refused = second.get("/v1/assessments/x", headers=from_address("10.0.1.1", f"prk_{prefix}_x"))
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 300
        assert refused.headers["Cache-Control"] == "no-store"
        for n in range(PER_ADDRESS):  # random tokens from one address
            guess = second.get("/v1/assessments/x", headers=from_address("10.0.2.2", f"prk_{n:08d}_x"))
            assert guess.status_code == 401
        assert (
            first.get("/v1/assessments/x", headers=from_address("10.0.2.2", "prk_abcdefgh_x")).status_code
            == 429
        )
        real = second.get("/v1/assessments/x", headers=from_address("10.0.3.3", filer.key))
        assert real.status_code == 404  # the guessed-at key's holder is never locked out by the guesses
        wrong = first.get("/v1/assessments/x", headers=from_address("10.0.3.4", f"prk_{prefix}_y"))
        assert wrong.status_code == 429  # but one more wrong secret for it is refused, from anywhere
        other = second.get("/v1/assessments/x", headers=from_address("10.0.3.3", "prk_12345678_x"))
        assert other.status_code == 401  # another credential from another address is checked as usual


def _sign_in(client: httpx2.Client, address: str, token: str) -> httpx2.Response:
    form = client.get("/signin", headers={"X-Forwarded-For": address})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    return client.post(
        "/signin",
        data={"token": token, "csrf_token": csrf.group(1)},
        headers={"X-Forwarded-For": address},
        follow_redirects=False,
    )


def test_failed_sign_ins_are_limited_across_processes_and_audited(two_workers: tuple[Server, Server]) -> None:
    one, two = two_workers
    guess = "pro_feedface_not-the-secret"
    with httpx2.Client(base_url=one.url) as first, httpx2.Client(base_url=two.url) as second:
        for n in range(PER_CREDENTIAL):
            assert _sign_in(first if n % 2 else second, f"10.1.0.{n}", guess).status_code == 401
        refused = _sign_in(second, "10.1.9.9", guess)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert "Too many failed sign-ins" in refused.text
    engine = make_engine(one.env["PARCEL_RADAR_DATABASE_URL"])
    with engine.connect() as connection:
        failed = connection.execute(
            select(AuditRecord.actor, AuditRecord.subject, AuditRecord.payload).where(
                AuditRecord.action == "officer.sign_in_failed"
            )
        ).all()
    engine.dispose()
    addresses = [f"address:10.1.0.{n}" for n in range(PER_CREDENTIAL)]
    assert [actor for actor, _, _ in failed] == [*addresses, "address:10.1.9.9"]  # the refused one too
    assert {subject for _, subject, _ in failed} == {"credential:feedface"}
    assert all(guess not in payload and "not-the-secret" not in payload for _, _, payload in failed)
