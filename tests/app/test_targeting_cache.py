"""Rules, list entries and capacity settings are cached per process and reloaded when their tables change: a
second engine on the same database (as another worker process would be) sees every addition, revocation, new
rule version and capacity change from its next batch on."""

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.credentials import PartnerKind, Role, create_officer, create_partner
from app.db.engine import make_engine, session_factory
from app.db.migrate import upgrade
from app.db.tables import Officer
from app.services.policy import Capacity, resolve_capacities
from app.services.policy_admin import (
    add_list_entry,
    delete_capacity,
    revoke_list_entry,
    save_rule,
    set_capacity,
)
from app.services.rules import RuleConditions, active_rules, list_hits
from tests.conftest import pg_schema

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


def _capacities(engine: Engine, partner_id: int) -> dict[str | None, tuple[str, float, float]]:
    with session_factory(engine)() as session:
        resolved = resolve_capacities(
            session, partner_id=partner_id, office_ids={"NL1", None}, default=Capacity("default", 0.01, 0.1)
        )
        return {office: (c.scope, c.inspection_rate, c.exploration_share) for office, c in resolved.items()}


def test_another_process_sees_each_capacity_change_from_its_next_batch(tmp_path: Path) -> None:
    """Capacity settings change in place; the cache sees a new setting, a changed one and a deleted one."""
    url = f"sqlite:///{tmp_path / 'radar.db'}"
    upgrade(url)
    scoring, admin = make_engine(url), make_engine(url)
    try:
        writes = session_factory(admin)
        with writes() as session, session.begin():
            officer = create_officer(session, username="sup", display_name="Sup", role=Role.SUPERVISOR)
            partner = create_partner(session, name="post", kind=PartnerKind.POST).id
        default = ("default", 0.01, 0.1)
        assert _capacities(scoring, partner) == {"NL1": default, None: default}  # now cached
        changes = (
            ("global", 0.05, 0.2, {"NL1": ("global", 0.05, 0.2), None: ("global", 0.05, 0.2)}),
            ("office:NL1", 0.3, 0.0, {"NL1": ("office:NL1", 0.3, 0.0), None: ("global", 0.05, 0.2)}),
            ("office:NL1", 0.4, 0.5, {"NL1": ("office:NL1", 0.4, 0.5), None: ("global", 0.05, 0.2)}),
            (f"partner:{partner}", 0.1, 0.1, {"NL1": ("office:NL1", 0.4, 0.5), None: (f"partner:{partner}", 0.1, 0.1)}),
        )  # fmt: skip
        for scope, rate, share, expected in changes:
            with writes() as session, session.begin():
                set_capacity(
                    session, officer=session.merge(officer), scope=scope, inspection_rate=rate,
                    exploration_share=share,
                )  # fmt: skip
            assert _capacities(scoring, partner) == expected
        for scope, expected in (
            ("office:NL1", {"NL1": (f"partner:{partner}", 0.1, 0.1), None: (f"partner:{partner}", 0.1, 0.1)}),
            (f"partner:{partner}", {"NL1": ("global", 0.05, 0.2), None: ("global", 0.05, 0.2)}),
        ):
            with writes() as session, session.begin():
                delete_capacity(session, officer=session.merge(officer), scope=scope)
            assert _capacities(scoring, partner) == expected
    finally:
        scoring.dispose()
        admin.dispose()


@pytest.mark.postgres
def test_changes_queue_on_the_version_so_none_is_missed_on_postgresql() -> None:
    """PostgreSQL hands out ids as transactions ask, so a list entry with a smaller id could commit after one
    with a larger id; every change also adds to the one targeting version row, so the later writer waits for
    the earlier one's commit, and each process sees both from its next batch on."""
    with pg_schema("radar_targeting") as url:
        upgrade(url)
        scoring, admin = make_engine(url), make_engine(url)
        try:
            writes = session_factory(admin)
            with writes() as session, session.begin():
                officer = create_officer(session, username="sup", display_name="Sup", role=Role.SUPERVISOR)
            assert _hits(scoring) == []

            def add(session: Session, label: str) -> int:
                entry = add_list_entry(
                    session, officer=session.merge(officer), list_kind="watch", entity="sender", key=KEY,
                    label=label, reason="test", expires_at=None,
                )  # fmt: skip
                return entry.id

            with writes() as first, writes() as second, ThreadPoolExecutor(1) as pool:
                early = add(first, "first")
                late = pool.submit(lambda: (add(second, "second"), second.commit())[0])
                time.sleep(0.5)
                assert not late.done(), "the second change did not wait for the first's commit"
                assert _hits(scoring) == []  # nothing committed yet
                first.commit()
                assert late.result(timeout=30) > early
                assert _hits(scoring) == [early, late.result()]
        finally:
            scoring.dispose()
            admin.dispose()
