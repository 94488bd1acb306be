"""Baseline selectors the model must beat: a partner's targeting rules and a market-profile-only score."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
from pydantic import BaseModel, ConfigDict, Field

from model.features import FEATURE_NAMES, FEATURES_BY_NAME
from model.shipment import MailCategory, MailClass, PostageMethod, PostingChannel, Service

_COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}
NO_DECLARATION = "none"


@dataclass(frozen=True)
class RuleColumns:
    """The item attributes targeting rules look at, one array per attribute (one entry per item)."""

    international: npt.NDArray[np.bool_]
    destination: npt.NDArray[np.str_]
    mail_class: npt.NDArray[np.str_]
    mail_category: npt.NDArray[np.str_]
    service: npt.NDArray[np.str_]
    posting_channel: npt.NDArray[np.str_]
    postage_method: npt.NDArray[np.str_]
    declared_category: npt.NDArray[np.str_]  # NO_DECLARATION when the item carries no declaration
    weight_g: npt.NDArray[np.float64]


class TargetingRules(BaseModel):
    """A partner's targeting rules: the criteria customs hold items by without a model (ASYCUDA-style).

    A criterion left out (null) is not part of the rule. Items meeting more criteria are selected first; an
    item meeting all of them is a hit. The defaults are the project's own rule: international letter post of
    10 to 250 g, declared as gift or documents or not declared, postage paid with stamps.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    international: bool | None = True
    destinations: frozenset[str] | None = Field(default=None, description="Destination country codes")
    mail_classes: frozenset[MailClass] | None = frozenset({MailClass.LETTER})
    mail_categories: frozenset[MailCategory] | None = None
    services: frozenset[Service] | None = None
    posting_channels: frozenset[PostingChannel] | None = None
    postage_methods: frozenset[PostageMethod] | None = frozenset({PostageMethod.STAMPS})
    declared_categories: frozenset[str] | None = Field(
        default=frozenset({"gift", "documents", NO_DECLARATION}),
        description=f"CN23 categories; '{NO_DECLARATION}' for items without a declaration",
    )
    weight_g: tuple[float, float] | None = (10.0, 250.0)

    @classmethod
    def read(cls, path: Path) -> "TargetingRules":
        """A partner's criteria from a JSON object; a criterion the file leaves out is not part of the rule."""
        criteria = orjson.loads(path.read_bytes())
        if not isinstance(criteria, dict):
            raise ValueError(f"{path}: targeting rules are a JSON object")
        return cls.model_validate(dict.fromkeys(cls.model_fields) | criteria)

    def criteria_met(self, items: RuleColumns) -> npt.NDArray[np.float64]:
        """How many of the rule's criteria each item meets."""
        met = [items.international == self.international] if self.international is not None else []
        for values, allowed in (
            (items.destination, self.destinations),
            (items.mail_class, self.mail_classes),
            (items.mail_category, self.mail_categories),
            (items.service, self.services),
            (items.posting_channel, self.posting_channels),
            (items.postage_method, self.postage_methods),
            (items.declared_category, self.declared_categories),
        ):
            if allowed is not None:
                met.append(np.isin(values, [str(value) for value in allowed]))
        if self.weight_g is not None:
            met.append((items.weight_g >= self.weight_g[0]) & (items.weight_g <= self.weight_g[1]))
        if not met:
            return np.zeros(len(items.weight_g))
        counts: npt.NDArray[np.float64] = np.sum(met, axis=0).astype(np.float64)
        return counts

    def hits(self, items: RuleColumns) -> npt.NDArray[np.bool_]:
        """Items meeting every criterion (what a rules lane holds)."""
        criteria = len(self.model_dump(exclude_none=True))
        hit: npt.NDArray[np.bool_] = self.criteria_met(items) == criteria
        return hit


def _column(features: npt.NDArray[np.float64], name: str) -> npt.NDArray[np.float64]:
    return features[:, _COLUMN[name]]


def _levels(features: npt.NDArray[np.float64], name: str) -> npt.NDArray[np.str_]:
    levels = np.array([*FEATURES_BY_NAME[name].levels, "unknown"], dtype=np.str_)
    codes = np.nan_to_num(_column(features, name), nan=len(levels) - 1).astype(np.int64)
    return levels[np.clip(codes, 0, len(levels) - 1)]


def rule_columns_of_features(
    features: npt.NDArray[np.float64], destination: npt.NDArray[np.str_]
) -> RuleColumns:
    """The rule attributes of replayed items: their feature rows and their destination countries."""
    return RuleColumns(
        international=_column(features, "international") == 1.0,
        destination=destination,
        mail_class=_levels(features, "mail_class"),
        mail_category=_levels(features, "mail_category"),
        service=_levels(features, "service"),
        posting_channel=_levels(features, "posting_channel"),
        postage_method=_levels(features, "postage_method"),
        declared_category=_levels(features, "declared_category"),
        weight_g=_column(features, "weight_g"),
    )


def rule_columns_of_shipments(shipments: Sequence[Mapping[str, Any]]) -> RuleColumns:
    """The rule attributes of shipments in their JSON form (the API's contract, as in shipments.jsonl)."""

    def text(values: list[Any]) -> npt.NDArray[np.str_]:
        return np.array([str(value) for value in values], dtype=np.str_)

    return RuleColumns(
        international=np.array([s["addressee"]["country"] != s["posting"]["country"] for s in shipments]),
        destination=text([s["addressee"]["country"] for s in shipments]),
        mail_class=text([s["mail_class"] for s in shipments]),
        mail_category=text([s.get("mail_category") for s in shipments]),
        service=text([s.get("service") for s in shipments]),
        posting_channel=text([s["posting"].get("channel") for s in shipments]),
        postage_method=text([s["posting"].get("postage_method") for s in shipments]),
        declared_category=text(
            [(s.get("declaration") or {}).get("category", NO_DECLARATION) for s in shipments]
        ),
        weight_g=np.array([s["gross_weight_kg"] * 1000.0 for s in shipments], dtype=np.float64),
    )


def rules_lane_score(
    features: npt.NDArray[np.float64],
    destination: npt.NDArray[np.str_],
    rules: TargetingRules | None = None,
) -> npt.NDArray[np.float64]:
    """How many criteria of the targeting rules each item meets: the rules lane selects the most first."""
    return (rules or TargetingRules()).criteria_met(rule_columns_of_features(features, destination))


def market_profile_score(features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The market profile's estimate of an item's chance of being a vendor item, from its corridor alone.

    Expected vendor items per month on the item's corridor, in its weight band and mail class, per item of the
    corridor's traffic (the decayed 7-day count the service keeps). Without the traffic denominator the score
    would rank the busiest corridors first, where vendor items are a large count but a tiny share.
    """
    expected = (
        _column(features, "corridor_monthly_items")
        * _column(features, "corridor_weight_fit")
        * _column(features, "corridor_class_fit")
    )
    score: npt.NDArray[np.float64] = expected / np.maximum(_column(features, "corridor_items_7d"), 1.0)
    return score
