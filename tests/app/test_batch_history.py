"""What a batch adds to the aggregate history rows when another batch commits one of them meanwhile."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from app.credentials import PartnerKind, create_partner
from app.db.engine import make_engine, session_factory
from app.db.migrate import upgrade
from app.db.tables import Partner, PartyHistory
from app.main import assessment_policy
from app.scoring import Scorer
from app.services.assessments import AssessmentPolicy, assess_batch
from model.artifact import ModelArtifact
from model.entities import Pseudonymiser
from model.shipment import Shipment
from tests.conftest import TEST_SECRET, make_settings, pg_schema
from tests.factories import shipment_doc

_shipments = TypeAdapter(list[Shipment])
CORRIDOR = "cor:NL-GB"


def _other_parties(serial: int) -> dict[str, Any]:
    """An item on the same corridor that shares no entity key with shipment_doc's (no row lock to wait on)."""
    document = shipment_doc(serial)
    document["posting"]["office_id"] = "NL-9999"
    document["sender"] = {
        "name": "Piet Jansen", "address_lines": ["Damrak 99"], "postcode": "3011 AA", "city": "Rotterdam",
        "country": "NL",
    }  # fmt: skip
    document["addressee"] = {
        "name": "Mary Jones", "address_lines": ["7 Mill Lane"], "postcode": "M1 1AE", "city": "Manchester",
        "country": "GB",
    }  # fmt: skip
    return document


@pytest.fixture
def pg(model_dir: Path) -> Iterator[tuple[sessionmaker[Session], Scorer, AssessmentPolicy, int]]:
    with pg_schema("radar_batch_history") as url:
        upgrade(url)
        engine = make_engine(url)
        sessions = session_factory(engine)
        with sessions.begin() as session:
            partner = create_partner(session, name="post", kind=PartnerKind.POST)
            session.flush()
            partner_id = partner.id
        scorer = Scorer(ModelArtifact.load(model_dir), Pseudonymiser(TEST_SECRET.encode()))
        yield sessions, scorer, assessment_policy(make_settings(url, model_dir)), partner_id
        engine.dispose()


@pytest.mark.postgres
def test_a_resent_batch_merges_only_its_new_items_into_a_row_another_batch_moved_on(
    pg: tuple[sessionmaker[Session], Scorer, AssessmentPolicy, int],
) -> None:
    """Items assessed before are not counted again: the corridor row gets the batch's two new items merged
    into the state another batch committed after this one read it."""
    sessions, scorer, policy, partner_id = pg
    items = _shipments.validate_python([shipment_doc(serial=n) for n in range(20_000_001, 20_000_006)])
    (other,) = _shipments.validate_python([_other_parties(20_000_101)])

    def assess(batch: list[Shipment], session: Session) -> None:
        assess_batch(
            session,
            scorer=scorer,
            partner=session.get_one(Partner, partner_id),
            items=list(enumerate(batch)),
            policy=policy,
        )

    def commit(batch: list[Shipment]) -> None:
        with sessions.begin() as session:
            assess(batch, session)

    commit(items[:3])
    with ThreadPoolExecutor(1) as pool, sessions.begin() as session:
        merged: list[bool] = []

        def meanwhile(*args: Any) -> None:
            statement = args[2]
            if not merged and statement.startswith("SELECT assessments.id"):  # after the unlocked read
                merged.append(True)
                pool.submit(commit, [other]).result(timeout=30)

        event.listen(session.connection(), "before_cursor_execute", meanwhile)
        assess(items[1:], session)  # items 1 and 2 were assessed with the first batch
    assert merged
    with sessions() as session:
        corridor = session.scalars(select(PartyHistory).where(PartyHistory.entity_key == CORRIDOR)).one()
    # six distinct items, posted within minutes of each other (a count decays over days)
    assert corridor.items_long == pytest.approx(6.0, abs=0.01)
