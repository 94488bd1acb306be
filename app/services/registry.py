"""The model registry: artifacts kept in the database and verified on register and on load; promotion,
rollback and the shadow, each audited in the caller's transaction."""

import hashlib
from collections.abc import Mapping
from enum import StrEnum

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.tables import ModelFile, ModelVersion
from app.errors import Conflict, NotFound
from app.services import audit
from model.artifact import MANIFEST_FILE, ArtifactError, Manifest, ModelArtifact

REGISTRY_LOCK_ID = 7_204_118_006
NAME_LENGTH = 64


class ModelStatus(StrEnum):
    REGISTERED = "registered"
    SHADOW = "shadow"
    CHAMPION = "champion"
    RETIRED = "retired"


def _lock(session: Session) -> None:
    """One registry change at a time (SQLite serialises writers already; PostgreSQL takes an advisory lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:lock_id)"), {"lock_id": REGISTRY_LOCK_ID})


def _with_status(session: Session, status: ModelStatus) -> ModelVersion | None:
    return session.scalar(select(ModelVersion).where(ModelVersion.status == status.value))


def _version(session: Session, version: str) -> ModelVersion:
    row = session.get(ModelVersion, version)
    if row is None:
        raise NotFound(f"no registered model {version!r}")
    return row


def serving_versions(session: Session) -> tuple[str | None, str | None]:
    """(champion, shadow) versions: the one cheap query each worker polls."""
    rows = session.execute(
        select(ModelVersion.status, ModelVersion.version).where(
            ModelVersion.status.in_([ModelStatus.CHAMPION.value, ModelStatus.SHADOW.value])
        )
    )
    found = {row.status: row.version for row in rows}
    return found.get(ModelStatus.CHAMPION.value), found.get(ModelStatus.SHADOW.value)


def list_versions(session: Session) -> list[ModelVersion]:
    """Every registered version, newest first."""
    return list(session.scalars(select(ModelVersion).order_by(ModelVersion.registered_at.desc())))


def manifest_sha256(files: Mapping[str, bytes]) -> str:
    return hashlib.sha256(files[MANIFEST_FILE]).hexdigest()


def register(
    session: Session,
    files: Mapping[str, bytes],
    *,
    actor: str,
    status: ModelStatus = ModelStatus.REGISTERED,
) -> ModelVersion:
    """Verify the artifact's files (ArtifactError if altered), store them, and optionally make the new
    version the champion or the shadow."""
    artifact = ModelArtifact.from_files(files)
    names = [MANIFEST_FILE, *artifact.manifest.files]
    if len(artifact.version) > NAME_LENGTH or any(len(n) > NAME_LENGTH or "/" in n for n in names):
        raise ArtifactError(f"versions and file names are plain names of at most {NAME_LENGTH} characters")
    _lock(session)
    if session.get(ModelVersion, artifact.version) is not None:
        raise Conflict(f"model {artifact.version} is registered already")
    row = ModelVersion(
        version=artifact.version,
        status=ModelStatus.REGISTERED.value,
        manifest_sha256=manifest_sha256(files),
        metrics=dict(artifact.manifest.metrics),
        registered_at=utcnow(),
        registered_by=actor[:NAME_LENGTH],
    )
    session.add(row)
    session.flush()
    session.add_all(ModelFile(version=row.version, name=name, content=files[name]) for name in names)
    audit.append(
        session,
        actor=actor,
        action="model.registered",
        subject=f"model:{row.version}",
        details={"manifest_sha256": row.manifest_sha256, "files": sorted(names)},
    )
    if status == ModelStatus.CHAMPION:
        promote(session, row.version, actor=actor)
    elif status == ModelStatus.SHADOW:
        set_shadow(session, row.version, actor=actor)
    return row


def _crown(session: Session, target: ModelVersion) -> ModelVersion | None:
    """Make `target` the champion and retire the one it replaces (returned)."""
    now = utcnow()
    previous = _with_status(session, ModelStatus.CHAMPION)
    if previous is not None:
        previous.status, previous.retired_at = ModelStatus.RETIRED.value, now
    target.status, target.promoted_at, target.retired_at = ModelStatus.CHAMPION.value, now, None
    session.flush()
    return previous


def promote(session: Session, version: str, *, actor: str) -> ModelVersion:
    """Make a registered (or shadow, or retired) version the champion; every worker switches to it."""
    _lock(session)
    target = _version(session, version)
    if target.status == ModelStatus.CHAMPION:
        raise Conflict(f"model {version} is the champion already")
    previous = _crown(session, target)
    audit.append(
        session,
        actor=actor,
        action="model.promoted",
        subject=f"model:{version}",
        details={"previous": previous.version if previous else None},
    )
    return target


def rollback(session: Session, *, actor: str) -> ModelVersion:
    """Back to the champion before the current one (the most recently promoted other version)."""
    _lock(session)
    current = _with_status(session, ModelStatus.CHAMPION)
    if current is None:
        raise Conflict("there is no champion to roll back")
    target = session.scalar(
        select(ModelVersion)
        .where(ModelVersion.version != current.version, ModelVersion.promoted_at.is_not(None))
        .order_by(ModelVersion.promoted_at.desc())
        .limit(1)
    )
    if target is None:
        raise Conflict(f"{current.version} is the only model that was ever champion; nothing to roll back to")
    _crown(session, target)
    audit.append(
        session,
        actor=actor,
        action="model.rolled_back",
        subject=f"model:{target.version}",
        details={"from": current.version, "to": target.version},
    )
    return target


def set_shadow(session: Session, version: str | None, *, actor: str) -> ModelVersion | None:
    """Score every batch also with `version` (None: stop shadowing); decisions stay the champion's."""
    _lock(session)
    target = _version(session, version) if version is not None else None
    if target is not None and target.status == ModelStatus.CHAMPION:
        raise Conflict(f"model {version} is the champion; shadow another version")
    previous = _with_status(session, ModelStatus.SHADOW)
    if previous is not None:
        retired = previous.promoted_at is not None
        previous.status = (ModelStatus.RETIRED if retired else ModelStatus.REGISTERED).value
    if target is not None:
        target.status = ModelStatus.SHADOW.value
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="model.shadow",
        subject=f"model:{version}" if version else "model:shadow",
        details={"shadow": version, "previous": previous.version if previous else None},
    )
    return target


def load_artifact(session: Session, version: str) -> ModelArtifact:
    """The registered version's artifact, verified again (hashes, features) as it is loaded."""
    row = _version(session, version)
    files = {
        f.name: f.content for f in session.scalars(select(ModelFile).where(ModelFile.version == version))
    }
    if MANIFEST_FILE not in files or manifest_sha256(files) != row.manifest_sha256:
        raise ArtifactError(f"the stored manifest of {version} differs from the one registered")
    artifact = ModelArtifact.from_files(files)
    if artifact.version != version:
        raise ArtifactError(f"the stored artifact of {version} says it is {artifact.version}")
    return artifact


def adopt_champion(session: Session, files: Mapping[str, bytes], *, actor: str) -> str:
    """The champion's version; with none yet, the given artifact (the configured directory) becomes it."""
    _lock(session)
    if (champion := _with_status(session, ModelStatus.CHAMPION)) is not None:
        return champion.version
    existing = session.get(ModelVersion, Manifest.model_validate_json(files[MANIFEST_FILE]).version)
    if existing is None:
        return register(session, files, actor=actor, status=ModelStatus.CHAMPION).version
    if existing.manifest_sha256 != manifest_sha256(files):
        raise Conflict(
            f"model {existing.version} is registered with another manifest than the configured one"
        )
    return promote(session, existing.version, actor=actor).version
