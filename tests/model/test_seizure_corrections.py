"""Withdrawing a seizure that a correction took away: the count goes back, never below zero."""

from model.history import EntityState, link_seizure, unlink_seizure, withdraw_seizure


def _state(**overrides: object) -> EntityState:
    values: dict[str, object] = {"first_seen": 0.0, "last_seen": 10.0, "items_short": 1.0, "items_long": 1.0}
    return EntityState(**{**values, **overrides})  # type: ignore[arg-type]


def test_unlinking_undoes_linking() -> None:
    states = {"a": _state(), "b": _state(seizures=1, last_seizure_at=5.0)}
    link_seizure(states, ["a", "b", "unknown"], at=20.0)
    assert (states["a"].seizures, states["b"].seizures) == (1, 2)
    unlink_seizure(states, ["a", "b", "unknown"])
    assert (states["a"].seizures, states["a"].last_seizure_at) == (0, None)
    assert (states["b"].seizures, states["b"].last_seizure_at) == (1, 20.0)  # the latest time is kept
    assert "unknown" not in states


def test_withdrawing_never_goes_below_zero() -> None:
    assert withdraw_seizure(None) is None
    clean = _state()
    assert withdraw_seizure(clean) == clean
