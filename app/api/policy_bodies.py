"""Request bodies and responses of the policy routes (capacity, lists, rules, backtests), as documented."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.services.policy_admin import ListEntity, ListKind
from app.services.rules import RuleAction, RuleConditions
from model.bounds import Instant, PlainText
from model.shipment import Party

Label = Annotated[PlainText, Field(min_length=1, max_length=200)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CapacityInput(Body):
    inspection_rate: float = Field(strict=True, gt=0, le=0.5, description="Share of items to hold")
    exploration_share: float = Field(
        strict=True, ge=0, lt=1, description="Share of that capacity drawn at random"
    )


class ListEntryInput(Body):
    """A watch or allow entry. The party is given in clear text and stored only as its keyed hash."""

    list: ListKind
    entity: ListEntity
    party: Party
    label: Label = Field(description="What supervisors see; not the clear text")
    reason: Annotated[PlainText, Field(min_length=1, max_length=2000)]
    expires_at: Instant | None = None


class RuleInput(Body):
    name: Label
    conditions: RuleConditions
    action: RuleAction
    raise_by: float = Field(
        default=0.0, strict=True, ge=0, le=20, description="With action 'raise': added to the raw score"
    )
    active: StrictBool = True
    expires_at: Instant | None = None


class BacktestInput(Body):
    rule: RuleInput | None = None
    inspection_rate: float | None = Field(default=None, strict=True, gt=0, le=0.5)
    days: int = Field(default=7, strict=True, ge=1, le=90)


class CapacityView(Body):
    scope: str
    inspection_rate: float
    exploration_share: float


class CapacityDeleted(Body):
    scope: str
    deleted: Literal[True]


class Realised(Body):
    window_hours: float
    items: int
    held: int
    hold_rate: float | None = Field(description="null before any item in the window")


class ScopeCapacity(CapacityView):
    updated_at: datetime
    realised: Realised | None = Field(description="Partner scopes: that partner's realised hold rate")


class DefaultCapacity(Body):
    inspection_rate: float
    exploration_share: float


class CapacityOverview(Body):
    default: DefaultCapacity
    scopes: list[ScopeCapacity]
    realised: Realised


class ListEntryView(Body):
    id: int
    list: ListKind
    entity: ListEntity
    label: str
    reason: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class RuleView(Body):
    rule_id: str
    version: int
    name: str
    conditions: dict[str, Any]
    action: RuleAction
    raise_by: float
    active: bool
    created_at: datetime
    expires_at: datetime | None


class BacktestDay(Body):
    day: str = Field(description="UTC day, YYYY-MM-DD")
    items: int
    held: int
    would_hold: int
    added: int
    removed: int


class BacktestView(Body):
    days: list[BacktestDay]
