"""The baselines rank what they claim to rank."""

import numpy as np

from model.features import FEATURE_NAMES, FEATURES_BY_NAME
from model.shipment import MailClass
from training.baselines import market_profile_score, rules_lane_score


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
    assert rules_lane_score(rows).tolist() == [5.0, 3.0, 1.0]
