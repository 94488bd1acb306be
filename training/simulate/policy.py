"""The historical inspection policy that decided which items ever got a label, and what inspections found."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from training.simulate.clock import DayClock
from training.simulate.config import ScenarioConfig
from training.simulate.identities import Rng
from training.simulate.intelligence import intelligence_lane
from training.simulate.records import Record, pick

RULE_CATEGORIES = frozenset({None, "gift", "documents"})
FINDINGS_THAT_STOP_DELIVERY = frozenset({"seized", "inconclusive"})
INSPECTION_HOURS = (8, 17)
# An officer files the inspection record minutes to hours later; an inconclusive find waits for the lab.
RECORDING_DELAY_MINUTES = (5.0, 240.0)
LAB_DELAY_DAYS = (3.0, 14.0)
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class RulesLane:
    """A coarse ASYCUDA-style selectivity rule for outgoing mail.

    It holds international letter-post items to high-risk destinations, in a light weight band, declared as
    a gift or documents or not declared at all, with postage paid in stamps.
    """

    destinations: frozenset[str]
    min_g: float
    max_g: float

    @classmethod
    def of(cls, config: ScenarioConfig) -> "RulesLane":
        """The rules lane the scenario configures."""
        low, high = config.rule_weight_g
        return cls(frozenset(config.rule_destinations), low, high)

    def matches(self, shipment: Mapping[str, Any]) -> bool:
        """Whether the rule holds a shipment given in its JSON form (as in shipments.jsonl)."""
        if shipment["mail_class"] != "U" or shipment["posting"]["postage_method"] != "stamps":
            return False
        if shipment["addressee"]["country"] not in self.destinations:
            return False
        if not self.min_g <= shipment["gross_weight_kg"] * 1000.0 <= self.max_g:
            return False
        declared = shipment.get("declaration")
        return (declared["category"] if declared else None) in RULE_CATEGORIES


@dataclass(frozen=True)
class Selection:
    """One inspected item: its index in the day, why it was chosen, and the policy's probability of it."""

    index: int
    reason: str
    probability: float | None


class InspectionPolicy:
    """An intelligence lane, then the rules lane, then a uniform random draw, each within its share of capacity.

    The intelligence lane stands for what item data does not show: tips about a sender and X-ray or dog
    screening of letters (`intelligence.py`), noisy signals, never the truth. Its selections are labelled
    "manual" and carry no selection probability, since they depend on more than the item's data. Capacity it
    leaves unused goes to the random lane.

    Each day is decided on its own (randomised rounding of the capacities), so days can be built in parallel.
    """

    def __init__(self, config: ScenarioConfig) -> None:
        self.rules = RulesLane.of(config)
        self._config = config

    def select(
        self,
        rng: Rng,
        shipments: Sequence[Mapping[str, Any]],
        hits: Sequence[bool],
        illicit: Sequence[bool],
        tips: frozenset[str],
    ) -> tuple[list[Selection], np.ndarray]:
        """The day's inspections and every item's probability of being inspected.

        After the intelligence lane, the rules lane inspects k of the H rule hits left, uniformly; the random
        lane then draws m of the N' items left. A rule hit the intelligence lane left is inspected with
        probability k/H + (1 - k/H) m/N', any other item with m/N'.
        """
        config, total = self._config, len(hits)
        lane = intelligence_lane(
            rng, config, shipments, np.asarray(illicit, dtype=bool), tips,
            _rounded(rng, config.intelligence_capacity * total),
        )  # fmt: skip
        tipped = np.zeros(total, dtype=bool)
        tipped[lane.indices] = True
        held = np.flatnonzero(np.asarray(hits, dtype=bool) & ~tipped)
        rule_count = min(len(held), _rounded(rng, config.rule_capacity * total))
        by_rule = rng.choice(held, size=rule_count, replace=False)
        rest = np.setdiff1d(np.flatnonzero(~tipped), by_rule, assume_unique=True)
        random_count = min(len(rest), _rounded(rng, config.random_capacity * total) + lane.unused)
        by_chance = rng.choice(rest, size=random_count, replace=False)
        rule_p = rule_count / len(held) if len(held) else 0.0
        random_p = random_count / len(rest) if len(rest) else 0.0
        lanes = np.full(total, random_p)
        lanes[held] = rule_p + (1.0 - rule_p) * random_p
        probabilities = lane.probabilities + (1.0 - lane.probabilities) * lanes
        chosen = [Selection(int(i), "manual", None) for i in lane.indices]
        chosen += [Selection(int(i), "rule", float(probabilities[i])) for i in by_rule]
        chosen += [Selection(int(i), "random", float(probabilities[i])) for i in by_chance]
        return sorted(chosen, key=lambda s: s.index), probabilities

    def outcome(
        self, rng: Rng, truth: Mapping[str, Any], selection: Selection, clock: DayClock
    ) -> tuple[Record, float]:
        """What customs recorded for one inspected item, and the epoch second of the inspection."""
        config = self._config
        low, high = config.inspection_delay_days
        inspected = DayClock.of(clock.day + timedelta(days=int(rng.integers(low, high + 1))), config.timezone)
        second = int(rng.integers(INSPECTION_HOURS[0] * 3600, INSPECTION_HOURS[1] * 3600))
        record: Record = {
            "item_id": truth["item_id"],
            "posted_on": truth["posted_on"],
            "inspected_at": inspected.timestamp(second),
            "result": self._result(rng, truth),
        }
        if record["result"] in ("seized", "controlled_delivery"):
            record["substance_category"] = truth["category"]
            record["quantity"] = _estimate(rng, truth["quantity"], truth["unit"])
        record["recorded_at"] = self._recorded_at(rng, inspected.epoch(second), record["result"])
        record["selection_reason"] = selection.reason
        if selection.probability is not None:
            record["selection_probability"] = selection.probability
        return record, inspected.epoch(second)

    def _recorded_at(self, rng: Rng, inspected_epoch: float, result: str) -> str:
        """When the record reached the service: minutes after the inspection, days for a lab result."""
        if result == "inconclusive":
            delay = DAY_SECONDS * float(rng.uniform(*LAB_DELAY_DAYS))
        else:
            delay = 60.0 * float(rng.uniform(*RECORDING_DELAY_MINUTES))
        moment = datetime.fromtimestamp(round(inspected_epoch + delay), ZoneInfo(self._config.timezone))
        return moment.isoformat(timespec="seconds")

    def _result(self, rng: Rng, truth: Mapping[str, Any]) -> str:
        if rng.random() < self._config.not_presented_share:
            return "not_presented"
        if not truth["illicit"]:
            return "nothing_found"
        return pick(rng, self._config.finding_mix)


def _rounded(rng: Rng, expected: float) -> int:
    """`expected` rounded up or down at random, so that the mean count is exactly `expected`."""
    whole = int(expected)
    return whole + int(rng.random() < expected - whole)


def _estimate(rng: Rng, quantity: float, unit: str) -> dict[str, Any]:
    """The officer's estimate of the quantity: within about ten percent of the truth."""
    estimate = quantity * float(rng.uniform(0.88, 1.12))
    value = max(1.0, float(round(estimate))) if unit == "units" else max(0.1, round(estimate, 1))
    return {"value": value, "unit": unit}
