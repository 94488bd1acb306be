"""read_columns: the rows `session.execute` returns for a select of columns, after the same autoflush, on a
real SQLite session."""

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.db.engine import make_engine, read_columns, session_factory


class _Base(DeclarativeBase):
    pass


class _Row(_Base):
    __tablename__ = "rows"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


def test_the_same_rows_as_session_execute_after_the_same_autoflush(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'radar.db'}")
    _Base.metadata.create_all(engine)
    statement = select(_Row.id, _Row.name).order_by(_Row.id)
    with session_factory(engine)() as session, session.begin():
        session.add_all([_Row(id=2, name="b"), _Row(id=1, name="a")])  # pending: flushed by either read
        rows = read_columns(session, statement).all()
        assert rows == session.execute(statement).all() == [(1, "a"), (2, "b")]
        assert rows[0].name == "a"
        session.add(_Row(id=3, name="c"))
        with session.no_autoflush:  # and no flush where session.execute would not flush
            assert read_columns(session, select(func.count()).select_from(_Row)).scalar_one() == 2
        assert read_columns(session, select(_Row.name).where(_Row.id == 3)).scalar_one() == "c"
    engine.dispose()
