"""PostgreSQL goes away under load (a proxy between service and database is cut) and comes back: the service
answers 503 with Retry-After (never a 500), is not ready while it is away, recovers by itself, loses nothing."""

from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.faults.outage import run_outage_trial
from tests.faults.proxy import TcpProxy
from tests.faults.support import register_partner
from tests.test_serve import serve

OUTAGE_S = 6  # bench/outage.py runs the same trial with 30 s (docs/reliability.md)


@pytest.mark.postgres
def test_a_database_outage_under_load_is_503_then_recovers_losing_nothing(
    pg_base_url: str, tmp_path: Path, model_dir: Path
) -> None:
    database = make_url(pg_base_url)
    with TcpProxy(database.host or "127.0.0.1", database.port or 5432) as proxy:
        proxied = pg_base_url.replace(f"{database.host}:{database.port}", f"127.0.0.1:{proxy.port}", 1)
        with contextmanager(serve)(tmp_path, proxied, model_dir) as server:
            filer = register_partner(server)
            report = run_outage_trial(
                service_url=server.url,
                partner_key=filer.key,
                proxy=proxy,
                direct_database_url=pg_base_url,
                outage_s=OUTAGE_S,
            )
    print("\n".join(report.lines()))
    assert report.problems() == [], report.lines()
