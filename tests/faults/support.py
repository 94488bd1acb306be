"""What the fault trials share: a partner on a running server, batches of distinct items, stored-row counts."""

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.db.engine import make_engine
from app.db.tables import Assessment, Partner
from tests.factories import shipment_doc
from tests.test_serve import Server


@dataclass(frozen=True)
class Filer:
    """A partner registered through the CLI of a running server, and its API key."""

    name: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def register_partner(server: Server) -> Filer:
    name = f"fault-post-{uuid.uuid4().hex[:8]}"
    printed = server.cli("create-partner", name, "--kind", "post")
    key = re.search(r"\bprk_\S+", printed)
    assert key is not None, printed
    return Filer(name, key.group())


def batch(first_serial: int, size: int) -> dict[str, Any]:
    return {"items": [shipment_doc(serial=first_serial + n) for n in range(size)]}


def stored_items(database_url: str, partner_name: str) -> tuple[int, int]:
    """(assessment rows, distinct item ids) the partner has in the database."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows, distinct = connection.execute(
                select(func.count(), func.count(func.distinct(Assessment.item_id)))
                .join(Partner, Partner.id == Assessment.partner_id)
                .where(Partner.name == partner_name)
            ).one()
    finally:
        engine.dispose()
    return int(rows), int(distinct)
