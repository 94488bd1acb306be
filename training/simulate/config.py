"""The scenario a simulation run reproduces: volumes, mixes, vendor behaviour and the inspection policy."""

from dataclasses import dataclass, field
from datetime import date

from model.codes import is_country

# Licit destinations abroad for a Dutch post, relative weights. Neighbours and the UK dominate cross-border
# e-commerce; the US and Australia are the main far destinations (market-facts.md, postal flows).
DEFAULT_FOREIGN_MIX: dict[str, float] = {
    "DE": 0.26,
    "BE": 0.18,
    "FR": 0.09,
    "GB": 0.09,
    "US": 0.08,
    "ES": 0.045,
    "IT": 0.045,
    "AT": 0.025,
    "SE": 0.025,
    "PL": 0.025,
    "DK": 0.02,
    "IE": 0.015,
    "CH": 0.02,
    "AU": 0.02,
    "CA": 0.02,
    "NO": 0.012,
    "NZ": 0.006,
    "JP": 0.012,
    "NL": 0.05,
}
# Items with electronic item data: ordinary letters, small packets and parcels, a little EMS.
DEFAULT_MAIL_CLASS_MIX: dict[str, float] = {"U": 0.58, "C": 0.39, "E": 0.03}
# Who posts the licit items (see segments.py for what each segment looks like).
DEFAULT_SEGMENT_MIX: dict[str, float] = {
    "webshop": 0.36,
    "small_seller": 0.10,
    "private": 0.32,
    "returns": 0.07,
    "business_mail": 0.15,
}
# Posting volume by weekday, Monday first: Saturday is light and only lockers and a few mailboxes take Sunday.
DEFAULT_WEEKDAY_VOLUME: tuple[float, ...] = (1.20, 1.14, 1.10, 1.08, 1.14, 0.42, 0.08)
# Destinations an ASYCUDA-style selectivity rule treats as high risk: the far markets Dutch customs names.
DEFAULT_RULE_DESTINATIONS: tuple[str, ...] = ("US", "AU", "NZ", "CA", "GB", "NO", "CH", "JP")
DEFAULT_ADAPTATION_WEIGHTS: dict[str, float] = {"identity": 0.5, "posting_place": 0.3, "packaging": 0.2}
DEFAULT_FINDING_MIX: dict[str, float] = {"seized": 0.86, "controlled_delivery": 0.04, "inconclusive": 0.10}


@dataclass(frozen=True)
class ScenarioConfig:
    """One simulated period of a post's traffic. Every default is explained in docs/simulator.md."""

    seed: int = 0
    start: date = date(2025, 10, 6)
    days: int = 56
    items_per_day: int = 20_000
    posting_country: str = "NL"
    timezone: str = "Europe/Amsterdam"
    domestic_share: float = 0.74
    foreign_mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FOREIGN_MIX))
    mail_class_mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MAIL_CLASS_MIX))
    segment_mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SEGMENT_MIX))
    weekday_volume: tuple[float, ...] = DEFAULT_WEEKDAY_VOLUME
    seasonality_amplitude: float = 0.12
    illicit_share: float = 1e-4
    vendor_weekly_items: float = 5.0
    vendor_entry_per_week: float = 0.08
    exit_after_seizure: float = 0.1
    repeat_buyer_share: float = 0.3
    wholesale_order_share: float = 0.04
    adaptation_probability: float = 0.6
    adaptation_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_ADAPTATION_WEIGHTS))
    adaptation_delay_days: tuple[int, int] = (2, 7)
    inspection_rate: float = 0.003
    random_share_of_capacity: float = 0.2
    intelligence_share_of_capacity: float = 0.3
    tips_per_vendor_week: float = 0.15
    false_tips_per_week: float = 1.0
    tip_days: int = 10
    screening_share: float = 0.15
    screening_sensitivity: float = 0.5
    screening_false_positive_rate: float = 0.01
    rule_destinations: tuple[str, ...] = DEFAULT_RULE_DESTINATIONS
    rule_weight_g: tuple[float, float] = (10.0, 250.0)
    finding_mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FINDING_MIX))
    not_presented_share: float = 0.02
    inspection_delay_days: tuple[int, int] = (1, 3)

    def __post_init__(self) -> None:
        problems = [
            message
            for ok, message in (
                (self.days >= 1, "days must be at least 1"),
                (self.items_per_day >= 100, "items_per_day must be at least 100"),
                (is_country(self.posting_country), "posting_country must be an ISO 3166-1 alpha-2 code"),
                (0.0 <= self.domestic_share < 1.0, "domestic_share must be in [0, 1)"),
                (0.0 < self.illicit_share <= 0.01, "illicit_share must be in (0, 0.01]"),
                (0.0 < self.inspection_rate <= 0.05, "inspection_rate must be in (0, 0.05]"),
                (0.0 <= self.random_share_of_capacity <= 1.0, "random_share_of_capacity must be in [0, 1]"),
                (
                    self.random_share_of_capacity + self.intelligence_share_of_capacity <= 1.0,
                    "random and intelligence shares of capacity add up to at most 1",
                ),
                (self.tips_per_vendor_week >= 0 and self.false_tips_per_week >= 0, "tip rates must be >= 0"),
                (self.tip_days >= 1, "tip_days must be at least 1"),
                (
                    all(
                        0.0 <= p <= 1.0
                        for p in (
                            self.screening_share,
                            self.screening_sensitivity,
                            self.screening_false_positive_rate,
                        )
                    ),
                    "screening share, sensitivity and false-positive rate must be in [0, 1]",
                ),
                (0.0 <= self.adaptation_probability <= 1.0, "adaptation_probability must be in [0, 1]"),
                (len(self.weekday_volume) == 7, "weekday_volume needs one factor per weekday"),
                (self.vendor_weekly_items > 0, "vendor_weekly_items must be positive"),
                (all(is_country(c) for c in self.foreign_mix), "foreign_mix keys must be country codes"),
                (
                    1 <= self.inspection_delay_days[0] <= self.inspection_delay_days[1],
                    "inspection_delay_days: 1 <= low <= high",
                ),
                (
                    1 <= self.adaptation_delay_days[0] <= self.adaptation_delay_days[1],
                    "adaptation_delay_days: 1 <= low <= high",
                ),
            )
            if not ok
        ]
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def destination_mix(self) -> dict[str, float]:
        """Target share of licit items per destination country, the posting country included."""
        abroad = {c: w for c, w in self.foreign_mix.items() if c != self.posting_country and w > 0}
        total = sum(abroad.values())
        mix = {c: (1.0 - self.domestic_share) * w / total for c, w in abroad.items()}
        return {self.posting_country: self.domestic_share, **mix}

    @property
    def reaction_lag_days(self) -> int:
        """Days from posting until a vendor can first act on the seizure of that item (at the earliest)."""
        return self.inspection_delay_days[0] + self.adaptation_delay_days[0] + 1

    @property
    def rule_capacity(self) -> float:
        """Share of all items the rules lane may inspect."""
        return self.inspection_rate * (
            1.0 - self.random_share_of_capacity - self.intelligence_share_of_capacity
        )

    @property
    def intelligence_capacity(self) -> float:
        """Share of all items inspected on intelligence (tips, dogs, X-ray screening of letter streams)."""
        return self.inspection_rate * self.intelligence_share_of_capacity

    @property
    def random_capacity(self) -> float:
        """Share of all items drawn at random for inspection."""
        return self.inspection_rate * self.random_share_of_capacity
