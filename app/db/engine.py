"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVarTuple, overload

import orjson
from sqlalchemy import Dialect, Engine, Executable, Insert, Result, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.sql.selectable import TypedReturnsRows
from sqlalchemy.util.typing import TupleAny

logger = logging.getLogger(__name__)
SQLITE_BUSY_TIMEOUT_S = 30
POSTGRES_CONNECT_TIMEOUT_S = 5  # an unreachable server fails the request (503) instead of holding its thread
SQLITE_BEGIN_OPTION = "sqlite_begin"
_Ts = TypeVarTuple("_Ts")


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: a batch's history read and write are one atomic step.
        # Read-only sessions (see read_only) begin DEFERRED and read a WAL snapshot without waiting for writers.
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {'DEFERRED' if mode == 'DEFERRED' else 'IMMEDIATE'}")


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for `url`; SQLite files get WAL, foreign keys and serialised write transactions."""
    url = normalise_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            json_serializer=_json_dumps,  # orjson: the stdlib encoder was a tenth of a batch's time
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        )
        _configure_sqlite(engine)
        return engine
    # pre-ping: a connection the server dropped (restart, failover, network cut) is replaced at checkout
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        json_serializer=_json_dumps,
        connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S},
    )


_AFTER_COMMIT = "after_commit"  # Session.info key: [(innermost transaction when queued, callback)]


class AppSession(Session):
    """The project's sessions: they run the callbacks queued by `after_commit` once their transaction commits.

    One listener pair on the class serves every session: a listener registered per session builds SQLAlchemy
    dispatch objects in reference cycles on every transaction (a garbage collection every few requests)."""


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's outermost transaction commits; never if the work it follows is
    rolled back (the whole transaction, or the savepoint it was queued in)."""
    if not isinstance(session, AppSession):
        raise TypeError("after_commit needs a session from session_factory")
    queued = (session.get_nested_transaction() or session.get_transaction(), callback)
    session.info.setdefault(_AFTER_COMMIT, []).append(queued)


@event.listens_for(AppSession, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction() or not (queued := session.info.pop(_AFTER_COMMIT, None)):
        return  # a savepoint's release: its callbacks wait for the outermost commit
    for _, callback in queued:
        try:
            callback()
        except Exception:  # the work is committed: a failed count must not fail it, nor the callbacks after
            logger.exception("a callback after the commit failed")


@event.listens_for(AppSession, "after_transaction_end")
def _drop_at_end(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended: committed (its callbacks ran), rolled back, or closed without either
    (no after_rollback then): nothing queued in it may run at a later transaction's commit."""
    if transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)


@event.listens_for(AppSession, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    """A savepoint rolled back: its callbacks go (the whole transaction's go when it ends, `_drop_at_end`)."""
    savepoint = session.get_nested_transaction()  # the one rolled back, or None: the whole transaction
    if savepoint is not None and (queued := session.info.get(_AFTER_COMMIT)):
        session.info[_AFTER_COMMIT] = [entry for entry in queued if not _within(entry[0], savepoint)]


def _within(transaction: SessionTransaction | None, savepoint: SessionTransaction) -> bool:
    while transaction is not None and transaction is not savepoint:
        transaction = transaction.parent
    return transaction is savepoint


def session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions on `engine`; read-only ones never take SQLite's write lock (do not write with them)."""
    bind = engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"}) if read_only else engine
    return sessionmaker(bind, class_=AppSession, expire_on_commit=False)


@contextmanager
def one_off_session(url: str) -> Iterator[Session]:
    """A session on an engine of its own, disposed afterwards (commands: no pooled connection outlives them)."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


@dataclass(frozen=True)
class _PositionalRows:
    """An INSERT compiled once for a positional-parameter driver (sqlite3), with the bind processors of the
    columns whose type has one, by parameter position."""

    sql: str
    values: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # a row's values in parameter order
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def bind(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        values = self.values(row)
        if not self.processors:
            return values
        bound = list(values)
        for position, process in self.processors:
            bound[position] = process(bound[position])
        return tuple(bound)


@lru_cache(maxsize=64)
def _positional_rows(statement: Insert, dialect: Dialect, columns: tuple[str, ...]) -> _PositionalRows:
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    names = compiled.positiontup
    if not names:
        raise ValueError(f"{dialect.name} takes no positional parameters")
    if missing := set(names).difference(columns):  # a column SQLAlchemy would fill with its default
        raise ValueError(f"rows without {sorted(missing)}")
    processors = (
        (position, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        for position, name in enumerate(names)
    )
    getter = itemgetter(*names)
    values = getter if len(names) > 1 else lambda row: (getter(row),)
    return _PositionalRows(
        compiled.string, values, tuple((position, p) for position, p in processors if p is not None)
    )


@overload
def read_columns(
    session: Session, statement: TypedReturnsRows[*_Ts], parameters: Mapping[str, Any] | None = None
) -> Result[*_Ts]: ...
@overload
def read_columns(
    session: Session, statement: Executable, parameters: Mapping[str, Any] | None = None
) -> Result[*TupleAny]: ...
def read_columns(
    session: Session, statement: Executable, parameters: Mapping[str, Any] | None = None
) -> Result[*TupleAny]:
    """Run a select of columns (no ORM entity) in the session's transaction, as `session.execute` does: the
    same autoflush first, the same rows, but without the ORM's per-statement bookkeeping (about as much CPU
    as SQLite's own work for a one-row read: a batch's version, audit head and repeat reads)."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, parameters)


def execute_rows(session: Session, statement: Insert, rows: Sequence[Mapping[str, Any]]) -> None:
    """Execute `statement` (an INSERT or upsert) for `rows` (each with the first row's columns) in the session's
    transaction, as `session.execute(statement, rows)` does. On a driver with positional parameters (sqlite3)
    by its own executemany, each value bound by its column type's own processor as SQLAlchemy binds it, but
    without SQLAlchemy's per-row parameter bookkeeping (which cost more than SQLite's own work per row)."""
    if not rows:
        return
    connection = session.connection()
    if not connection.dialect.positional:  # psycopg: SQLAlchemy hands the rows to its executemany
        session.execute(statement, list(rows))
        return
    positional = _positional_rows(statement, connection.dialect, tuple(rows[0]))
    connection.exec_driver_sql(positional.sql, [positional.bind(row) for row in rows])
