"""The simulation loop: plan each day's volumes and vendor items, build days (in worker processes), stream them."""

from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from rich.progress import Progress

from model.market_profile import MarketProfile
from training.runtime import cycle_collector_paused
from training.simulate.clock import DayClock, expected_items
from training.simulate.config import ScenarioConfig
from training.simulate.day import DayBuilder, DayPlan, DayResult, build_in_worker, start_worker
from training.simulate.illicit import IllicitTraffic
from training.simulate.intelligence import TipDesk
from training.simulate.summary import SimulationSummary, Tally
from training.simulate.writer import SUMMARY_FILE, RunWriter

SERIAL_SPACE = 100_000_000
VOLUME_STREAM = 4
ILLICIT_STREAM = 5
SERIAL_STREAM = 6

Pending = Callable[[], DayResult]


@contextmanager
def _day_builders(config: ScenarioConfig, workers: int) -> Iterator[Callable[[DayPlan], Pending]]:
    """A function that starts building a day and returns how to wait for it: inline, or in worker processes."""
    if workers <= 1:
        builder = DayBuilder(config)

        def build_now(plan: DayPlan) -> Pending:
            result = builder.build(plan)
            return lambda: result

        yield build_now
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=start_worker, initargs=(config,)) as pool:
        yield lambda plan: pool.submit(build_in_worker, plan).result


class _Coordinator:
    """Decides, in day order, what only the whole run can know: volumes, serials and the vendors' state."""

    def __init__(self, config: ScenarioConfig, profile: MarketProfile) -> None:
        self.config = config
        self.illicit = IllicitTraffic(config, profile, np.random.default_rng([config.seed, ILLICIT_STREAM]))
        self.serial = int(np.random.default_rng([config.seed, SERIAL_STREAM]).integers(SERIAL_SPACE))
        self.tally = Tally()
        self.tips = TipDesk(config)

    def plan(self, offset: int) -> DayPlan:
        """Let vendors react to what they learnt, then fix the day's volume, vendor items and first serial."""
        config = self.config
        clock = DayClock.of(config.start + timedelta(days=offset), config.timezone)
        self.illicit.start_day(clock)
        expected = expected_items(
            clock.day, config.items_per_day, config.weekday_volume, config.seasonality_amplitude
        )
        licit_count = int(np.random.default_rng([config.seed, VOLUME_STREAM, offset]).poisson(expected))
        illicit = self.illicit.day(clock, licit_count)
        active = [(v.vendor_id, v.habits.identities) for v in self.illicit.vendors if v.active]
        plan = DayPlan(offset, licit_count, illicit, self.serial, self.tips.day(clock.day, active))
        self.serial = (self.serial + licit_count + len(illicit)) % SERIAL_SPACE
        return plan

    def absorb(self, result: DayResult, writer: RunWriter) -> None:
        """Write a built day, count it, and pass its seizures on to the vendors."""
        writer.write_day(result.shipments, result.truth, result.outcomes)
        next_midnight = DayClock.of(
            self.config.start + timedelta(days=result.offset + 1), self.config.timezone
        )
        writer.flush_outcomes(next_midnight.midnight_utc)
        self.tally.merge(result.tally)
        for vendor_id, identity, known_at in result.seizures:
            self.illicit.notice(vendor_id, identity, known_at)

    def vendor_counts(self) -> dict[str, Any]:
        """Vendors at the start, entries, exits and adaptations (with each adaptation event)."""
        kinds = Counter(event["kind"] for event in self.illicit.adaptations)
        return {
            "initial": len(self.illicit.vendors) - self.illicit.entered,
            "entered": self.illicit.entered,
            "exited": self.illicit.exited,
            "adaptations": len(self.illicit.adaptations),
            **{f"adaptations_{kind}": count for kind, count in sorted(kinds.items())},
            "adaptation_events": self.illicit.adaptations,
            "tips": self.tips.log,
        }


def simulate(
    config: ScenarioConfig, profile: MarketProfile, out_dir: Path, *, progress: bool = False, workers: int = 1
) -> SimulationSummary:
    """Simulate `config.days` of a post's traffic into `out_dir` (shipments, outcomes, truth, summary).

    The files are identical for any number of `workers`; days are built in parallel only as far ahead as
    no seizure could yet have changed a vendor (see `ScenarioConfig.reaction_lag_days`).
    """
    coordinator = _Coordinator(config, profile)
    window = max(1, min(workers, config.reaction_lag_days - 1))
    in_flight: deque[Pending] = deque()
    with (
        cycle_collector_paused(),
        RunWriter(out_dir) as writer,
        _day_builders(config, workers) as start_building,
        Progress(disable=not progress, transient=True) as bar,
    ):
        task = bar.add_task("simulating", total=config.days)
        for offset in range(config.days):
            while len(in_flight) >= window:
                coordinator.absorb(in_flight.popleft()(), writer)
                bar.advance(task)
            in_flight.append(start_building(coordinator.plan(offset)))
        while in_flight:
            coordinator.absorb(in_flight.popleft()(), writer)
            bar.advance(task)
    market = coordinator.illicit.market
    illicit_targets = dict(zip(market.destinations, market.destination_mix.tolist(), strict=True))
    summary = SimulationSummary.of(config, coordinator.tally, illicit_targets, coordinator.vendor_counts())
    (out_dir / SUMMARY_FILE).write_bytes(orjson.dumps(summary.to_json_dict(), option=orjson.OPT_INDENT_2))
    return summary
