import math

import pytest

from model.history import (
    DAY,
    RECENT_LIMIT,
    EntityState,
    link_seizure,
    observe_entity,
    record_hold,
    view_at,
)


def test_decayed_counts() -> None:
    states: dict[str, EntityState] = {}
    observe_entity(states, "s", 0.0, "a", "GB")
    observe_entity(states, "s", DAY, "b", "US")
    view = view_at(states["s"], 8 * DAY)
    assert view.items_7d == pytest.approx(math.exp(-8 / 7) + math.exp(-7 / 7))
    assert view.items_90d == pytest.approx(math.exp(-8 / 90) + math.exp(-7 / 90))
    assert view.distinct_counterparties == 2
    assert view.distinct_countries == 2
    assert view.age_days == pytest.approx(8.0)


def test_an_item_sees_the_history_before_it_is_counted() -> None:
    states: dict[str, EntityState] = {}
    first = observe_entity(states, "s", 0.0, "a", "GB")
    second = observe_entity(states, "s", 0.0, "a", "GB")
    assert (first.items_7d, second.items_7d, states["s"].items_short) == (0.0, 1.0, 2.0)
    assert math.isnan(first.age_days)
    assert second.age_days == 0.0


def test_out_of_order_item_counts_without_inflating() -> None:
    states: dict[str, EntityState] = {}
    observe_entity(states, "s", 10 * DAY, "a", "GB")
    observe_entity(states, "s", 3 * DAY, "a", "GB")
    state = states["s"]
    assert state.first_seen == 3 * DAY
    assert state.last_seen == 10 * DAY
    assert view_at(state, 10 * DAY).items_7d == pytest.approx(1 + math.exp(-1))


def test_recent_values_are_bounded_and_distinct() -> None:
    states: dict[str, EntityState] = {}
    for i in range(RECENT_LIMIT + 10):
        observe_entity(states, "s", float(i), f"party{i}", "GB")
    assert len(states["s"].counterparties) == RECENT_LIMIT
    assert states["s"].counterparties[-1] == f"party{RECENT_LIMIT + 9}"
    assert states["s"].countries == ("GB",)


def test_holds_and_seizures_link_to_every_known_key() -> None:
    states: dict[str, EntityState] = {}
    observe_entity(states, "s", 0.0, None, None)
    observe_entity(states, "a", 0.0, None, None)
    record_hold(states, ["s", "a", "unknown"])
    link_seizure(states, ["s", "a", "unknown"], 5 * DAY)
    assert "unknown" not in states
    view = view_at(states["s"], 6 * DAY)
    assert (view.holds, view.seizures, view.days_since_seizure) == (1, 1, pytest.approx(1.0))
