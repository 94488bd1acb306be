"""Dask past one machine: a Parquet export of a replayed world, fitted and back-scored on a 2-worker LocalCluster."""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pytest
from distributed import Client
from typer.testing import CliRunner

from model.artifact import ModelArtifact
from model.features import FEATURE_NAMES
from training.cli import cli
from training.dataset import Dataset
from training.distributed import EarlyStopping, dask_client, score_export, train_on_export
from training.evaluate import Evaluation, Truth
from training.market.profile import default_market_profile
from training.parquet import export_worlds, read_profile, read_worlds
from training.pipeline import TrainingResult, fit_and_write, make_world
from training.simulate import ScenarioConfig, simulate
from training.train import TrainConfig
from training.worlds import TRAINING_WORLD, simulate_and_replay

# Two small worlds with a raised illicit share: about 160 drug items each, 30 in each test period.
SCENARIO = ScenarioConfig(days=10, items_per_day=1600, illicit_share=1e-2, inspection_rate=0.02)
# The shipped parameters with fewer rounds at most (both fits take the same config): 60, then one block.
CONFIG = TrainConfig(labels="truth", seed=1, prevalence=1e-2, max_rounds=120)


@dataclass(frozen=True)
class Export:
    directory: Path
    worlds: list[tuple[str, Dataset, Truth]]


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Export:
    market = default_market_profile(seed=0)
    worlds = []
    for seed in (3, 4):
        data, truth = simulate_and_replay(replace(SCENARIO, seed=seed), market, market, workers=1)
        worlds.append((f"s{seed}", data, truth))
    directory = tmp_path_factory.mktemp("export") / "parquet"
    export_worlds(worlds, market, directory)  # type: ignore[arg-type]
    return Export(directory, worlds)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with dask_client(None, local_workers=2) as connected:
        yield connected


@dataclass(frozen=True)
class Trained:
    single: Evaluation
    single_metrics: dict[str, object]
    single_files: set[str]
    dask: TrainingResult
    dask_dir: Path


@pytest.fixture(scope="module")
def trained(export: Export, client: Client, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """The same export fitted in this process and on the cluster, with the same config."""
    directory = tmp_path_factory.mktemp("trained")
    world, _ = read_worlds(export.directory, CONFIG)
    profile = read_profile(export.directory)
    manifest, evaluation, _ = fit_and_write(world, profile, directory / "single", CONFIG)
    result = train_on_export(client, export.directory, directory / "dask", CONFIG)
    return Trained(evaluation, dict(manifest.metrics), set(manifest.files), result, directory / "dask")


def test_export_reads_back_as_the_worlds_it_was_written_from(export: Export) -> None:
    world, cuts = read_worlds(export.directory, CONFIG)
    offset = 0
    for tag, data, truth in export.worlds:
        rows = slice(offset, offset + len(data))
        np.testing.assert_array_equal(world.data.features[rows], data.features)
        np.testing.assert_array_equal(world.data.posted_at[rows], data.posted_at)
        assert world.data.item_ids[rows] == [f"{tag}/{i}" for i in data.item_ids]
        np.testing.assert_array_equal(world.data.found[rows], data.found)
        np.testing.assert_array_equal(world.data.mail_class[rows], data.mail_class)
        assert world.truth_labels is not None
        assert world.truth_labels[rows].tolist() == [truth.illicit[i] for i in data.item_ids]
        assert cuts[tag] == make_world(data, truth, CONFIG).split.cuts
        offset += len(data)
    assert len(world.data) == offset
    assert read_profile(export.directory).to_json() == default_market_profile(seed=0).to_json()


def test_early_stopping_stops_as_lightgbm_does() -> None:
    stopping = EarlyStopping(patience=3)
    scores = [0.1, 0.3, 0.2, 0.35, 0.25, 0.4, 0.39, 0.4, 0.37, 0.5]  # an equal score is no improvement
    stopped = next(trees for trees, score in enumerate(scores, 1) if stopping.stop_after(trees, score))
    assert (stopped, stopping.best_trees, stopping.best_score) == (9, 6, 0.4)


def test_dask_fit_writes_the_same_artifact_with_quality_within_noise(trained: Trained) -> None:
    artifact = ModelArtifact.load(trained.dask_dir)  # verified as any artifact the service loads
    assert artifact.manifest.training["fitted_on"] == "Dask, 2 workers"
    assert set(artifact.manifest.metrics) == set(trained.single_metrics)
    assert set(artifact.manifest.files) == trained.single_files  # booster, calibration, report...
    # Quality within noise on the same test period (about 60 drug items): the Dask model's recall at 1%
    # inside the single-machine model's 95% interval, and its average precision within 0.1.
    single, dask = trained.single.headline("model"), trained.dask.evaluation.headline("model")
    figures = f"recall at 1%: single {single.recall:.3f}, Dask {dask.recall:.3f}; average precision: " + (
        f"single {trained.single.pr_auc['model']:.3f}, Dask {trained.dask.evaluation.pr_auc['model']:.3f}"
    )
    assert single.recall_low <= dask.recall <= single.recall_high, figures
    assert abs(trained.dask.evaluation.pr_auc["model"] - trained.single.pr_auc["model"]) <= 0.1, figures
    assert dask.recall >= 10 * trained.dask.evaluation.headline("random").recall


def test_back_scoring_on_the_cluster_equals_predict_in_process(
    export: Export, client: Client, trained: Trained, tmp_path: Path
) -> None:
    artifact = ModelArtifact.load(trained.dask_dir)
    scored = score_export(client, artifact, export.directory, tmp_path / "scores")
    table = ds.dataset(tmp_path / "scores", format="parquet", partitioning="hive").to_table()
    table = table.sort_by([("world", "ascending"), ("row", "ascending")])
    features = np.concatenate([data.features for _, data, _ in export.worlds])  # as replayed, not as exported
    expected = np.asarray(artifact.booster.predict(features, raw_score=True))
    assert scored == len(features) == table.num_rows
    np.testing.assert_allclose(table.column("raw_score").to_numpy(), expected, rtol=0, atol=1e-9)
    probability = artifact.calibration.apply(expected)
    np.testing.assert_allclose(table.column("probability").to_numpy(), probability, rtol=0, atol=1e-9)


def test_cli_exports_a_feed_and_back_scores_it_on_a_running_scheduler(
    client: Client, trained: Trained, tmp_path: Path
) -> None:
    feed, parquet = tmp_path / "feed", tmp_path / "parquet"
    simulate(ScenarioConfig(days=2, items_per_day=300, seed=9), default_market_profile(seed=0), feed)
    files = ["--shipments", str(feed / "shipments.jsonl"), "--outcomes", str(feed / "outcomes.jsonl")]
    runner = CliRunner()
    exported = runner.invoke(cli, ["export-parquet", "--out", str(parquet), *files])
    assert exported.exit_code == 0, exported.output
    world, _ = read_worlds(parquet, CONFIG)
    assert len(world.data) == len((feed / "shipments.jsonl").read_text().splitlines())
    assert world.truth_labels is None  # no ground truth given: real traffic has none
    again = runner.invoke(cli, ["export-parquet", "--out", str(parquet), *files])
    assert again.exit_code == 2
    assert "is not empty" in " ".join(again.output.replace("│", " ").split())

    worlds = tmp_path / "worlds"  # simulated and replayed side by side, one task per world
    small = ["--days", "2", "--items-per-day", "300"]
    address = client.scheduler.address
    simulated = runner.invoke(
        cli, ["export-parquet", "--out", str(worlds), "--seeds", "5,6", *small, "--scheduler", address]
    )
    assert simulated.exit_code == 0, simulated.output
    on_cluster, _ = read_worlds(worlds, CONFIG)
    market = default_market_profile(seed=0)
    here, _ = simulate_and_replay(replace(TRAINING_WORLD, days=2, items_per_day=300, seed=6), market, market)
    from_six = np.flatnonzero(np.char.startswith(np.asarray(on_cluster.data.item_ids), "s6/"))
    np.testing.assert_array_equal(on_cluster.data.features[from_six], here.features)
    assert len(on_cluster.data) > len(from_six) > 0

    scores = tmp_path / "scores"
    command = [
        "score-parquet",
        "--model",
        str(trained.dask_dir),
        "--parquet",
        str(parquet),
        "--out",
        str(scores),
    ]
    scored = runner.invoke(cli, [*command, "--scheduler", address])
    assert scored.exit_code == 0, scored.output
    table = ds.dataset(scores, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == len(world.data)
    assert {"item_id", "raw_score", "probability", "posted_on"} <= set(table.column_names)
    assert not set(FEATURE_NAMES) & set(table.column_names)
