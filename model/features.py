"""Feature definitions and the one function that turns shipments plus their history into the feature matrix."""

import math
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import numpy as np
import numpy.typing as npt

from model.entities import EntityKeys, EntityKind
from model.history import NOT_IDENTIFIED, EntityState, EntityView, observe_entity
from model.market_profile import MarketProfile
from model.money import to_eur
from model.shipment import (
    ItemCategory,
    MailCategory,
    MailClass,
    PostageMethod,
    PostingChannel,
    Service,
    Shipment,
)

FeatureMatrix = npt.NDArray[np.float64]
VAGUE_WORDS = frozenset(
    {
        "gift",
        "gifts",
        "present",
        "presents",
        "stuff",
        "item",
        "items",
        "goods",
        "sample",
        "samples",
        "things",
        "product",
        "products",
        "misc",
        "various",
        "clothes",
        "clothing",
        "documents",
        "document",
        "papers",
        "paper",
        "personal",
        "accessories",
        "parts",
    }
)
DOCUMENTS_MAX_PLAUSIBLE_G = 100.0


@dataclass(frozen=True)
class Feature:
    """One model input: its name, what it measures, how to say it to an officer, and its promised direction."""

    name: str
    description: str
    explanation: str
    kind: Literal["numeric", "categorical"] = "numeric"
    monotone: Literal[-1, 0, 1] = 0
    levels: tuple[str, ...] = ()

    def explain(self, value: float) -> str:
        if self.kind == "categorical":
            label = self.levels[int(value)] if 0 <= value < len(self.levels) else "unknown"
            return self.explanation.format(value=label.replace("_", " "))
        return self.explanation.format(value=value)


def _levels(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


def _categorical(name: str, description: str, explanation: str, enum: type[StrEnum]) -> Feature:
    return Feature(name, description, explanation, kind="categorical", levels=_levels(enum))


DECLARED_CATEGORY_LEVELS = (*_levels(ItemCategory), "none")

SHIPMENT_FEATURES: tuple[Feature, ...] = (
    _categorical(
        "mail_class", "UPU mail class (letter, parcel, EMS)", "sent as mail class {value}", MailClass
    ),
    _categorical(
        "mail_category", "UPU mail category (priority, SAL, surface)", "mail category {value}", MailCategory
    ),
    _categorical("service", "Tracking service", "sent {value}", Service),
    _categorical("posting_channel", "How the item was posted", "posted via {value}", PostingChannel),
    _categorical("postage_method", "How postage was paid", "postage paid by {value}", PostageMethod),
    Feature(
        "declared_category",
        "CN23 category of item, or none",
        "declared as {value}",
        kind="categorical",
        levels=DECLARED_CATEGORY_LEVELS,
    ),
    Feature("posting_hour", "Local hour of posting", "posted at {value:.0f}h local time"),
    Feature("posting_weekday", "Weekday of posting, Monday 0", "posted on weekday {value:.0f} (Mon=0)"),
    Feature("weight_g", "Gross weight in grams", "weighs {value:.0f} g"),
    Feature("declared_value_eur", "Declared total value in EUR", "declared value EUR {value:.2f}"),
    Feature("value_per_gram", "Declared EUR per gram of gross weight", "declared EUR {value:.3f} per gram"),
    Feature("contents_lines", "Number of CN23 contents lines", "{value:.0f} contents lines declared"),
    Feature(
        "description_vagueness",
        "Share of contents descriptions that are vague or missing (0-1)",
        "{value:.0%} of the contents description is vague or missing",
        monotone=1,
    ),
    Feature(
        "hs_code_share", "Share of contents lines with an HS code", "{value:.0%} of lines carry an HS code"
    ),
    Feature(
        "category_weight_mismatch",
        "Declared documents but heavier than an envelope of papers",
        "declared as documents but weighs more than 100 g",
        monotone=1,
    ),
    Feature("sender_anonymous", "No sender name or address on the item", "no sender name or address given"),
    Feature("sender_is_business", "Sender gives a business name", "sender is a business"),
    Feature("addressee_is_business", "Addressee gives a business name", "addressee is a business"),
    Feature(
        "sender_abroad",
        "Sender address outside the posting country",
        "sender address is outside the posting country",
    ),
    Feature("international", "Destination differs from posting country", "cross-border item"),
    Feature(
        "corridor_monthly_items",
        "Market profile: expected illicit items per month on this corridor",
        "cryptomarket vendors ship about {value:.0f} items a month on this corridor",
        monotone=1,
    ),
    Feature(
        "corridor_weight_fit",
        "Market profile: share of the corridor's illicit items in this weight band",
        "{value:.0%} of vendor shipments on this corridor fall in this weight band",
    ),
    Feature(
        "corridor_class_fit",
        "Market profile: share of the corridor's illicit items in this mail class",
        "{value:.0%} of vendor shipments on this corridor use this mail class",
    ),
    Feature(
        "corridor_weekday_fit",
        "Market profile: share of the corridor's illicit items on this weekday",
        "{value:.0%} of vendor shipments on this corridor are posted on this weekday",
    ),
)

HISTORY_FEATURES: tuple[Feature, ...] = (
    Feature(
        "sender_items_7d",
        "Sender: items in the last 7 days (decayed)",
        "the sender posted {value:.0f} items in the last 7 days",
    ),
    Feature(
        "sender_items_90d",
        "Sender: items in the last 90 days (decayed)",
        "the sender posted {value:.0f} items in the last 90 days",
    ),
    Feature(
        "sender_distinct_addressees",
        "Sender: distinct addressees among recent items",
        "the sender wrote to {value:.0f} different addressees recently",
    ),
    Feature(
        "sender_distinct_countries",
        "Sender: distinct destination countries among recent items",
        "the sender shipped to {value:.0f} different countries recently",
    ),
    Feature(
        "sender_age_days", "Sender: days since first seen", "the sender was first seen {value:.0f} days ago"
    ),
    Feature(
        "sender_holds", "Sender: items previously held", "{value:.0f} earlier items of this sender were held"
    ),
    Feature(
        "sender_seizures",
        "Sender: seizures linked to the sender",
        "{value:.0f} seizures are linked to this sender",
        monotone=1,
    ),
    Feature(
        "sender_days_since_seizure",
        "Sender: days since the last linked seizure",
        "a seizure was linked to this sender {value:.0f} days ago",
    ),
    Feature(
        "sender_address_items_90d",
        "Sender address: items in the last 90 days",
        "the sender address posted {value:.0f} items in the last 90 days",
    ),
    Feature(
        "sender_address_distinct_countries",
        "Sender address: distinct destination countries",
        "the sender address shipped to {value:.0f} different countries recently",
    ),
    Feature(
        "sender_address_seizures",
        "Sender address: linked seizures",
        "{value:.0f} seizures are linked to the sender address",
        monotone=1,
    ),
    Feature(
        "sender_area_items_7d",
        "Sender postcode area: items in the last 7 days",
        "the sender's postcode area posted {value:.0f} items in the last 7 days",
    ),
    Feature(
        "sender_area_seizures",
        "Sender postcode area: linked seizures",
        "{value:.0f} seizures are linked to the sender's postcode area",
        monotone=1,
    ),
    Feature(
        "addressee_items_90d",
        "Addressee: items received in the last 90 days",
        "the addressee received {value:.0f} items in the last 90 days",
    ),
    Feature(
        "addressee_distinct_senders",
        "Addressee: distinct senders among recent items",
        "the addressee received from {value:.0f} different senders recently",
    ),
    Feature(
        "addressee_age_days",
        "Addressee: days since first seen",
        "the addressee was first seen {value:.0f} days ago",
    ),
    Feature(
        "addressee_seizures",
        "Addressee: linked seizures",
        "{value:.0f} seizures are linked to the addressee",
        monotone=1,
    ),
    Feature(
        "addressee_address_items_90d",
        "Addressee address: items received in the last 90 days",
        "the addressee's address received {value:.0f} items in the last 90 days",
    ),
    Feature(
        "addressee_address_seizures",
        "Addressee address: linked seizures",
        "{value:.0f} seizures are linked to the addressee's address",
        monotone=1,
    ),
    Feature(
        "corridor_items_7d",
        "Corridor: items in the last 7 days (service traffic)",
        "{value:.0f} items travelled this corridor in the last 7 days",
    ),
    Feature(
        "corridor_seizures",
        "Corridor: seizures on this corridor",
        "{value:.0f} seizures were made on this corridor",
        monotone=1,
    ),
    Feature(
        "sender_premises_seizures",
        "Sender postcode + house number, under any name: linked seizures",
        "{value:.0f} seizures are linked to the sender's postcode and house number, under any name",
        monotone=1,
    ),
    Feature(
        "sender_street_seizures",
        "Sender street + house number in the same place, spelling-tolerant: linked seizures",
        "{value:.0f} seizures are linked to the sender's street and house number, however spelt",
        monotone=1,
    ),
    Feature(
        "sender_name_seizures",
        "Sender name in the same place, spelling-tolerant (initial + surname letters): linked seizures",
        "{value:.0f} seizures are linked to a sender of this name here, however spelt",
        monotone=1,
    ),
    Feature(
        "sender_habit_seizures",
        "Posting office with the same mail class, postage and declaration: linked seizures",
        "{value:.0f} seizures are linked to items posted like this one at this office",
        monotone=1,
    ),
    Feature(
        "sender_linked_recent_seizures",
        "Seizures linked to any of the sender's keys (exact or tolerant), decayed over 90 days",
        "seizures linked to this sender's name, address or premises weigh {value:.1f} (decayed over 90 days)",
        monotone=1,
    ),
    Feature(
        "sender_place_linked_to_seizure",
        "Sender address, postcode + house number or street + house number linked to a past seizure (0/1)",
        "the sender's address is linked to a past seizure",
        monotone=1,
    ),
    Feature(
        "addressee_seized_senders",
        "Addressee: seizures of senders it received items from",
        "the addressee received items from senders linked to {value:.0f} seizures",
        monotone=1,
    ),
    Feature(
        "addressee_seized_senders_recent",
        "Addressee: seizures of senders it received from, decayed over 90 days",
        "the addressee received items from recently seized senders (weight {value:.1f})",
        monotone=1,
    ),
)

FEATURES: tuple[Feature, ...] = SHIPMENT_FEATURES + HISTORY_FEATURES
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURES_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.kind == "categorical")


def _code(levels: tuple[str, ...]) -> Callable[[str], float]:
    """Level index of a value; StrEnum members look themselves up (they hash as their value)."""
    index = {level: float(i) for i, level in enumerate(levels)}
    return lambda value: index.get(value, math.nan)


_MAIL_CLASS = _code(_levels(MailClass))
_MAIL_CATEGORY = _code(_levels(MailCategory))
_SERVICE = _code(_levels(Service))
_CHANNEL = _code(_levels(PostingChannel))
_POSTAGE = _code(_levels(PostageMethod))
_DECLARED = _code(DECLARED_CATEGORY_LEVELS)


def _is_vague(description: str) -> bool:
    words = description.lower().split()
    return len(description) < 4 or all(w.strip(".,;:-") in VAGUE_WORDS for w in words)


def shipment_row(shipment: Shipment, profile: MarketProfile) -> list[float]:
    """The features that depend on the item alone (and the market profile), in SHIPMENT_FEATURES order."""
    weight_g = shipment.gross_weight_kg * 1000.0
    declaration = shipment.declaration
    posted_at = shipment.posting.posted_at
    origin, destination = shipment.corridor
    if declaration is None:
        value_eur, lines, vagueness, hs_share = math.nan, 0.0, 1.0, 0.0
        declared, mismatch = "none", 0.0
    else:
        value_eur = to_eur(declaration.declared_value, declaration.currency)
        contents = declaration.contents
        lines = float(len(contents))
        vagueness = sum(_is_vague(c.description) for c in contents) / lines if contents else 1.0
        hs_share = sum(c.hs_code is not None for c in contents) / lines if contents else 0.0
        declared = declaration.category
        mismatch = float(
            declaration.category is ItemCategory.DOCUMENTS and weight_g > DOCUMENTS_MAX_PLAUSIBLE_G
        )
    corridor = profile.corridor(origin, destination)
    sender = shipment.sender
    return [
        _MAIL_CLASS(shipment.mail_class),
        _MAIL_CATEGORY(shipment.mail_category),
        _SERVICE(shipment.service),
        _CHANNEL(shipment.posting.channel),
        _POSTAGE(shipment.posting.postage_method),
        _DECLARED(declared),
        float(posted_at.hour),
        float(posted_at.weekday()),
        weight_g,
        value_eur,
        value_eur / weight_g,
        lines,
        vagueness,
        hs_share,
        mismatch,
        float(not (sender.name or sender.business_name or sender.address_lines)),
        float(bool(sender.business_name)),
        float(bool(shipment.addressee.business_name)),
        float(sender.country != origin),
        float(origin != destination),
        corridor.monthly_items if corridor else 0.0,
        corridor.weight_fit(weight_g) if corridor else 0.0,
        corridor.mail_class_mix.get(shipment.mail_class, 0.0) if corridor else 0.0,
        corridor.weekday_mix[posted_at.weekday()] if corridor else 0.0,
    ]


def _most(values: Sequence[float]) -> float:
    """The largest of the values of entities the item identifies; NaN when it identifies none."""
    known = [value for value in values if not math.isnan(value)]
    return max(known) if known else math.nan


def _rotation_row(
    sender: EntityView, sender_address: EntityView, loose: Sequence[EntityView], buyer: EntityView
) -> list[float]:
    """The rotation-proof features, in HISTORY_FEATURES order; `loose` is (premises, street, name, habit)."""
    premises, street, name, habit = loose
    places = (sender_address.seizures, premises.seizures, street.seizures)
    linked_place = _most(places)
    return [
        premises.seizures,
        street.seizures,
        name.seizures,
        habit.seizures,
        _most([view.recent_seizures for view in (sender, sender_address, premises, street, name)]),
        linked_place if math.isnan(linked_place) else float(linked_place > 0),
        buyer.seizures,
        buyer.recent_seizures,
    ]


def history_row(
    sender: EntityView,
    sender_address: EntityView,
    sender_area: EntityView,
    addressee: EntityView,
    addressee_address: EntityView,
    corridor: EntityView,
) -> list[float]:
    """The exact-key history features in HISTORY_FEATURES order; an entity the item does not identify is
    NOT_IDENTIFIED (NaN)."""
    return [
        sender.items_7d,
        sender.items_90d,
        sender.distinct_counterparties,
        sender.distinct_countries,
        sender.age_days,
        sender.holds,
        sender.seizures,
        sender.days_since_seizure,
        sender_address.items_90d,
        sender_address.distinct_countries,
        sender_address.seizures,
        sender_area.items_7d,
        sender_area.seizures,
        addressee.items_90d,
        addressee.distinct_counterparties,
        addressee.age_days,
        addressee.seizures,
        addressee_address.items_90d,
        addressee_address.seizures,
        corridor.items_7d,
        corridor.seizures,
    ]


def observe(states: MutableMapping[str, EntityState], keys: EntityKeys, shipment: Shipment) -> list[float]:
    """History features of one item as of its posting time, then count the item into `states`."""
    origin, destination = shipment.corridor
    return observe_at(states, keys, shipment.posting.posted_at.timestamp(), origin, destination)


def observe_at(
    states: MutableMapping[str, EntityState], keys: EntityKeys, now: float, origin: str, destination: str
) -> list[float]:
    """`observe` for an item known by its keys, posting time (epoch seconds) and corridor."""
    outward = keys.addressee or keys.addressee_address
    inward = keys.sender or keys.sender_address

    def seen(key: str | None, counterparty: str | None, country: str | None) -> EntityView:
        return NOT_IDENTIFIED if key is None else observe_entity(states, key, now, counterparty, country)

    sender = seen(keys.sender, outward, destination)
    sender_address = seen(keys.sender_address, outward, destination)
    exact = history_row(
        sender,
        sender_address,
        seen(keys.sender_area, None, None),  # an aggregate: counts only (is_aggregate)
        seen(keys.addressee, inward, origin),
        seen(keys.addressee_address, inward, origin),
        seen(keys.corridor, None, None),
    )
    loose = [
        seen(key, outward, destination)
        for key in (keys.sender_premises, keys.sender_street, keys.sender_name, keys.sender_habit)
    ]
    return exact + _rotation_row(sender, sender_address, loose, seen(keys.buyer, inward, origin))


AGGREGATE_KINDS = frozenset({EntityKind.SENDER_AREA, EntityKind.CORRIDOR})
_AGGREGATE_PREFIXES = tuple(f"{kind.value}:" for kind in AGGREGATE_KINDS)
AGGREGATE_FEATURES = (
    "sender_area_items_7d",
    "sender_area_seizures",
    "corridor_items_7d",
    "corridor_seizures",
)


def is_aggregate(key: str) -> bool:
    """Whether `key` is of an aggregate kind: the postcode areas and corridors nearly every batch names.

    Only AGGREGATE_FEATURES read them, and only their decayed counts and seizures, which are commutative:
    a batch's own items observed from no history merge into a state other batches moved on meanwhile
    (model.history.merge), so the service need not hold their rows for a whole batch.
    """
    return key.startswith(_AGGREGATE_PREFIXES)


def observe_aggregates(states: MutableMapping[str, EntityState], keys: EntityKeys, now: float) -> None:
    """Count an item into the states of its aggregate keys only, as `observe_at` does."""
    for key in (keys.sender_area, keys.corridor):
        if key is not None:
            observe_entity(states, key, now, None, None)


def shipment_matrix(shipments: Sequence[Shipment], profile: MarketProfile) -> FeatureMatrix:
    """The SHIPMENT_FEATURES columns of `shipments`: what no history changes, so the service works them out
    before it locks any history row, and training replay in its preparing processes."""
    rows = [shipment_row(shipment, profile) for shipment in shipments]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(SHIPMENT_FEATURES))


def with_history(static: FeatureMatrix, history: Sequence[Sequence[float]]) -> FeatureMatrix:
    """The feature matrix: each item's SHIPMENT_FEATURES row (`shipment_matrix`), then its HISTORY_FEATURES
    (`observe`), in FEATURES order."""
    rows = np.asarray(history, dtype=np.float64).reshape(len(history), len(HISTORY_FEATURES))
    return np.hstack((static, rows))


def feature_matrix(
    shipments: Sequence[Shipment],
    keys: Sequence[EntityKeys],
    states: MutableMapping[str, EntityState],
    profile: MarketProfile,
    static: FeatureMatrix | None = None,
) -> FeatureMatrix:
    """Features of `shipments` in the given order; each item sees the items before it, then is counted in.
    `static`: their `shipment_matrix`, if already worked out."""
    if static is None:
        static = shipment_matrix(shipments, profile)
    history = [observe(states, k, s) for s, k in zip(shipments, keys, strict=True)]
    return with_history(static, history)
