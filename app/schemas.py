"""Request and response envelopes of the HTTP API (the shipment and outcome contracts live in model/)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from model.bounds import Instant, PlainText
from model.shipment import FINDING_RESULTS, OutcomeResult, Quantity, Shipment
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


CaseStatus = Literal["open", "claimed", "pending_lab", "closed"]
_NO_FINDING = frozenset({OutcomeResult.NOTHING_FOUND, OutcomeResult.NOT_PRESENTED})
Reason = Annotated[PlainText, StringConstraints(strip_whitespace=True, min_length=5, max_length=2000)]


class CaseSummary(Envelope):
    case_id: int
    assessment_id: str
    item_id: str
    status: CaseStatus
    score: float
    referral: str
    origin: str
    destination: str
    mail_class: str
    office: str | None = Field(description="Office of posting (posting.office_id)")
    created_at: datetime
    claimed_by: str | None


def blank_is_none(value: Any) -> Any:
    return None if value == "" else value


ROW_ID_MAX = 2_147_483_647  # ids are INTEGER columns: 32 bits on PostgreSQL
MAX_AGE_HOURS = 24 * 366 * 10  # no case is kept longer than ten years
Blank = Literal[""]  # a web form sends its empty fields as ""
RowId = Annotated[int, Field(ge=1, le=ROW_ID_MAX)]
Hours = Annotated[float, Field(ge=0, le=MAX_AGE_HOURS, allow_inf_nan=False)]
OfficeId = Annotated[PlainText, Field(max_length=32)]
CountryFilter = Annotated[str, Field(pattern="^[A-Za-z]{2}$")]


class QueueFilters(BaseModel):
    """Which held items a queue page lists; empty filters (blank form fields) match every case."""

    status: Literal["open", "claimed", "pending_lab", "closed", "any"] = "open"
    office: Annotated[
        OfficeId | None,
        BeforeValidator(blank_is_none, json_schema_input_type=OfficeId | None),
        Field(description="Office of posting"),
    ] = None
    origin: Annotated[
        CountryFilter | None, BeforeValidator(blank_is_none, json_schema_input_type=CountryFilter | Blank)
    ] = None
    destination: Annotated[
        CountryFilter | None, BeforeValidator(blank_is_none, json_schema_input_type=CountryFilter | Blank)
    ] = None
    referral: Annotated[
        Referral | None, BeforeValidator(blank_is_none, json_schema_input_type=Referral | Blank)
    ] = None
    min_age_hours: Annotated[
        Hours | None,
        BeforeValidator(blank_is_none, json_schema_input_type=Hours | Blank),
        Field(description="Held at least this long"),
    ] = None
    max_age_hours: Annotated[
        Hours | None,
        BeforeValidator(blank_is_none, json_schema_input_type=Hours | Blank),
        Field(description="Held at most this long"),
    ] = None
    mine: bool = Field(default=False, description="Only cases the caller holds")


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
    kind: Literal["inspection", "lab_result", "correction"]
    current: bool = Field(description="False once a lab result or a correction superseded this record")
    result: OutcomeResult
    substance_category: DrugCategory | None
    quantity: Quantity | None
    inspected_at: datetime
    recorded_by: str
    recorded_at: datetime
    note: str | None
    reason: str | None = Field(description="Why a correction was made")
    lab_reference: str | None
    supersedes_id: int | None


class PartyAccessView(Envelope):
    officer: str
    purpose: str
    channel: str
    accessed_at: datetime


class CaseDetail(CaseSummary):
    claimed_at: datetime | None
    decision: Decision
    selection_reason: str | None
    model_version: str
    threshold: float
    reasons: list[ReasonView]
    hits: list[dict[str, Any]] = Field(description="Rule and list entries that matched the item")
    shipment: dict[str, Any]
    outcomes: list[OutcomeView]
    parties_available: bool = Field(description="Clear-text parties are kept (see POST .../parties)")
    parties_purge_after: datetime
    party_access: list[PartyAccessView]


class OutcomeFields(Envelope):
    """What an inspection found. A substance category goes with a finding, never with 'nothing found'."""

    result: OutcomeResult
    substance_category: DrugCategory | None = Field(default=None, validate_default=True)
    quantity: Quantity | None = Field(default=None, description="Estimated quantity of a finding")
    inspected_at: Instant | None = Field(default=None, description="Defaults to the time of recording")
    note: PlainText | None = Field(default=None, max_length=2000)

    @field_validator("substance_category")
    @classmethod
    def _category_fits_result(cls, value: DrugCategory | None, info: ValidationInfo) -> DrugCategory | None:
        result = info.data.get("result")
        if result in FINDING_RESULTS and value is None:
            raise ValueError(f"required when result is '{result}'")
        if result in _NO_FINDING and value is not None:
            raise ValueError(f"not recorded when result is '{result}'")
        return value

    @field_validator("quantity")
    @classmethod
    def _quantity_fits_result(cls, value: Quantity | None, info: ValidationInfo) -> Quantity | None:
        result = info.data.get("result")
        if result in _NO_FINDING and value is not None:
            raise ValueError(f"not recorded when result is '{result}'")
        return value


class OutcomeInput(OutcomeFields):
    """What an officer records after inspecting a held item; 'inconclusive' leaves it pending a lab result."""

    override_reason: Reason | None = Field(
        default=None, description="A supervisor deciding a case another officer holds says why (audited)"
    )


class LabResultInput(OutcomeFields):
    """The lab's answer for a case pending after an inconclusive inspection; it closes the case."""

    result: Literal[OutcomeResult.SEIZED, OutcomeResult.NOTHING_FOUND, OutcomeResult.INCONCLUSIVE]
    lab_reference: PlainText | None = Field(default=None, max_length=64)
    override_reason: Reason | None = None


class CorrectionInput(OutcomeFields):
    """A replacement for the case's current outcome; the old record stays, marked as superseded."""

    reason: Reason = Field(description="Why the recorded outcome was wrong (audited)")


class OverrideInput(Envelope):
    override_reason: Reason | None = Field(
        default=None, description="A supervisor taking or releasing another officer's case says why (audited)"
    )


class CaseState(Envelope):
    case_id: int
    status: CaseStatus
    claimed_by: str | None


class OutcomeRecorded(Envelope):
    outcome_id: int
    case_id: int
    status: CaseStatus


class PartiesRequest(Envelope):
    purpose: Annotated[PlainText, StringConstraints(strip_whitespace=True, min_length=10, max_length=500)] = (
        Field(description="Why the clear text is needed, in words a reviewer of the access log understands")
    )


class PartiesView(Envelope):
    case_id: int
    sender: dict[str, Any]
    addressee: dict[str, Any]
    access_id: int = Field(description="The access-log entry this read created")
    purge_after: datetime
