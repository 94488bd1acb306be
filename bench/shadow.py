"""What shadow scoring costs the partner: batch latency over real HTTP with and without a shadow model,
alternating in rounds on one server (each round in the other order) so both sides see the same machine load
and database size.

Usage: python -m bench.shadow [--rounds N] [--batches N] [--batch-items N] [--pg]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx2

from app.credentials import PartnerKind, create_partner, issue_api_key
from app.db.engine import one_off_session
from app.db.migrate import upgrade
from app.services import registry
from bench.assess import database, serving
from model.artifact import ModelArtifact, read_artifact_files
from tests.app.registry_support import SHIPPED, challenger_artifact
from tests.factories import shipment_doc

POLL_S = 0.3


def _set_shadow(url: str, version: str | None) -> None:
    with one_off_session(url) as session, session.begin():
        registry.set_shadow(session, version, actor="bench")
    time.sleep(3 * POLL_S)  # every worker has seen it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=5, help="batches per side and round")
    parser.add_argument("--batch-items", type=int, default=1000)
    parser.add_argument("--pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, database(args.pg, Path(scratch)) as url:
        upgrade(url)
        files = read_artifact_files(
            challenger_artifact(Path(scratch) / "challenger", "challenger-400", trees=400)
        )
        with one_off_session(url) as session, session.begin():
            version = registry.register(session, files, actor="bench").version
            key = issue_api_key(session, partner=create_partner(session, name="bench", kind=PartnerKind.POST))
        overrides = {"PARCEL_RADAR_MODEL_POLL_SECONDS": str(POLL_S), "PARCEL_RADAR_MAX_BATCH_ITEMS": "2500"}
        latencies: dict[str, list[float]] = {"off": [], "on": []}
        serial = 10_000_000
        with (
            serving(SHIPPED, url, Path(scratch) / "server.log", overrides) as server,
            httpx2.Client(base_url=server.url, timeout=300) as client,
        ):
            for round_ in range(args.rounds):
                for side in ("off", "on") if round_ % 2 == 0 else ("on", "off"):  # neither side always later
                    _set_shadow(url, version if side == "on" else None)
                    for _ in range(args.batches):
                        items = [shipment_doc(serial=serial + n) for n in range(args.batch_items)]
                        serial += args.batch_items
                        began = time.perf_counter()
                        response = client.post(
                            "/v1/assessments",
                            json={"items": items},
                            headers={"Authorization": f"Bearer {key}"},
                        )
                        response.raise_for_status()
                        latencies[side].append(time.perf_counter() - began)
    champion = ModelArtifact.load(SHIPPED).version
    print(f"champion {champion}, shadow {version}; {args.batch_items} items a batch")
    for side, values in latencies.items():
        print(f"shadow {side}: {len(values)} batches, median {statistics.median(values):.3f} s")
    ratio = statistics.median(latencies["on"]) / statistics.median(latencies["off"])
    print(f"median latency with a shadow / without: {ratio:.3f}")


if __name__ == "__main__":
    main()
