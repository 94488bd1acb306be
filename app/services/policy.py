"""Selection policy: capacity per scope, exploration, lists and rules and the threshold -> decisions."""

import math
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from app.services.rules import ActiveRule, ListHit, RuleFields, capacity_settings, matches

SelectionReason = Literal["allowlist", "watchlist", "rule", "model", "random"]
VAGUE_DECLARATION = 0.5


@dataclass(frozen=True)
class Capacity:
    """How many items a scope may hold, and which share of that is drawn at random below the threshold."""

    scope: str
    inspection_rate: float
    exploration_share: float

    @property
    def model_rate(self) -> float:
        return self.inspection_rate * (1.0 - self.exploration_share)

    @property
    def random_probability(self) -> float:
        """Chance that an item below the threshold is drawn, so random holds fill the exploration share."""
        return self.inspection_rate * self.exploration_share / (1.0 - self.model_rate)


def resolve_capacities(
    session: Session, *, partner_id: int, office_ids: set[str | None], default: Capacity
) -> dict[str | None, Capacity]:
    """For each posting office, the most specific setting: office, then partner, then global, then default."""
    settings = capacity_settings(session)

    def most_specific(office: str | None) -> Capacity:
        for scope in ([f"office:{office}"] if office else []) + [f"partner:{partner_id}", "global"]:
            if scope in settings:
                return Capacity(scope, *settings[scope])
        return default

    return {office: most_specific(office) for office in office_ids}


@dataclass(frozen=True)
class Threshold:
    """Hold above `raw`; at exactly `raw`, hold with `tie_probability` (large blocks of items share a score).

    `source` says whose scores set it: the partner's window, or the model version's window of every partner.
    """

    raw: float
    tie_probability: float
    source: str


@dataclass(frozen=True)
class Selection:
    held: bool
    reason: SelectionReason | None
    probability: float
    referral: Literal["inspect", "request_information"] | None
    hits: list[dict[str, Any]]


def _referral(reason: SelectionReason, vagueness: float) -> Literal["inspect", "request_information"]:
    if reason in ("model", "random") and not math.isnan(vagueness) and vagueness >= VAGUE_DECLARATION:
        return "request_information"
    return "inspect"


def select_item(
    *,
    raw_score: float,
    vagueness: float,
    fields: RuleFields,
    list_hits: list[ListHit],
    rules: list[ActiveRule],
    threshold: Threshold,
    capacity: Capacity,
    draws: tuple[float, float],
) -> Selection:
    """Allowlist releases; watchlist or hold rule holds; a release rule releases; then the raised score
    against the threshold; then a random draw with the exploration probability."""
    rule_hits = [rule for rule in rules if matches(rule.conditions, fields)]
    hits = [h.hit() for h in list_hits] + [r.hit() for r in rule_hits]
    if any(h.list_kind == "allow" for h in list_hits):
        return Selection(False, "allowlist", 0.0, None, hits)
    if any(h.list_kind == "watch" for h in list_hits):
        return Selection(True, "watchlist", 1.0, "inspect", hits)
    if any(rule.action == "hold" for rule in rule_hits):
        return Selection(True, "rule", 1.0, "inspect", hits)
    if any(rule.action == "release" for rule in rule_hits):
        return Selection(False, "rule", 0.0, None, hits)
    raised = raw_score + sum(rule.raise_by for rule in rule_hits if rule.action == "raise")
    model_probability = (
        1.0 if raised > threshold.raw else threshold.tie_probability if raised == threshold.raw else 0.0
    )
    # The chance of a hold by either lane: an item the model passes over may still be drawn at random.
    probability = model_probability + (1.0 - model_probability) * capacity.random_probability
    if draws[0] < model_probability:
        return Selection(True, "model", probability, _referral("model", vagueness), hits)
    if draws[1] < capacity.random_probability:
        return Selection(True, "random", probability, _referral("random", vagueness), hits)
    return Selection(False, None, probability, None, hits)
