"""The service's history store: entity states in the party_history table, one query to load, one to save."""

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db.tables import PartyHistory
from model.history import EntityState

_SEPARATOR = ","
_UPDATED_COLUMNS = (
    "first_seen", "last_seen", "items_short", "items_long", "counterparties", "countries", "holds", "seizures",
    "last_seizure_at",
)  # fmt: skip


def _to_state(row: RowMapping) -> EntityState:
    return EntityState(
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        items_short=row["items_short"],
        items_long=row["items_long"],
        counterparties=tuple(row["counterparties"].split(_SEPARATOR)) if row["counterparties"] else (),
        countries=tuple(row["countries"].split(_SEPARATOR)) if row["countries"] else (),
        holds=row["holds"],
        seizures=row["seizures"],
        last_seizure_at=row["last_seizure_at"],
    )


def _to_row(key: str, state: EntityState) -> dict[str, Any]:
    return {
        "entity_key": key,
        "first_seen": state.first_seen,
        "last_seen": state.last_seen,
        "items_short": state.items_short,
        "items_long": state.items_long,
        "counterparties": _SEPARATOR.join(state.counterparties),
        "countries": _SEPARATOR.join(state.countries),
        "holds": state.holds,
        "seizures": state.seizures,
        "last_seizure_at": state.last_seizure_at,
    }


class SqlHistoryStore:
    """model.history.HistoryStore over SQLAlchemy; callers serialise writers with app.db.engine.lock_history."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def load(self, keys: Iterable[str]) -> dict[str, EntityState]:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        table = PartyHistory.__table__
        rows = self._session.execute(select(table).where(table.c.entity_key.in_(wanted))).mappings()
        return {row["entity_key"]: _to_state(row) for row in rows}

    def save(self, states: Mapping[str, EntityState]) -> None:
        if not states:
            return
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(PartyHistory)
        updated = {name: statement.excluded[name] for name in _UPDATED_COLUMNS}
        upsert = statement.on_conflict_do_update(index_elements=["entity_key"], set_=updated)
        # One compiled statement, executed for every row (psycopg pipelines it; SQLite steps it in C).
        self._session.execute(upsert, [_to_row(key, state) for key, state in sorted(states.items())])
