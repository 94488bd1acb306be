"""Schemathesis (all checks) against a real `python -m app serve`: cases and failures per credential.

Starts the service on a temporary SQLite file (or with --pg on a fresh schema of the PostgreSQL test database),
makes a post partner, an officer and a supervisor, and runs `schemathesis run --checks all` once per credential
on the schema the server publishes. The test suite runs the same with a few cases (tests/app/test_schemathesis.py).

Usage: python bench/schemathesis_run.py --model DIR [--max-examples N] [--seed N] [--pg]
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

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
from bench.assess import database, serving

CONFIG = Path(__file__).with_name("schemathesis.toml")


@dataclass(frozen=True)
class Result:
    credential: str
    cases: int
    failures: int
    errors: int
    report: str


def credentials(database_url: str) -> dict[str, str]:
    """A post partner's API key, an officer's and a supervisor's bearer token, on a migrated database."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session, session.begin():
            tag = uuid.uuid4().hex[:6]
            partner = create_partner(session, name=f"fuzz-post-{tag}", kind=PartnerKind.POST)
            tokens = {"partner": issue_api_key(session, partner=partner)}
            for role in (Role.OFFICER, Role.SUPERVISOR):
                officer = create_officer(
                    session, username=f"fuzz-{role.value}-{tag}", display_name=role.value, role=role
                )
                tokens[role.value] = issue_officer_token(session, officer=officer)
        return tokens
    finally:
        engine.dispose()


# The fuzzer needs the API document (off in production) and is one client sending thousands of deliberately bad
# credentials (the ignored_auth check expects 401 for each); the lockout that would answer 429 has tests of its
# own (tests/faults).
FUZZED_SERVER = {
    "PARCEL_RADAR_ENVIRONMENT": "test",
    "PARCEL_RADAR_LOG_LEVEL": "WARNING",
    "PARCEL_RADAR_AUTH_FAILURES_PER_ADDRESS": "1000000",
    "PARCEL_RADAR_AUTH_FAILURES_PER_CREDENTIAL": "1000000",
}


def fuzz(
    url: str, credential: str, token: str, *, max_examples: int, seed: int, phases: str, out: Path
) -> Result:
    """One `schemathesis run --checks all` with `token`; its cases and failures from the JUnit report."""
    junit = out / f"junit-{credential}.xml"
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", f"{url}/openapi.json",
        "--checks", "all", "--header", f"Authorization: Bearer {token}",
        "--max-examples", str(max_examples), "--seed", str(seed),
        "--phases", phases, "--generation-allow-x00", "true", "--workers", _workers(phases),
        "--report", "junit", "--report-junit-path", str(junit), "--no-color",
        "--suppress-health-check", "all", "--request-timeout", "30",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False, cwd=out)
    cases = _generated(done.stdout)
    suite = ElementTree.parse(junit).getroot()
    failures = sum(int(s.get("failures", 0)) for s in suite.iter("testsuite"))
    errors = sum(int(s.get("errors", 0)) for s in suite.iter("testsuite"))
    return Result(credential, cases, failures, errors, done.stdout)


def _workers(phases: str) -> str:
    """Two workers, or one with the coverage phase: its filters parse lambdas with `ast.parse`, which Python
    3.11.7 can fail from two threads at once ("AST constructor recursion depth mismatch", CPython gh-106905)."""
    return "1" if "coverage" in phases else "2"


def _generated(output: str) -> int:
    """The number of test cases from schemathesis's summary line ('1263 generated, ...')."""
    found = re.search(r"(\d+) generated", output)
    return int(found.group(1)) if found else 0


def run(model: Path, *, max_examples: int, seed: int, phases: str, use_pg: bool, out: Path) -> list[Result]:
    with database(use_pg, out) as database_url:
        tokens = credentials(database_url)
        with serving(model, database_url, out / "server.log", FUZZED_SERVER) as server:
            return [
                fuzz(server.url, name, token, max_examples=max_examples, seed=seed, phases=phases, out=out)
                for name, token in tokens.items()
            ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a trained model directory")
    parser.add_argument("--max-examples", type=int, default=100, help="cases per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default="examples,coverage,fuzzing", help="schemathesis phases to run")
    parser.add_argument("--pg", action="store_true", help="on PostgreSQL instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        results = run(
            args.model,
            max_examples=args.max_examples,
            seed=args.seed,
            phases=args.phases,
            use_pg=args.pg,
            out=Path(tmp),
        )
        for result in results:
            if result.failures or result.errors:
                print(result.report)
        print(f"{'credential':<12}{'cases':>8}{'failures':>10}{'errors':>8}")
        for result in results:
            print(f"{result.credential:<12}{result.cases:>8}{result.failures:>10}{result.errors:>8}")
        print(f"{'SQLite' if not args.pg else 'PostgreSQL'}, {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
