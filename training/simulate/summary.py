"""What a run generated, counted as it streams, with the measured shares next to their targets."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

from training.simulate.config import ScenarioConfig
from training.simulate.records import Record, SimItem

SHARE_TOLERANCE = {"illicit_share": 0.2, "inspection_rate": 0.1}
MIX_TOLERANCE = 0.01


@dataclass
class Tally:
    """Running counts over every item written."""

    items: int = 0
    illicit: int = 0
    rule_hits: int = 0
    rule_hits_illicit: int = 0
    wholesale: int = 0
    licit_destinations: Counter[str] = field(default_factory=Counter)
    licit_classes: Counter[str] = field(default_factory=Counter)
    illicit_destinations: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    results: Counter[str] = field(default_factory=Counter)
    illicit_results: Counter[str] = field(default_factory=Counter)

    def add_items(self, items: list[SimItem], hits: list[bool]) -> None:
        """Count a day's items and which of them the rules lane held."""
        for item, hit in zip(items, hits, strict=True):
            shipment, truth = item.shipment, item.truth
            self.items += 1
            self.rule_hits += hit
            if truth["illicit"]:
                self.illicit += 1
                self.rule_hits_illicit += hit
                self.wholesale += truth["wholesale"]
                self.illicit_destinations[shipment["addressee"]["country"]] += 1
            else:
                self.licit_destinations[shipment["addressee"]["country"]] += 1
                self.licit_classes[shipment["mail_class"]] += 1

    def merge(self, other: "Tally") -> None:
        """Add the counts of `other` (one built day) to these."""
        self.items += other.items
        self.illicit += other.illicit
        self.rule_hits += other.rule_hits
        self.rule_hits_illicit += other.rule_hits_illicit
        self.wholesale += other.wholesale
        for mine, theirs in (
            (self.licit_destinations, other.licit_destinations),
            (self.licit_classes, other.licit_classes),
            (self.illicit_destinations, other.illicit_destinations),
            (self.reasons, other.reasons),
            (self.results, other.results),
            (self.illicit_results, other.illicit_results),
        ):
            mine.update(theirs)

    def add_outcome(self, outcome: Record, illicit: bool) -> None:
        """Count one recorded outcome."""
        self.reasons[outcome["selection_reason"]] += 1
        self.results[outcome["result"]] += 1
        if illicit:
            self.illicit_results[outcome["result"]] += 1


def _mix(counts: Counter[str], targets: dict[str, float]) -> dict[str, dict[str, float]]:
    total = max(1, sum(counts.values()))
    keys = sorted(set(targets) | set(counts), key=lambda k: (-targets.get(k, 0.0), k))
    return {
        k: {"target": round(targets.get(k, 0.0), 6), "measured": round(counts[k] / total, 6)} for k in keys
    }


@dataclass(frozen=True)
class SimulationSummary:
    """The run's counts and shares; `to_json_dict` is what summary.json holds."""

    scenario: dict[str, Any]
    items: int
    illicit_items: int
    shares: dict[str, dict[str, float]]
    licit_corridor_mix: dict[str, dict[str, float]]
    licit_mail_class_mix: dict[str, dict[str, float]]
    illicit_corridor_mix: dict[str, dict[str, float]]
    inspections: dict[str, int]
    outcomes: dict[str, int]
    illicit_outcomes: dict[str, int]
    rules_lane: dict[str, float]
    vendors: dict[str, Any]

    @classmethod
    def of(
        cls, config: ScenarioConfig, tally: Tally, illicit_targets: dict[str, float], vendors: dict[str, Any]
    ) -> "SimulationSummary":
        """The summary of a finished run from its tally, the profile's corridor shares and the vendor counts."""
        inspected = sum(tally.reasons.values())
        return cls(
            scenario={
                "seed": config.seed,
                "start": config.start.isoformat(),
                "days": config.days,
                "items_per_day": config.items_per_day,
                "posting_country": config.posting_country,
            },
            items=tally.items,
            illicit_items=tally.illicit,
            shares={
                "illicit_share": {
                    "target": config.illicit_share,
                    "measured": tally.illicit / max(1, tally.items),
                },
                "inspection_rate": {
                    "target": config.inspection_rate,
                    "measured": inspected / max(1, tally.items),
                },
            },
            licit_corridor_mix=_mix(tally.licit_destinations, config.destination_mix),
            licit_mail_class_mix=_mix(tally.licit_classes, config.mail_class_mix),
            illicit_corridor_mix=_mix(tally.illicit_destinations, illicit_targets),
            inspections={"total": inspected, **dict(sorted(tally.reasons.items()))},
            outcomes=dict(sorted(tally.results.items())),
            illicit_outcomes=dict(sorted(tally.illicit_results.items())),
            rules_lane={
                "hit_rate": tally.rule_hits / max(1, tally.items),
                "precision": tally.rule_hits_illicit / max(1, tally.rule_hits),
                "recall": tally.rule_hits_illicit / max(1, tally.illicit),
            },
            vendors={**vendors, "wholesale_orders": tally.wholesale},
        )

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON types, as written to summary.json."""
        return {
            "scenario": self.scenario,
            "items": self.items,
            "illicit_items": self.illicit_items,
            "shares": self.shares,
            "licit_corridor_mix": self.licit_corridor_mix,
            "licit_mail_class_mix": self.licit_mail_class_mix,
            "illicit_corridor_mix": self.illicit_corridor_mix,
            "inspections": self.inspections,
            "outcomes": self.outcomes,
            "illicit_outcomes": self.illicit_outcomes,
            "rules_lane": self.rules_lane,
            "vendors": self.vendors,
        }

    def table(self) -> Table:
        """Measured shares against their targets, for the terminal."""
        table = Table(title=f"Simulated {self.items:,} items ({self.illicit_items} illicit)")
        for column in ("measure", "target", "measured", ""):
            table.add_column(column, justify="left" if column == "measure" else "right")
        for name, pair in self.shares.items():
            close = abs(pair["measured"] - pair["target"]) <= SHARE_TOLERANCE[name] * pair["target"]
            table.add_row(name, f"{pair['target']:.3%}", f"{pair['measured']:.3%}", "ok" if close else "off")
        for title, mix in (
            ("mail class", self.licit_mail_class_mix),
            ("destination", self.licit_corridor_mix),
        ):
            for key, pair in list(mix.items())[:8]:
                close = abs(pair["measured"] - pair["target"]) <= MIX_TOLERANCE
                table.add_row(
                    f"{title} {key}",
                    f"{pair['target']:.1%}",
                    f"{pair['measured']:.1%}",
                    "ok" if close else "off",
                )
        for key, pair in list(self.illicit_corridor_mix.items())[:8]:
            table.add_row(
                f"illicit to {key} (profile)", f"{pair['target']:.1%}", f"{pair['measured']:.1%}", ""
            )
        for key, value in self.rules_lane.items():
            table.add_row(f"rules lane {key}", "", f"{value:.2%}", "")
        for prefix, counts in (
            ("inspections", self.inspections),
            ("outcomes", self.outcomes),
            ("vendors", self.vendors),
        ):
            for key, count in counts.items():
                if isinstance(count, int):
                    table.add_row(f"{prefix} {key}", "", f"{count:,}", "")
        return table
