"""The scorer: a verified model artifact plus the pseudonymiser, turning shipments into calibrated scores."""

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass

import numpy as np

from model.artifact import ModelArtifact
from model.entities import EntityKeys, Pseudonymiser
from model.features import FEATURES, FeatureMatrix, feature_matrix
from model.history import EntityState
from model.shipment import Shipment

REASON_COUNT = 3


@dataclass(frozen=True)
class Reason:
    """One plain-language reason a held item scored high, with the feature behind it."""

    feature: str
    sentence: str
    value: float
    contribution: float


class Scorer:
    """Everything the service needs to score a batch; built once in the app's lifespan."""

    def __init__(self, artifact: ModelArtifact, pseudonymiser: Pseudonymiser) -> None:
        self.artifact = artifact
        self.pseudonymiser = pseudonymiser

    @property
    def model_version(self) -> str:
        return self.artifact.version

    def entity_keys(self, shipments: Sequence[Shipment]) -> list[EntityKeys]:
        return [self.pseudonymiser.keys_for(s) for s in shipments]

    def features(
        self,
        shipments: Sequence[Shipment],
        keys: Sequence[EntityKeys],
        states: MutableMapping[str, EntityState],
    ) -> FeatureMatrix:
        return feature_matrix(shipments, keys, states, self.artifact.profile)

    def scores(self, features: FeatureMatrix) -> tuple[FeatureMatrix, FeatureMatrix]:
        """(raw score, calibrated probability) per row; decisions compare raw scores with thresholds."""
        raw = self.artifact.raw_scores(features)
        return raw, self.artifact.calibration.apply(raw)

    def reasons(self, features: FeatureMatrix) -> list[list[Reason]]:
        """The top positive contributions of each row, as sentences (costly: call off the request path)."""
        contributions = self.artifact.contributions(features)[:, : len(FEATURES)]
        explained = []
        for row, contribution in zip(features, contributions, strict=True):
            order = np.argsort(-contribution)[:REASON_COUNT]
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
