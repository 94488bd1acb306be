"""Rows written with raw SQL at an older revision, for the migration round-trip tests."""

from sqlalchemy import text

from app.db.engine import make_engine


def seed_one_assessment(url: str) -> None:
    """One partner and one released assessment, in the columns every revision since 0002 has."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO partners (name, kind, created_at) VALUES ('post', 'post', CURRENT_TIMESTAMP)")
        )
        connection.execute(
            text(
                "INSERT INTO assessments (id, partner_id, batch_id, item_index, item_id, posted_at, posted_on,"
                " origin, destination, mail_class, score, raw_score, threshold, decision,"
                " selection_probability, hits, model_version, corridor_key, sender_key, shipment, created_at)"
                " SELECT 'a1', id, 'b1', 0, 'RR123456785NL', CURRENT_TIMESTAMP, CURRENT_DATE, 'NL', 'GB', 'U',"
                " 0.1, -2.0, 1.0, 'release', 1.0, '[]', 'v1', 'cor:NL-GB', 'snd:abc', '{}', CURRENT_TIMESTAMP"
                " FROM partners"
            )
        )
    engine.dispose()
