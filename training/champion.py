"""The champion a model trained from the service's data is compared with, on the same test period.

The champion is an artifact directory (`--champion`), or else the model the service's registry marks champion
(`model_versions.status`, its files in `model_files`). Without ground truth the comparison is among confirmed
findings: recall of drug items the service's inspections found, which favours whatever the old policy selected.
"""

import html
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from model.artifact import ArtifactError, ModelArtifact
from training.dataset import Dataset
from training.evaluate import HEADLINE_RATE, labels_of
from training.html import table_html
from training.metrics import AtRate, at_rate
from training.report import with_interval
from training.service_db import StoredChampion
from training.train import INSPECTION_RATES


@dataclass(frozen=True)
class Champion:
    """The model to compare with, or None, and where it came from (or why there is none)."""

    artifact: ModelArtifact | None
    source: str


def champion_from_directory(directory: Path) -> Champion:
    """The artifact in `directory`, verified; refused with the reason when it does not load."""
    try:
        return Champion(ModelArtifact.load(directory), f"the artifact in {directory}")
    except ArtifactError as exc:
        return Champion(None, f"the artifact in {directory} cannot be used: {exc}")


def champion_from_registry(stored: StoredChampion) -> Champion:
    """The registry's champion, its files written to a temporary directory and verified like any artifact."""
    if stored.version is None:
        return Champion(None, stored.why_none)
    with tempfile.TemporaryDirectory(prefix="champion-") as directory:
        for name, content in stored.files.items():
            if Path(name).name != name:
                return Champion(None, f"the registry's champion {stored.version} has a file named {name!r}")
            (Path(directory) / name).write_bytes(content)
        try:
            return Champion(ModelArtifact.load(Path(directory)), f"the registry's champion {stored.version}")
        except ArtifactError as exc:
            return Champion(None, f"the registry's champion {stored.version} cannot be used: {exc}")


@dataclass(frozen=True)
class ChampionComparison:
    """Challenger and champion at every inspection rate on the same items and labels."""

    champion: str
    source: str
    labels: str
    items: int
    positives: int
    challenger_rows: list[AtRate]
    champion_rows: list[AtRate]

    def metrics(self) -> dict[str, float | int | str | list[dict[str, float]]]:
        """The headline figures, for the manifest."""
        ours, theirs = (
            next(row for row in rows if row.rate == HEADLINE_RATE)
            for rows in (self.challenger_rows, self.champion_rows)
        )
        return {
            "champion_version": self.champion,
            "champion_recall_at_1pct": theirs.recall,
            "champion_precision_at_1pct": theirs.precision,
            "recall_at_1pct_minus_champion": ours.recall - theirs.recall,
        }


def compare_with_champion(
    test: Dataset, challenger_raw: npt.NDArray[np.float64], champion: Champion, seed: int
) -> ChampionComparison | None:
    """Both models' recall and precision at the inspection rates on `test`; None without a champion."""
    if champion.artifact is None:
        return None
    labels, label_source = labels_of(test, None)
    champion_raw = champion.artifact.raw_scores(test.features)

    def curve(scores: npt.NDArray[np.float64]) -> list[AtRate]:
        return [at_rate(scores, labels, rate, np.random.default_rng(seed)) for rate in INSPECTION_RATES]

    return ChampionComparison(
        champion=champion.artifact.version,
        source=champion.source,
        labels=label_source,
        items=len(test),
        positives=int(labels.sum()),
        challenger_rows=curve(challenger_raw),
        champion_rows=curve(champion_raw),
    )


def champion_section(champion: Champion, comparison: ChampionComparison | None) -> str:
    """The report's section comparing this model with the champion (or saying there is none)."""
    if comparison is None:
        return f"<h2>Against the champion</h2><p>No champion to compare with ({html.escape(champion.source)}).</p>"
    rows = [
        [
            f"{ours.rate:.2%}",
            with_interval(ours.recall, ours.recall_low, ours.recall_high),
            with_interval(theirs.recall, theirs.recall_low, theirs.recall_high),
            with_interval(ours.precision, ours.precision_low, ours.precision_high, 4),
            with_interval(theirs.precision, theirs.precision_low, theirs.precision_high, 4),
        ]
        for ours, theirs in zip(comparison.challenger_rows, comparison.champion_rows, strict=True)
    ]
    headers = ["inspection rate", "this model recall", "champion recall", "this model precision",
               "champion precision"]  # fmt: skip
    return (
        f"<h2>Against the champion {html.escape(comparison.champion)}</h2>"
        f"<p>The champion is {html.escape(comparison.source)}. Both models rank the same test period "
        f"({comparison.items:,} items, {comparison.positives:,} confirmed findings); 95% Wilson intervals. "
        f"Labels: {html.escape(comparison.labels)}: a drug item no inspection found counts as clean, so "
        "these figures favour the model whose choices the labels came from.</p>" + table_html(headers, rows)
    )
