"""The baselines rank what they claim to rank."""

from pathlib import Path

import numpy as np
import orjson
import pytest

from model.features import FEATURE_NAMES, FEATURES_BY_NAME
from model.shipment import MailClass
from training.baselines import (
    TargetingRules,
    market_profile_score,
    rule_columns_of_shipments,
    rules_lane_score,
)
from training.simulate import ScenarioConfig
from training.simulate.policy import RulesLane


def _rows(**columns: list[float]) -> np.ndarray:
    count = len(next(iter(columns.values())))
    rows = np.zeros((count, len(FEATURE_NAMES)))
    for name, values in columns.items():
        rows[:, FEATURE_NAMES.index(name)] = values
    return rows


def test_market_profile_score_is_a_share_of_corridor_traffic_not_a_count() -> None:
    rows = _rows(
        corridor_monthly_items=[400.0, 40.0, 40.0, 0.0],
        corridor_weight_fit=[0.5, 0.5, 0.05, 0.5],
        corridor_class_fit=[0.8, 0.8, 0.8, 0.8],
        corridor_items_7d=[100_000.0, 500.0, 500.0, 0.0],
    )
    score = market_profile_score(rows)
    # a quiet corridor vendors use outranks a busy one with more vendor items in absolute terms,
    # an implausible weight band ranks lower, and a corridor the profile never saw scores nothing
    assert score[1] > score[2] > score[0] > score[3] == 0.0


def test_rules_lane_counts_the_criteria_an_item_meets() -> None:
    letter = FEATURES_BY_NAME["mail_class"].levels.index(MailClass.LETTER.value)
    gift = FEATURES_BY_NAME["declared_category"].levels.index("gift")
    stamps = FEATURES_BY_NAME["postage_method"].levels.index("stamps")
    rows = _rows(
        international=[1.0, 1.0, 0.0],
        mail_class=[letter, letter, letter + 1],
        weight_g=[80.0, 900.0, 80.0],
        declared_category=[gift, gift, gift + 4],
        postage_method=[stamps, stamps + 1, stamps + 1],
    )
    destinations = np.array(["US", "US", "NL"])
    assert rules_lane_score(rows, destinations).tolist() == [5.0, 3.0, 1.0]
    partner = TargetingRules(
        international=None, destinations=frozenset({"US"}), mail_classes=None, postage_methods=None,
        declared_categories=None, weight_g=(50.0, 100.0),
    )  # fmt: skip
    assert rules_lane_score(rows, destinations, partner).tolist() == [2.0, 1.0, 1.0]


def test_targeting_rules_from_a_file_use_only_the_criteria_it_names(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text('{"destinations": ["US", "AU"], "services": ["untracked"], "weight_g": [20, 500]}')
    rules = TargetingRules.read(path)
    assert set(rules.model_dump(exclude_none=True)) == {"destinations", "services", "weight_g"}
    assert (rules.destinations, rules.weight_g) == (frozenset({"US", "AU"}), (20.0, 500.0))
    path.write_text('{"mail_classes": ["X"]}')
    with pytest.raises(ValueError, match="mail_classes"):
        TargetingRules.read(path)


def test_one_criteria_type_reproduces_the_simulators_rules_lane(simulated_dir: Path) -> None:
    """The simulator's historical rules lane, written as targeting criteria, holds exactly the same items."""
    config = ScenarioConfig()
    criteria = TargetingRules(
        international=None,
        destinations=frozenset(config.rule_destinations),
        weight_g=config.rule_weight_g,
    )
    shipments = [orjson.loads(line) for line in (simulated_dir / "shipments.jsonl").read_bytes().splitlines()]
    simulator = RulesLane.of(config)
    expected = [simulator.matches(shipment) for shipment in shipments]
    assert sum(expected) > 50
    assert criteria.hits(rule_columns_of_shipments(shipments)).tolist() == expected
