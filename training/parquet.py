"""Parquet exports of replayed worlds: one row per item (feature columns plus labels), partitioned by posting day.

The export is what a Dask cluster reads (`training.distributed`): each day is a folder `posted_on=YYYY-MM-DD`,
the feature columns carry `model.features.FEATURE_NAMES`, and `world` with `row` say which replayed world an
item belongs to and where it stood in that world's time order, so a read restores the exact training set.
"""

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from model.features import FEATURE_NAMES
from model.market_profile import MarketProfile
from training.dataset import Dataset
from training.evaluate import Truth
from training.pipeline import World, make_world
from training.train import TrainConfig
from training.worlds import combine

DAY = "posted_on"
WORLD = "world"  # the world's tag ("s3" for simulator seed 3); "" for a partner's own feed
ROW = "row"  # position in the world's time order
PROFILE_FILE = "_market_profile.json"  # a leading "_": Parquet readers skip it
MAIL_CLASS = "item_mail_class"  # the item's mail class letter (the feature `mail_class` is its code)


def world_table(data: Dataset, truth: Truth | None, tag: str) -> pa.Table:
    """One replayed world as a table: features, posting time and day, labels and (simulations) ground truth."""
    columns: dict[str, pa.Array] = {
        name: pa.array(data.features[:, i]) for i, name in enumerate(FEATURE_NAMES)
    }
    columns[WORLD] = pa.array([tag] * len(data), pa.string())
    columns[ROW] = pa.array(np.arange(len(data), dtype=np.int64))
    columns["posted_at"] = pa.array(data.posted_at)
    columns[DAY] = pa.array([datetime.fromtimestamp(t, UTC).date().isoformat() for t in data.posted_at])
    columns["item_id"] = pa.array(data.item_ids, pa.string())
    columns["inspected"] = pa.array(data.inspected)
    columns["found"] = pa.array(data.found)
    columns["selection_probability"] = pa.array(data.selection_probability)
    columns["selection_reason"] = pa.array(data.selection_reason.tolist(), pa.string())
    columns["destination"] = pa.array(data.destination.tolist(), pa.string())
    columns[MAIL_CLASS] = pa.array(data.mail_class.tolist(), pa.string())
    illicit = truth.illicit if truth is not None else {}
    category = truth.category if truth is not None else {}
    columns["truth_illicit"] = pa.array([illicit.get(i) for i in data.item_ids], pa.bool_())
    columns["truth_category"] = pa.array([category.get(i) for i in data.item_ids], pa.string())
    return pa.table(columns)


def require_new_export(directory: Path) -> None:
    """Refuse to write into a directory that holds anything (an export is never mixed with another)."""
    if directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"{directory} is not empty: export to a new directory")


def export_worlds(
    worlds: list[tuple[str, Dataset, Truth | None]], profile: MarketProfile, directory: Path
) -> int:
    """Write the worlds and the market profile their features read under `directory` (new or empty); rows."""
    start_export(profile, directory)
    return sum(write_world(data, truth, tag, directory) for tag, data, truth in worlds)


def start_export(profile: MarketProfile, directory: Path) -> None:
    """A new export directory holding the market profile; worlds are written into it by `write_world`."""
    require_new_export(directory)
    directory.mkdir(parents=True, exist_ok=True)
    profile.save(directory / PROFILE_FILE)


def write_world(data: Dataset, truth: Truth | None, tag: str, directory: Path) -> int:
    """One world's rows into the export's day folders (files named by the world's tag); rows written."""
    ds.write_dataset(
        world_table(data, truth, tag),
        directory,
        format="parquet",
        partitioning=[DAY],
        partitioning_flavor="hive",
        basename_template=f"{tag or 'feed'}-{{i}}.parquet",
        existing_data_behavior="overwrite_or_ignore",
    )
    return len(data)


def read_profile(directory: Path) -> MarketProfile:
    """The market profile the export's features were computed with (the artifact ships it)."""
    return MarketProfile.load(directory / PROFILE_FILE)


def export_files(directory: Path) -> list[Path]:
    """The export's Parquet files (one world's day each), in a stable order."""
    files = sorted(directory.glob(f"{DAY}=*/*.parquet"))
    if not files:
        raise FileNotFoundError(f"{directory} holds no Parquet export (python -m training export-parquet)")
    return files


def read_table(directory: Path, columns: list[str] | None = None) -> pa.Table:
    """The export (or the chosen columns) in (world, row) order, whatever order the day folders are read in."""
    dataset = ds.dataset(directory, format="parquet", partitioning="hive")
    table = dataset.to_table(columns=columns)
    return table.sort_by([(WORLD, "ascending"), (ROW, "ascending")])


def _strings(table: pa.Table, name: str) -> npt.NDArray[np.str_]:
    return np.asarray(table.column(name).to_pylist(), dtype=np.str_)


def dataset_from_table(table: pa.Table) -> Dataset:
    """The `Dataset` of an export's rows, in the table's order (a worker's partition or a whole world)."""
    features = np.column_stack([table.column(name).to_numpy() for name in FEATURE_NAMES]).astype(np.float64)
    return Dataset(
        features=features.reshape(table.num_rows, len(FEATURE_NAMES)),
        posted_at=table.column("posted_at").to_numpy().astype(np.float64),
        item_ids=[str(i) for i in table.column("item_id").to_pylist()],
        inspected=table.column("inspected").to_numpy(zero_copy_only=False).astype(np.bool_),
        found=table.column("found").to_numpy(zero_copy_only=False).astype(np.bool_),
        selection_probability=table.column("selection_probability").to_numpy().astype(np.float64),
        selection_reason=_strings(table, "selection_reason"),
        destination=_strings(table, "destination"),
        mail_class=_strings(table, MAIL_CLASS),
    )


def _truth(table: pa.Table) -> Truth | None:
    illicit = table.column("truth_illicit")
    if illicit.null_count == table.num_rows:
        return None
    ids = [str(i) for i in table.column("item_id").to_pylist()]
    categories = table.column("truth_category").to_pylist()
    return Truth(
        dict(zip(ids, (bool(v) for v in illicit.to_pylist()), strict=True)),
        {i: str(c) for i, c in zip(ids, categories, strict=True) if c},
    )


def read_worlds(directory: Path, config: TrainConfig) -> tuple[World, dict[str, tuple[float, float]]]:
    """The training set of an export, as `train` builds it from the same worlds, and each world's time cuts."""
    table = read_table(directory)
    tags = sorted(set(table.column(WORLD).to_pylist()))
    worlds = []
    for tag in tags:
        part = table.filter(pc.equal(table.column(WORLD), tag))
        worlds.append((tag, make_world(dataset_from_table(part), _truth(part), config)))
    cuts = {tag: world.split.cuts for tag, world in worlds}
    if tags == [""]:
        return worlds[0][1], cuts
    return combine(worlds), cuts
