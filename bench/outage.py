"""PostgreSQL unavailable for 30 s (or --seconds) under load: the outage trial of tests/faults at full length.

Starts `python -m app serve` on a fresh schema of the PostgreSQL test database through a TCP proxy on
127.0.0.1 that it cuts and restores (tests/faults/proxy.py), while two partners keep sending batches with
Idempotency-Keys and a probe polls /readyz; prints what they saw and exits 1 unless every answer was a 200 or a
503 with Retry-After, readiness was red throughout, the service recovered by itself and the stored rows equal
the acknowledged items.

Usage: python -m bench.outage [--seconds S] [--model DIR]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.assess import database, serving, small_model
from tests.faults.outage import run_outage_trial
from tests.faults.proxy import TcpProxy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30, help="how long the database is away (max 300)")
    parser.add_argument(
        "--model", type=Path, default=None, help="a model artifact (default: train a small one)"
    )
    args = parser.parse_args()
    if not 0 < args.seconds <= 300:
        raise SystemExit("--seconds is 0 to 300")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="radar-outage-") as scratch, database(True, Path(scratch)) as url:
        out = Path(scratch)
        model = args.model or small_model(out)
        direct = make_url(url)
        with TcpProxy(direct.host or "127.0.0.1", direct.port or 5432) as proxy:
            proxied = url.replace(f"{direct.host}:{direct.port}", f"127.0.0.1:{proxy.port}", 1)
            with serving(model, proxied, out / "server.log") as server:
                report = run_outage_trial(
                    service_url=server.url,
                    partner_key=server.partner_key(),
                    proxy=proxy,
                    direct_database_url=url,
                    outage_s=args.seconds,
                )
    print("\n".join(report.lines()))
    problems = report.problems()
    ok = not problems
    print(f"problems: {problems or 'none'}")
    print(f"PostgreSQL outage trial ({time.monotonic() - began:.0f} s in all): {'OK' if ok else 'FAILED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
