"""The listing contract (CSV and JSONL rows) and the normalised listing the rest of the package works on."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from model.shipment import MailClass
from model.taxonomy import DrugCategory
from training.market.quantities import ParsedQuantity


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[;|]", value) if part.strip()]
    return value


def _date_part(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str) and len(value) > 10 and value[10] in "T ":
        return value[:10]
    return value


TextList = Annotated[list[Annotated[str, Field(max_length=200)]], BeforeValidator(_split_list)]
DayField = Annotated[date, BeforeValidator(_date_part)]


class ContractModel(BaseModel):
    """Strict rows: unknown fields are errors, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class FeedbackRecord(ContractModel):
    """One feedback left on a listing, read as one completed order."""

    date: DayField
    rating: float | None = Field(default=None, ge=0, le=5)
    price: float | None = Field(default=None, gt=0, description="Paid, in the listing's currency")
    destination: str | None = Field(
        default=None, max_length=100, description="Buyer country, free text or ISO"
    )
    shipping: str | None = Field(default=None, max_length=200, description="The shipping option chosen")


class ListingRecord(ContractModel):
    """One listing as a market showed it on `observed_at` (docs/market-data.md)."""

    market: str = Field(min_length=1, max_length=100)
    vendor: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=20_000)
    category: str = Field(default="", max_length=300, description="Market category path or taxonomy value")
    price: float = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217 code, or BTC")
    ships_from: str = Field(default="", max_length=100)
    ships_to: TextList = Field(default_factory=list, description="Countries or regions; 'worldwide' allowed")
    shipping_options: TextList = Field(default_factory=list)
    rating: float | None = Field(default=None, ge=0, le=5)
    feedback_count: int | None = Field(default=None, ge=0)
    observed_at: DayField | None = None
    feedback: list[FeedbackRecord] = Field(default_factory=list)


@dataclass(frozen=True)
class ShippingOption:
    """A way a vendor ships: the UPU mail class and whether the item is tracked."""

    mail_class: MailClass
    tracked: bool

    @property
    def label(self) -> str:
        """The option as the contract writes it, e.g. "letter tracked"."""
        names = {MailClass.LETTER: "letter", MailClass.PARCEL: "parcel", MailClass.EMS: "express"}
        return f"{names[self.mail_class]} {'tracked' if self.tracked else 'untracked'}"


_EXPRESS = re.compile(r"express|\bems\b|next.?day|overnight|24 ?h|priority mail express", re.IGNORECASE)
_PARCEL = re.compile(r"parcel|package|\bbox\b|courier|\bdhl\b|\bups\b|fedex|pakket|paket", re.IGNORECASE)
_LETTER = re.compile(r"letter|envelope|standard|first.?class|\bbrief|\bmail\b|\bpost\b|stamp", re.IGNORECASE)
_UNTRACKED = re.compile(r"untracked|no track|not tracked|without track", re.IGNORECASE)
_TRACKED = re.compile(r"track|registered|signed|insured", re.IGNORECASE)


@cache
def parse_shipping_option(text: str) -> ShippingOption | None:
    """A free-text shipping option ("Tracked letter", "Express (EMS)", "Parcel") or None."""
    if _EXPRESS.search(text):
        return ShippingOption(MailClass.EMS, True)
    tracked = bool(_TRACKED.search(text)) and not _UNTRACKED.search(text)
    if _PARCEL.search(text):
        return ShippingOption(MailClass.PARCEL, tracked)
    if _LETTER.search(text) or tracked:
        return ShippingOption(MailClass.LETTER, tracked)
    return None


@dataclass(frozen=True)
class Feedback:
    """A normalised feedback record: the day, and what is known of destination, price and shipping."""

    on: date
    destination: str | None = None
    price_eur: float | None = None
    shipping: ShippingOption | None = None


@dataclass(frozen=True)
class Listing:
    """A normalised listing: taxonomy category, ISO places, euros, quantity from the title."""

    market: str
    vendor: str
    title: str
    category: DrugCategory
    price_eur: float
    ships_from: str | None
    ships_to: frozenset[str]
    quantity: ParsedQuantity | None
    shipping: tuple[ShippingOption, ...] = ()
    rating: float | None = None
    feedback_count: int | None = None
    observed_at: date | None = None
    feedback: tuple[Feedback, ...] = ()

    @property
    def is_drug(self) -> bool:
        return self.category is not DrugCategory.NON_DRUG

    @property
    def product_grams(self) -> float | None:
        """Mass of what one order of this listing holds, before packaging; None when the title names none."""
        return self.quantity.product_grams(self.category) if self.quantity else None
