"""A batch's rows reach the database by faster paths than SQLAlchemy's executemany: PostgreSQL takes the
assessment rows as one JSON parameter, SQLite takes the assessment and history rows by its driver's own
executemany (app.db.engine.execute_rows). Either must store exactly what SQLAlchemy's executemany stores."""

import math
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, insert, text

from app.credentials import PartnerKind, create_partner
from app.db.engine import execute_rows, make_engine, session_factory
from app.db.history_store import SqlHistoryStore, _to_row, _upsert
from app.db.migrate import upgrade
from app.ids import new_id
from app.services.assessments import _ASSESSMENTS, _insert_assessments
from model.history import EntityState
from tests.conftest import fresh_database, pg_schema


def _row(item_id: str, **changes: Any) -> dict[str, Any]:
    keys = {c.name: None for c in _ASSESSMENTS.columns if c.name.endswith("_key")}
    row = {
        "id": new_id(),
        "batch_id": new_id(),
        "item_index": 0,
        "item_id": item_id,
        "posted_at": datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
        "posted_on": date(2026, 3, 29),
        "origin": "NL",
        "destination": "DE",
        "mail_class": "E",
        "score": 0.1 + 0.2,
        "raw_score": -8.782562603578347,
        "threshold": 5e-324,
        "decision": "hold",
        "referral": "inspect",
        "selection_reason": "model",
        "selection_probability": 1 / 3,
        "hits": [{"kind": "rule", "id": 7, "name": 'Ünïcode " \\ \u2028 rule'}],
        "model_version": "radar-test",
        **keys,
        "corridor_key": "cor:NL-DE",
        "sender_key": "snd:0123",
        "shipment": {
            "item_id": item_id,
            "weights": [1.5, 1e-7, 123456789.125],
            "note": "é\n\x01",
            "none": None,
        },
        "features": np.array([math.nan, -0.0, 1e300, 2.5], "<f8").tobytes(),
        "created_at": datetime.now(UTC),
    }
    return {**row, **changes}


_ROWS = [
    _row("AA000000001NL"),
    _row("AA000000002NL", score=math.inf, raw_score=-math.inf, threshold=math.nan, features=None),
    _row("AA000000003NL", referral=None, selection_reason=None, decision="release", hits=[], shipment={}),
]
_COLUMNS = [c.name for c in _ASSESSMENTS.columns if c.name not in ("id", "partner_id")]


def _stored_both_ways(url: str, rows: list[dict[str, Any]]) -> tuple[Engine, tuple[int, int]]:
    """`rows` inserted for one partner by `_insert_assessments` and for another by SQLAlchemy's executemany;
    the migrated database's engine and the two partners' ids."""
    upgrade(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        fast, executemany = (
            create_partner(session, name=name, kind=PartnerKind.POST) for name in ("fast", "executemany")
        )
        session.flush()
        ids = fast.id, executemany.id
    with sessions.begin() as session:
        _insert_assessments(session, [{**row, "partner_id": ids[0]} for row in rows])
    with sessions.begin() as session:
        session.execute(
            insert(_ASSESSMENTS), [{**row, "id": row["id"] + "m", "partner_id": ids[1]} for row in rows]
        )
    return engine, ids


@pytest.mark.postgres
def test_json_rows_are_stored_as_executemany_stores_them() -> None:
    with pg_schema("radar_rows") as url:
        engine, ids = _stored_both_ways(url, _ROWS)
        read = text(
            f"SELECT {', '.join(f'{name}::text' for name in _COLUMNS)} FROM assessments"
            " WHERE partner_id = :partner ORDER BY item_id"
        )
        with engine.connect() as connection:
            stored = [connection.execute(read, {"partner": partner}).all() for partner in ids]
        engine.dispose()
    assert len(stored[0]) == len(_ROWS)
    assert stored[0] == stored[1]
    assert stored[0][1][_COLUMNS.index("score")] == "Infinity"


def _sqlite_values(connection: Any, query: str) -> list[list[tuple[str, str]]]:
    """Each stored value with SQLite's type for it, read by the driver (repr: floats to the last bit)."""
    return [[(kind, repr(value)) for kind, value in zip(row[::2], row[1::2], strict=True)]
            for row in connection.exec_driver_sql(query).all()]  # fmt: skip


def test_sqlite_driver_rows_are_stored_as_executemany_stores_them(tmp_path: Path) -> None:
    rows = [{**row, "threshold": -0.0} if math.isnan(row["threshold"]) else row for row in _ROWS]  # NaN: NULL
    engine, ids = _stored_both_ways(f"sqlite:///{tmp_path / 'radar.db'}", rows)
    selected = ", ".join(f"typeof({name}), {name}" for name in _COLUMNS)
    with engine.connect() as connection:
        stored = [
            _sqlite_values(
                connection,
                f"SELECT {selected} FROM assessments WHERE partner_id = {partner} ORDER BY item_id",
            )
            for partner in ids
        ]
    engine.dispose()
    assert len(stored[0]) == len(rows)
    assert stored[0] == stored[1]


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_history_rows_are_stored_as_executemany_stores_them(kind: str, tmp_path: Path) -> None:
    """SqlHistoryStore.save (SQLite: the driver's executemany) against SQLAlchemy's executemany of the same
    upsert, on new keys and on keys that already have a row; then load reads the same states back."""
    states = {
        "snd:a": EntityState(1.5e9, 1.7e9 + 0.1, 0.1 + 0.2, 1 / 3, ("c1", "c2"), ("NL",), 2, 1, 1.6e9),
        "snd:b": EntityState(5e-324, 1e300, math.inf, 0.0, (), (), 0, 0, None),
        "adr:c": EntityState(-0.0, 2.0, 1e-7, 123456789.125, ("x" * 12,) * 3, ("DE", "GB"), 7, 0, None),
    }
    moved = {
        key: EntityState(state.first_seen, state.last_seen + 1, 2.5, 3.5) for key, state in states.items()
    }
    with fresh_database(kind, tmp_path, "radar_history_rows") as url:
        upgrade(url)
        engine = make_engine(url)
        sessions = session_factory(engine)
        for batch in (states, moved):  # inserted, then updated
            with sessions.begin() as session:
                SqlHistoryStore(session).save(batch)
            with sessions.begin() as session:
                postgres = session.get_bind().dialect.name == "postgresql"
                session.execute(
                    _upsert(postgres),
                    [
                        {**row, "entity_key": row["entity_key"].replace(":", ":m")}
                        for row in _history_rows(batch)
                    ],
                )
        with sessions() as session:
            loaded = SqlHistoryStore(session).load([*moved, *(key.replace(":", ":m") for key in moved)])
            rows = session.execute(text("SELECT * FROM party_history ORDER BY entity_key")).all()
        engine.dispose()
    assert {key: state for key, state in loaded.items() if key in moved} == moved
    assert {key.replace(":m", ":"): state for key, state in loaded.items() if ":m" in key} == moved
    by_store = [tuple(map(repr, row[1:])) for row in rows if ":m" not in row[0]]
    by_executemany = [tuple(map(repr, row[1:])) for row in rows if ":m" in row[0]]
    assert len(by_store) == len(moved)
    assert sorted(by_store) == sorted(by_executemany)


def _history_rows(states: dict[str, EntityState]) -> list[dict[str, Any]]:
    return [_to_row(key, state) for key, state in states.items()]


def test_sqlite_driver_rows_refuse_a_column_sqlalchemy_would_default(tmp_path: Path) -> None:
    """SQLAlchemy fills a column the rows leave out from its Python default; the driver's path cannot, so it
    refuses such rows rather than store something else."""
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine).begin() as session:
        row = {k: v for k, v in _ROWS[0].items() if k != "created_at"}  # created_at defaults to utcnow
        with pytest.raises(ValueError, match="created_at"):
            execute_rows(session, insert(_ASSESSMENTS), [{**row, "partner_id": 1}])
    engine.dispose()
