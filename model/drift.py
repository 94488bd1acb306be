"""Population stability: the training reference of every feature and the score, bin counts, and the PSI."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import orjson

from model.features import FEATURES, FeatureMatrix

DRIFT_REFERENCE_FILE = "drift_reference.json"
REFERENCE_FORMAT = 1
SCORE = "score"  # the reference of the raw score sits beside the features under this name
QUANTILES = tuple(q / 10 for q in range(1, 10))  # decile edges
EXPECTED_FLOOR = 1e-4  # a bin the reference never saw still counts as rare, not impossible
PSEUDO_COUNT = 0.5  # smooths the observed share of empty bins, so a small day is not called drifted
# One day's traffic differs from a training period in these by construction (one weekday; hours so far):
# their PSI is shown but never judged.
CALENDAR_FEATURES = frozenset({"posting_hour", "posting_weekday", "corridor_weekday_fit"})


class DriftReferenceError(Exception):
    """The reference file is malformed or does not describe this code's features."""


@dataclass(frozen=True)
class BinnedReference:
    """One column's bins and the share of reference items in each.

    Numeric columns: bin i < len(edges) holds values below edges[i] (and at or above edges[i - 1]), bin
    len(edges) the values at or above the last edge. Categorical columns: one bin per level. The last bin
    holds missing values (and unknown levels).
    """

    name: str
    kind: str
    edges: tuple[float, ...]
    levels: tuple[str, ...]
    proportions: tuple[float, ...]

    @property
    def bins(self) -> int:
        return len(self.levels) + 1 if self.kind == "categorical" else len(self.edges) + 2

    def bin_of(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """The bin index of every value."""
        missing = self.bins - 1
        if self.kind == "categorical":
            known = ~np.isnan(values) & (values >= 0) & (values < len(self.levels))
            return np.where(known, np.nan_to_num(values).astype(np.int64), missing)
        index = np.searchsorted(np.asarray(self.edges), values, side="right").astype(np.int64)
        return np.where(np.isnan(values), missing, index)

    def counts(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        return np.bincount(self.bin_of(values), minlength=self.bins)

    def psi(self, counts: npt.NDArray[np.int64] | Sequence[int]) -> float:
        """Population stability index of observed bin counts against this reference (0 when none)."""
        observed = np.asarray(counts, dtype=np.float64)
        if observed.sum() <= 0:
            return 0.0
        actual = (observed + PSEUDO_COUNT) / (observed.sum() + PSEUDO_COUNT * len(observed))
        expected = np.maximum(np.asarray(self.proportions), EXPECTED_FLOOR)
        expected = expected / expected.sum()
        return float(np.sum((actual - expected) * np.log(actual / expected)))

    def describe_bin(self, index: int) -> str:
        """A bin in words, for the dashboard."""
        if index == self.bins - 1:
            return "missing"
        if self.kind == "categorical":
            return self.levels[index]
        if not self.edges:
            return "present"
        if index == 0:
            return f"< {self.edges[0]:g}"
        if index == len(self.edges):
            return f">= {self.edges[-1]:g}"
        return f"{self.edges[index - 1]:g} to < {self.edges[index]:g}"


def _fit_column(
    name: str, kind: str, levels: tuple[str, ...], values: npt.NDArray[np.float64]
) -> BinnedReference:
    present = values[~np.isnan(values)]
    edges: tuple[float, ...] = ()
    if kind != "categorical" and len(present):
        edges = tuple(float(e) for e in np.unique(np.quantile(present, QUANTILES)))
    unfitted = BinnedReference(name, kind, edges, levels, ())
    counts = unfitted.counts(values)
    shares = counts / max(1, int(counts.sum()))
    return BinnedReference(name, kind, edges, levels, tuple(float(s) for s in shares))


@dataclass(frozen=True)
class DriftReference:
    """The reference distribution of every feature and of the raw score, learnt from one training period."""

    items: int
    period: str
    columns: tuple[BinnedReference, ...]

    def column(self, name: str) -> BinnedReference:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def bin_counts(
        self, features: FeatureMatrix, raw_scores: npt.NDArray[np.float64]
    ) -> list[tuple[str, int, int]]:
        """(column, bin, items) for every non-empty bin of a batch, in column order then bin order."""
        counted: list[tuple[str, int, int]] = []
        for position, column in enumerate(self.columns):
            values = raw_scores if column.name == SCORE else features[:, position]
            counts = column.counts(np.asarray(values, dtype=np.float64))
            counted.extend((column.name, int(b), int(counts[b])) for b in np.flatnonzero(counts))
        return counted

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "format": REFERENCE_FORMAT,
                "items": self.items,
                "period": self.period,
                "columns": [
                    {
                        "name": c.name,
                        "kind": c.kind,
                        "edges": list(c.edges),
                        "levels": list(c.levels),
                        "proportions": list(c.proportions),
                    }
                    for c in self.columns
                ],
            },
            option=orjson.OPT_INDENT_2,
        )

    @classmethod
    def from_json(cls, raw: bytes) -> "DriftReference":
        """Parse and check that the columns are this code's features, in order, then the score."""
        try:
            document = orjson.loads(raw)
            columns = tuple(
                BinnedReference(
                    name=str(c["name"]),
                    kind=str(c["kind"]),
                    edges=tuple(float(e) for e in c["edges"]),
                    levels=tuple(str(level) for level in c["levels"]),
                    proportions=tuple(float(p) for p in c["proportions"]),
                )
                for c in document["columns"]
            )
            reference = cls(items=int(document["items"]), period=str(document["period"]), columns=columns)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise DriftReferenceError(f"malformed drift reference: {exc}") from exc
        if document.get("format") != REFERENCE_FORMAT:
            raise DriftReferenceError(
                f"drift reference format {document.get('format')} is not {REFERENCE_FORMAT}"
            )
        if [c.name for c in columns] != [f.name for f in FEATURES] + [SCORE]:
            raise DriftReferenceError("the drift reference describes other features than this code computes")
        if any(
            len(c.proportions) != c.bins or not math.isclose(sum(c.proportions), 1.0, abs_tol=1e-6)
            for c in columns
        ):
            raise DriftReferenceError("a drift reference column has shares that do not match its bins")
        return reference


def fit_reference(
    features: FeatureMatrix, raw_scores: npt.NDArray[np.float64], *, period: str
) -> DriftReference:
    """Decile bins (levels for categorical features, missing apart) of every feature and the raw score."""
    if len(features) == 0:
        raise ValueError("a drift reference needs at least one item")
    columns = [
        _fit_column(f.name, f.kind, f.levels, np.asarray(features[:, i], dtype=np.float64))
        for i, f in enumerate(FEATURES)
    ]
    columns.append(_fit_column(SCORE, "numeric", (), np.asarray(raw_scores, dtype=np.float64)))
    return DriftReference(items=len(features), period=period, columns=tuple(columns))
