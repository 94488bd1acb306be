"""The replayed dataset: one feature row per item in time order, with labels and what reports break down by."""

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from model.entities import EntityKeys
from model.features import FEATURES, with_history
from model.shipment import Outcome


class PreparedChunk(NamedTuple):
    """A run of shipments once validated: what the replay needs of each, and their history-free features.

    Worker processes build these; the static features travel as one array, which is far cheaper to send
    between processes than a list of floats per item.
    """

    item_ids: list[str]
    posted_on: list[date]
    posted_at: list[float]
    origins: list[str]
    destinations: list[str]
    mail_classes: list[str]
    keys: list[EntityKeys]
    static: npt.NDArray[np.float64]  # one row per item, in SHIPMENT_FEATURES order


@dataclass
class Dataset:
    """Features and labels of every item, in time order, plus what evaluation breaks results down by."""

    features: npt.NDArray[np.float64]
    posted_at: npt.NDArray[np.float64]
    item_ids: list[str]
    inspected: npt.NDArray[np.bool_]
    found: npt.NDArray[np.bool_]
    selection_probability: npt.NDArray[np.float64]
    selection_reason: npt.NDArray[np.str_]  # why an inspected item was selected; "" when not inspected
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
            selection_reason=self.selection_reason[index],
            destination=self.destination[index],
            mail_class=self.mail_class[index],
        )


@dataclass
class DatasetBuilder:
    features: list[npt.NDArray[np.float64]] = field(default_factory=list)
    posted_at: list[float] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)
    inspected: list[bool] = field(default_factory=list)
    found: list[bool] = field(default_factory=list)
    propensity: list[float] = field(default_factory=list)
    selection_reason: list[str] = field(default_factory=list)
    destination: list[str] = field(default_factory=list)
    mail_class: list[str] = field(default_factory=list)

    def add(self, chunk: PreparedChunk, history: list[list[float]], outcomes: list[Outcome | None]) -> None:
        """A replayed chunk: its static features, the history features of each item, and its outcomes."""
        self.features.append(with_history(chunk.static, history))
        self.posted_at.extend(chunk.posted_at)
        self.item_ids.extend(chunk.item_ids)
        self.destination.extend(chunk.destinations)
        self.mail_class.extend(chunk.mail_classes)
        self.add_labels(outcomes)

    def add_labels(self, outcomes: list[Outcome | None]) -> None:
        """Each item's label columns from its current outcome (None: never inspected)."""
        for outcome in outcomes:
            self.inspected.append(outcome is not None)
            self.found.append(outcome is not None and outcome.found_drugs)
            probability = outcome.selection_probability if outcome else None
            self.propensity.append(np.nan if probability is None else probability)
            self.selection_reason.append((outcome.selection_reason or "unknown") if outcome else "")

    def build(self) -> Dataset:
        features = np.concatenate(self.features) if self.features else np.zeros((0, len(FEATURES)))
        return Dataset(
            features=features,
            posted_at=np.asarray(self.posted_at, dtype=np.float64),
            item_ids=self.item_ids,
            inspected=np.asarray(self.inspected, dtype=np.bool_),
            found=np.asarray(self.found, dtype=np.bool_),
            selection_probability=np.asarray(self.propensity, dtype=np.float64),
            selection_reason=np.asarray(self.selection_reason, dtype=np.str_),
            destination=np.asarray(self.destination, dtype=np.str_),
            mail_class=np.asarray(self.mail_class, dtype=np.str_),
        )
