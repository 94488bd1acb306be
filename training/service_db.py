"""The service's tables as training reads them, with SQLAlchemy Core: the engine, the columns read, the registry.

`training` never imports `app`: these are small definitions of the columns read, the service's migrations own
the schema (tests drive the service's own code and read its tables back through these).
"""

from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    inspect,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from model.artifact import MANIFEST_FILE

_COLUMNS = MetaData()  # the columns training reads; the service's migrations own the schema
ASSESSMENTS = Table(
    "assessments",
    _COLUMNS,
    Column("id", String(32), primary_key=True),
    Column("item_id", String(35)),
    Column("posted_at", DateTime(timezone=True)),
    Column("destination", String(2)),
    Column("mail_class", String(1)),
    Column("decision", String(16)),
    Column("selection_reason", String(16)),
    Column("selection_probability", Float),
    Column("model_version", String(64)),
    Column("features", LargeBinary),
)
OUTCOMES = Table(
    "outcomes",
    _COLUMNS,
    Column("id", Integer, primary_key=True),
    Column("assessment_id", String(32)),
    Column("kind", String(16)),
    Column("result", String(32)),
    Column("substance_category", String(32)),
    Column("inspected_at", DateTime(timezone=True)),
    Column("recorded_at", DateTime(timezone=True)),
    Column("superseded", Boolean),
)


MODEL_VERSIONS = Table(
    "model_versions", _COLUMNS, Column("version", String(64), primary_key=True), Column("status", String(16))
)
MODEL_FILES = Table(
    "model_files",
    _COLUMNS,
    Column("version", String(64), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("content", LargeBinary),
)


class DatabaseTrainingError(Exception):
    """The database holds nothing training can use; the message says what and why."""


def database_engine(url: str) -> Engine:
    """An engine for a SQLite or PostgreSQL URL (plain postgresql:// URLs use psycopg 3)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseTrainingError(f"not a database URL: {exc}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseTrainingError(
            f"{parsed.get_backend_name()} is not supported: give a SQLite or PostgreSQL URL"
        )
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise DatabaseTrainingError(f"no SQLite database file at {parsed.database}")
    return create_engine(parsed)


@dataclass(frozen=True)
class StoredChampion:
    """The registry's champion as stored: its version and files, or why there is none."""

    version: str | None
    files: dict[str, bytes]
    why_none: str = ""


def registry_champion(connection: Connection) -> StoredChampion:
    """The model the registry marks champion, with the bytes of its files."""
    tables = inspect(connection)
    if not (tables.has_table("model_versions") and tables.has_table("model_files")):
        return StoredChampion(None, {}, "no model registry in this database")
    version = connection.scalar(
        select(MODEL_VERSIONS.c.version).where(MODEL_VERSIONS.c.status == "champion").limit(1)
    )
    if version is None:
        return StoredChampion(None, {}, "the registry has no champion")
    files = connection.execute(
        select(MODEL_FILES.c.name, MODEL_FILES.c.content).where(MODEL_FILES.c.version == version)
    )
    return StoredChampion(version, {name: bytes(content) for name, content in files})


def registered_feature_lists(connection: Connection) -> dict[str, list[str]]:
    """The feature names each registered model version's manifest lists (none without a registry)."""
    if not inspect(connection).has_table("model_files"):
        return {}
    manifests = connection.execute(
        select(MODEL_FILES.c.version, MODEL_FILES.c.content).where(MODEL_FILES.c.name == MANIFEST_FILE)
    )
    return {
        version: [str(entry["name"]) for entry in orjson.loads(content).get("features", [])]
        for version, content in manifests
    }
