"""The shipment and outcome contracts, in UPU ITMATT / CN23 terms, shared by the API and training files."""

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from model.bounds import Instant, PlainText
from model.codes import is_country, is_currency
from model.s10 import s10_problem
from model.taxonomy import DrugCategory

WAYBILL_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{5,34}$")
HS_CODE_PATTERN = r"^\d{6}(\d{2}){0,2}$"
LETTER_MAX_KG = 2.0
PARCEL_MAX_KG = 31.5


def _country(code: str) -> str:
    if not is_country(code):
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _currency(code: str) -> str:
    if not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


CountryCode = Annotated[str, Field(min_length=2, max_length=2, examples=["NL"]), AfterValidator(_country)]
CurrencyCode = Annotated[str, Field(min_length=3, max_length=3, examples=["EUR"]), AfterValidator(_currency)]
ShortText = Annotated[PlainText, Field(min_length=1, max_length=200)]


class Contract(BaseModel):
    """Base for every contract model: unknown fields are errors, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class MailClass(StrEnum):
    """UPU mail class of the item (ITMATT `mail_class`)."""

    LETTER = "U"
    PARCEL = "C"
    EMS = "E"


class MailCategory(StrEnum):
    """UPU mail category: A priority/air, B surface air-lifted, C surface, D priority by surface."""

    PRIORITY = "A"
    SAL = "B"
    SURFACE = "C"
    PRIORITY_SURFACE = "D"


class Service(StrEnum):
    UNTRACKED = "untracked"
    TRACKED = "tracked"
    REGISTERED = "registered"
    INSURED = "insured"


class PostingChannel(StrEnum):
    COUNTER = "counter"
    MAILBOX = "mailbox"
    PARCEL_LOCKER = "parcel_locker"
    BUSINESS_PICKUP = "business_pickup"


class PostageMethod(StrEnum):
    STAMPS = "stamps"
    FRANKING_MACHINE = "franking_machine"
    ONLINE_LABEL = "online_label"
    CONTRACT_ACCOUNT = "contract_account"


class ItemCategory(StrEnum):
    """CN23 box "category of item"."""

    GIFT = "gift"
    DOCUMENTS = "documents"
    COMMERCIAL_SAMPLE = "commercial_sample"
    RETURNED_GOODS = "returned_goods"
    SALE_OF_GOODS = "sale_of_goods"
    OTHER = "other"


class ContentLine(Contract):
    """One CN23 contents line."""

    description: ShortText = Field(description="CN23 box 1: detailed description of contents")
    quantity: int = Field(ge=1, le=100_000, description="CN23 box 2: quantity")
    net_weight_kg: float = Field(gt=0, le=PARCEL_MAX_KG, description="CN23 box 3: net weight in kilograms")
    value: float = Field(ge=0, le=1_000_000, description="CN23 box 4: value, in the line's currency")
    currency: CurrencyCode
    hs_code: str | None = Field(
        default=None, pattern=HS_CODE_PATTERN, description="CN23 box 5: HS tariff number (6, 8 or 10 digits)"
    )
    origin_country: CountryCode | None = Field(default=None, description="CN23 box 6: country of origin")


class Declaration(Contract):
    """The CN22/CN23 customs declaration; absent for items that need none (domestic, intra-EU documents)."""

    category: ItemCategory
    category_explanation: Annotated[PlainText, Field(max_length=200)] | None = Field(
        default=None, validate_default=True
    )
    contents: list[ContentLine] = Field(default_factory=list, max_length=100)
    declared_value: float = Field(ge=0, le=1_000_000, description="CN23 total value")
    currency: CurrencyCode
    postal_charges: float | None = Field(default=None, ge=0, le=100_000)
    insurance_value: float | None = Field(default=None, ge=0, le=1_000_000)
    licence_number: Annotated[PlainText, Field(max_length=64)] | None = None
    certificate_number: Annotated[PlainText, Field(max_length=64)] | None = None
    invoice_number: Annotated[PlainText, Field(max_length=64)] | None = None
    comments: Annotated[PlainText, Field(max_length=500)] | None = None

    @field_validator("category_explanation")
    @classmethod
    def _explained_when_other(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("category") is ItemCategory.OTHER and not value:
            raise ValueError("required when category is 'other'")
        return value


class Party(Contract):
    """Sender or addressee as written on the item. Never stored in clear text for released items."""

    name: Annotated[PlainText, Field(max_length=200)] | None = None
    business_name: Annotated[PlainText, Field(max_length=200)] | None = None
    address_lines: list[Annotated[PlainText, Field(max_length=200)]] = Field(
        default_factory=list, max_length=4
    )
    postcode: Annotated[PlainText, Field(max_length=16)] | None = None
    city: Annotated[PlainText, Field(max_length=100)] | None = None
    country: CountryCode
    phone: Annotated[PlainText, Field(max_length=40)] | None = None
    email: Annotated[PlainText, Field(max_length=254)] | None = None
    importer_reference: Annotated[PlainText, Field(max_length=40)] | None = Field(
        default=None, description="EORI or other importer reference (addressee)"
    )


class Posting(Contract):
    """Where, when and how the item entered the network."""

    posted_at: Instant = Field(
        description="Posting date-time with its UTC offset, written in a year 2000-2099: a window wide enough for "
        "any archived feed and clock error, narrow enough that every offset converts to UTC and every history "
        "or retention window stays inside the calendar (one item off the calendar broke whole batches)"
    )
    country: CountryCode = Field(description="Country of posting (origin of the corridor)")
    channel: PostingChannel
    office_id: Annotated[PlainText, Field(max_length=32)] | None = Field(
        default=None, description="Office of origin, locker or mailbox identifier"
    )
    postage_method: PostageMethod


class Shipment(Contract):
    """One postal or courier item, as a partner files it (ITMATT item attributes plus CN23)."""

    item_id_scheme: Literal["s10", "waybill"] = Field(
        default="s10", description="'s10' (validated strictly, check digit included) or a courier 'waybill'"
    )
    item_id: str = Field(
        description="UPU S10 item id, or a courier waybill when item_id_scheme is 'waybill'",
        json_schema_extra={"pattern": WAYBILL_PATTERN.pattern},  # S10 ids are a subset; validated below
    )
    mail_class: MailClass
    mail_category: MailCategory = MailCategory.PRIORITY
    service: Service
    gross_weight_kg: float = Field(gt=0, le=PARCEL_MAX_KG, description="Item gross weight in kilograms")
    posting: Posting
    sender: Party
    addressee: Party
    declaration: Declaration | None = None

    @field_validator("item_id")
    @classmethod
    def _valid_item_id(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("item_id_scheme", "s10") == "s10":
            problem = s10_problem(value)
            if problem:
                raise ValueError(problem)
        elif not WAYBILL_PATTERN.match(value):
            raise ValueError("a waybill is 6 to 35 characters of A-Z, 0-9 and '-'")
        return value

    @field_validator("gross_weight_kg")
    @classmethod
    def _within_class_limit(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("mail_class") is MailClass.LETTER and value > LETTER_MAX_KG:
            raise ValueError(f"letter post (U) weighs at most {LETTER_MAX_KG} kg")
        return value

    @property
    def corridor(self) -> tuple[str, str]:
        return self.posting.country, self.addressee.country


class OutcomeResult(StrEnum):
    SEIZED = "seized"
    NOTHING_FOUND = "nothing_found"
    NOT_PRESENTED = "not_presented"
    CONTROLLED_DELIVERY = "controlled_delivery"
    INCONCLUSIVE = "inconclusive"


FINDING_RESULTS = frozenset({OutcomeResult.SEIZED, OutcomeResult.CONTROLLED_DELIVERY})


class Quantity(Contract):
    value: float = Field(gt=0, le=1_000_000)
    unit: Literal["g", "units"]


class Outcome(Contract):
    """What an inspection found, as customs records it and training reads it.

    `recorded_at` is the moment the record became known to the service (an inspection's record, a lab result,
    a correction): history links a seizure from then on, in training and in the service alike. Files written
    before it existed lack it; it then defaults to `inspected_at`. A case's records all appear in an export,
    oldest first; `superseded` marks those a later lab result or correction replaced.
    """

    item_id: str = Field(min_length=6, max_length=35)
    posted_on: date | None = Field(default=None, description="Posting date; disambiguates reused S10 ids")
    assessment_id: str | None = Field(default=None, max_length=64)
    inspected_at: AwareDatetime
    recorded_at: AwareDatetime | None = Field(
        default=None,
        validate_default=True,
        description="When the service learnt this outcome; defaults to inspected_at (older files)",
    )
    superseded: bool = Field(
        default=False,
        description="A later record of the same case (lab result, correction) replaced this one",
    )
    result: OutcomeResult
    substance_category: DrugCategory | None = Field(default=None, validate_default=True)
    quantity: Quantity | None = None
    selection_reason: Literal["model", "rule", "watchlist", "random", "manual"] | None = Field(
        default=None, description="Why the item was selected for inspection"
    )
    selection_probability: float | None = Field(
        default=None, gt=0, le=1, description="Probability that the selection policy inspected this item"
    )

    @field_validator("recorded_at")
    @classmethod
    def _recorded_once_inspected(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        inspected_at = info.data.get("inspected_at")
        return inspected_at if value is None else value

    @field_validator("substance_category")
    @classmethod
    def _substance_when_found(cls, value: DrugCategory | None, info: ValidationInfo) -> DrugCategory | None:
        result = info.data.get("result")
        if result in FINDING_RESULTS and value is None:
            raise ValueError(f"required when result is '{result}'")
        return value

    @property
    def found_drugs(self) -> bool:
        return self.result in FINDING_RESULTS and self.substance_category is not DrugCategory.NON_DRUG

    @property
    def known_at(self) -> datetime:
        """The moment history learns this outcome: `recorded_at` (set from `inspected_at` when absent)."""
        return self.recorded_at or self.inspected_at
