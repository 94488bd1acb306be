"""The replayed dataset: one feature row per item in time order, with labels and what reports break down by."""

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from model.entities import EntityKeys
from model.features import FEATURES
from model.shipment import Outcome

CHUNK_ROWS = 50_000


class PreparedItem(NamedTuple):
    """What the replay needs of one shipment once it is validated: keys, corridor, time, static features."""

    line: int
    item_id: str
    posted_on: date
    posted_at: float
    origin: str
    destination: str
    mail_class: str
    keys: EntityKeys
    static: list[float]


@dataclass
class Dataset:
    """Features and labels of every item, in time order, plus what evaluation breaks results down by."""

    features: npt.NDArray[np.float64]
    posted_at: npt.NDArray[np.float64]
    item_ids: list[str]
    inspected: npt.NDArray[np.bool_]
    found: npt.NDArray[np.bool_]
    selection_probability: npt.NDArray[np.float64]
    destination: npt.NDArray[np.str_]
    mail_class: npt.NDArray[np.str_]

    def __len__(self) -> int:
        return len(self.item_ids)

    def subset(self, mask: npt.NDArray[np.bool_]) -> "Dataset":
        index = np.flatnonzero(mask)
        return Dataset(
            features=self.features[index],
            posted_at=self.posted_at[index],
            item_ids=[self.item_ids[i] for i in index],
            inspected=self.inspected[index],
            found=self.found[index],
            selection_probability=self.selection_probability[index],
            destination=self.destination[index],
            mail_class=self.mail_class[index],
        )


@dataclass
class DatasetBuilder:
    chunks: list[npt.NDArray[np.float64]] = field(default_factory=list)
    rows: list[list[float]] = field(default_factory=list)
    posted_at: list[float] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)
    inspected: list[bool] = field(default_factory=list)
    found: list[bool] = field(default_factory=list)
    propensity: list[float] = field(default_factory=list)
    destination: list[str] = field(default_factory=list)
    mail_class: list[str] = field(default_factory=list)

    def add(self, item: PreparedItem, row: list[float], outcome: Outcome | None) -> None:
        self.rows.append(row)
        if len(self.rows) == CHUNK_ROWS:
            self.chunks.append(np.asarray(self.rows, dtype=np.float64))
            self.rows = []
        self.posted_at.append(item.posted_at)
        self.item_ids.append(item.item_id)
        self.inspected.append(outcome is not None)
        self.found.append(outcome is not None and outcome.found_drugs)
        probability = outcome.selection_probability if outcome else None
        self.propensity.append(np.nan if probability is None else probability)
        self.destination.append(item.destination)
        self.mail_class.append(item.mail_class)

    def build(self) -> Dataset:
        if self.rows:
            self.chunks.append(np.asarray(self.rows, dtype=np.float64))
        features = np.concatenate(self.chunks) if self.chunks else np.zeros((0, len(FEATURES)))
        return Dataset(
            features=features,
            posted_at=np.asarray(self.posted_at, dtype=np.float64),
            item_ids=self.item_ids,
            inspected=np.asarray(self.inspected, dtype=np.bool_),
            found=np.asarray(self.found, dtype=np.bool_),
            selection_probability=np.asarray(self.propensity, dtype=np.float64),
            destination=np.asarray(self.destination, dtype=np.str_),
            mail_class=np.asarray(self.mail_class, dtype=np.str_),
        )
