import math

import pytest

from model.history import DAY, RECENT_LIMIT, link_seizure, record_hold, record_item, view_at


def test_decayed_counts() -> None:
    state = record_item(None, 0.0, "a", "GB")
    state = record_item(state, DAY, "b", "US")
    view = view_at(state, 8 * DAY)
    assert view.items_7d == pytest.approx(math.exp(-8 / 7) + math.exp(-7 / 7))
    assert view.items_90d == pytest.approx(math.exp(-8 / 90) + math.exp(-7 / 90))
    assert view.distinct_counterparties == 2
    assert view.distinct_countries == 2
    assert view.age_days == pytest.approx(8.0)


def test_out_of_order_item_counts_without_inflating() -> None:
    state = record_item(record_item(None, 10 * DAY, "a", "GB"), 3 * DAY, "a", "GB")
    assert state.first_seen == 3 * DAY
    assert state.last_seen == 10 * DAY
    assert view_at(state, 10 * DAY).items_7d == pytest.approx(1 + math.exp(-1))


def test_recent_values_are_bounded_and_distinct() -> None:
    state = None
    for i in range(RECENT_LIMIT + 10):
        state = record_item(state, float(i), f"party{i}", "GB")
    assert state is not None
    assert len(state.counterparties) == RECENT_LIMIT
    assert state.counterparties[-1] == f"party{RECENT_LIMIT + 9}"
    assert state.countries == ("GB",)


def test_holds_and_seizures_link_to_every_known_key() -> None:
    states = {"s": record_item(None, 0.0, None, None), "a": record_item(None, 0.0, None, None)}
    record_hold(states, ["s", "a", "unknown"])
    link_seizure(states, ["s", "a", "unknown"], 5 * DAY)
    assert "unknown" not in states
    view = view_at(states["s"], 6 * DAY)
    assert (view.holds, view.seizures, view.days_since_seizure) == (1, 1, pytest.approx(1.0))
