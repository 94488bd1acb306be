"""after_commit: callbacks queued on a session run once, after its outermost transaction commits, and never
for work rolled back (the transaction, or the savepoint they were queued in); real SQLite sessions."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import after_commit, make_engine, session_factory


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'radar.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    yield session_factory(engine)
    engine.dispose()


def _write(session: Session) -> None:
    session.execute(text("INSERT INTO t (x) VALUES (1)"))


def test_callbacks_run_once_after_the_commit_in_order(sessions: sessionmaker[Session]) -> None:
    ran: list[str] = []
    with sessions() as session:
        with session.begin():
            _write(session)
            after_commit(session, lambda: ran.append("a"))
            after_commit(session, lambda: ran.append("b"))
            assert ran == []
        assert ran == ["a", "b"]
        with session.begin():
            _write(session)
        assert ran == ["a", "b"]  # the next transaction of the same session runs nothing again


def test_a_rolled_back_transaction_runs_none_and_forgets_them(sessions: sessionmaker[Session]) -> None:
    ran: list[str] = []
    with sessions() as session:
        with session.begin():
            _write(session)
            after_commit(session, lambda: ran.append("rolled back"))
            session.rollback()
        with session.begin():
            _write(session)
            after_commit(session, lambda: ran.append("committed"))
    assert ran == ["committed"]


def test_savepoints_defer_to_the_outer_commit_and_drop_their_own_on_rollback(
    sessions: sessionmaker[Session],
) -> None:
    ran: list[str] = []
    with sessions() as session:
        with session.begin():
            after_commit(session, lambda: ran.append("outer"))
            released = session.begin_nested()
            after_commit(session, lambda: ran.append("released savepoint"))
            inner = session.begin_nested()
            after_commit(session, lambda: ran.append("inner of a released savepoint"))
            inner.commit()
            released.commit()
            assert ran == []  # a savepoint's release is not a commit
            rolled_back = session.begin_nested()
            after_commit(session, lambda: ran.append("rolled-back savepoint"))
            inner = session.begin_nested()
            after_commit(session, lambda: ran.append("inner of a rolled-back savepoint"))
            inner.commit()
            rolled_back.rollback()
            after_commit(session, lambda: ran.append("after the savepoint"))
            _write(session)
        assert ran == ["outer", "released savepoint", "inner of a released savepoint", "after the savepoint"]


def test_sessions_without_the_listeners_are_refused(sessions: sessionmaker[Session]) -> None:
    with Session(sessions.kw["bind"]) as session, pytest.raises(TypeError):
        after_commit(session, lambda: None)


def test_a_transaction_closed_without_commit_or_rollback_forgets_them(
    sessions: sessionmaker[Session],
) -> None:
    ran: list[str] = []
    with sessions() as session:
        session.begin()
        _write(session)
        after_commit(session, lambda: ran.append("closed"))
        session.close()  # no after_rollback fires for this; the session is used again
        with session.begin():
            _write(session)
            after_commit(session, lambda: ran.append("committed"))
    assert ran == ["committed"]


def test_a_failing_callback_neither_fails_the_commit_nor_stops_the_others(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def fails() -> None:
        raise RuntimeError("a count went wrong")

    with sessions() as session:
        with session.begin():
            _write(session)
            after_commit(session, fails)
            after_commit(session, lambda: ran.append("after the failure"))
        with session.begin():
            assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    assert ran == ["after the failure"]
    assert "a callback after the commit failed" in caplog.text
