"""The scorer: a verified model artifact plus the pseudonymiser, turning shipments into calibrated scores."""

from collections.abc import MutableMapping, Sequence

from model.artifact import ModelArtifact
from model.entities import EntityKeys, Pseudonymiser
from model.explain import Reason, top_reasons
from model.features import FeatureMatrix, feature_matrix, shipment_matrix
from model.history import EntityState
from model.shipment import Shipment


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

    def shipment_features(self, shipments: Sequence[Shipment]) -> FeatureMatrix:
        """The features no history changes (model.features.shipment_matrix), for `features(static=...)`."""
        return shipment_matrix(shipments, self.artifact.profile)

    def features(
        self,
        shipments: Sequence[Shipment],
        keys: Sequence[EntityKeys],
        states: MutableMapping[str, EntityState],
        static: FeatureMatrix | None = None,
    ) -> FeatureMatrix:
        """The feature matrix; `static`: the items' `shipment_features`, if worked out before."""
        return feature_matrix(shipments, keys, states, self.artifact.profile, static)

    def scores(self, features: FeatureMatrix) -> tuple[FeatureMatrix, FeatureMatrix]:
        """(raw score, calibrated probability) per row; decisions compare raw scores with thresholds."""
        raw = self.artifact.raw_scores(features)
        return raw, self.artifact.calibration.apply(raw)

    def reasons(self, features: FeatureMatrix) -> list[list[Reason]]:
        """The top positive contributions of each row, as sentences (costly: call off the request path)."""
        return top_reasons(self.artifact, features)
