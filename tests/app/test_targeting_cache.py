"""Rules and list entries are cached per process and reloaded when their tables change: a second engine on
the same database (as another worker process would be) sees every addition, revocation and new rule version
from its next batch on."""

from pathlib import Path

from sqlalchemy import Engine

from app.credentials import Role, create_officer
from app.db.engine import make_engine, session_factory
from app.db.migrate import upgrade
from app.db.tables import Officer
from app.services.policy_admin import add_list_entry, revoke_list_entry, save_rule
from app.services.rules import RuleConditions, active_rules, list_hits

KEY = "snd:0123456789abcdef"


def _hits(engine: Engine) -> list[int]:
    with session_factory(engine)() as session:
        return [hit.entry_id for hit in list_hits(session, [KEY, "snd:other"]).get(KEY, [])]


def _rules(engine: Engine) -> list[tuple[str, int]]:
    with session_factory(engine)() as session:
        return [(rule.rule_id, rule.version) for rule in active_rules(session)]


def test_another_process_sees_each_change_from_its_next_batch(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    upgrade(url)
    scoring, admin = make_engine(url), make_engine(url)  # two engines: two processes' caches
    try:
        with session_factory(admin)() as session, session.begin():
            officer = create_officer(session, username="sup", display_name="Sup", role=Role.SUPERVISOR)
        assert _hits(scoring) == []  # now cached, empty
        assert _rules(scoring) == []
        writes = session_factory(admin)
        with writes() as session, session.begin():
            entry = add_list_entry(
                session, officer=session.merge(officer), list_kind="watch", entity="sender", key=KEY,
                label="a sender", reason="test", expires_at=None,
            )  # fmt: skip
        assert _hits(scoring) == [entry.id]
        conditions = RuleConditions(origins=["NL"])
        for active, expected in ((True, [("r1", 1)]), (False, [])):
            with writes() as session, session.begin():
                save_rule(
                    session, officer=session.merge(officer), rule_id="r1", name="NL", conditions=conditions,
                    action="hold", raise_by=0.0, active=active, expires_at=None,
                )  # fmt: skip
            assert _rules(scoring) == expected
        with writes() as session, session.begin():
            revoke_list_entry(
                session, officer=session.get_one(Officer, officer.id), entry_id=entry.id, reason="x"
            )
        assert _hits(scoring) == []
    finally:
        scoring.dispose()
        admin.dispose()
