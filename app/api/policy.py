"""Supervisor and analyst routes: inspection capacity, watch and allow lists, targeting rules, backtests."""

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy import func, select

from app.api.deps import ReadSessionDep, SessionDep, require_roles
from app.api.error_docs import AUTHENTICATED, WITH_BODY, errors
from app.api.params import EntryId
from app.api.policy_bodies import (
    BacktestInput,
    BacktestView,
    CapacityDeleted,
    CapacityInput,
    CapacityOverview,
    CapacityView,
    ListEntryInput,
    ListEntryView,
    RuleInput,
    RuleView,
)
from app.api.responses import json_response
from app.credentials import Role
from app.db.base import utcnow
from app.db.tables import Assessment, CapacitySetting, ListEntry, Officer, RuleVersion
from app.errors import InvalidRequest
from app.services.policy_admin import (
    ProposedChange,
    add_list_entry,
    backtest,
    delete_capacity,
    entity_key,
    revoke_list_entry,
    save_rule,
    scope_partner_id,
    set_capacity,
)
from model.entities import Pseudonymiser

router = APIRouter(prefix="/v1/policy", tags=["policy"])
SupervisorDep = Annotated[Officer, Depends(require_roles(Role.SUPERVISOR))]
PolicyReaderDep = Annotated[Officer, Depends(require_roles(Role.SUPERVISOR, Role.ANALYST))]
_PARTNER_SCOPE = r"partner:[1-9][0-9]{0,9}"  # a partner id: an INTEGER column
_OFFICE_SCOPE = r"office:[A-Za-z0-9-]{1,32}"
Scope = Annotated[str, Path(pattern=rf"^(global|{_PARTNER_SCOPE}|{_OFFICE_SCOPE})$")]
NarrowScope = Annotated[
    str, Path(pattern=rf"^({_PARTNER_SCOPE}|{_OFFICE_SCOPE})$", description="Not 'global'")
]


def _realised(session: SessionDep, partner_id: int | None, hours: float) -> dict[str, Any]:
    since = utcnow() - timedelta(hours=hours)
    query = select(func.count(), func.count().filter(Assessment.decision == "hold")).where(
        Assessment.created_at >= since
    )
    if partner_id is not None:
        query = query.where(Assessment.partner_id == partner_id)
    items, held = session.execute(query).one()
    return {"window_hours": hours, "items": items, "held": held, "hold_rate": held / items if items else None}


@router.get("/capacity", response_model=CapacityOverview, responses=errors(*AUTHENTICATED))
def read_capacity(session: ReadSessionDep, request: Request, _officer: PolicyReaderDep) -> dict[str, Any]:
    """Configured capacity per scope, and the realised hold rate over the live window."""
    settings = request.app.state.settings
    rows = session.scalars(select(CapacitySetting).order_by(CapacitySetting.scope))
    return {
        "default": {
            "inspection_rate": settings.inspection_rate,
            "exploration_share": settings.exploration_share,
        },
        "scopes": [
            {
                "scope": r.scope,
                "inspection_rate": r.inspection_rate,
                "exploration_share": r.exploration_share,
                "updated_at": r.updated_at,
                "realised": _realised(session, partner_id, settings.live_window_hours)
                if (partner_id := scope_partner_id(r.scope)) is not None
                else None,
            }
            for r in rows
        ],
        "realised": _realised(session, None, settings.live_window_hours),
    }


@router.put(
    "/capacity/{scope}",
    response_model=CapacityView,
    responses=errors(*AUTHENTICATED, *WITH_BODY, 404, s404="No such partner"),
)
def update_capacity(
    scope: Scope, body: CapacityInput, session: SessionDep, officer: SupervisorDep
) -> Response:
    """Set the target inspection rate and exploration share of a scope (audited)."""
    setting = set_capacity(
        session,
        officer=officer,
        scope=scope,
        inspection_rate=body.inspection_rate,
        exploration_share=body.exploration_share,
    )
    return json_response(
        {
            "scope": setting.scope,
            "inspection_rate": setting.inspection_rate,
            "exploration_share": setting.exploration_share,
        }
    )


@router.delete(
    "/capacity/{scope}",
    response_model=CapacityDeleted,
    responses=errors(*AUTHENTICATED, 404, 422, s404="The scope has no capacity of its own"),
)
def remove_capacity(scope: NarrowScope, session: SessionDep, officer: SupervisorDep) -> Response:
    """Drop a partner's or an office's own capacity: the scope falls back to the default (audited)."""
    delete_capacity(session, officer=officer, scope=scope)
    return json_response({"scope": scope, "deleted": True})


def _entry_view(entry: ListEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "list": entry.list_kind,
        "entity": entry.entity_kind,
        "label": entry.label,
        "reason": entry.reason,
        "created_at": entry.created_at,
        "expires_at": entry.expires_at,
        "revoked_at": entry.revoked_at,
    }


@router.get("/lists", response_model=list[ListEntryView], responses=errors(*AUTHENTICATED))
def read_lists(session: ReadSessionDep, _officer: PolicyReaderDep) -> list[dict[str, Any]]:
    return [_entry_view(e) for e in session.scalars(select(ListEntry).order_by(ListEntry.id))]


@router.post(
    "/lists", response_model=ListEntryView, status_code=201, responses=errors(*AUTHENTICATED, *WITH_BODY)
)
def create_list_entry(
    body: ListEntryInput, session: SessionDep, request: Request, officer: SupervisorDep
) -> Response:
    """Watch or allow a sender, addressee, address or postcode area (audited; stored pseudonymised)."""
    pseudonymiser: Pseudonymiser = request.app.state.pseudonymiser
    key = entity_key(pseudonymiser, body.entity, body.party)
    if key is None:
        raise InvalidRequest(
            [
                {
                    "loc": "party",
                    "path": ["party"],
                    "type": "value_error",
                    "message": f"the party gives nothing that identifies a {body.entity}",
                }
            ]
        )
    entry = add_list_entry(
        session,
        officer=officer,
        list_kind=body.list,
        entity=body.entity,
        key=key,
        label=body.label,
        reason=body.reason,
        expires_at=body.expires_at,
    )
    return json_response(_entry_view(entry), status_code=201)


@router.delete("/lists/{entry_id}", response_model=ListEntryView, responses=errors(*AUTHENTICATED, 404, 422))
def delete_list_entry(entry_id: EntryId, session: SessionDep, officer: SupervisorDep) -> Response:
    entry = revoke_list_entry(session, officer=officer, entry_id=entry_id, reason="revoked via API")
    return json_response(_entry_view(entry))


def _rule_view(rule: RuleVersion) -> dict[str, Any]:
    return {
        "rule_id": rule.rule_id,
        "version": rule.version,
        "name": rule.name,
        "conditions": rule.conditions,
        "action": rule.action,
        "raise_by": rule.raise_by,
        "active": rule.active,
        "created_at": rule.created_at,
        "expires_at": rule.expires_at,
    }


@router.get("/rules", response_model=list[RuleView], responses=errors(*AUTHENTICATED))
def read_rules(session: ReadSessionDep, _officer: PolicyReaderDep) -> list[dict[str, Any]]:
    """Every version of every rule, newest version first per rule."""
    rows = session.scalars(select(RuleVersion).order_by(RuleVersion.rule_id, RuleVersion.version.desc()))
    return [_rule_view(r) for r in rows]


@router.put("/rules/{rule_id}", response_model=RuleView, responses=errors(*AUTHENTICATED, *WITH_BODY))
def put_rule(
    rule_id: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")],
    body: RuleInput,
    session: SessionDep,
    officer: SupervisorDep,
) -> Response:
    """Create a rule or add a new version of it (deactivate with "active": false); audited."""
    expires: datetime | None = body.expires_at
    version = save_rule(
        session,
        officer=officer,
        rule_id=rule_id,
        name=body.name,
        conditions=body.conditions,
        action=body.action,
        raise_by=body.raise_by,
        active=body.active,
        expires_at=expires,
    )
    return json_response(_rule_view(version))


@router.post("/backtest", response_model=BacktestView, responses=errors(*AUTHENTICATED, *WITH_BODY))
def run_backtest(body: BacktestInput, session: ReadSessionDep, _officer: PolicyReaderDep) -> dict[str, Any]:
    """Replay a rule or an inspection rate over stored assessments: items held per day, added and removed."""
    if (body.rule is None) == (body.inspection_rate is None):
        raise InvalidRequest(
            [
                {
                    "loc": "rule",
                    "path": ["rule"],
                    "type": "value_error",
                    "message": "give either a rule or an inspection_rate",
                }
            ]
        )
    change = ProposedChange(
        conditions=body.rule.conditions if body.rule else None,
        action=body.rule.action if body.rule else "hold",
        raise_by=body.rule.raise_by if body.rule else 0.0,
        inspection_rate=body.inspection_rate,
    )
    return {"days": backtest(session, change=change, days=body.days)}
