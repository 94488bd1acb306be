"""Group commit of small requests: concurrent single items over real HTTP (ASGI) each get their committed
answer; requests queued together share a commit; a repeated item and a failing request stay per request."""

import asyncio
from pathlib import Path

import httpx2
import orjson
import pytest
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.credentials import partner_for_key
from app.db.tables import Assessment, Partner
from app.schemas import AssessmentResponse
from app.scoring import Scorer
from app.services.group_commit import GroupCommit
from model.artifact import ModelArtifact
from model.entities import Pseudonymiser
from model.shipment import Shipment
from tests.app.test_assessments import feed_items
from tests.conftest import TEST_SECRET, Service


def test_concurrent_single_items_each_get_their_committed_answer(
    service: Service, simulated_dir: Path
) -> None:
    items = feed_items(simulated_dir, 16)

    async def post_all() -> list[httpx2.Response]:
        transport = httpx2.ASGITransport(app=service.client.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://radar") as client:
            return await asyncio.gather(
                *(
                    client.post("/v1/assessments", json={"items": [item]}, headers=service.as_partner())
                    for item in items
                )
            )

    responses = asyncio.run(post_all())
    assert [r.status_code for r in responses] == [200] * len(items)
    decisions = [r.json()["decisions"] for r in responses]
    assert all(len(d) == 1 and d[0]["index"] == 0 for d in decisions)
    assert [d[0]["item_id"] for d in decisions] == [item["item_id"] for item in items]
    answered = {d[0]["assessment_id"]: d[0]["decision"] for d in decisions}
    with service.session() as session:
        stored = {row.id: row.decision for row in session.execute(select(Assessment.id, Assessment.decision))}
    assert stored == answered  # every answer was committed, and nothing else


@pytest.fixture
def parts(service: Service, simulated_dir: Path) -> tuple[GroupCommit, Scorer, Partner, list[Shipment]]:
    state = service.client.app.state
    scorer = Scorer(ModelArtifact.load(service.settings.model_dir), Pseudonymiser(TEST_SECRET.encode()))
    with service.session() as session:
        partner = partner_for_key(session, service.partner_key)
    assert partner is not None
    adapter = TypeAdapter(Shipment)
    shipments = [adapter.validate_json(orjson.dumps(i)) for i in feed_items(simulated_dir, 4)]
    return GroupCommit(state.sessions, state.policy, state.metrics), scorer, partner, shipments


def test_requests_queued_together_share_a_commit(
    parts: tuple[GroupCommit, Scorer, Partner, list[Shipment]],
) -> None:
    group, scorer, partner, (a, b, c, _) = parts

    async def together() -> list[AssessmentResponse]:
        return await asyncio.gather(
            group.assess(partner=partner, scorer=scorer, items=[(0, a)]),
            group.assess(partner=partner, scorer=scorer, items=[(0, b), (1, c)]),
            group.assess(partner=partner, scorer=scorer, items=[(0, a)]),  # the same item again
        )

    first, second, again = asyncio.run(together())
    assert first.batch_id == second.batch_id  # one transaction, one batch for the partner
    assert [d.index for d in second.decisions] == [0, 1]
    assert [d.item_id for d in second.decisions] == [b.item_id, c.item_id]
    # The repeat waited for the next group and found the item assessed: the first answer, not a second row.
    assert again.batch_id != first.batch_id
    assert again.decisions[0].assessment_id == first.decisions[0].assessment_id


def test_a_lone_request_is_answered_by_its_own_indices(
    parts: tuple[GroupCommit, Scorer, Partner, list[Shipment]],
) -> None:
    group, scorer, partner, (a, b, c, d) = parts

    async def alone(items: list[tuple[int, Shipment]]) -> AssessmentResponse:
        return await group.assess(partner=partner, scorer=scorer, items=items)

    in_order = asyncio.run(alone([(0, a), (1, b)]))
    assert [(x.index, x.item_id) for x in in_order.decisions] == [(0, a.item_id), (1, b.item_id)]
    # Indices other than the group's own numbering (the valid items of a partial request) are kept.
    sparse = asyncio.run(alone([(2, c), (5, d)]))
    assert [(x.index, x.item_id) for x in sparse.decisions] == [(2, c.item_id), (5, d.item_id)]


def test_a_failing_request_fails_alone(
    service: Service, parts: tuple[GroupCommit, Scorer, Partner, list[Shipment]]
) -> None:
    group, scorer, partner, (a, b, _, _) = parts
    ghost = Partner(id=10**9, name="no such partner", kind="courier")  # its rows break a foreign key

    async def together() -> list[AssessmentResponse | BaseException]:
        return await asyncio.gather(
            group.assess(partner=partner, scorer=scorer, items=[(0, a)]),
            group.assess(partner=ghost, scorer=scorer, items=[(0, b)]),
            return_exceptions=True,
        )

    good, failed = asyncio.run(together())
    assert isinstance(failed, IntegrityError)
    assert isinstance(good, AssessmentResponse)
    with service.session() as session:
        stored = session.scalars(select(Assessment.id).where(Assessment.partner_id == partner.id)).all()
    assert stored == [good.decisions[0].assessment_id]
