"""The model artifact: a LightGBM booster with its calibration, market profile and manifest, verified on load."""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict

from model.drift import DRIFT_REFERENCE_FILE, DriftReference, DriftReferenceError
from model.features import FEATURES, FeatureMatrix
from model.market_profile import MarketProfile

ARTIFACT_FORMAT = 1
BOOSTER_FILE = "model.txt"
CALIBRATION_FILE = "calibration.json"
PROFILE_FILE = "market_profile.json"
MANIFEST_FILE = "manifest.json"


class ArtifactError(Exception):
    """The artifact is missing, altered, or was built for other features than this code computes."""


class FeatureEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str
    kind: str
    monotone: int
    levels: list[str]


class ThresholdEntry(BaseModel):
    """Items whose raw score is at least `raw_score` made up `inspection_rate` of the validation period."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    inspection_rate: float
    raw_score: float
    probability: float


class Manifest(BaseModel):
    """What `manifest.json` holds; every file of the artifact is listed with its sha256."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())
    format: int
    version: str
    created_at: str
    files: dict[str, str]
    features: list[FeatureEntry]
    training: dict[str, str | int | float]
    metrics: dict[str, float | int | str | list[dict[str, float]]]
    thresholds: list[ThresholdEntry]
    market_profile_sha256: str


def current_feature_entries() -> list[FeatureEntry]:
    return [
        FeatureEntry(
            name=f.name, description=f.description, kind=f.kind, monotone=f.monotone, levels=list(f.levels)
        )
        for f in FEATURES
    ]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_artifact_files(directory: Path) -> dict[str, bytes]:
    """The manifest and every file it lists, as bytes (verify them with `ModelArtifact.from_files`)."""
    manifest_path = directory / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ArtifactError(f"no {MANIFEST_FILE} in {directory}")
    files = {MANIFEST_FILE: manifest_path.read_bytes()}
    for name in Manifest.model_validate_json(files[MANIFEST_FILE]).files:
        path = directory / name
        if not path.is_file():
            raise ArtifactError(f"{name} is listed in the manifest but missing")
        files[name] = path.read_bytes()
    return files


@dataclass(frozen=True)
class Calibration:
    """Increasing map from raw booster score to probability, as breakpoints applied by linear interpolation."""

    raw: list[float]
    probability: list[float]

    def apply(self, raw_scores: FeatureMatrix) -> FeatureMatrix:
        return np.interp(raw_scores, self.raw, self.probability)

    def to_json(self) -> bytes:
        return orjson.dumps({"raw": self.raw, "probability": self.probability})

    @classmethod
    def from_json(cls, raw: bytes) -> "Calibration":
        document = orjson.loads(raw)
        if len(document["raw"]) != len(document["probability"]) or not document["raw"]:
            raise ArtifactError("calibration table is empty or ragged")
        return cls(raw=list(document["raw"]), probability=list(document["probability"]))


class ModelArtifact:
    """A verified artifact, ready to score feature matrices built by `model.features`."""

    def __init__(
        self,
        directory: Path | None,
        manifest: Manifest,
        booster: lgb.Booster,
        calibration: Calibration,
        profile: MarketProfile,
        drift_reference: DriftReference | None = None,
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self.booster = booster
        self.calibration = calibration
        self.profile = profile
        self.drift_reference = drift_reference  # None for artifacts trained before references were kept

    @property
    def version(self) -> str:
        return self.manifest.version

    @classmethod
    def load(cls, directory: Path) -> "ModelArtifact":
        """Load and verify an artifact directory (see `from_files`)."""
        return cls.from_files(read_artifact_files(directory), directory)

    @classmethod
    def from_files(cls, files: Mapping[str, bytes], directory: Path | None = None) -> "ModelArtifact":
        """Load and verify file contents: every listed file's hash, the feature list, and the booster's own
        feature names (the same checks whether the bytes come from a directory or the model registry)."""
        if MANIFEST_FILE not in files:
            raise ArtifactError(f"no {MANIFEST_FILE} among the artifact's files")
        manifest = Manifest.model_validate_json(files[MANIFEST_FILE])
        if manifest.format != ARTIFACT_FORMAT:
            raise ArtifactError(f"artifact format {manifest.format} is not {ARTIFACT_FORMAT}")
        for required in (BOOSTER_FILE, CALIBRATION_FILE, PROFILE_FILE):
            if required not in manifest.files:
                raise ArtifactError(f"manifest does not list {required}")
        for name, expected in manifest.files.items():
            if name not in files:
                raise ArtifactError(f"{name} is listed in the manifest but missing")
            if hashlib.sha256(files[name]).hexdigest() != expected:
                raise ArtifactError(f"{name} does not match its sha256 in the manifest")
        if manifest.features != current_feature_entries():
            raise ArtifactError(
                "the artifact was trained on other features than this code computes; retrain it"
            )
        booster = lgb.Booster(model_str=files[BOOSTER_FILE].decode())
        if booster.feature_name() != [f.name for f in FEATURES]:
            raise ArtifactError("the booster's feature names differ from the manifest")
        if hashlib.sha256(files[PROFILE_FILE]).hexdigest() != manifest.market_profile_sha256:
            raise ArtifactError("the market profile does not match the manifest's market_profile_sha256")
        profile = MarketProfile.from_json(files[PROFILE_FILE])
        calibration = Calibration.from_json(files[CALIBRATION_FILE])
        return cls(directory, manifest, booster, calibration, profile, _drift_reference(files, manifest))

    def raw_scores(self, features: FeatureMatrix) -> FeatureMatrix:
        if len(features) == 0:
            return np.zeros(0)
        return np.asarray(self.booster.predict(features, raw_score=True, num_threads=1), dtype=np.float64)

    def predict(self, features: FeatureMatrix) -> FeatureMatrix:
        """Calibrated probability that each item carries drugs (ties are common: rank by raw_scores)."""
        return self.calibration.apply(self.raw_scores(features))

    def contributions(self, features: FeatureMatrix) -> FeatureMatrix:
        """Per-feature contributions to the raw score (SHAP values); the last column is the bias."""
        return np.asarray(self.booster.predict(features, pred_contrib=True, num_threads=1), dtype=np.float64)


def _drift_reference(files: Mapping[str, bytes], manifest: Manifest) -> DriftReference | None:
    """The training reference for drift monitoring, when the artifact lists one (its hash is checked)."""
    if DRIFT_REFERENCE_FILE not in manifest.files:
        return None
    try:
        return DriftReference.from_json(files[DRIFT_REFERENCE_FILE])
    except DriftReferenceError as exc:
        raise ArtifactError(str(exc)) from exc


def write_artifact(
    directory: Path,
    *,
    booster: lgb.Booster,
    calibration: Calibration,
    profile: MarketProfile,
    version: str,
    created_at: str,
    training: dict[str, str | int | float],
    metrics: dict[str, float | int | str | list[dict[str, float]]],
    thresholds: list[ThresholdEntry],
    extra_files: dict[str, bytes] | None = None,
) -> Manifest:
    """Write every file, then the manifest that lists their hashes (last, so a partial write never loads)."""
    directory.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(directory / BOOSTER_FILE))
    (directory / CALIBRATION_FILE).write_bytes(calibration.to_json())
    profile_sha = profile.save(directory / PROFILE_FILE)
    for name, content in (extra_files or {}).items():
        (directory / name).write_bytes(content)
    names = [BOOSTER_FILE, CALIBRATION_FILE, PROFILE_FILE, *(extra_files or {})]
    manifest = Manifest(
        format=ARTIFACT_FORMAT,
        version=version,
        created_at=created_at,
        files={name: sha256_file(directory / name) for name in names},
        features=current_feature_entries(),
        training=training,
        metrics=metrics,
        thresholds=thresholds,
        market_profile_sha256=profile_sha,
    )
    (directory / MANIFEST_FILE).write_bytes(orjson.dumps(manifest.model_dump(), option=orjson.OPT_INDENT_2))
    return manifest
