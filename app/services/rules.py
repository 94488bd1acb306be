"""Targeting rules on shipment fields and watch/allow lists on pseudonymised parties: storage and matching;
with the capacity settings, cached per process as of one version of their tables."""

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast
from weakref import WeakKeyDictionary

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.engine import read_columns
from app.db.tables import CapacitySetting, ListEntry, RuleVersion, TargetingVersion
from model.money import to_eur
from model.shipment import CountryCode, ItemCategory, MailClass, PostingChannel, Service

RuleAction = Literal["hold", "release", "raise"]
DeclaredCategory = ItemCategory | Literal["none"]


class RuleConditions(BaseModel):
    """Every condition given must hold; lists match any of their values. Weights in grams, values in EUR."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    origins: list[CountryCode] | None = None
    destinations: list[CountryCode] | None = None
    mail_classes: list[MailClass] | None = None
    services: list[Service] | None = None
    channels: list[PostingChannel] | None = None
    declared_categories: list[DeclaredCategory] | None = None
    weight_g_min: float | None = Field(default=None, ge=0, strict=True)  # a boolean is no number
    weight_g_max: float | None = Field(default=None, ge=0, strict=True)
    value_eur_min: float | None = Field(default=None, ge=0, strict=True)
    value_eur_max: float | None = Field(default=None, ge=0, strict=True)

    @model_validator(mode="after")
    def _not_empty(self) -> "RuleConditions":
        if not self.model_dump(exclude_none=True):
            raise ValueError("a rule needs at least one condition")
        return self


@dataclass(frozen=True)
class RuleFields:
    """The shipment fields rules look at, read from the stored (non-personal) shipment document."""

    origin: str
    destination: str
    mail_class: str
    service: str
    channel: str
    declared_category: str
    weight_g: float
    value_eur: float | None

    @classmethod
    def of(cls, document: dict[str, Any]) -> "RuleFields":
        declaration = document.get("declaration")
        value = None
        if declaration:
            value = to_eur(float(declaration["declared_value"]), declaration["currency"])
        return cls(
            origin=document["posting"]["country"],
            destination=document["addressee"]["country"],
            mail_class=document["mail_class"],
            service=document["service"],
            channel=document["posting"]["channel"],
            declared_category=declaration["category"] if declaration else "none",
            weight_g=float(document["gross_weight_kg"]) * 1000.0,
            value_eur=value,
        )


def _within(value: float | None, low: float | None, high: float | None) -> bool:
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def matches(conditions: RuleConditions, fields: RuleFields) -> bool:
    listed = (
        (conditions.origins, fields.origin),
        (conditions.destinations, fields.destination),
        (conditions.mail_classes, fields.mail_class),
        (conditions.services, fields.service),
        (conditions.channels, fields.channel),
        (conditions.declared_categories, fields.declared_category),
    )
    return (
        all(allowed is None or value in allowed for allowed, value in listed)
        and _within(fields.weight_g, conditions.weight_g_min, conditions.weight_g_max)
        and _within(fields.value_eur, conditions.value_eur_min, conditions.value_eur_max)
    )


@dataclass(frozen=True)
class ActiveRule:
    rule_id: str
    version: int
    name: str
    conditions: RuleConditions
    action: RuleAction
    raise_by: float

    def hit(self) -> dict[str, Any]:
        return {
            "kind": "rule",
            "id": self.rule_id,
            "version": self.version,
            "name": self.name,
            "action": self.action,
        }


def _rule_of(row: RuleVersion) -> ActiveRule:
    return ActiveRule(
        rule_id=row.rule_id,
        version=row.version,
        name=row.name,
        conditions=RuleConditions.model_validate(row.conditions),
        action="hold" if row.action == "hold" else "release" if row.action == "release" else "raise",
        raise_by=row.raise_by,
    )


def active_rules(session: Session, at: datetime | None = None) -> list[ActiveRule]:
    """The newest version of every rule, if that version is active and not expired at `at`."""
    at = at or utcnow()
    return [rule for rule, expires_at in _targeting(session).rules if expires_at is None or expires_at > at]


def _load_rules(session: Session) -> list[tuple[ActiveRule, datetime | None]]:
    newest = (
        select(RuleVersion.rule_id, func.max(RuleVersion.version).label("version"))
        .group_by(RuleVersion.rule_id)
        .subquery()
    )
    rows = session.scalars(
        select(RuleVersion)
        .join(newest, (RuleVersion.rule_id == newest.c.rule_id) & (RuleVersion.version == newest.c.version))
        .where(RuleVersion.active.is_(True))
        .order_by(RuleVersion.rule_id)
    )
    return [(_rule_of(row), row.expires_at) for row in rows]


@dataclass(frozen=True)
class ListHit:
    list_kind: Literal["watch", "allow"]
    entry_id: int
    entity_kind: str
    label: str

    def hit(self) -> dict[str, Any]:
        return {
            "kind": f"{self.list_kind}list",
            "id": self.entry_id,
            "entity": self.entity_kind,
            "name": self.label,
        }


def list_hits(session: Session, keys: Iterable[str], at: datetime | None = None) -> dict[str, list[ListHit]]:
    """Active list entries on any of `keys`, by entity key (from the cached entries; see _targeting)."""
    at = at or utcnow()
    entries = _targeting(session).entries
    hits: dict[str, list[ListHit]] = {}
    for key in set(keys):
        for hit, expires_at in entries.get(key, ()):
            if expires_at is None or expires_at > at:
                hits.setdefault(key, []).append(hit)
    return hits


def _load_entries(session: Session) -> dict[str, list[tuple[ListHit, datetime | None]]]:
    entries: dict[str, list[tuple[ListHit, datetime | None]]] = {}
    for row in session.scalars(
        select(ListEntry).where(ListEntry.revoked_at.is_(None)).order_by(ListEntry.id)
    ):
        kind: Literal["watch", "allow"] = "watch" if row.list_kind == "watch" else "allow"
        hit = ListHit(kind, row.id, row.entity_kind, row.label)
        entries.setdefault(row.entity_key, []).append((hit, row.expires_at))
    return entries


CapacityRates = tuple[float, float]  # inspection rate, exploration share


def capacity_settings(session: Session) -> dict[str, CapacityRates]:
    """Every scope's capacity setting (from the cached settings; see _targeting)."""
    return _targeting(session).capacities


def _load_capacities(session: Session) -> dict[str, CapacityRates]:
    rows = session.execute(
        select(CapacitySetting.scope, CapacitySetting.inspection_rate, CapacitySetting.exploration_share)
    )
    return {scope: (rate, share) for scope, rate, share in rows}


@dataclass(frozen=True)
class _Targeting:
    """Active rules, unrevoked list entries and capacity settings as of one version of their tables."""

    version: int
    rules: list[tuple[ActiveRule, datetime | None]]
    entries: dict[str, list[tuple[ListHit, datetime | None]]]
    capacities: dict[str, CapacityRates]


# Every change of a rule, list entry or capacity setting (app.services.policy_admin) adds one to the targeting
# version in its transaction, so one primary-key read per batch, in the batch's own transaction, tells whether
# what this process cached is still what the tables say (a count or the largest id would grow with the tables,
# and on PostgreSQL a transaction may commit an id below one already committed).
_VERSION = select(TargetingVersion.version).where(TargetingVersion.id == 1)
_BUMP = update(TargetingVersion).where(TargetingVersion.id == 1).values(version=TargetingVersion.version + 1)


def targeting_changed(session: Session) -> None:
    """Count a change of rules, lists or capacities, in the transaction that makes it (every process's cache
    reloads from its next batch after the commit; concurrent changes queue on the one row)."""
    session.execute(_BUMP)


_cache: "WeakKeyDictionary[Engine, _Targeting]" = WeakKeyDictionary()  # one per database, per process
_cache_lock = threading.Lock()
_SEEN = "targeting"


def _targeting(session: Session) -> _Targeting:
    """Rules, list entries and capacity settings as this transaction sees them, reloaded only when their
    version changed (so every process sees a change from its next batch on, with no list query per batch)."""
    transaction = session.get_transaction()
    seen = session.info.get(_SEEN)
    if transaction is not None and seen is not None and seen[0] is transaction:
        return cast(_Targeting, seen[1])  # checked once per transaction: rules and lists ask for it
    engine = session.get_bind().engine
    version = read_columns(session, _VERSION).scalar_one()
    targeting = _cache.get(engine)
    if targeting is None or targeting.version != version:
        targeting = _Targeting(
            version, _load_rules(session), _load_entries(session), _load_capacities(session)
        )
        with _cache_lock:
            _cache[engine] = targeting
    session.info[_SEEN] = (session.get_transaction(), targeting)
    return targeting
