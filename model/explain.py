"""Why an item scored high: its largest positive feature contributions (SHAP values), as plain sentences."""

from dataclasses import dataclass

import numpy as np

from model.artifact import ModelArtifact
from model.features import FEATURES, FeatureMatrix

REASON_COUNT = 3


@dataclass(frozen=True)
class Reason:
    """One plain-language reason a held item scored high, with the feature behind it."""

    feature: str
    sentence: str
    value: float
    contribution: float


def top_reasons(
    artifact: ModelArtifact, features: FeatureMatrix, count: int = REASON_COUNT
) -> list[list[Reason]]:
    """For each row, the `count` largest positive contributions of `artifact` (costly: off the request path).

    Only the artifact that scored a row explains its score: another model's contributions are another story.
    """
    contributions = artifact.contributions(features)[:, : len(FEATURES)]
    explained = []
    for row, contribution in zip(features, contributions, strict=True):
        order = np.argsort(-contribution)[:count]
        explained.append(
            [
                Reason(
                    feature=FEATURES[i].name,
                    sentence=FEATURES[i].explain(float(row[i])),
                    value=float(row[i]),
                    contribution=float(contribution[i]),
                )
                for i in order
                if contribution[i] > 0 and not np.isnan(row[i])
            ]
        )
    return explained
