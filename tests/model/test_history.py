import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.history import (
    DAY,
    RECENT_LIMIT,
    EntityState,
    link_seizure,
    merge,
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


# An item: (posting time in days, held, a seizure linked at that time); a list of them is one batch.
_ITEM = st.tuples(st.floats(0.0, 400.0), st.booleans(), st.booleans())
_ITEMS = st.lists(_ITEM, max_size=12)


def _observed(
    items: list[tuple[float, bool, bool]], states: dict[str, EntityState] | None = None
) -> dict[str, EntityState]:
    """`items` observed in order into `states` (a copy of it) on one aggregate key, as the service counts it."""
    states = {key: replace(state) for key, state in (states or {}).items()}
    for day, held, seized in items:
        observe_entity(states, "a", day * DAY, None, None)
        if held:
            record_hold(states, ["a"])
        if seized:
            link_seizure(states, ["a"], day * DAY)
    return states


def _assert_same(merged: EntityState | None, sequential: EntityState | None) -> None:
    """Equal except for float rounding in the decayed counts."""
    assert merged is not None
    assert sequential is not None
    assert merged.items_short == pytest.approx(sequential.items_short, rel=1e-12, abs=0)
    assert merged.items_long == pytest.approx(sequential.items_long, rel=1e-12, abs=0)
    exact = ("first_seen", "last_seen", "counterparties", "countries", "holds", "seizures", "last_seizure_at")
    assert [getattr(merged, f) for f in exact] == [getattr(sequential, f) for f in exact]


@given(before=_ITEMS, batch=_ITEMS.filter(bool))
def test_merging_a_batch_equals_observing_its_items_after_the_state(before: list, batch: list) -> None:
    state = _observed(before).get("a")
    _assert_same(merge(state, _observed(batch)["a"]), _observed(batch, _observed(before)).get("a"))


@given(before=_ITEMS, first=_ITEMS.filter(bool), second=_ITEMS.filter(bool))
def test_the_order_of_merges_does_not_matter(before: list, first: list, second: list) -> None:
    state = _observed(before).get("a")
    one, two = _observed(first)["a"], _observed(second)["a"]
    _assert_same(merge(merge(state, one), two), merge(merge(state, two), one))
    _assert_same(merge(state, merge(one, two)), merge(merge(state, one), two))


def test_merge_leaves_its_inputs_alone() -> None:
    state = EntityState(0.0, DAY, 2.0, 2.0, holds=1)
    delta = EntityState(3 * DAY, 3 * DAY, 1.0, 1.0, seizures=1, last_seizure_at=3 * DAY)
    merged = merge(state, delta)
    assert (state, delta) == (EntityState(0.0, DAY, 2.0, 2.0, holds=1), replace(delta))
    assert merged.items_short == pytest.approx(2.0 * math.exp(-2 / 7) + 1.0)
    assert (merged.first_seen, merged.holds, merged.seizures, merged.last_seizure_at) == (0.0, 1, 1, 3 * DAY)
    assert merge(None, delta) == delta
    assert merge(None, delta) is not delta
