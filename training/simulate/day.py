"""Building one posting day: licit items plus the vendors' items, S10 ids, inspections, outcomes, JSONL bytes."""

import gc
from dataclasses import dataclass, field
from datetime import timedelta
from operator import attrgetter

import numpy as np
import orjson

from training.simulate.clock import DayClock
from training.simulate.config import ScenarioConfig
from training.simulate.licit import LicitTraffic
from training.simulate.policy import FINDINGS_THAT_STOP_DELIVERY, InspectionPolicy
from training.simulate.records import SimItem, jsonl, s10_ids, service_indicator
from training.simulate.summary import Tally

LICIT_STREAM = 1
POLICY_STREAM = 2
POOLS_STREAM = 3
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class DayPlan:
    """What the coordinator decides before a day is built: its date, licit volume, vendor items, first serial,
    and the tips in force."""

    offset: int
    licit_count: int
    illicit: list[SimItem]
    first_serial: int
    tips: frozenset[str] = frozenset()


@dataclass
class DayResult:
    """A built day: the JSONL bytes, outcomes keyed by inspection time, and the seizures vendors will notice
    (vendor, sender identity used, epoch second the buyer's complaint reaches the vendor)."""

    offset: int
    shipments: bytes
    truth: bytes
    outcomes: list[tuple[float, str, bytes]]
    seizures: list[tuple[str, int, float]]
    tally: Tally = field(default_factory=Tally)


class DayBuilder:
    """Builds days from plans; every random draw comes from generators seeded by (seed, stream, day)."""

    def __init__(self, config: ScenarioConfig) -> None:
        self._config = config
        self._licit = LicitTraffic(config, np.random.default_rng([config.seed, POOLS_STREAM]))
        self._policy = InspectionPolicy(config)

    def build(self, plan: DayPlan) -> DayResult:
        """The items of the planned day in posting order, inspected, serialised and counted."""
        config = self._config
        clock = DayClock.of(config.start + timedelta(days=plan.offset), config.timezone)
        licit_rng = np.random.default_rng([config.seed, LICIT_STREAM, plan.offset])
        items = self._licit.day(licit_rng, clock, plan.licit_count) + plan.illicit
        items.sort(key=attrgetter("second"))
        indicators = [service_indicator(i.shipment["mail_class"], i.shipment["service"]) for i in items]
        for item, item_id in zip(
            items, s10_ids(indicators, plan.first_serial, config.posting_country), strict=True
        ):
            item.shipment["item_id"] = item_id
            item.truth["item_id"] = item_id
        hits = [self._policy.rules.matches(item.shipment) for item in items]
        result = self._inspect(
            np.random.default_rng([config.seed, POLICY_STREAM, plan.offset]), plan, items, hits, clock
        )
        result.shipments = jsonl([item.shipment for item in items])
        result.truth = jsonl([item.truth for item in items])
        result.tally.add_items(items, hits)
        return result

    def _inspect(
        self, rng: np.random.Generator, plan: DayPlan, items: list[SimItem], hits: list[bool], clock: DayClock
    ) -> DayResult:
        selections, probabilities = self._policy.select(
            rng, [item.shipment for item in items], hits, [item.truth["illicit"] for item in items], plan.tips
        )
        inspected = {s.index for s in selections}
        for index, (item, hit, probability) in enumerate(
            zip(items, hits, probabilities.tolist(), strict=True)
        ):
            item.truth["rule_hit"] = hit
            item.truth["inspected"] = index in inspected
            item.truth["inspection_probability"] = probability
        result = DayResult(plan.offset, b"", b"", [], [])
        for selection in selections:
            truth = items[selection.index].truth
            outcome, inspected_at = self._policy.outcome(rng, truth, selection, clock)
            result.outcomes.append(
                (inspected_at, outcome["item_id"], orjson.dumps(outcome, option=orjson.OPT_APPEND_NEWLINE))
            )
            result.tally.add_outcome(outcome, truth["illicit"])
            if truth["illicit"] and outcome["result"] in FINDINGS_THAT_STOP_DELIVERY:
                low, high = self._config.adaptation_delay_days
                known_at = inspected_at + DAY_SECONDS * float(rng.uniform(low, high))
                result.seizures.append((truth["vendor_id"], truth["identity"], known_at))
        return result


_WORKER_BUILDER: list[DayBuilder] = []


def start_worker(config: ScenarioConfig) -> None:
    """Process-pool initializer: each worker builds its own populations once (identical in every worker).

    Days allocate millions of acyclic dicts that reference counting frees; the cycle collector would only
    slow the worker down, so the worker runs without it.
    """
    gc.disable()
    _WORKER_BUILDER.append(DayBuilder(config))


def build_in_worker(plan: DayPlan) -> DayResult:
    """Build a day in a worker process started with `start_worker`."""
    return _WORKER_BUILDER[0].build(plan)
