"""The simulator's building blocks: S10 ids, the rules lane, the raked traffic table, the scenario checks."""

from typing import Any

import numpy as np
import pytest

from model.market_profile import MarketProfile
from model.s10 import s10_problem
from training.simulate import ScenarioConfig
from training.simulate.illicit import IllicitTraffic
from training.simulate.policy import RulesLane
from training.simulate.records import s10_ids, service_indicator
from training.simulate.segments import MAIL_CLASSES, SEGMENT_NAMES, joint_table


def test_s10_ids_are_valid_and_consecutive() -> None:
    indicators = [
        service_indicator(c, s) for c, s in (("U", "untracked"), ("U", "registered"), ("C", "tracked"))
    ]
    ids = s10_ids([*indicators, "EE"], 99_999_998, "NL")
    assert [i[:2] for i in ids] == ["UA", "RR", "CP", "EE"]
    assert all(s10_problem(i) is None for i in ids)
    assert [i[2:10] for i in ids] == ["99999998", "99999999", "00000000", "00000001"]
    assert s10_ids(["RR"], 12_345_678, "NL") == ["RR123456785NL"]


def _letter(country: str, grams: float, category: str | None, postage: str = "stamps") -> dict[str, Any]:
    shipment: dict[str, Any] = {
        "mail_class": "U",
        "gross_weight_kg": grams / 1000,
        "posting": {"postage_method": postage},
        "addressee": {"country": country},
    }
    if category is not None:
        shipment["declaration"] = {"category": category}
    return shipment


def test_rules_lane_holds_stamped_light_letters_to_far_destinations() -> None:
    rules = RulesLane.of(ScenarioConfig())
    assert rules.matches(_letter("US", 40, None))
    assert rules.matches(_letter("AU", 120, "gift"))
    assert rules.matches(_letter("GB", 30, "documents"))
    assert not rules.matches(_letter("DE", 40, None))
    assert not rules.matches(_letter("US", 400, None))
    assert not rules.matches(_letter("US", 40, "sale_of_goods"))
    assert not rules.matches(_letter("US", 40, None, postage="online_label"))
    assert not rules.matches({**_letter("US", 40, None), "mail_class": "C"})


def test_joint_table_meets_every_configured_margin() -> None:
    config = ScenarioConfig()
    cells, probabilities = joint_table(config)
    assert probabilities.sum() == pytest.approx(1.0)
    margins: dict[str, dict[str, float]] = {"segment": {}, "class": {}, "country": {}}
    for (segment, mail_class, country), p in zip(cells, probabilities, strict=True):
        for axis, key in (("segment", SEGMENT_NAMES[segment]), ("class", mail_class), ("country", country)):
            margins[axis][key] = margins[axis].get(key, 0.0) + float(p)
    for name in SEGMENT_NAMES:
        assert margins["segment"][name] == pytest.approx(config.segment_mix[name], abs=1e-6)
    for mail_class in MAIL_CLASSES:
        assert margins["class"][mail_class] == pytest.approx(config.mail_class_mix[mail_class], abs=1e-6)
    for country, share in config.destination_mix.items():
        assert margins["country"][country] == pytest.approx(share, abs=1e-6)


def test_vendor_population_follows_the_profile(profile: MarketProfile) -> None:
    config = ScenarioConfig()
    traffic = IllicitTraffic(config, profile, np.random.default_rng(0))
    assert set(traffic.market.destinations) == {"NL", "DE", "BE", "FR", "GB", "US", "AU"}
    weekly = config.illicit_share * config.items_per_day * 7
    assert len(traffic.vendors) == max(2, round(weekly / config.vendor_weekly_items))
    with pytest.raises(ValueError, match="no corridor from BE"):
        IllicitTraffic(ScenarioConfig(posting_country="BE"), profile, np.random.default_rng(0))


@pytest.mark.parametrize(
    "changes",
    [
        {"illicit_share": 0.2},
        {"inspection_rate": 0.0},
        {"days": 0},
        {"posting_country": "XX"},
        {"inspection_delay_days": (0, 2)},
    ],
)
def test_scenario_refuses_impossible_settings(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ScenarioConfig(**changes)
