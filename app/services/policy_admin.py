"""Supervisor changes to the selection policy (capacity, lists, rules), each audited, and rule backtests."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.tables import Assessment, CapacitySetting, ListEntry, Officer, Partner, RuleVersion
from app.errors import NotFound
from app.services import audit
from app.services.rules import RuleAction, RuleConditions, RuleFields, matches, targeting_changed
from model.entities import EntityKind, Pseudonymiser
from model.shipment import Party

ListKind = Literal["watch", "allow"]
ListEntity = Literal["sender", "sender_address", "sender_area", "addressee", "addressee_address"]


def _actor(officer: Officer) -> str:
    return f"officer:{officer.id}"


def scope_partner_id(scope: str) -> int | None:
    """The partner a 'partner:<id>' scope names; None for the global and office scopes."""
    kind, _, value = scope.partition(":")
    return int(value) if kind == "partner" else None


def set_capacity(
    session: Session, *, officer: Officer, scope: str, inspection_rate: float, exploration_share: float
) -> CapacitySetting:
    partner_id = scope_partner_id(scope)
    if partner_id is not None and session.get(Partner, partner_id) is None:
        raise NotFound(f"no partner {partner_id}")
    setting = session.get(CapacitySetting, scope) or CapacitySetting(scope=scope)
    before = _rates(setting)
    setting.inspection_rate, setting.exploration_share = inspection_rate, exploration_share
    setting.updated_by, setting.updated_at = officer.id, utcnow()
    session.add(setting)
    targeting_changed(session)
    audit.append(
        session,
        actor=_actor(officer),
        action="capacity.set",
        subject=f"capacity:{scope}",
        details={
            "before": before,
            "after": _rates(setting),
        },
    )
    return setting


def _rates(setting: CapacitySetting) -> dict[str, float | None]:
    """A scope's setting as the audit log records it before and after a change."""
    return {"inspection_rate": setting.inspection_rate, "exploration_share": setting.exploration_share}


def delete_capacity(session: Session, *, officer: Officer, scope: str) -> None:
    """Remove a scope's own setting; the scope then follows the default. The global scope stays."""
    setting = session.get(CapacitySetting, scope)
    if setting is None:
        raise NotFound(f"no capacity set for {scope}")
    before = _rates(setting)
    session.delete(setting)
    targeting_changed(session)
    audit.append(
        session,
        actor=_actor(officer),
        action="capacity.delete",
        subject=f"capacity:{scope}",
        details={"before": before, "after": None},
    )


def entity_key(pseudonymiser: Pseudonymiser, entity: ListEntity, party: Party) -> str | None:
    """The same keyed hash the history uses, computed from the clear text the supervisor typed."""
    if entity == "sender":
        return pseudonymiser.party_key(EntityKind.SENDER, party)
    if entity == "sender_address":
        return pseudonymiser.address_key(EntityKind.SENDER_ADDRESS, party)
    if entity == "sender_area":
        return pseudonymiser.area_key(party)
    if entity == "addressee":
        return pseudonymiser.party_key(EntityKind.ADDRESSEE, party)
    return pseudonymiser.address_key(EntityKind.ADDRESSEE_ADDRESS, party)


def add_list_entry(
    session: Session,
    *,
    officer: Officer,
    list_kind: ListKind,
    entity: ListEntity,
    key: str,
    label: str,
    reason: str,
    expires_at: datetime | None,
) -> ListEntry:
    entry = ListEntry(
        list_kind=list_kind,
        entity_kind=entity,
        entity_key=key,
        label=label,
        reason=reason,
        created_by=officer.id,
        expires_at=expires_at,
    )
    session.add(entry)
    session.flush()
    targeting_changed(session)
    audit.append(
        session,
        actor=_actor(officer),
        action=f"{list_kind}list.add",
        subject=f"list_entry:{entry.id}",
        details={
            "entity": entity,
            "entity_key": key,
            "label": label,
            "reason": reason,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return entry


def revoke_list_entry(session: Session, *, officer: Officer, entry_id: int, reason: str) -> ListEntry:
    entry = session.get(ListEntry, entry_id)
    if entry is None:
        raise NotFound(f"no list entry {entry_id}")
    entry.revoked_at = entry.revoked_at or utcnow()
    targeting_changed(session)
    audit.append(
        session,
        actor=_actor(officer),
        action=f"{entry.list_kind}list.revoke",
        subject=f"list_entry:{entry.id}",
        details={"reason": reason},
    )
    return entry


def save_rule(
    session: Session,
    *,
    officer: Officer,
    rule_id: str,
    name: str,
    conditions: RuleConditions,
    action: RuleAction,
    raise_by: float,
    active: bool,
    expires_at: datetime | None,
) -> RuleVersion:
    """A new version of `rule_id` (version 1 for a new rule); the newest version is the one in force."""
    latest = session.scalar(select(func.max(RuleVersion.version)).where(RuleVersion.rule_id == rule_id)) or 0
    version = RuleVersion(
        rule_id=rule_id,
        version=latest + 1,
        name=name,
        conditions=conditions.model_dump(mode="json", exclude_none=True),
        action=action,
        raise_by=raise_by,
        active=active,
        created_by=officer.id,
        expires_at=expires_at,
    )
    session.add(version)
    session.flush()
    targeting_changed(session)
    audit.append(
        session,
        actor=_actor(officer),
        action="rule.save",
        subject=f"rule:{rule_id}",
        details={
            "version": version.version,
            "name": name,
            "conditions": version.conditions,
            "action": action,
            "raise_by": raise_by,
            "active": active,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return version


@dataclass(frozen=True)
class ProposedChange:
    """What to replay: a rule (conditions and action), or an inspection rate for the model lane."""

    conditions: RuleConditions | None = None
    action: RuleAction = "hold"
    raise_by: float = 0.0
    inspection_rate: float | None = None


def _would_hold(row: Assessment, change: ProposedChange, rate_threshold: float | None) -> bool:
    held = row.decision == "hold"
    if change.conditions is not None and matches(change.conditions, RuleFields.of(row.shipment)):
        if change.action == "hold":
            return True
        if change.action == "release":
            return held and row.selection_reason in ("watchlist", "rule")
        return held or row.raw_score + change.raise_by >= row.threshold
    if rate_threshold is not None and row.selection_reason in ("model", None):
        return row.raw_score >= rate_threshold
    return held


def backtest(session: Session, *, change: ProposedChange, days: int) -> list[dict[str, Any]]:
    """Per day of the last `days` days of stored assessments: items, held, and held had `change` been in force."""
    since = utcnow() - timedelta(days=days)
    rows = list(session.scalars(select(Assessment).where(Assessment.created_at >= since)))
    rate_threshold = None
    if change.inspection_rate is not None and rows:
        scores = np.array([row.raw_score for row in rows])
        rate_threshold = float(np.quantile(scores, 1.0 - change.inspection_rate, method="higher"))
    per_day: dict[date, dict[str, int]] = defaultdict(
        lambda: {"items": 0, "held": 0, "would_hold": 0, "added": 0, "removed": 0}
    )
    for row in rows:
        counts = per_day[row.posted_on]
        held, would = row.decision == "hold", _would_hold(row, change, rate_threshold)
        counts["items"] += 1
        counts["held"] += held
        counts["would_hold"] += would
        counts["added"] += would and not held
        counts["removed"] += held and not would
    return [{"day": day.isoformat(), **counts} for day, counts in sorted(per_day.items())]
