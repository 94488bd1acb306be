"""Migration 0008 (audit chains): the records of the single chain become chain 0 and still verify, new ones
follow them, the schema matches the models, and the downgrade refuses once records were written in chains."""

import orjson
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from app.db.base import Base, utcnow
from app.db.engine import make_engine, session_factory
from app.db.migrate import downgrade, upgrade
from app.services import audit
from tests.conftest import pg_schema


def _legacy_records(url: str, count: int) -> None:
    """`count` records as the single chain before 0008 wrote them (payload without chain or position)."""
    engine = make_engine(url)
    prev_hash = audit.GENESIS
    with engine.begin() as connection:
        for seq in range(1, count + 1):
            at = utcnow()
            document = {"seq": seq, "at": at.isoformat(), "actor": "cli", "action": "legacy", "subject": "s"}
            payload = orjson.dumps({**document, "details": {}}, option=orjson.OPT_SORT_KEYS).decode()
            record_hash = audit.chain_hash(prev_hash, payload)
            connection.execute(
                text(
                    "INSERT INTO audit_log (seq, at, actor, action, subject, payload, prev_hash, hash)"
                    " VALUES (:seq, :at, 'cli', 'legacy', 's', :payload, :prev_hash, :hash)"
                ),
                {"seq": seq, "at": at, "payload": payload, "prev_hash": prev_hash, "hash": record_hash},
            )
            prev_hash = record_hash
    engine.dispose()


def _check(url: str, *, append: bool = False, anchor: bool = False) -> tuple[list[object], int, object]:
    """(differences from the models, records verified, first break) after an optional append or anchor."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session, session.begin():
            if append:
                audit.append(session, actor="cli", action="after", subject="s", details={})
            if anchor:
                audit.anchor(session)
        with engine.connect() as connection:
            differences = list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
        with session_factory(engine)() as session:
            checked, broken = audit.verify_chain(session)
    finally:
        engine.dispose()
    return differences, checked, broken


def _refused_downgrade(url: str) -> bool:
    try:
        downgrade(url, "0007")
    except RuntimeError as refusal:
        return "partitioned chains" in str(refusal)
    return False


# (differences from the models, records verified, first break) at each stage of the round trip
EXPECTED_STAGES = [
    ([], 3, None),  # the legacy chain became chain 0
    ([], 5, None),  # after a downgrade (one chain numbered by seq) and upgrade, one append and an anchor
    True,  # a downgrade once records were written in chains is refused
    ([], 6, None),  # and the refusal changed nothing
]


def _round_trip(url: str) -> list[object]:
    upgrade(url, "0007")
    _legacy_records(url, 3)
    upgrade(url)
    stages: list[object] = [_check(url)]
    downgrade(url, "0007")
    upgrade(url)
    stages.append(_check(url, append=True, anchor=True))  # the anchor has a chain of its own
    stages.append(_refused_downgrade(url))
    stages.append(_check(url, append=True))
    return stages


def test_audit_partitions_migration_on_sqlite(tmp_path_factory: pytest.TempPathFactory) -> None:
    assert _round_trip(f"sqlite:///{tmp_path_factory.mktemp('migration') / 'radar.db'}") == EXPECTED_STAGES


@pytest.mark.postgres
def test_audit_partitions_migration_on_postgres() -> None:
    with pg_schema("radar_audit_migration") as url:
        assert _round_trip(url) == EXPECTED_STAGES
