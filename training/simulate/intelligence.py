"""The intelligence lane's noisy signals: tips that name a sender for some days, and X-ray/dog screening of letters.

Neither reads the truth of an item. A tip names one vendor identity's name or address (or, as a false tip,
somebody else's); every item whose sender matches it is suspect, so tipped items are that identity's items
plus licit look-alikes with the same name or address. Screening looks at a sample of the letter stream and
alarms on illicit contents with a sensitivity below 1 and on licit letters at a false-positive rate.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from training.simulate.config import ScenarioConfig
from training.simulate.identities import PartyDict, Rng, person

TIP_STREAM = 7


def name_key(party: PartyDict) -> str | None:
    """The key a tip about this sender's name matches: the name in lower case."""
    name = party.get("name") or party.get("business_name")
    return f"name:{str(name).casefold()}" if name else None


def address_key(party: PartyDict) -> str | None:
    """The key a tip about this sender's address matches: first address line and postcode, case and spaces
    ignored."""
    lines, postcode = party.get("address_lines"), party.get("postcode")
    if not lines or not postcode:
        return None
    return f"address:{lines[0].casefold()}|{str(postcode).replace(' ', '').casefold()}"


def matches_tip(party: PartyDict, tips: frozenset[str]) -> bool:
    """Whether a sender as written on an item matches any tip in force."""
    return name_key(party) in tips or address_key(party) in tips


class TipDesk:
    """Tips as they reach customs over the run: about active vendors (true) and about other people (false)."""

    def __init__(self, config: ScenarioConfig) -> None:
        self._config = config
        self._in_force: list[tuple[date, str]] = []
        self.log: list[dict[str, Any]] = []

    def day(self, day: date, vendors: Sequence[tuple[str, list[PartyDict]]]) -> frozenset[str]:
        """The tip keys in force on `day`, after the tips that arrive that day (vendor id, identities)."""
        config = self._config
        rng = np.random.default_rng([config.seed, TIP_STREAM, day.toordinal()])
        arriving: list[tuple[str | None, PartyDict]] = [
            (vendor_id, identities[min(int(rng.geometric(0.7)) - 1, len(identities) - 1)])
            for vendor_id, identities in vendors
            if rng.random() < config.tips_per_vendor_week / 7
        ]
        false_tips = int(rng.poisson(config.false_tips_per_week / 7))
        arriving += [(None, person(rng, config.posting_country)) for _ in range(false_tips)]
        until = day + timedelta(days=config.tip_days - 1)
        for vendor_id, party in arriving:
            key = self._key(rng, party)
            if key is not None:
                self._in_force.append((until, key))
                self.log.append(
                    {"from": day.isoformat(), "until": until.isoformat(), "vendor_id": vendor_id, "key": key}
                )
        self._in_force = [(end, key) for end, key in self._in_force if end >= day]
        return frozenset(key for _, key in self._in_force)

    @staticmethod
    def _key(rng: Rng, party: PartyDict) -> str | None:
        by_address = address_key(party)
        if by_address is not None and rng.random() < 0.5:
            return by_address
        return name_key(party) or by_address


@dataclass(frozen=True)
class LaneChoice:
    """The intelligence lane's inspections of a day, every item's probability of them, and unused capacity."""

    indices: np.ndarray
    probabilities: np.ndarray
    unused: int


def intelligence_lane(
    rng: Rng,
    config: ScenarioConfig,
    shipments: Sequence[Mapping[str, Any]],
    illicit: np.ndarray,
    tips: frozenset[str],
    capacity: int,
) -> LaneChoice:
    """Tip matches first, then screening alarms, up to `capacity`; each group drawn uniformly when it overflows.

    An item matching a tip is inspected with probability (chosen / matched); a letter not matching one with
    screening share x alarm probability x (chosen alarms / alarms).
    """
    total = len(shipments)
    matched = np.array([bool(tips) and matches_tip(s["sender"], tips) for s in shipments], dtype=bool)
    letters = np.array([s["mail_class"] == "U" for s in shipments], dtype=bool)
    alarm_p = np.where(illicit, config.screening_sensitivity, config.screening_false_positive_rate)
    screened = letters & (rng.random(total) < config.screening_share)
    alarms = screened & ~matched & (rng.random(total) < alarm_p)
    by_tip = rng.permutation(np.flatnonzero(matched))[:capacity]
    by_alarm = rng.permutation(np.flatnonzero(alarms))[: capacity - len(by_tip)]
    tip_q = len(by_tip) / int(matched.sum()) if matched.any() else 0.0
    alarm_q = len(by_alarm) / int(alarms.sum()) if alarms.any() else 0.0
    probabilities = np.where(matched, tip_q, letters * config.screening_share * alarm_p * alarm_q)
    chosen = np.concatenate([by_tip, by_alarm]).astype(np.int64)
    return LaneChoice(chosen, probabilities, capacity - len(chosen))
