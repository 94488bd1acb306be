"""PostgreSQL takes a batch's assessment rows as one JSON parameter; they must be stored exactly as the
executemany insert (SQLite's way, and PostgreSQL's before) stores the same rows."""

import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from sqlalchemy import insert, text

from app.credentials import PartnerKind, create_partner
from app.db.engine import make_engine, session_factory
from app.db.migrate import upgrade
from app.ids import new_id
from app.services.assessments import _ASSESSMENTS, _insert_assessments
from tests.conftest import pg_schema


def _row(item_id: str, **changes: Any) -> dict[str, Any]:
    keys = {c.name: None for c in _ASSESSMENTS.columns if c.name.endswith("_key")}
    row = {
        "id": new_id(),
        "batch_id": new_id(),
        "item_index": 0,
        "item_id": item_id,
        "posted_at": datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
        "posted_on": date(2026, 3, 29),
        "origin": "NL",
        "destination": "DE",
        "mail_class": "E",
        "score": 0.1 + 0.2,
        "raw_score": -8.782562603578347,
        "threshold": 5e-324,
        "decision": "hold",
        "referral": "inspect",
        "selection_reason": "model",
        "selection_probability": 1 / 3,
        "hits": [{"kind": "rule", "id": 7, "name": 'Ünïcode " \\ \u2028 rule'}],
        "model_version": "radar-test",
        **keys,
        "corridor_key": "cor:NL-DE",
        "sender_key": "snd:0123",
        "shipment": {
            "item_id": item_id,
            "weights": [1.5, 1e-7, 123456789.125],
            "note": "é\n\x01",
            "none": None,
        },
        "features": np.array([math.nan, -0.0, 1e300, 2.5], "<f8").tobytes(),
        "created_at": datetime.now(UTC),
    }
    return {**row, **changes}


@pytest.mark.postgres
def test_json_rows_are_stored_as_executemany_stores_them() -> None:
    rows = [
        _row("AA000000001NL"),
        _row("AA000000002NL", score=math.inf, raw_score=-math.inf, threshold=math.nan, features=None),
        _row("AA000000003NL", referral=None, selection_reason=None, decision="release", hits=[], shipment={}),
    ]
    with pg_schema("radar_rows") as url:
        upgrade(url)
        engine = make_engine(url)
        sessions = session_factory(engine)
        with sessions.begin() as session:
            by_json, by_executemany = (
                create_partner(session, name=name, kind=PartnerKind.POST) for name in ("json", "executemany")
            )
            session.flush()
            ids = by_json.id, by_executemany.id
        with sessions.begin() as session:
            _insert_assessments(session, [{**row, "partner_id": ids[0]} for row in rows])
        with sessions.begin() as session:
            copies = [{**row, "id": row["id"] + "m", "partner_id": ids[1]} for row in rows]
            session.execute(insert(_ASSESSMENTS), copies)
        columns = [c.name for c in _ASSESSMENTS.columns if c.name not in ("id", "partner_id")]
        read = text(
            f"SELECT {', '.join(f'{name}::text' for name in columns)} FROM assessments"
            " WHERE partner_id = :partner ORDER BY item_id"
        )
        with engine.connect() as connection:
            stored = [connection.execute(read, {"partner": partner}).all() for partner in ids]
        engine.dispose()
    assert len(stored[0]) == len(rows)
    assert stored[0] == stored[1]
    assert stored[0][1][columns.index("score")] == "Infinity"
