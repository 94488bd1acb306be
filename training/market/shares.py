"""Whole-number apportionment, and shares that stay bit-identical through a profile's save and load."""

from collections.abc import Mapping
from typing import TypeVar

K = TypeVar("K")
# Shares are whole multiples of 2**-40: every partial sum is then exact, the shares add up to exactly 1.0,
# and MarketProfile.from_json's renormalisation leaves them, and the profile's sha256, unchanged.
SHARE_UNITS = 2**40


def apportion(total: int, weights: Mapping[K, float]) -> dict[K, int]:
    """`total` split in proportion to `weights` with largest-remainder rounding; the parts sum to `total`."""
    weight = sum(weights.values())
    exact = {key: total * value / weight for key, value in weights.items()}
    counts = {key: int(value) for key, value in exact.items()}
    by_remainder = sorted(exact, key=lambda key: exact[key] - counts[key], reverse=True)
    for key in by_remainder[: total - sum(counts.values())]:
        counts[key] += 1
    return counts


def exact_shares(weights: Mapping[str, float]) -> dict[str, float]:
    """`weights` as shares summing to exactly 1.0 in floating point (empty when there is no weight)."""
    if sum(weights.values()) <= 0:
        return {}
    return {key: units / SHARE_UNITS for key, units in apportion(SHARE_UNITS, weights).items()}
