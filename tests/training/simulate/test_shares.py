"""Measured shares against the configured targets, and the selection probabilities of the labels."""

from collections import Counter, defaultdict

import pytest

from tests.training.simulate.conftest import SMALL, Run
from training.simulate.intelligence import matches_tip

MIX_TOLERANCE = 0.015


def test_illicit_prevalence_is_the_configured_share(small_run: Run) -> None:
    illicit = sum(t["illicit"] for t in small_run.truth)
    expected = SMALL.illicit_share * len(small_run.truth)
    assert abs(illicit - expected) <= max(2.0, 0.1 * expected)
    assert small_run.summary.illicit_items == illicit


def test_inspection_rate_is_the_configured_capacity(small_run: Run) -> None:
    rate = len(small_run.outcomes) / len(small_run.truth)
    assert rate == pytest.approx(SMALL.inspection_rate, rel=0.1)
    reasons = Counter(o["selection_reason"] for o in small_run.outcomes)
    shares = {reason: count / len(small_run.outcomes) for reason, count in reasons.items()}
    # Capacity the intelligence lane leaves unused goes to the random lane.
    assert shares["random"] >= SMALL.random_share_of_capacity - 0.06
    assert shares["random"] + shares["manual"] == pytest.approx(
        SMALL.random_share_of_capacity + SMALL.intelligence_share_of_capacity, abs=0.06
    )


def test_licit_corridor_and_mail_class_mix_follow_the_targets(small_run: Run) -> None:
    licit = [s for s, t in zip(small_run.shipments, small_run.truth, strict=True) if not t["illicit"]]
    destinations = Counter(s["addressee"]["country"] for s in licit)
    classes = Counter(s["mail_class"] for s in licit)
    for country, target in SMALL.destination_mix.items():
        assert destinations[country] / len(licit) == pytest.approx(target, abs=MIX_TOLERANCE), country
    for mail_class, target in SMALL.mail_class_mix.items():
        assert classes[mail_class] / len(licit) == pytest.approx(target, abs=MIX_TOLERANCE), mail_class
    reported = small_run.summary.licit_corridor_mix[SMALL.posting_country]["measured"]
    assert reported == pytest.approx(destinations[SMALL.posting_country] / len(licit))


def test_inspection_probabilities_add_up_to_the_inspections(small_run: Run) -> None:
    """The rules and random lanes inspect exactly their expected counts; tips are random, so allow noise."""
    expected: defaultdict[str, float] = defaultdict(float)
    inspected: Counter[str] = Counter()
    for item in small_run.truth:
        expected[item["posted_on"]] += item["inspection_probability"]
        inspected[item["posted_on"]] += item["inspected"]
    for day, total in expected.items():
        assert total == pytest.approx(inspected[day], rel=0.15)


def test_rule_hits_are_inspected_more_often_and_outcomes_carry_their_probability(small_run: Run) -> None:
    truth = {t["item_id"]: t for t in small_run.truth}
    licit = [t for t in small_run.truth if not t["illicit"]]
    held = [t["inspection_probability"] for t in licit if t["rule_hit"]]
    others = [t["inspection_probability"] for t in licit if not t["rule_hit"]]
    # Tips and screening raise some items' probabilities above the rule's; the typical item stays far below.
    assert min(held) > 10 * sorted(others)[len(others) // 2]
    assert sum(held) / len(held) > 10 * sum(others) / len(others)
    for outcome in small_run.outcomes:
        if outcome["selection_reason"] == "manual":
            assert "selection_probability" not in outcome  # intelligence-led: no designed propensity
            continue
        assert outcome["selection_probability"] == truth[outcome["item_id"]]["inspection_probability"]
        assert (outcome["selection_reason"] == "rule") <= truth[outcome["item_id"]]["rule_hit"]


def test_intelligence_lane_selects_from_tips_and_screening_not_the_truth(adaptive_run: Run) -> None:
    """Manual inspections are tip matches or screened letters: some find drugs, some are false alarms."""
    truth = {t["item_id"]: t for t in adaptive_run.truth}
    shipments = {s["item_id"]: s for s in adaptive_run.shipments}
    tips = adaptive_run.summary.vendors["tips"]
    manual = [o for o in adaptive_run.outcomes if o["selection_reason"] == "manual"]
    found = [truth[o["item_id"]]["illicit"] for o in manual]
    assert 0 < sum(found) < len(found)
    tipped = 0
    for outcome in manual:
        shipment, day = shipments[outcome["item_id"]], outcome["posted_on"]
        in_force = frozenset(t["key"] for t in tips if t["from"] <= day <= t["until"])
        tipped += matches_tip(shipment["sender"], in_force)
        assert shipment["mail_class"] == "U" or matches_tip(shipment["sender"], in_force)
    assert tipped > 0
    assert any(t["vendor_id"] for t in tips)


def test_summary_reports_shares_next_to_targets(small_run: Run) -> None:
    shares = small_run.summary.shares
    assert shares["illicit_share"]["target"] == SMALL.illicit_share
    assert shares["inspection_rate"]["target"] == SMALL.inspection_rate
    assert (small_run.out / "summary.json").exists()
