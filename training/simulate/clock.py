"""Calendar and clock of a simulated day: volumes by weekday and season, posting hours, local timestamps."""

import math
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np

HOURS_BY_CHANNEL: dict[str, tuple[float, ...]] = {
    # Counters open 9-18; mailbox items are scanned at collection, mostly late afternoon; lockers take
    # items from early morning to late evening; business pickups come at the end of the working day.
    "counter": (0,) * 9 + (6, 9, 10, 9, 8, 9, 10, 10, 8, 4) + (0,) * 5,
    "mailbox": (0,) * 9 + (3, 4, 5, 6, 5, 5, 6, 9, 14, 8, 5, 2) + (0,) * 3,
    "parcel_locker": (0,) * 7 + (2, 4, 5, 6, 6, 7, 6, 6, 6, 7, 8, 8, 7, 6, 4, 2, 1),
    "business_pickup": (0,) * 14 + (2, 8, 14, 16, 10, 4) + (0,) * 4,
}
CHANNELS: tuple[str, ...] = tuple(HOURS_BY_CHANNEL)
HOUR_PROBABILITIES = {c: np.asarray(h, dtype=np.float64) / sum(h) for c, h in HOURS_BY_CHANNEL.items()}
CLOSED_ON_SUNDAY = {"counter": "parcel_locker", "business_pickup": "parcel_locker"}
SEASON_PEAK_DAY_OF_YEAR = 355
MINUTES_SECONDS: tuple[str, ...] = tuple(f"{m:02d}:{s:02d}" for m in range(60) for s in range(60))


@dataclass(frozen=True)
class DayClock:
    """One local calendar day: its weekday, UTC offsets by hour, and timestamp rendering."""

    day: date
    weekday: int
    midnight_utc: float
    offsets: tuple[str, ...]
    offset_seconds: tuple[int, ...]
    hour_prefixes: tuple[str, ...]

    @classmethod
    def of(cls, day: date, timezone: str) -> "DayClock":
        """The clock of `day` in the IANA `timezone`."""
        zone = ZoneInfo(timezone)
        offsets = [
            datetime(day.year, day.month, day.day, hour, tzinfo=zone).utcoffset() for hour in range(24)
        ]
        seconds = tuple(int(o.total_seconds()) if o is not None else 0 for o in offsets)
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
        return cls(
            day=day,
            weekday=day.weekday(),
            midnight_utc=midnight,
            offsets=tuple(_offset_text(s) for s in seconds),
            offset_seconds=seconds,
            hour_prefixes=tuple(f"{day.isoformat()}T{hour:02d}:" for hour in range(24)),
        )

    def timestamp(self, second_of_day: int) -> str:
        """ISO 8601 local time with its UTC offset, e.g. 2025-10-06T17:03:09+02:00."""
        hour, rest = divmod(second_of_day, 3600)
        return self.hour_prefixes[hour] + MINUTES_SECONDS[rest] + self.offsets[hour]

    def epoch(self, second_of_day: int) -> float:
        """UTC epoch seconds of a local second of this day."""
        hour = second_of_day // 3600
        return self.midnight_utc + second_of_day + self.offset_seconds[0] - self.offset_seconds[hour]


def _offset_text(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def season_factor(day: date, amplitude: float) -> float:
    """Relative volume over the year: a yearly cycle peaking before Christmas, mean 1."""
    angle = 2 * math.pi * (day.timetuple().tm_yday - SEASON_PEAK_DAY_OF_YEAR) / 365.25
    return 1.0 + amplitude * math.cos(angle)


def expected_items(
    day: date, items_per_day: float, weekday_volume: tuple[float, ...], amplitude: float
) -> float:
    """Expected licit items posted on `day`: the yearly mean scaled by weekday and season."""
    weekday = weekday_volume[day.weekday()] * 7 / sum(weekday_volume)
    return items_per_day * weekday * season_factor(day, amplitude)


def seconds_in_hours(rng: np.random.Generator, hours: np.ndarray) -> np.ndarray:
    """Uniform seconds of the day within the given hours."""
    return hours * 3600 + rng.integers(0, 3600, size=len(hours))
