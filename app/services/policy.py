"""Selection policy: capacity per scope, live threshold correction, exploration, lists and rules -> decisions."""

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.tables import Assessment, CapacitySetting
from app.services.rules import ActiveRule, ListHit, RuleFields, matches

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
    offices = sorted(o for o in office_ids if o)
    scopes = [f"office:{o}" for o in offices] + [f"partner:{partner_id}", "global"]
    rows = {
        row.scope: row
        for row in session.scalars(select(CapacitySetting).where(CapacitySetting.scope.in_(scopes)))
    }

    def most_specific(office: str | None) -> Capacity:
        for scope in ([f"office:{office}"] if office else []) + [f"partner:{partner_id}", "global"]:
            if scope in rows:
                return Capacity(scope, rows[scope].inspection_rate, rows[scope].exploration_share)
        return default

    return {office: most_specific(office) for office in office_ids}


CATCH_UP_SHARE = 0.25  # a deficit or excess of holds is made up over the next quarter of a window's items
RATE_BOUNDS = (0.25, 3.0)  # the corrected rate stays within these multiples of the target


@dataclass
class ScoreWindow:
    """A partner's recent raw scores, when each was made, and whether the model lane held the item."""

    created: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    scores: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    model_held: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    newest_id: str = ""
    loaded_at: float = -math.inf

    def extend(self, rows: Sequence[tuple[str, datetime, float, str | None]], since: float) -> None:
        """Add rows loaded since the last refresh and drop those older than `since` (epoch seconds)."""
        keep = self.created >= since
        created = np.array([row[1].timestamp() for row in rows], dtype=np.float64)
        self.created = np.concatenate([self.created[keep], created])
        self.scores = np.concatenate(
            [self.scores[keep], np.array([row[2] for row in rows], dtype=np.float64)]
        )
        held = np.array([row[3] == "model" for row in rows], dtype=np.bool_)
        self.model_held = np.concatenate([self.model_held[keep], held])
        if rows:
            self.newest_id = max(self.newest_id, *(row[0] for row in rows))

    def corrected_rate(self, rate: float) -> float:
        """The model-lane rate that brings the window's realised rate back to `rate` over the catch-up horizon."""
        deficit = rate * len(self.scores) - int(self.model_held.sum())
        corrected = rate + deficit / max(1.0, CATCH_UP_SHARE * len(self.scores))
        return min(max(corrected, rate * RATE_BOUNDS[0]), rate * RATE_BOUNDS[1])

    def threshold_for(self, rate: float) -> "Threshold":
        """The score at the corrected rate; items tied at it are held with the probability that meets the rate."""
        wanted = self.corrected_rate(rate) * len(self.scores)
        raw = float(np.quantile(self.scores, 1.0 - self.corrected_rate(rate), method="higher"))
        above, tied = int((self.scores > raw).sum()), int((self.scores == raw).sum())
        return Threshold(raw, min(1.0, max(0.0, (wanted - above) / tied)) if tied else 1.0, "live")


@dataclass(frozen=True)
class Threshold:
    """Hold above `raw`; at exactly `raw`, hold with `tie_probability` (large blocks of items share a score)."""

    raw: float
    tie_probability: float
    source: str


@dataclass
class LiveThresholds:
    """Per-partner score windows, topped up from the assessments table at most every `refresh_seconds`.

    The threshold is the window's score quantile at the target rate, corrected by the window's own shortfall
    or excess of model holds, so the realised hold rate tracks the target when traffic shifts.
    """

    window: timedelta
    min_items: int
    refresh_seconds: float
    _windows: dict[int, ScoreWindow] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def threshold(self, session: Session, partner_id: int, rate: float, fallback: float) -> Threshold:
        """The threshold for selecting `rate` of this partner's items: live, or the model's table until then."""
        with self._lock:
            window = self._windows.setdefault(partner_id, ScoreWindow())
            if time.monotonic() - window.loaded_at > self.refresh_seconds:
                self._top_up(session, partner_id, window)
            if len(window.scores) < self.min_items:
                return Threshold(fallback, 1.0, "model table")
            return window.threshold_for(rate)

    def _top_up(self, session: Session, partner_id: int, window: ScoreWindow) -> None:
        since = utcnow() - self.window
        rows = session.execute(
            select(
                Assessment.id, Assessment.created_at, Assessment.raw_score, Assessment.selection_reason
            ).where(
                Assessment.partner_id == partner_id,
                Assessment.created_at >= since,
                Assessment.id > window.newest_id,
            )
        ).all()
        window.extend([(r[0], r[1], r[2], r[3]) for r in rows], since.timestamp())
        window.loaded_at = time.monotonic()


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
    if draws[0] < model_probability:
        return Selection(True, "model", model_probability, _referral("model", vagueness), hits)
    probability = model_probability + (1.0 - model_probability) * capacity.random_probability
    if draws[1] < capacity.random_probability:
        return Selection(True, "random", probability, _referral("random", vagueness), hits)
    return Selection(False, None, probability, None, hits)
