"""The audit log: officer actions are recorded, and `verify-audit` names the first edited, deleted or moved record,
in any of the chains concurrent transactions append to."""

import re
import threading
from collections import Counter
from collections.abc import Iterator

import orjson
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from app.db.engine import make_engine, session_factory
from app.db.migrate import upgrade
from app.db.tables import AuditRecord
from app.services import audit
from app.services.audit import ChainBreak, verify_chain
from tests.app.review_support import audit_actions, held_by_rule, verify_audit_cli
from tests.conftest import Service, pg_schema

TAMPERING = {
    "edit": [
        'UPDATE audit_log SET payload = replace(payload, \'"by":"officer-\', \'"by":"nobody-\') WHERE seq = :seq'
    ],
    "delete": ["DELETE FROM audit_log WHERE seq = :seq"],
    "reorder": [
        "UPDATE audit_log SET seq = -1 WHERE seq = :seq",
        "UPDATE audit_log SET seq = :seq WHERE seq = :seq + 1",
        "UPDATE audit_log SET seq = :seq + 1 WHERE seq = -1",
    ],
}


def _worked_case(service: Service) -> int:
    """A case claimed, its parties read, decided and corrected: one audit record for each action."""
    case = held_by_rule(service, count=1)[0]
    url = f"/v1/review/cases/{case['case_id']}"
    headers = service.as_officer()
    service.client.post(f"{url}/claim", headers=headers)
    service.client.post(
        f"{url}/parties", json={"purpose": "Compare the sender with the watchlist"}, headers=headers
    )
    service.client.post(f"{url}/outcome", json={"result": "nothing_found"}, headers=headers)
    correction = {"result": "not_presented", "reason": "The item was never brought to the bench"}
    assert service.client.post(f"{url}/correction", json=correction, headers=headers).status_code == 201
    return int(case["case_id"])


def _claim_seq(service: Service, case_id: int) -> int:
    with service.engine.connect() as connection:
        seq = connection.execute(
            text("SELECT seq FROM audit_log WHERE action = 'case.claim' AND subject = :subject"),
            {"subject": f"case:{case_id}"},
        ).scalar_one()
    return int(seq)


def test_officer_actions_are_audited_in_order(service: Service) -> None:
    case_id = _worked_case(service)
    records = audit_actions(service, f"case:{case_id}")
    assert [action for action, _ in records] == [
        "case.claim",
        "parties.read",
        "outcome.record",
        "outcome.correct",
    ]
    details = [orjson.loads(payload)["details"] for _, payload in records]
    assert details[1]["purpose"] == "Compare the sender with the watchlist"
    assert details[3]["previous_result"] == "nothing_found"
    assert all(d["by"].startswith("officer-") for d in details)
    exit_code, output = verify_audit_cli(service.settings.database_url)
    assert exit_code == 0, output
    checked = int(re.search(r"verified: (\d+) records", output).group(1))  # type: ignore[union-attr]
    assert checked >= 6  # the rule, the batch, and the four actions above


@pytest.mark.parametrize("tampering", sorted(TAMPERING))
def test_verify_audit_names_the_first_tampered_record(service: Service, tampering: str) -> None:
    seq = _claim_seq(service, _worked_case(service))
    with service.engine.begin() as connection:
        for statement in TAMPERING[tampering]:
            changed = connection.execute(text(statement), {"seq": seq})
            assert getattr(changed, "rowcount", 1) == 1
    exit_code, output = verify_audit_cli(service.settings.database_url)
    assert exit_code == 1, output
    first_broken = seq + 1 if tampering == "delete" else seq
    assert f"audit chain broken at record {first_broken}:" in output


# --- PostgreSQL: concurrent transactions append to chains of their own; anchors name every chain's head ---


@pytest.fixture(scope="module")
def chained_log() -> Iterator[tuple[Engine, list[AuditRecord]]]:
    """Three rounds of three transactions appending at once (so in three chains), an anchor, two more."""
    with pg_schema("radar_audit_chains") as url:
        upgrade(url)
        engine = make_engine(url)
        writers = [session_factory(engine)() for _ in range(3)]  # each keeps to its chain while it is free
        together = threading.Barrier(len(writers))

        def append(session: Session, subject: str) -> None:
            with session.begin():
                audit.append(session, actor="test", action="test.write", subject=subject, details={})
                together.wait(timeout=30)  # every writer holds its chain until all have appended

        for round_ in range(3):
            threads = [threading.Thread(target=append, args=(s, f"{round_}")) for s in writers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        with session_factory(engine)() as session, session.begin():
            audit.anchor(session)
            for late in range(2):
                audit.append(session, actor="test", action="test.write", subject=f"late{late}", details={})
        with session_factory(engine)() as session:
            records = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
        for writer in writers:
            writer.close()
        yield engine, records
        engine.dispose()


def _verify_after(engine: Engine, statements: list[tuple[str, dict[str, object]]]) -> ChainBreak | None:
    """verify_chain on the log as `statements` leave it, in a transaction rolled back afterwards."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            for statement, values in statements:
                connection.execute(text(statement), values)
            return verify_chain(Session(bind=connection))[1]
        finally:
            transaction.rollback()


def _busiest_chain(records: list[AuditRecord]) -> list[AuditRecord]:
    """The records of the data chain with the most records, in order."""
    chains = Counter(r.chain for r in records if r.chain != audit.ANCHOR_CHAIN)
    return [r for r in records if r.chain == chains.most_common(1)[0][0]]


@pytest.mark.postgres
def test_concurrent_appends_take_separate_chains_and_verify(
    chained_log: tuple[Engine, list[AuditRecord]],
) -> None:
    engine, records = chained_log
    chains = {r.chain for r in records if r.chain != audit.ANCHOR_CHAIN}
    assert len(chains) >= 3  # the three writers of a round never shared a chain
    for chain in chains:
        assert [r.chain_seq for r in records if r.chain == chain] == list(
            range(1, 1 + sum(r.chain == chain for r in records))
        )
    anchor = next(r for r in records if r.chain == audit.ANCHOR_CHAIN)
    heads = orjson.loads(anchor.payload)["details"]["heads"]
    assert {chain for chain, _, _ in heads} == {r.chain for r in records if r.seq < anchor.seq}
    with Session(engine) as session:
        assert verify_chain(session) == (len(records), None)


@pytest.mark.postgres
def test_verify_finds_tampering_in_any_chain(chained_log: tuple[Engine, list[AuditRecord]]) -> None:
    engine, records = chained_log
    chain = _busiest_chain(records)
    first, middle, last = chain[0], chain[1], chain[-1]
    anchor = next(r for r in records if r.chain == audit.ANCHOR_CHAIN)
    anchored = [r for r in chain if r.seq < anchor.seq][-1]
    where = {"chain": first.chain}
    forged = {
        **where,
        "seq": records[-1].seq + 1,
        "position": middle.chain_seq,
        "prev": first.hash,
    }  # a record with a valid hash, slipped in
    cases: dict[str, tuple[list[tuple[str, dict[str, object]]], int]] = {
        "edit": ([("UPDATE audit_log SET subject = 'x' WHERE seq = :seq", {"seq": middle.seq})], middle.seq),
        "delete": ([("DELETE FROM audit_log WHERE seq = :seq", {"seq": first.seq})], middle.seq),
        "truncate to before the anchored head": (
            [("DELETE FROM audit_log WHERE chain = :chain AND seq >= :seq", {**where, "seq": anchored.seq})],
            anchor.seq,
        ),
        "insert": (
            [
                ("UPDATE audit_log SET chain_seq = -chain_seq WHERE chain = :chain AND chain_seq > 1", where),
                (
                    "UPDATE audit_log SET chain_seq = 1 - chain_seq WHERE chain = :chain AND chain_seq < 0",
                    where,
                ),
                (
                    "INSERT INTO audit_log (seq, chain, chain_seq, at, actor, action, subject, payload, prev_hash,"
                    " hash) SELECT :seq, :chain, :position, at, actor, 'test.forged', subject, forged, CAST(:prev AS text),"
                    " encode(sha256(convert_to(CAST(:prev AS text) || E'\\n' || forged, 'UTF8')), 'hex') FROM audit_log,"
                    " replace(payload, 'test.write', 'test.forged') AS forged WHERE seq = :like",
                    {**forged, "like": middle.seq},
                ),
            ],
            middle.seq,
        ),
        "reorder": (
            [
                ("UPDATE audit_log SET chain_seq = -1 WHERE seq = :seq", {"seq": first.seq}),
                ("UPDATE audit_log SET chain_seq = 1 WHERE seq = :seq", {"seq": middle.seq}),
                ("UPDATE audit_log SET chain_seq = 2 WHERE seq = :seq", {"seq": first.seq}),
            ],
            first.seq,
        ),
        "move to another chain": (
            [("UPDATE audit_log SET chain = 99, chain_seq = 1 WHERE seq = :seq", {"seq": last.seq})],
            last.seq,
        ),
    }
    for name, (statements, first_broken) in cases.items():
        broken = _verify_after(engine, statements)
        assert (broken.seq if broken else None) == first_broken, (name, broken)
