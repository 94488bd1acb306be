"""Request and response envelopes of the HTTP API (the shipment and outcome contracts live in model/)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from model.shipment import OutcomeResult, Quantity, Shipment
from model.taxonomy import DrugCategory

Decision = Literal["release", "hold"]
Referral = Literal["inspect", "request_information"]


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssessmentRequest(Envelope):
    """A batch of items to assess. Documented here; the route validates items one by one."""

    items: list[Shipment] = Field(min_length=1, description="1 to max_batch_items shipments")
    partial: bool = Field(
        default=False,
        description="Assess the valid items and report the invalid ones by index, instead of rejecting all",
    )


class ItemError(Envelope):
    index: int
    errors: list[dict[str, Any]]


class ItemDecision(Envelope):
    index: int = Field(description="Position of the item in the request")
    item_id: str
    assessment_id: str = Field(description="Reference to quote for this decision")
    decision: Decision
    referral: Referral | None = Field(description="Why customs wants the item held; null when released")


class AssessmentResponse(Envelope):
    batch_id: str
    model_version: str
    decisions: list[ItemDecision]
    errors: list[ItemError] = Field(default_factory=list, description="Rejected items (partial mode only)")


class AssessmentView(Envelope):
    """What a partner may see of one assessment: never a score or a reason."""

    assessment_id: str
    batch_id: str
    item_id: str
    decision: Decision
    referral: Referral | None
    assessed_at: datetime


class CaseSummary(Envelope):
    case_id: int
    assessment_id: str
    item_id: str
    status: str
    score: float
    referral: str
    origin: str
    destination: str
    mail_class: str
    created_at: datetime
    claimed_by: str | None


class CasePage(Envelope):
    cases: list[CaseSummary]
    next_cursor: str | None


class ReasonView(Envelope):
    feature: str
    sentence: str
    value: float
    contribution: float


class OutcomeView(Envelope):
    outcome_id: int
    result: OutcomeResult
    substance_category: DrugCategory | None
    quantity: Quantity | None
    inspected_at: datetime
    recorded_by: str
    recorded_at: datetime
    note: str | None
    supersedes_id: int | None


class CaseDetail(CaseSummary):
    decision: Decision
    selection_reason: str | None
    model_version: str
    threshold: float
    reasons: list[ReasonView]
    shipment: dict[str, Any]
    outcomes: list[OutcomeView]


class OutcomeInput(Envelope):
    """What an officer records after inspecting a held item."""

    result: OutcomeResult
    substance_category: DrugCategory | None = None
    quantity: Quantity | None = None
    inspected_at: AwareDatetime | None = Field(default=None, description="Defaults to the time of recording")
    note: str | None = Field(default=None, max_length=2000)
