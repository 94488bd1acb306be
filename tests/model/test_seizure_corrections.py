"""Withdrawing a seizure that a correction took away: the count goes back, never below zero."""

from model.history import EntityState, link_seizure, unlink_seizure


def _state(seizures: int = 0, last_seizure_at: float | None = None) -> EntityState:
    return EntityState(0.0, 10.0, 1.0, 1.0, seizures=seizures, last_seizure_at=last_seizure_at)


def test_unlinking_undoes_linking() -> None:
    states = {"a": _state(), "b": _state(seizures=1, last_seizure_at=5.0)}
    link_seizure(states, ["a", "b", "unknown"], at=20.0)
    assert (states["a"].seizures, states["b"].seizures) == (1, 2)
    unlink_seizure(states, ["a", "b", "unknown"])
    assert (states["a"].seizures, states["a"].last_seizure_at) == (0, None)
    assert (states["b"].seizures, states["b"].last_seizure_at) == (1, 20.0)  # the latest time is kept
    assert "unknown" not in states


def test_withdrawing_never_goes_below_zero() -> None:
    states = {"a": _state()}
    unlink_seizure(states, ["a"])
    assert states["a"] == _state()
