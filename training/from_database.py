"""Training data from the service's own database: the feature log of every assessment, joined with its outcomes.

The service stores each item's model inputs as scored (`assessments.features`, float64 little-endian) and the
customs outcomes of held items (`outcomes`, joined by assessment id). This module reads both (through
`training.service_db`) and builds the same `Dataset` the file replay builds: an item is inspected
when its case has a final outcome, and found when that outcome counts as a drug finding (`Outcome.found_drugs`,
as for outcome files). Superseded records are ignored, so corrections and lab results apply.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from pydantic import ValidationError
from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Select,
    inspect,
    select,
)
from sqlalchemy.exc import OperationalError

from model.features import FEATURE_NAMES
from model.shipment import Outcome, OutcomeResult
from training.dataset import Dataset, DatasetBuilder
from training.service_db import (
    ASSESSMENTS,
    OUTCOMES,
    DatabaseTrainingError,
    StoredChampion,
    database_engine,
    registered_feature_lists,
    registry_champion,
)

FEATURE_BYTES = 8 * len(FEATURE_NAMES)
READ_CHUNK = 20_000

OutcomeFields = tuple[
    str, str | None, str, datetime, datetime
]  # kind, substance, result, inspected, recorded


@dataclass
class LoggedCounts:
    """What was read and what was left out, and why."""

    read: int = 0
    used: int = 0
    before_feature_log: int = 0  # assessed before the service logged features (migration 0005)
    other_features: int = 0  # logged by a model with another feature list (vector length or manifest)
    awaiting_outcome: int = 0  # held, and no final outcome recorded yet (label unknown)
    by_model_version: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, str | int | float]:
        versions = ", ".join(f"{v} ({n:,})" for v, n in self.by_model_version.most_common())
        return {
            "source": "the service's feature log and outcomes",
            "logged_items_read": self.read,
            "logged_items_used": self.used,
            "refused_before_feature_log": self.before_feature_log,
            "refused_other_feature_list": self.other_features,
            "left_out_awaiting_outcome": self.awaiting_outcome,
            "scored_by_model_versions": versions,
        }


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _period(query: Select[Any], since: date | None, until: date | None) -> Select[Any]:
    """Items posted from `since` (UTC midnight) up to the end of `until`, both optional."""
    if since is not None:
        query = query.where(ASSESSMENTS.c.posted_at >= datetime.combine(since, time(), UTC))
    if until is not None:
        query = query.where(
            ASSESSMENTS.c.posted_at < datetime.combine(until + timedelta(days=1), time(), UTC)
        )
    return query


def _current_outcomes(
    connection: Connection, since: date | None, until: date | None
) -> dict[str, OutcomeFields]:
    """The current (not superseded) outcome record of each assessment of the period."""
    query = _period(
        select(
            OUTCOMES.c.assessment_id,
            OUTCOMES.c.kind,
            OUTCOMES.c.substance_category,
            OUTCOMES.c.result,
            OUTCOMES.c.inspected_at,
            OUTCOMES.c.recorded_at,
        )
        .join(ASSESSMENTS, ASSESSMENTS.c.id == OUTCOMES.c.assessment_id)
        .where(OUTCOMES.c.superseded.is_(False))
        .order_by(OUTCOMES.c.id),
        since,
        until,
    )
    return {row[0]: (row[1], row[2], row[3], _utc(row[4]), _utc(row[5])) for row in connection.execute(query)}


def _outcome(item_id: str, record: OutcomeFields, reason: str | None, probability: float) -> Outcome | None:
    """The item's final outcome in the outcome contract; None while an inconclusive case awaits its lab result."""
    kind, substance, result, inspected_at, recorded_at = record
    if result == OutcomeResult.INCONCLUSIVE.value and kind != "lab_result":
        return None
    try:
        return Outcome.model_validate(
            {
                "item_id": item_id,
                "inspected_at": inspected_at,
                "recorded_at": recorded_at,
                "result": result,
                "substance_category": substance,
                "selection_reason": reason,
                "selection_probability": probability,
            }
        )
    except ValidationError as exc:
        raise DatabaseTrainingError(
            f"the outcome of item {item_id} does not meet the outcome contract: {exc}"
        ) from exc


def _assessment_rows(connection: Connection, since: date | None, until: date | None) -> Iterator[Row[Any]]:
    query = _period(select(*ASSESSMENTS.c), since, until).order_by(ASSESSMENTS.c.posted_at, ASSESSMENTS.c.id)
    for partition in connection.execution_options(yield_per=READ_CHUNK).execute(query).partitions():
        yield from partition


def _check_schema(connection: Connection) -> None:
    inspector = inspect(connection)
    if not inspector.has_table("assessments") or not inspector.has_table("outcomes"):
        raise DatabaseTrainingError(
            "no assessments and outcomes tables here: is this the service's database?"
        )
    if "features" not in {column["name"] for column in inspector.get_columns("assessments")}:
        raise DatabaseTrainingError(
            "the assessments table has no feature log: migrate the database (python -m app migrate)"
        )


def _usable(
    row: Row[Any], current: dict[str, OutcomeFields], other_lists: set[str], counts: LoggedCounts
) -> tuple[bool, Outcome | None]:
    """Whether the logged item can be learnt from (counting why not), and its final outcome."""
    counts.read += 1
    if row.features is None:
        counts.before_feature_log += 1
        return False, None
    if len(row.features) != FEATURE_BYTES or row.model_version in other_lists:
        counts.other_features += 1
        return False, None
    record = current.get(row.id)
    outcome = (
        None
        if record is None
        else _outcome(row.item_id, record, row.selection_reason, row.selection_probability)
    )
    if row.decision == "hold" and outcome is None:
        counts.awaiting_outcome += 1
        return False, None
    counts.used += 1
    counts.by_model_version[row.model_version] += 1
    return True, outcome


def read_logged_dataset(
    engine: Engine, *, since: date | None = None, until: date | None = None
) -> tuple[Dataset, LoggedCounts]:
    """Every usable logged item in posting order with its labels, and the counts of what was left out."""
    counts, builder, vectors = LoggedCounts(), DatasetBuilder(), list[bytes]()
    outcomes: list[Outcome | None] = []
    with engine.connect() as connection:
        _check_schema(connection)
        current = _current_outcomes(connection, since, until)
        other_lists = {  # versions whose manifest in the registry lists other features than this code's
            version
            for version, names in registered_feature_lists(connection).items()
            if names != list(FEATURE_NAMES)
        }
        for row in _assessment_rows(connection, since, until):
            usable, outcome = _usable(row, current, other_lists, counts)
            if usable:
                vectors.append(row.features)
                outcomes.append(outcome)
                builder.posted_at.append(_utc(row.posted_at).timestamp())
                builder.item_ids.append(row.item_id)
                builder.destination.append(row.destination)
                builder.mail_class.append(row.mail_class)
    matrix = np.frombuffer(bytearray(b"".join(vectors)), dtype="<f8").reshape(
        len(vectors), len(FEATURE_NAMES)
    )
    builder.features.append(matrix)
    builder.add_labels(outcomes)
    return builder.build(), counts


@dataclass(frozen=True)
class ServiceData:
    """What training reads from the service's database."""

    dataset: Dataset
    counts: LoggedCounts
    champion: StoredChampion


def read_service_database(url: str, *, since: date | None = None, until: date | None = None) -> ServiceData:
    """The logged items of the period with their labels, and the registry's champion; one clear error if the
    database cannot be read."""
    engine = database_engine(url)
    try:
        dataset, counts = read_logged_dataset(engine, since=since, until=until)
        with engine.connect() as connection:
            champion = registry_champion(connection)
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseTrainingError(f"cannot read {where}: {exc.orig}") from exc
    finally:
        engine.dispose()
    return ServiceData(dataset, counts, champion)
