"""Assessing a batch: history lookup, features, scores, decisions, and every write in the caller's transaction.

History rows are locked per entity, never for the whole service. The rows of a batch's entity keys (sender,
addressee, addresses, buyer, ...) are locked in one pass before they are read and held to the commit, so those
features equal one process's replay in commit order. The aggregate keys that nearly every batch names
(postcode areas, corridors: model.features.is_aggregate) are read without a lock and locked only for the
batch's last history write, where a row another batch changed meanwhile gets this batch's own contribution
merged in: their four features (AGGREGATE_FEATURES) may miss the items of batches that commit while this one
runs, and no update is lost (docs/scaling.md).
"""

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, cast

import numpy as np
import orjson
from sqlalchemy import (
    JSON,
    Float,
    Insert,
    LargeBinary,
    Row,
    Table,
    bindparam,
    column,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.engine import execute_rows, read_columns
from app.db.history_store import SqlHistoryStore
from app.db.tables import Assessment, Partner, ReviewCase
from app.ids import new_id
from app.schemas import AssessmentResponse, ItemError
from app.scoring import Scorer
from app.services import audit, drift
from app.services.live_threshold import LiveThresholds
from app.services.policy import Capacity, Selection, resolve_capacities, select_item
from app.services.rules import ActiveRule, ListHit, RuleFields, active_rules, list_hits
from app.services.shadow import record_shadow_scores
from model.entities import EntityKeys, postcode_area
from model.features import FEATURE_NAMES, SHIPMENT_FEATURES, FeatureMatrix, is_aggregate, observe_aggregates
from model.history import EntityState, record_hold
from model.shipment import Shipment


@dataclass(frozen=True)
class AssessmentPolicy:
    """What the service is configured with; capacity settings in the database override the defaults."""

    default_capacity: Capacity
    live: LiveThresholds
    party_retention_days: int
    shadow: Callable[[], Scorer | None] = lambda: None  # the challenger scoring beside the champion, if any


def public_shipment(shipment: Shipment) -> dict[str, Any]:
    """The item without personal data: parties reduced to country and postcode area."""
    document = shipment.model_dump(mode="json", exclude={"sender", "addressee"})
    for role in ("sender", "addressee"):
        party = getattr(shipment, role)
        document[role] = {"country": party.country, "postcode_area": postcode_area(party.postcode) or None}
    return document


NaturalKey = tuple[str, date]
VAGUENESS = FEATURE_NAMES.index("description_vagueness")
# Core tables for the batch inserts: executemany without the ORM's per-row bookkeeping.
_ASSESSMENTS = cast(Table, Assessment.__table__)
_CASES = cast(Table, ReviewCase.__table__)
_INSERT_CASES = insert(_CASES)  # statements built once (execute_rows compiles each once per dialect)
# The assessed-items check, built once per dialect (building it cost as much CPU as running it for one item):
# the item ids as one JSON parameter, not two parameters per item (it runs while the history rows are locked);
# the posting dates are matched on the rows read.
_PREVIOUS = select(
    Assessment.id, Assessment.item_id, Assessment.posted_on, Assessment.decision, Assessment.referral
).where(Assessment.partner_id == bindparam("partner_id"))
_EXISTING = {
    True: _PREVIOUS.where(text("item_id IN (SELECT json_array_elements_text(CAST(:item_ids AS json)))")),
    False: _PREVIOUS.where(text("item_id IN (SELECT value FROM json_each(:item_ids))")),
}


def _rows_from_json(table: Table) -> Insert:
    """PostgreSQL: insert rows given as one JSON array of objects (the history store's way): psycopg's
    executemany processes every parameter of every row in Python while the batch holds its history rows."""
    rows = (
        func.json_to_recordset(bindparam("rows", type_=JSON))
        .table_valued(*(column(c.name, c.type) for c in table.columns))
        .render_derived(name="r", with_types=True)
    )
    names = [c.name for c in table.columns]
    return insert(table).from_select(names, select(*(rows.c[name] for name in names)))


_INSERT_ASSESSMENTS = {True: _rows_from_json(_ASSESSMENTS), False: insert(_ASSESSMENTS)}
_BINARY = tuple(column.name for column in _ASSESSMENTS.columns if isinstance(column.type, LargeBinary))
_FLOATS = tuple(column.name for column in _ASSESSMENTS.columns if isinstance(column.type, Float))


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    """An assessment row as _INSERT_ASSESSMENTS reads it back exactly: bytes as bytea's hex text, floats JSON
    has no number for (inf, nan) as float8's text; numbers, dates, datetimes (ISO, with their offset) and JSON
    documents as orjson writes them (a json column keeps that text, as executemany stores it)."""
    converted = {**row}
    for name in _BINARY:
        if (value := row[name]) is not None:
            converted[name] = "\\x" + value.hex()
    for name in _FLOATS:
        if (value := row[name]) is not None and not math.isfinite(value):
            converted[name] = str(value)
    return converted


def _insert_assessments(session: Session, rows: list[dict[str, Any]]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_INSERT_ASSESSMENTS[True], {"rows": [_json_row(row) for row in rows]})
    else:
        execute_rows(session, _INSERT_ASSESSMENTS[False], rows)


PreviousAssessment = Row[str, str, date, str, str | None]  # id, item_id, posted_on, decision, referral
Tally = list[tuple[str, str | None, int]]
"""(decision, selection reason, items) of a batch's new assessments."""


def natural_key(shipment: Shipment) -> NaturalKey:
    """A partner's item is identified by its id and posting date (posts reuse S10 ids after a year)."""
    return shipment.item_id, shipment.posting.posted_at.date()


def _existing(
    session: Session, partner: Partner, shipments: Sequence[Shipment]
) -> dict[NaturalKey, PreviousAssessment]:
    """Assessments already made for these items by this partner."""
    wanted = {natural_key(s) for s in shipments}
    if not wanted:
        return {}
    item_ids = orjson.dumps(sorted({item_id for item_id, _ in wanted})).decode()
    statement = _EXISTING[session.get_bind().dialect.name == "postgresql"]
    rows = read_columns(session, statement, {"partner_id": partner.id, "item_ids": item_ids})
    return {key: row for row in rows if (key := (row.item_id, row.posted_on)) in wanted}


@dataclass(frozen=True)
class PreparedItem:
    """An item with what no history row changes (keys, public document, rule fields, list hits, its
    SHIPMENT_FEATURES and the assessment row's columns that come from the item alone)."""

    index: int
    shipment: Shipment
    keys: EntityKeys
    document: dict[str, Any]
    fields: RuleFields
    hits: list[ListHit]
    static: FeatureMatrix  # the item's row of Scorer.shipment_features
    columns: dict[str, Any]  # _item_columns


@dataclass(frozen=True)
class Targeting:
    """The batch's rules and capacities, read before any history row is locked (they do not depend on one)."""

    rules: list[ActiveRule]
    capacities: dict[str | None, Capacity]


@dataclass(frozen=True)
class LockedHistory:
    """The history of a batch's keys: entity keys' rows locked until the commit; `read` holds the aggregate
    keys' states as read at the start, unlocked (copies: `states` moves on as the items are observed)."""

    store: SqlHistoryStore
    states: dict[str, EntityState]
    read: dict[str, EntityState]
    aggregates: set[str]  # the aggregate keys the batch names


@dataclass(frozen=True)
class ScoredItem:
    index: int
    shipment: Shipment
    document: dict[str, Any]
    keys: EntityKeys
    columns: dict[str, Any]
    features: list[float]
    vector: bytes  # `features` as float64 little-endian (the assessment row's column)
    raw_score: float
    probability: float
    threshold: float
    selection: Selection


def _item_columns(
    index: int, shipment: Shipment, keys: EntityKeys, document: dict[str, Any], *, partner: Partner,
    batch_id: str, model_version: str,
) -> dict[str, Any]:  # fmt: skip
    """The assessment row's columns that come from the item alone (worked out before the history is locked)."""
    origin, destination = shipment.corridor
    return {
        "partner_id": partner.id,
        "batch_id": batch_id,
        "item_index": index,
        "item_id": shipment.item_id,
        "posted_at": shipment.posting.posted_at,
        "posted_on": shipment.posting.posted_at.date(),
        "origin": origin,
        "destination": destination,
        "mail_class": shipment.mail_class.value,
        "model_version": model_version,
        "sender_key": keys.sender,
        "sender_address_key": keys.sender_address,
        "sender_area_key": keys.sender_area,
        "addressee_key": keys.addressee,
        "addressee_address_key": keys.addressee_address,
        "corridor_key": keys.corridor,
        "sender_premises_key": keys.sender_premises,
        "sender_street_key": keys.sender_street,
        "sender_name_key": keys.sender_name,
        "sender_habit_key": keys.sender_habit,
        "buyer_key": keys.buyer,
        "shipment": document,
    }


def _assessment_row(item: ScoredItem) -> dict[str, Any]:
    selection = item.selection
    return {
        "id": new_id(),
        **item.columns,
        "score": item.probability,
        "raw_score": item.raw_score,
        "threshold": item.threshold,
        "decision": "hold" if selection.held else "release",
        "referral": selection.referral,
        "selection_reason": selection.reason,
        "selection_probability": selection.probability,
        "hits": selection.hits,
        "features": item.vector,
        "created_at": utcnow(),
    }


def _case_row(item: ScoredItem, assessment: dict[str, Any], purge_after: datetime) -> dict[str, Any]:
    """A review case keeps the clear-text parties (until `purge_after`) and the feature vector for reasons."""
    return {
        "assessment_id": assessment["id"],
        "status": "open",
        "score": item.probability,
        "raw_score": item.raw_score,
        "referral": assessment["referral"],
        "parties": {
            "sender": item.shipment.sender.model_dump(mode="json"),
            "addressee": item.shipment.addressee.model_dump(mode="json"),
        },
        "purge_after": purge_after,
        "features": [None if math.isnan(v) else v for v in item.features],
        "created_at": assessment["created_at"],
    }


def _decision(
    index: int, item_id: str, assessment_id: str, decision: str, referral: str | None
) -> dict[str, Any]:
    """An ItemDecision's fields (the response validates them all at once: one call, not one per item)."""
    return {
        "index": index,
        "item_id": item_id,
        "assessment_id": assessment_id,
        "decision": decision,
        "referral": referral,
    }


def _prepare(
    session: Session,
    scorer: Scorer,
    partner: Partner,
    items: Sequence[tuple[int, Shipment]],
    policy: AssessmentPolicy,
    batch_id: str,
) -> tuple[list[PreparedItem], Targeting]:
    """Everything about the items that no history row changes, worked out before any row is locked."""
    shipments = [s for _, s in items]
    keys = scorer.entity_keys(shipments)
    static = scorer.shipment_features(shipments)
    hits_by_key = list_hits(session, (key for k in keys for _, key in k.items()))
    prepared = []
    for position, ((index, shipment), entity_keys) in enumerate(zip(items, keys, strict=True)):
        document = public_shipment(shipment)
        hits = [hit for _, key in entity_keys.items() for hit in hits_by_key.get(key, [])]
        columns = _item_columns(
            index, shipment, entity_keys, document,
            partner=partner, batch_id=batch_id, model_version=scorer.model_version,
        )  # fmt: skip
        fields = RuleFields.of(document)
        prepared.append(
            PreparedItem(index, shipment, entity_keys, document, fields, hits, static[position], columns)
        )
    capacities = resolve_capacities(
        session,
        partner_id=partner.id,
        office_ids={s.posting.office_id for s in shipments},
        default=policy.default_capacity,
    )
    return prepared, Targeting(active_rules(session), capacities)


def _score(
    session: Session,
    scorer: Scorer,
    partner: Partner,
    items: Sequence[PreparedItem],
    targeting: Targeting,
    policy: AssessmentPolicy,
    history: LockedHistory,
) -> tuple[list[ScoredItem], FeatureMatrix]:
    """Features from the history (the items' feature matrix is returned with them), scores, then each item
    through the policy; the entity keys' states are written (the aggregate keys' last, `_save_aggregates`)."""
    shipments = [item.shipment for item in items]
    store, states = history.store, history.states
    static = np.asarray([item.static for item in items]).reshape(len(items), len(SHIPMENT_FEATURES))
    features = scorer.features(shipments, [item.keys for item in items], states, static)
    raw_scores, probabilities = scorer.scores(features)
    capacities = targeting.capacities
    # One threshold per distinct rate, not per office: a batch names hundreds of offices, mostly on one rate.
    by_rate = {
        rate: policy.live.threshold(
            session,
            partner_id=partner.id,
            model_version=scorer.model_version,
            batch_scores=raw_scores,
            rate=rate,
        )
        for rate in {capacity.model_rate for capacity in capacities.values()}
    }
    thresholds = {office: by_rate[capacity.model_rate] for office, capacity in capacities.items()}
    draws = np.random.default_rng().random((len(shipments), 2))  # fresh OS entropy per batch, never a seed
    scored = []
    # Python floats of whole columns at once (numpy scalars one by one cost as much as the policy itself).
    rows, raws, vagueness = features.tolist(), raw_scores.tolist(), features[:, VAGUENESS].tolist()
    vectors = np.ascontiguousarray(features, "<f8")
    for item, row, vector, raw, probability, vague, (first, second) in zip(
        items, rows, vectors, raws, probabilities.tolist(), vagueness, draws.tolist(), strict=True
    ):
        office = item.shipment.posting.office_id
        selection = select_item(
            raw_score=raw,
            vagueness=vague,
            fields=item.fields,
            list_hits=item.hits,
            rules=targeting.rules,
            threshold=thresholds[office],
            capacity=capacities[office],
            draws=(first, second),
        )
        if selection.held:
            record_hold(states, (key for _, key in item.keys.items()))
        scored.append(
            ScoredItem(
                item.index, item.shipment, item.document, item.keys, item.columns, row, vector.tobytes(), raw,
                probability, thresholds[office].raw, selection,
            )
        )  # fmt: skip
    store.save({key: state for key, state in states.items() if key not in history.aggregates})
    return scored, features


def _lock_history(session: Session, items: Sequence[PreparedItem]) -> LockedHistory:
    """Lock the history rows of every entity key the batch names (in lock order; no lock spans batches on
    other keys) and read them with the aggregate keys' rows, which are locked only by `_save_aggregates`.

    Taken before the check for items already assessed, so a concurrent batch with the same item waits here
    and then finds it assessed: an item that names aggregate keys only (no sender, addressee or office to
    key) has no other row to wait on, so a batch with one locks its aggregate keys here too.
    """
    named = {key for item in items for _, key in item.keys.items()}
    aggregates = {key for key in named if is_aggregate(key)}
    unkeyed = any(all(key in aggregates for _, key in item.keys.items()) for item in items)
    store = SqlHistoryStore(session)
    store.lock(named if unkeyed else named - aggregates)
    states = store.load(named)
    read = {key: replace(states[key]) for key in aggregates if key in states}
    return LockedHistory(store, states, read, aggregates)


def _observed_aggregates(items: Sequence[PreparedItem]) -> dict[str, EntityState]:
    """The items observed into their aggregate keys from no history: a batch's own contribution to those
    rows but for its holds (no history row changes it, so it is worked out before the lock)."""
    deltas: dict[str, EntityState] = {}
    for item in items:
        observe_aggregates(deltas, item.keys, item.shipment.posting.posted_at.timestamp())
    return deltas


def _save_aggregates(
    history: LockedHistory, scored: Sequence[ScoredItem], deltas: dict[str, EntityState]
) -> None:
    """The batch's last history write: its aggregate keys' states, or, where another batch committed one
    since it was read, that state with this batch's own items (`deltas`, `_observed_aggregates` of the
    scored items) and holds merged in."""
    for item in scored:
        if item.selection.held:
            record_hold(deltas, (key for _, key in item.keys.items()))
    sequential = {key: history.states[key] for key in deltas}
    history.store.save_aggregates(sequential, history.read, deltas)


@dataclass(frozen=True)
class AssessedBatch:
    """A batch's answer, and its new assessments counted by decision and selection reason (for the metrics)."""

    response: AssessmentResponse
    tally: Tally


def _tally(rows: Sequence[dict[str, Any]]) -> Tally:
    counts = Counter((row["decision"], row["selection_reason"]) for row in rows)
    return [(decision, reason, count) for (decision, reason), count in counts.items()]


def assess_batch(
    session: Session,
    *,
    scorer: Scorer,
    partner: Partner,
    items: Sequence[tuple[int, Shipment]],
    policy: AssessmentPolicy,
    errors: Sequence[ItemError] = (),
) -> AssessedBatch:
    """Score (index, shipment) pairs and persist everything; items assessed before return their first answer.
    The policy's shadow model, if any, also scores the fresh items on the same features (no decision changes)."""
    batch_id = new_id()
    prepared, targeting = _prepare(session, scorer, partner, items, policy, batch_id)
    observed = _observed_aggregates(prepared)
    history = _lock_history(session, prepared)
    existing = _existing(session, partner, [s for _, s in items])
    fresh = [item for item in prepared if natural_key(item.shipment) not in existing]
    if len(fresh) < len(prepared):  # items assessed before: the batch contributes the others only
        observed = _observed_aggregates(fresh)
    scored, features = _score(session, scorer, partner, fresh, targeting, policy, history)
    rows = [_assessment_row(item) for item in scored]
    purge_after = utcnow() + timedelta(days=policy.party_retention_days)
    cases = [
        _case_row(item, row, purge_after)
        for item, row in zip(scored, rows, strict=True)
        if item.selection.held
    ]
    if rows:
        _insert_assessments(session, rows)
        policy.live.record(
            session,
            partner_id=partner.id,
            model_version=scorer.model_version,
            rows=[(r["id"], r["created_at"], r["raw_score"], r["selection_reason"]) for r in rows],
        )
    if cases:
        execute_rows(session, _INSERT_CASES, cases)
    if (shadow := policy.shadow()) is not None and rows:
        record_shadow_scores(session, shadow, [r["id"] for r in rows], features)
    audit.append(
        session,
        actor=f"partner:{partner.id}",
        action="assessment.batch",
        subject=f"batch:{batch_id}",
        details={
            "decisions": [[r["id"], r["decision"], r["selection_reason"]] for r in rows],
            "model_version": scorer.model_version,
        },
    )
    # after the inserts and the audit record: the aggregate keys' rows locked briefly
    _save_aggregates(history, scored, observed)
    drift.count_batch(  # last, so the shared count rows stay locked only until the commit
        session,
        reference=scorer.artifact.drift_reference,
        model_version=scorer.model_version,
        features=features,
        raw_scores=[item.raw_score for item in scored],
    )
    decisions = [
        _decision(r["item_index"], r["item_id"], r["id"], r["decision"], r["referral"]) for r in rows
    ]
    for index, shipment in items:
        if (previous := existing.get(natural_key(shipment))) is not None:
            decisions.append(
                _decision(index, previous.item_id, previous.id, previous.decision, previous.referral)
            )
    response = AssessmentResponse.model_validate(
        {
            "batch_id": batch_id,
            "model_version": scorer.model_version,
            "decisions": sorted(decisions, key=lambda d: d["index"]),
            "errors": list(errors),
        }
    )
    return AssessedBatch(response, _tally(rows))
