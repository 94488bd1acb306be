"""The service's history store: entity states in the party_history table, one query to load, one to save.

Concurrent writers lock the rows of the keys they will update, in one order (`lock_order`), before reading
them (PostgreSQL; SQLite has one writer at a time by BEGIN IMMEDIATE), so no global lock spans the service and
two batches wait for each other only on the entities they share. Aggregate keys (postcode areas, corridors) are
the exception: a batch reads them unlocked and locks them for its last write only (`save_aggregates`).
"""

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any, cast

import orjson
from sqlalchemy import Insert, Select, Table, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db.engine import execute_rows
from app.db.tables import PartyHistory
from model.features import is_aggregate
from model.history import EntityState, merge

_SEPARATOR = ","
_UPDATED_COLUMNS = (
    "first_seen", "last_seen", "items_short", "items_long", "counterparties", "countries", "holds", "seizures",
    "last_seizure_at",
)  # fmt: skip
# A row the locking transaction inserted for a key with no history yet, so that it has a row to lock; a count
# below zero marks it. The transaction overwrites it with a real state or deletes it, so none is ever committed.
_RESERVED_COUNT = -1.0
# PostgreSQL statements take their keys and rows as one JSON text parameter (orjson, in C): psycopg dumps a
# list parameter element by element in Python, a tenth of a batch's CPU for ~8,000 keys and their states.
# JSON numbers carry floats exactly (orjson writes the shortest form that reads back to the same double).
# One statement locks every row in lock order (`lock_order`): existing rows by the no-op update (WHERE false
# still locks the conflicting row), missing ones by the insert (a concurrent insert of the same key waits).
_LOCK_ROWS = text(
    "INSERT INTO party_history"
    " (entity_key, first_seen, last_seen, items_short, items_long, counterparties, countries, holds, seizures)"
    " SELECT key, 0, 0, :reserved, :reserved, '', '', 0, 0"
    " FROM json_array_elements_text(CAST(:keys AS json)) WITH ORDINALITY AS k(key, position) ORDER BY position"
    " ON CONFLICT (entity_key) DO UPDATE SET entity_key = EXCLUDED.entity_key WHERE false"
)
_NAMED = text("entity_key = ANY(ARRAY(SELECT json_array_elements_text(CAST(:keys AS json))))")
# for rows `lock` locked (so they exist): one UPDATE from the rows as JSON objects
_UPDATE_ROWS = text(
    "UPDATE party_history AS h SET first_seen = v.first_seen, last_seen = v.last_seen,"
    " items_short = v.items_short, items_long = v.items_long, counterparties = v.counterparties,"
    " countries = v.countries, holds = v.holds, seizures = v.seizures, last_seizure_at = v.last_seizure_at"
    " FROM json_to_recordset(CAST(:rows AS json)) AS v(entity_key varchar, first_seen float8, last_seen float8,"
    " items_short float8, items_long float8, counterparties text, countries text, holds int8, seizures int8,"
    " last_seizure_at float8)"
    " WHERE h.entity_key = v.entity_key"
)


_TABLE = cast(Table, PartyHistory.__table__)
# Statements built once: constructing one cost as much CPU as running it for a one-item batch. SQLite takes the
# keys as one JSON parameter too (json_each, in C), not one bound parameter per key.
_LOAD: dict[bool, Select[Any]] = {
    True: select(_TABLE).where(_NAMED),
    False: select(_TABLE).where(text("entity_key IN (SELECT value FROM json_each(:keys))")),
}


@cache
def _upsert(postgres: bool) -> Insert:
    """Insert or update rows by entity key (Core: no ORM bookkeeping per row)."""
    statement = postgresql.insert(_TABLE) if postgres else sqlite.insert(_TABLE)
    updated = {name: statement.excluded[name] for name in _UPDATED_COLUMNS}
    return statement.on_conflict_do_update(index_elements=["entity_key"], set_=updated)


def lock_order(keys: Iterable[str]) -> list[str]:
    """The one order every transaction locks history rows in: entity keys, then the aggregate keys (which a
    batch locks last, model.features.is_aggregate), each sorted; so waits cannot form a cycle."""
    return sorted(set(keys), key=lambda key: (is_aggregate(key), key))


def _to_state(row: Sequence[Any]) -> EntityState:
    """A row of `_LOAD` (the table's columns in order) as a state; positional: a batch reads ~8,000 rows."""
    _, first_seen, last_seen, items_short, items_long, counterparties, countries, holds, seizures, seizure = (
        row
    )
    return EntityState(
        first_seen,
        last_seen,
        items_short,
        items_long,
        tuple(counterparties.split(_SEPARATOR)) if counterparties else (),
        tuple(countries.split(_SEPARATOR)) if countries else (),
        holds,
        seizures,
        seizure,
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
    """model.history.HistoryStore over SQLAlchemy; `load(keys, lock=True)` before a read-modify-write."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._postgres = session.get_bind().dialect.name == "postgresql"
        self._reserved: set[str] = set()
        self._locked: set[str] = set()

    def lock(self, keys: Iterable[str]) -> None:
        """Lock the rows of `keys` (in lock order) until the commit, reserving rows for keys with none."""
        if not self._postgres:  # one writer at a time (BEGIN IMMEDIATE)
            return
        if wanted := lock_order(keys):
            self._session.execute(
                _LOCK_ROWS, {"keys": orjson.dumps(wanted).decode(), "reserved": _RESERVED_COUNT}
            )
            self._locked.update(wanted)

    def load(self, keys: Iterable[str], *, lock: bool = False) -> dict[str, EntityState]:
        """The stored states of `keys`; with `lock`, their rows are locked first (`lock`)."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        if lock:
            self.lock(wanted)
        # One parameter, not one bound parameter per key (a batch names ~8,000 keys); Core rows, not the ORM's,
        # fetched at once (fetching row by row cost psycopg a Python call per row).
        rows = (
            self._session.connection()
            .execute(_LOAD[self._postgres], {"keys": orjson.dumps(wanted).decode()})
            .all()
        )
        states = {}
        for row in rows:
            if row[4] == _RESERVED_COUNT:  # items_long
                self._reserved.add(row[0])
            else:
                states[row[0]] = _to_state(row)
        return states

    def save(self, states: Mapping[str, EntityState]) -> None:
        """Write `states`, and drop the rows reserved by `load` for keys that got no state."""
        unused = sorted(self._reserved.difference(states))
        self._reserved.clear()
        if unused:
            self._session.execute(delete(PartyHistory).where(PartyHistory.entity_key.in_(unused)))
        if not states:
            return
        rows = [_to_row(key, state) for key, state in sorted(states.items())]
        if self._postgres and self._locked.issuperset(states):
            self._session.execute(_UPDATE_ROWS, {"rows": orjson.dumps(rows).decode()})
            return
        execute_rows(self._session, _upsert(self._postgres), rows)  # one compiled statement, stepped in C

    def save_aggregates(
        self,
        states: Mapping[str, EntityState],
        read: Mapping[str, EntityState],
        deltas: Mapping[str, EntityState],
    ) -> None:
        """Write aggregate states computed from `read` (the unlocked read at the batch's start), locking their
        rows only now: a row that still holds what was read gets the state in `states` (as one process would
        write it); a row that another transaction changed since gets it with the batch's own contribution in
        `deltas` merged in (model.history.merge), so no update is lost. SQLite has one writer: no re-read."""
        if not self._postgres:
            self.save(states)
            return
        current = self.load(states, lock=True)
        self.save(
            {
                key: state if current.get(key) == read.get(key) else merge(current.get(key), deltas[key])
                for key, state in states.items()
            }
        )
