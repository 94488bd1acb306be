"""Simulator throughput: items per second and peak memory for about a million items streamed to a temp dir.

Usage: python bench/simulate.py [--profile PROFILE.json] [--workers N] [--items N]
"""

import argparse
import resource
import tempfile
import time
from pathlib import Path

from training.simulate import ScenarioConfig, simulate
from training.simulate.cli import load_profile

ITEMS_PER_DAY = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profile", type=Path, default=None, help="market profile JSON (default: generator's)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--items", type=int, default=1_000_000)
    args = parser.parse_args()
    # The default scenario's autumn weeks average about 1.07 times the yearly mean volume.
    days = max(1, round(args.items / (ITEMS_PER_DAY * 1.07)))
    config = ScenarioConfig(days=days, items_per_day=ITEMS_PER_DAY)
    profile = load_profile(args.profile, config.seed)
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        summary = simulate(config, profile, Path(out), workers=args.workers)
        elapsed = time.perf_counter() - began
        written = sum(f.stat().st_size for f in Path(out).iterdir())
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"items: {summary.items:,} over {days} days with {args.workers} worker(s)")
    print(f"time: {elapsed:.1f} s, {summary.items / elapsed:,.0f} items/s, {written / 1e6:,.0f} MB written")
    print(f"peak RSS: coordinator {parent:,.0f} MB, largest worker {worker:,.0f} MB")


if __name__ == "__main__":
    main()
