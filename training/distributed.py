"""Fitting on a Dask cluster: LightGBM's Dask mode over a Parquet export, with early stopping on the driver.

Every file of the export (one world's posting day) becomes a task that reads it with `training.parquet`, labels
its rows with `training.train.labelled_rows` and keeps those of the period; the labelled frames stay on the
workers and `lightgbm.DaskLGBMClassifier` fits on them with the parameters of `training.train`. LightGBM's own
early stopping is unsafe on Dask (each worker judges its own slice of the validation data and a worker that
stops first leaves the others waiting), so the fit grows in blocks of `early_stopping_rounds` trees
(`init_model`), the workers score the validation rows tree by tree, and the driver stops on their average
precision as `lightgbm.early_stopping` would.
"""

import math
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from distributed import Client, Future, LocalCluster
from sklearn.metrics import average_precision_score

from model.artifact import ModelArtifact
from model.features import CATEGORICAL_FEATURES, FEATURE_NAMES
from model.market_profile import MarketProfile
from training.dataset import Dataset
from training.parquet import (
    DAY,
    ROW,
    WORLD,
    dataset_from_table,
    export_files,
    read_profile,
    read_worlds,
    start_export,
    write_world,
)
from training.pipeline import Progress, Summary, TrainingResult, fit_and_write
from training.simulate import ScenarioConfig
from training.train import (
    LabelStrategy,
    Rows,
    TrainConfig,
    booster_params,
    labelled_rows,
    periods,
    require_positives,
)
from training.worlds import simulate_and_replay

LABEL, WEIGHT = "label", "weight"
PERIODS = {"train": 0, "validation": 1}
Cuts = dict[str, tuple[float, float]]
StagedScores = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]


@contextmanager
def dask_client(scheduler: str | None, local_workers: int = 2) -> Iterator[Client]:
    """A client of the scheduler at `scheduler`, or of a cluster of local worker processes (one thread each)."""
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=local_workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def labelled_file(path: str, cuts: Cuts, period: str, strategy: LabelStrategy) -> pd.DataFrame:
    """One export file's rows of `period` as LightGBM's input: features, label and weight (runs on a worker)."""
    table = pq.read_table(path)
    data = dataset_from_table(table)
    tags = table.column(WORLD).to_pylist()
    first = np.array([cuts[tag][0] for tag in tags], dtype=np.float64)
    second = np.array([cuts[tag][1] for tag in tags], dtype=np.float64)
    mask = periods(data.posted_at, first, second)[PERIODS[period]]
    truth = table.column("truth_illicit").fill_null(False).to_numpy(zero_copy_only=False).astype(np.bool_)
    index, labels, weights = labelled_rows(data, mask, strategy, truth if strategy == "truth" else None)
    frame = pd.DataFrame(data.features[index], columns=list(FEATURE_NAMES))
    frame[LABEL], frame[WEIGHT] = labels, weights
    return frame


def staged_scores(frame: pd.DataFrame, booster: lgb.Booster, start: int, stop: int) -> StagedScores:
    """Raw scores of a labelled frame after each of the trees start+1..stop, with its labels and weights."""
    features = frame[list(FEATURE_NAMES)].to_numpy(dtype=np.float64)
    base = np.zeros(len(frame))
    if start > 0:
        base = np.asarray(booster.predict(features, raw_score=True, num_iteration=start, num_threads=1))
    steps = [
        np.asarray(
            booster.predict(features, raw_score=True, start_iteration=i, num_iteration=1, num_threads=1)
        )
        for i in range(start, stop)
    ]
    curves = base[:, None] + np.cumsum(np.column_stack(steps), axis=1)
    return curves, frame[LABEL].to_numpy(np.float64), frame[WEIGHT].to_numpy(np.float64)


@dataclass
class EarlyStopping:
    """`lightgbm.early_stopping` on one metric that grows: stop `patience` trees after the best one."""

    patience: int
    best_score: float = -math.inf
    best_trees: int = 0

    def stop_after(self, trees: int, score: float) -> bool:
        if score > self.best_score:
            self.best_score, self.best_trees = score, trees
            return False
        return trees - self.best_trees >= self.patience


@dataclass
class DaskFitter:
    """`training.train.Fitter` on a Dask cluster, reading the export the driver read (each world's cuts given)."""

    client: Client
    export: Path
    cuts: Cuts
    stages: list[int] = field(default_factory=list)  # trees after each fit on the cluster

    def _period(self, period: str, strategy: LabelStrategy) -> list[Future[pd.DataFrame]]:
        files = [str(path) for path in export_files(self.export)]
        frames = self.client.map(labelled_file, files, cuts=self.cuts, period=period, strategy=strategy)
        sizes = self.client.gather(self.client.map(len, frames))
        return [frame for frame, size in zip(frames, sizes, strict=True) if size]

    def _grow(
        self, frames: list[Future[pd.DataFrame]], params: dict[str, Any], trees: int, init: lgb.Booster | None
    ) -> lgb.Booster:
        train = dd.from_delayed(frames, meta=_meta(), verify_meta=False)
        model = lgb.DaskLGBMClassifier(client=self.client, n_estimators=trees, **params)
        with warnings.catch_warnings():  # Dask sets each worker's threads itself, and says so
            warnings.filterwarnings("ignore", message="Parameter (n_jobs|num_threads) will be ignored")
            model.fit(
                train[list(FEATURE_NAMES)],
                train[LABEL],
                sample_weight=train[WEIGHT],
                init_model=init,
                categorical_feature=list(CATEGORICAL_FEATURES),
            )
        booster: lgb.Booster = model.booster_
        self.stages.append(booster.current_iteration())
        return booster

    def _validation_scores(
        self, frames: list[Future[pd.DataFrame]], booster: lgb.Booster, start: int, stop: int
    ) -> StagedScores:
        shared = self.client.scatter(booster, broadcast=True)
        parts = self.client.gather(
            self.client.map(staged_scores, frames, booster=shared, start=start, stop=stop)
        )
        return tuple(np.concatenate([part[i] for part in parts]) for i in range(3))  # type: ignore[return-value]

    def _check(self, frames: list[Future[pd.DataFrame]], rows: Rows, period: str) -> None:
        sizes = self.client.gather(self.client.map(len, frames))
        positives = self.client.gather(self.client.map(_positives, frames))
        if sum(sizes) != len(rows[0]) or sum(positives) != float(rows[1].sum()):
            raise RuntimeError(
                f"the workers' {period} rows differ from the driver's: is the export complete?"
            )

    def __call__(
        self,
        data: Dataset,
        train_rows: Rows,
        valid_rows: Rows,
        config: TrainConfig,
        init_model: lgb.Booster | None = None,
    ) -> lgb.Booster:
        require_positives(int(train_rows[1].sum()))
        train, valid = self._period("train", config.labels), self._period("validation", config.labels)
        self._check(train, train_rows, "training")
        self._check(valid, valid_rows, "validation")
        params = {k: v for k, v in booster_params(config).items() if k != "num_threads"}
        booster = self._grow(train, params, config.min_trees, None) if init_model is None else init_model
        if valid_rows[1].sum() == 0:
            return booster
        stopping = EarlyStopping(config.early_stopping_rounds)
        while (start := booster.current_iteration()) < config.max_rounds:
            booster = self._grow(
                train, params, min(config.early_stopping_rounds, config.max_rounds - start), booster
            )
            curves, labels, weights = self._validation_scores(
                valid, booster, start, booster.current_iteration()
            )
            scores = [
                float(average_precision_score(labels, column, sample_weight=weights)) for column in curves.T
            ]
            if any(stopping.stop_after(start + 1 + i, score) for i, score in enumerate(scores)):
                break
        booster.best_iteration = stopping.best_trees
        return booster


def _positives(frame: pd.DataFrame) -> float:
    return float(frame[LABEL].sum())


def _meta() -> pd.DataFrame:
    columns = {name: pd.Series(dtype=np.float64) for name in (*FEATURE_NAMES, LABEL, WEIGHT)}
    return pd.DataFrame(columns)


SCORED_KEEP = [WORLD, ROW, "item_id", "posted_at", DAY]


def score_partition(part: pd.DataFrame, artifact: ModelArtifact) -> pd.DataFrame:
    """Raw scores and calibrated probabilities of one partition, as the service computes them."""
    raw = artifact.raw_scores(part[list(FEATURE_NAMES)].to_numpy(dtype=np.float64))
    scored = part[SCORED_KEEP].reset_index(drop=True)
    scored["raw_score"], scored["probability"] = raw, artifact.calibration.apply(raw)
    return scored


def score_export(client: Client, artifact: ModelArtifact, export: Path, out: Path) -> int:
    """Score every row of an export on the cluster and write the scores to Parquet by day; rows scored."""
    frame = dd.read_parquet(str(export), columns=[*FEATURE_NAMES, *SCORED_KEEP])
    meta = score_partition(frame._meta, artifact)
    scored = frame.map_partitions(score_partition, client.scatter(artifact, broadcast=True), meta=meta)
    scored.to_parquet(str(out), partition_on=[DAY], write_index=False)
    return int(ds.dataset(out, format="parquet", partitioning="hive").count_rows())


def train_on_export(
    client: Client, export: Path, out_dir: Path, config: TrainConfig, *, say: Progress = lambda _m: None
) -> TrainingResult:
    """Train on a Parquet export with the fit on the cluster; the artifact is written as `train` writes it."""
    started = time.perf_counter()
    world, cuts = read_worlds(export, config)
    seconds = {"read": time.perf_counter() - started}
    fitter = DaskFitter(client, export, cuts)
    workers = len(client.scheduler_info()["workers"])
    say(f"{len(world.data):,} items from {export}; fitting on {workers} Dask workers")
    extra: Summary = {"fitted_on": f"Dask, {workers} workers", "export": str(export)}
    manifest, evaluation, seconds["fit"] = fit_and_write(
        world, read_profile(export), out_dir, config, extra_summary=extra, fit=fitter, say=say
    )
    say(f"grown in stages of {', '.join(str(trees) for trees in fitter.stages)} trees")
    return TrainingResult(manifest, evaluation, len(world.data), seconds)


def simulated_world_task(scenario: ScenarioConfig, market: MarketProfile, directory: Path) -> int:
    """Simulate and replay one world on a worker and write it into the export (worlds are independent)."""
    data, truth = simulate_and_replay(scenario, market, market, workers=1)  # a worker's processes are daemons
    return write_world(data, truth, f"s{scenario.seed}", directory)


def export_simulated_worlds(
    client: Client, scenarios: list[ScenarioConfig], market: MarketProfile, directory: Path
) -> int:
    """Each world simulated, replayed and exported by its own task, side by side on the cluster; rows written."""
    start_export(market, directory)
    tasks = client.map(simulated_world_task, scenarios, market=market, directory=directory, pure=False)
    return sum(client.gather(tasks))
