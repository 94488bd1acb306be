"""Benchmark: simulate about 1,000,000 items and train on them; prints the time of each stage and peak memory.

    .venv/bin/python bench/train.py [--items 1000000] [--workers 2]

The target (issue 5): training takes at most 3 minutes for 1,000,000 simulated items on 2 cores.
"""

import argparse
import resource
import tempfile
import time
from pathlib import Path

from training.market.profile import default_market_profile
from training.pipeline import TrainingInputs, train_model
from training.simulate import ScenarioConfig, simulate
from training.train import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    defaults = ScenarioConfig()
    days = max(
        7, round(args.items / (defaults.items_per_day * 1.075))
    )  # weekday volume factors average ~1.075
    profile = default_market_profile(seed=0)
    with tempfile.TemporaryDirectory(prefix="bench-train-") as scratch:
        directory = Path(scratch)
        started = time.perf_counter()
        summary = simulate(ScenarioConfig(days=days), profile, directory, workers=args.workers)
        simulated = time.perf_counter() - started
        inputs = TrainingInputs(
            directory / "shipments.jsonl", directory / "outcomes.jsonl", profile, directory / "truth.jsonl"
        )
        started = time.perf_counter()
        result = train_model(inputs, directory / "model", TrainConfig(), workers=args.workers)
        trained = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"items: {summary.items:,} over {days} days ({summary.illicit_items} illicit)")
    print(f"simulate: {simulated:.1f} s ({summary.items / simulated:,.0f} items/s)")
    print(
        f"train: {trained:.1f} s ({summary.items / trained:,.0f} items/s); stages: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    )
    # Only this process: a spawned worker's own peak is about 100 MB, but RUSAGE_CHILDREN would report the
    # parent's pages the child briefly shared before exec.
    print(f"peak RSS: {peak_mb:,.0f} MB (this process)")
    print(
        f"target: train <= 180 s for 1,000,000 items -> {'PASS' if trained * 1e6 / summary.items <= 180 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
