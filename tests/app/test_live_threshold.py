"""The live threshold from a sorted window and its sorted recent scores (threshold_among) is the full
quantile's (threshold_for), score for score and tie share for tie share, as the window gains and loses scores
(across merges of the recent scores into the window)."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from app.services.live_threshold import ScoredRow, ScoreWindow, threshold_among, threshold_for

START = datetime(2026, 1, 1, tzinfo=UTC)


def _rows(rng: np.random.Generator, first: int, scores: np.ndarray) -> list[ScoredRow]:
    return [
        (
            f"a{first + n}",
            START + timedelta(seconds=first + n),
            float(s),
            "model" if rng.random() < 0.1 else None,
        )
        for n, s in enumerate(scores)
    ]


@pytest.mark.parametrize("levels", [None, 3, 40])  # continuous scores, or few distinct ones (blocks of ties)
def test_the_sorted_window_gives_the_full_quantile(levels: int | None) -> None:
    rng = np.random.default_rng(14)
    window, made, forgotten = ScoreWindow(), 0, 0
    for step in range(300):
        size = int(rng.choice([1, 1, 1, 2, 7, 60]))
        fresh = rng.random(size) if levels is None else rng.integers(0, levels, size) / levels
        window.add(_rows(rng, made, fresh))
        window.add(_rows(rng, made, fresh))  # rows seen again (a top-up) are not counted twice
        made += size
        if step % 50 == 49:  # the window moves on
            since = START + timedelta(seconds=made - 150)
            window.forget(older_than=since, read_from=since)
            forgotten = made - 150
        assert np.array_equal(
            np.sort(np.concatenate([window.ordered, window.recent])), np.sort(window.scores)
        )
        assert np.array_equal(window.recent, np.sort(window.recent))
        assert np.array_equal(window.ordered, np.sort(window.ordered))
        assert window.held == int(window.model_held.sum())
        assert len(window.created) == len(window.scores) == len(window.model_held) == made - forgotten
        for batch_size in (0, 1, 3, 50):
            batch = rng.random(batch_size) if levels is None else rng.integers(0, levels, batch_size) / levels
            for rate in (1e-4, 0.01, 0.3, 0.99, 1.0):
                expected = threshold_for(np.concatenate([window.scores, batch]), rate, "partner")
                extra = np.concatenate([window.recent, batch])
                assert threshold_among(window.ordered, extra, rate, "partner") == expected


def test_no_scores_and_nan_scores_are_the_full_quantiles_too() -> None:
    empty = np.zeros(0)
    assert threshold_among(empty, empty, 0.01, "partner") == threshold_for(empty, 0.01, "partner")
    scores = np.array([0.1, 0.5, np.nan])  # a NaN quantile has no ties: both refuse it alike
    with pytest.raises(ZeroDivisionError):
        threshold_for(np.concatenate([scores, [0.2]]), 0.5, "partner")
    with pytest.raises(ZeroDivisionError):
        threshold_among(np.sort(scores), np.array([0.2]), 0.5, "partner")
