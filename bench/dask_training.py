"""Single machine against Dask on one Parquet export, side by side: fit time, trees, quality, back-scoring.

    .venv/bin/python -m bench.dask_training --parquet /tmp/export --workers 2

Both fits take the same export, split, labels and parameters (`training.train`); the single-machine fit uses
LightGBM's two threads in this process, the Dask fit `--workers` local worker processes of one thread each (or
the cluster at `--scheduler`). Quality is the test period's: average precision and recall at 1% with its
95% interval. Back-scoring compares `python -m training score-parquet`'s path with `Booster.predict` here.
"""

import argparse
import tempfile
import time
from pathlib import Path

from model.artifact import ModelArtifact
from training.distributed import dask_client, score_export, train_on_export
from training.parquet import read_profile, read_worlds
from training.pipeline import fit_and_write
from training.simulate import ScenarioConfig
from training.train import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parquet", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scheduler")
    parser.add_argument("--labels", default="truth")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    deployed = ScenarioConfig().illicit_share if args.labels == "truth" else None  # as train --simulate
    config = TrainConfig(labels=args.labels, seed=args.seed, prevalence=deployed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as scratch:
        out = Path(scratch)
        started = time.perf_counter()
        world, _ = read_worlds(args.parquet, config)
        print(f"{len(world.data):,} items read in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        manifest, evaluation, fit_seconds = fit_and_write(
            world, read_profile(args.parquet), out / "single", config
        )
        rows.append(
            ("single machine", fit_seconds, time.perf_counter() - started, manifest.metrics, evaluation)
        )
        started = time.perf_counter()
        with dask_client(args.scheduler, args.workers) as client:
            ready = time.perf_counter() - started
            result = train_on_export(client, args.parquet, out / "dask", config)
            metrics = result.manifest.metrics
            rows.append(
                (
                    f"Dask ({args.workers} workers)",
                    result.seconds["fit"],
                    time.perf_counter() - started,
                    metrics,
                    result.evaluation,
                )
            )
            artifact = ModelArtifact.load(out / "dask")
            started = time.perf_counter()
            scored = score_export(client, artifact, args.parquet, out / "scores")
            dask_scoring = time.perf_counter() - started
        started = time.perf_counter()
        artifact.raw_scores(world.data.features)
        local_scoring = time.perf_counter() - started
    print(
        f"Dask cluster ready in {ready:.1f} s; test period {evaluation.items:,} items, {evaluation.positives} drug items"
    )
    print(
        "| fit | fit s | fit+calibrate+evaluate+write s | trees | average precision | recall at 1% (95% interval) |"
    )
    print("|---|---|---|---|---|---|")
    for name, fit, total, metrics, evaluation in rows:
        headline = evaluation.headline("model")
        print(
            f"| {name} | {fit:.1f} | {total:.1f} | {metrics['best_iteration']} | {evaluation.pr_auc['model']:.3f} | "
            f"{headline.recall:.3f} ({headline.recall_low:.3f}-{headline.recall_high:.3f}) |"
        )
    print(
        f"back-scoring {scored:,} items: Dask {dask_scoring:.1f} s (read, score, write Parquet), "
        f"in-process predict {local_scoring:.1f} s ({scored / max(local_scoring, 1e-9):,.0f} rows/s)"
    )


if __name__ == "__main__":
    main()
