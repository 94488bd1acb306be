"""Party history: per-entity decayed counts, recent counterparties, holds and seizures, and its store interface.

All arithmetic lives here, so the in-memory store used by training replay and the SQL store used by the
service produce identical features: a store only loads and saves `EntityState` records. The functions below
update the states of a loaded mapping in place (training replays millions of items through them, so they do
not build a new record per item); a store saves the mapping when the batch is done. `merge` folds a batch's own
contribution into a state that moved on meanwhile (the service's shared aggregate rows, app/services/assessments.py).
"""

import math
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, replace
from typing import NamedTuple, Protocol

DAY = 86_400.0
SHORT_TAU = 7 * DAY
LONG_TAU = 90 * DAY
RECENT_LIMIT = 32
COUNTERPARTY_KEY_LENGTH = 12


@dataclass(slots=True)
class EntityState:
    """What the service knows about one entity key, as of `last_seen` (epoch seconds)."""

    first_seen: float
    last_seen: float
    items_short: float
    items_long: float
    counterparties: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    holds: int = 0
    seizures: int = 0
    last_seizure_at: float | None = None


class EntityView(NamedTuple):
    """An entity's history as seen at one moment, before the item being scored is counted.

    Every field is a feature value, so counts are floats too: NOT_IDENTIFIED fills them all with NaN.
    """

    items_7d: float
    items_90d: float
    distinct_counterparties: float
    distinct_countries: float
    age_days: float
    holds: float
    seizures: float
    days_since_seizure: float

    @property
    def recent_seizures(self) -> float:
        """The linked seizures, decayed over LONG_TAU from the latest one (NaN when not identified)."""
        if self.seizures > 0:
            return self.seizures * math.exp(-self.days_since_seizure * DAY / LONG_TAU)
        return self.seizures


UNSEEN = EntityView(
    items_7d=0.0,
    items_90d=0.0,
    distinct_counterparties=0.0,
    distinct_countries=0.0,
    age_days=math.nan,
    holds=0.0,
    seizures=0.0,
    days_since_seizure=math.nan,
)
NOT_IDENTIFIED = EntityView(*(math.nan,) * len(EntityView._fields))  # the item names no such entity


def _factors(state: EntityState, now: float) -> tuple[float, float]:
    """Decay of the short and long counts from `last_seen` to `now` (1 for items logged after `now`)."""
    if now > state.last_seen:
        elapsed = now - state.last_seen
        return math.exp(-elapsed / SHORT_TAU), math.exp(-elapsed / LONG_TAU)
    return 1.0, 1.0


def _view(state: EntityState, now: float, short: float, long: float) -> EntityView:
    # positional arguments: this runs six times per item on the training replay's sequential path
    last_seizure_at = state.last_seizure_at
    return EntityView(
        state.items_short * short,
        state.items_long * long,
        float(len(state.counterparties)),
        float(len(state.countries)),
        max(0.0, now - state.first_seen) / DAY,
        float(state.holds),
        float(state.seizures),
        math.nan if last_seizure_at is None else max(0.0, now - last_seizure_at) / DAY,
    )


def view_at(state: EntityState | None, now: float) -> EntityView:
    """The entity's history at `now`; items logged after `now` (out-of-order arrivals) are not decayed."""
    if state is None:
        return UNSEEN
    return _view(state, now, *_factors(state, now))


def _remember(recent: tuple[str, ...], value: str | None) -> tuple[str, ...]:
    """Most-recently-seen distinct values, oldest first, at most RECENT_LIMIT of them."""
    if not value or (recent and recent[-1] == value):
        return recent
    if value in recent:
        position = recent.index(value)
        return (*recent[:position], *recent[position + 1 :], value)
    kept = (*recent, value)
    return kept[-RECENT_LIMIT:] if len(kept) > RECENT_LIMIT else kept


def observe_entity(
    states: MutableMapping[str, EntityState],
    key: str,
    now: float,
    counterparty: str | None,
    country: str | None,
) -> EntityView:
    """The entity's history as this item sees it; the item is then counted into `states[key]` (one decay)."""
    short_counterparty = counterparty[-COUNTERPARTY_KEY_LENGTH:] if counterparty else None
    state = states.get(key)
    if state is None:
        states[key] = EntityState(
            now, now, 1.0, 1.0, _remember((), short_counterparty), _remember((), country)
        )
        return UNSEEN
    short, long = _factors(state, now)
    view = _view(state, now, short, long)
    if now >= state.last_seen:
        state.items_short = state.items_short * short + 1.0
        state.items_long = state.items_long * long + 1.0
        state.last_seen = now
    else:  # an item older than the newest one counted: decay the newcomer instead
        back = state.last_seen - now
        state.items_short += math.exp(-back / SHORT_TAU)
        state.items_long += math.exp(-back / LONG_TAU)
    state.first_seen = min(state.first_seen, now)
    state.counterparties = _remember(state.counterparties, short_counterparty)
    state.countries = _remember(state.countries, country)
    return view


def _decayed(count: float, since: float, until: float, tau: float) -> float:
    return count * math.exp(-(until - since) / tau) if until > since else count


def merge(state: EntityState | None, delta: EntityState) -> EntityState:
    """`state` with `delta` folded in, where `delta` holds other items observed from no history (and their
    holds and seizures): what observing those items into `state` gives, within float rounding, whatever the
    order of the items; merging several deltas gives the same state in any order.

    Decayed counts add once both are decayed to the later `last_seen` (each count is a sum of exp(-age/tau)
    terms); first_seen is the earlier, holds and seizures add, the latest seizure is the later. The recent
    counterparties and countries keep the delta's after the state's, as if its items came last: that is the
    one part that depends on order, and the aggregate kinds merged by the service keep none (model.features).
    """
    if state is None:
        return replace(delta)
    last_seen = max(state.last_seen, delta.last_seen)
    counterparties, countries = state.counterparties, state.countries
    for value in delta.counterparties:
        counterparties = _remember(counterparties, value)
    for value in delta.countries:
        countries = _remember(countries, value)
    seizure_times = [t for t in (state.last_seizure_at, delta.last_seizure_at) if t is not None]
    return EntityState(
        first_seen=min(state.first_seen, delta.first_seen),
        last_seen=last_seen,
        items_short=_decayed(state.items_short, state.last_seen, last_seen, SHORT_TAU)
        + _decayed(delta.items_short, delta.last_seen, last_seen, SHORT_TAU),
        items_long=_decayed(state.items_long, state.last_seen, last_seen, LONG_TAU)
        + _decayed(delta.items_long, delta.last_seen, last_seen, LONG_TAU),
        counterparties=counterparties,
        countries=countries,
        holds=state.holds + delta.holds,
        seizures=state.seizures + delta.seizures,
        last_seizure_at=max(seizure_times) if seizure_times else None,
    )


class HistoryStore(Protocol):
    """Loads and saves entity states. Implementations: `InMemoryHistoryStore`, the service's SQL store."""

    def load(self, keys: Iterable[str]) -> dict[str, EntityState]: ...

    def save(self, states: Mapping[str, EntityState]) -> None: ...


class InMemoryHistoryStore:
    """A dict of entity states, for training replay and tests."""

    def __init__(self) -> None:
        self.states: dict[str, EntityState] = {}

    def load(self, keys: Iterable[str]) -> dict[str, EntityState]:
        return {key: self.states[key] for key in keys if key in self.states}

    def save(self, states: Mapping[str, EntityState]) -> None:
        self.states.update(states)


def record_hold(states: Mapping[str, EntityState], keys: Iterable[str]) -> None:
    """Count a held item against every entity it names (the item itself was already observed)."""
    for key in keys:
        state = states.get(key)
        if state is not None:
            state.holds += 1


def link_seizure(states: Mapping[str, EntityState], keys: Iterable[str], at: float) -> None:
    """Link a seizure that became known at `at` to every entity the seized item named."""
    for key in keys:
        state = states.get(key)
        if state is not None:
            state.seizures += 1
            state.last_seizure_at = at if state.last_seizure_at is None else max(state.last_seizure_at, at)


def unlink_seizure(states: Mapping[str, EntityState], keys: Iterable[str]) -> None:
    """Undo `link_seizure` for an item whose seizure was corrected to a result without drugs.

    Never below zero. The time of the latest seizure is kept while others remain (the history does not keep
    each one's time).
    """
    for key in keys:
        state = states.get(key)
        if state is not None and state.seizures > 0:
            state.seizures -= 1
            if state.seizures == 0:
                state.last_seizure_at = None
