"""The same service on PostgreSQL: migrations, assessment, review, and concurrent batches."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.db.tables import Assessment
from tests.app.test_assessments import feed_items, post
from tests.conftest import Service
from tests.factories import shipment_doc

pytestmark = pytest.mark.postgres


def test_assess_and_review_on_postgres(pg_service: Service, simulated_dir: Path) -> None:
    response = post(pg_service, {"items": feed_items(simulated_dir, 500)})
    assert response.status_code == 200, response.text
    decisions = response.json()["decisions"]
    assert len(decisions) == 500
    held = [d for d in decisions if d["decision"] == "hold"]
    queue = pg_service.client.get("/v1/review/cases", params={"limit": 200}, headers=pg_service.as_officer())
    assert {c["assessment_id"] for c in queue.json()["cases"]} >= {d["assessment_id"] for d in held}
    bad = post(pg_service, {"items": [shipment_doc(item_id="RR123456784NL")]})
    assert bad.status_code == 422


def test_concurrent_batches_on_postgres_keep_every_item(pg_service: Service) -> None:
    batches = [[shipment_doc(serial=50_000_000 + 10 * b + i) for i in range(10)] for b in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda items: post(pg_service, {"items": items}).status_code, batches))
    assert statuses == [200] * 8
    with pg_service.session() as session:
        ids = [i["item_id"] for batch in batches for i in batch]
        stored = session.scalar(
            select(func.count()).select_from(Assessment).where(Assessment.item_id.in_(ids))
        )
    assert stored == 80
