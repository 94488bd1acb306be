"""Benchmark: recall at 1% on vendor items posted after an identity rotation, against vendors that never adapted.

    .venv/bin/python bench/rotation.py [--days 35] [--items-per-day 6000] [--illicit-share 3e-3]
                                       [--train-seed 11] [--test-seed 12] [--workers 2]

Simulates two worlds of the adaptation scenario (every vendor adapts after a seizure, by changing identity),
trains a model on the first and scores every item of the second, which the model never saw. An item counts as
"after rotation" when its vendor had replaced the identity it was sent under (the simulation's adaptation log
and the truth file's vendor_id and identity); "not adapted" items are those of vendors that had not adapted at
all by then. Both recalls are among the items in the top 1% of the test world's scores, with Wilson intervals.
The target (issue 11.5): after-rotation recall >= 0.6x the not-adapted recall.
"""

import argparse
import json
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from model.artifact import ModelArtifact
from training.files import read_jsonl
from training.market.profile import default_market_profile
from training.pipeline import TrainingInputs, train_model
from training.replay import replay
from training.simulate import ScenarioConfig, simulate
from training.train import TrainConfig

Z = 1.96


def wilson(hits: int, total: int) -> tuple[float, float]:
    """95% Wilson score interval of hits/total."""
    if total == 0:
        return math.nan, math.nan
    share = hits / total
    centre = share + Z * Z / (2 * total)
    spread = Z * math.sqrt(share * (1 - share) / total + Z * Z / (4 * total * total))
    scale = 1 + Z * Z / total
    return (centre - spread) / scale, (centre + spread) / scale


def _rotations(summary_path: Path) -> dict[tuple[str, int], str]:
    """(vendor, identity slot) -> the first day that identity was replaced after a seizure."""
    events = json.loads(summary_path.read_text())["vendors"]["adaptation_events"]
    first: dict[tuple[str, int], str] = {}
    for event in events:
        if event["kind"] == "identity":
            first.setdefault((event["vendor_id"], int(event["seized_identity"])), event["day"])
    return first


def _groups(truth: Path, summary: Path) -> Iterator[tuple[str, str]]:
    """(item_id, group) of every vendor item: 'rotated', 'not_adapted', or 'other' (another adaptation)."""
    rotations = _rotations(summary)
    for record in read_jsonl(truth):
        if not record.get("illicit"):
            continue
        vendor, identity = str(record["vendor_id"]), int(str(record["identity"]))
        rotated_on = rotations.get((vendor, identity))
        if rotated_on is not None and str(record["posted_on"]) > rotated_on:
            yield str(record["item_id"]), "rotated"
        elif int(str(record["habit_version"])) == 0:
            yield str(record["item_id"]), "not_adapted"
        else:
            yield str(record["item_id"]), "other"


def _world(seed: int, args: argparse.Namespace, directory: Path) -> Path:
    config = ScenarioConfig(
        seed=seed,
        days=args.days,
        items_per_day=args.items_per_day,
        illicit_share=args.illicit_share,
        inspection_rate=args.inspection_rate,
        adaptation_probability=1.0,
        adaptation_weights={"identity": 1.0},
    )
    simulate(config, default_market_profile(seed=0), directory, workers=args.workers)
    return directory


def measure(args: argparse.Namespace, scratch: Path) -> None:
    profile = default_market_profile(seed=0)
    train_dir = _world(args.train_seed, args, scratch / "train")
    test_dir = _world(args.test_seed, args, scratch / "test")
    inputs = TrainingInputs(
        train_dir / "shipments.jsonl", train_dir / "outcomes.jsonl", profile, train_dir / "truth.jsonl"
    )
    train_model(inputs, scratch / "model", TrainConfig(seed=1), workers=args.workers)
    artifact = ModelArtifact.load(scratch / "model")
    data = replay(test_dir / "shipments.jsonl", test_dir / "outcomes.jsonl", profile, workers=args.workers)
    scores = artifact.raw_scores(data.features)
    threshold = np.quantile(scores, 0.99)
    flagged = dict(zip(data.item_ids, (scores >= threshold).tolist(), strict=True))
    counts: dict[str, list[int]] = {}
    for item_id, group in _groups(test_dir / "truth.jsonl", test_dir / "summary.json"):
        hits_total = counts.setdefault(group, [0, 0])
        hits_total[0] += int(flagged.get(item_id, False))
        hits_total[1] += 1
    print(f"test world: {len(scores)} items, top 1% = {int(np.sum(scores >= threshold))} items")
    recalls = {}
    for group in ("not_adapted", "rotated", "other"):
        hits, total = counts.get(group, [0, 0])
        low, high = wilson(hits, total)
        recalls[group] = hits / total if total else math.nan
        print(f"{group:12s} recall@1% {recalls[group]:.3f} [{low:.3f}, {high:.3f}]  ({hits}/{total} items)")
    print(f"rotated / not_adapted = {recalls['rotated'] / recalls['not_adapted']:.2f} (target >= 0.6)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--items-per-day", type=int, default=6000)
    parser.add_argument("--illicit-share", type=float, default=3e-3)
    parser.add_argument("--inspection-rate", type=float, default=0.01)
    parser.add_argument("--train-seed", type=int, default=11)
    parser.add_argument("--test-seed", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-rotation-") as scratch:
        measure(args, Path(scratch))


if __name__ == "__main__":
    main()
