"""The market profile learner: recovers what the generator was told, estimates volumes without orders."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from model.market_profile import MAIL_CLASSES, WEIGHT_BANDS, MarketProfile
from training.market.agora import import_agora
from training.market.expectation import ExpectedCorridor, expected_corridors
from training.market.export import write_listings_jsonl
from training.market.generator import GeneratedMarket, MarketSettings, generate_market
from training.market.importers import import_contract
from training.market.profile import (
    default_market_profile,
    learn_profile,
    profile_from_listings_file,
    profile_of_market,
)

from .conftest import FIXTURES

MAIN_CORRIDOR_ITEMS = 1000.0


def _main_corridors(market: GeneratedMarket) -> dict[tuple[str, str], ExpectedCorridor]:
    expected = expected_corridors(market)
    main = {k: v for k, v in expected.items() if v.monthly_items >= MAIN_CORRIDOR_ITEMS}
    assert sum(v.monthly_items for v in main.values()) > 0.6 * sum(v.monthly_items for v in expected.values())
    return main


def _assert_mix_within_ten_percent(learned: dict[str, float], told: dict[str, float]) -> None:
    for category, share in told.items():
        tolerance = 0.10 * share if share >= 0.10 else 0.01
        assert learned.get(category, 0.0) == pytest.approx(share, abs=tolerance), category


def test_learner_recovers_what_the_generator_was_told() -> None:
    market = generate_market(MarketSettings(seed=0, months=12))
    learned = profile_of_market(market)
    for key, told in _main_corridors(market).items():
        corridor = learned.corridor(*key)
        assert corridor is not None
        assert corridor.monthly_items == pytest.approx(told.monthly_items, rel=0.10), key
        _assert_mix_within_ten_percent(corridor.category_mix, told.category_mix)
    told_total = sum(c.monthly_items for c in expected_corridors(market).values())
    assert sum(c.monthly_items for c in learned.corridors.values()) == pytest.approx(told_total, rel=0.02)


def test_listings_alone_give_the_corridor_volumes(market: GeneratedMarket) -> None:
    told = _main_corridors(market)
    total = sum(c.monthly_items for c in expected_corridors(market).values())
    estimated = learn_profile(market.listings, source="listings only", monthly_orders=total)
    for key, expected in told.items():
        corridor = estimated.corridor(*key)
        assert corridor is not None
        assert corridor.monthly_items == pytest.approx(expected.monthly_items, rel=0.10), key
    assert any("listings only" in note for note in estimated.notes)


def test_default_profile_is_deterministic_and_round_trips(market: GeneratedMarket, tmp_path: Path) -> None:
    profile = default_market_profile(seed=0)
    assert profile.sha256() == profile_of_market(market).sha256()  # generated afresh: same seed, same bytes
    digest = profile.save(tmp_path / "profile.json")
    assert digest == profile.sha256()
    loaded = MarketProfile.load(tmp_path / "profile.json")
    assert loaded.sha256() == digest  # what an artifact checks against its manifest on load
    assert loaded.corridors.keys() == profile.corridors.keys()
    dutch = loaded.corridor("NL", "DE")
    assert dutch is not None
    assert set(dutch.mail_class_mix) == set(MAIL_CLASSES)
    assert set(dutch.weight_bands) <= set(WEIGHT_BANDS)
    assert len(dutch.weekday_mix) == 7
    assert sum(dutch.weekday_mix) == pytest.approx(1.0)
    assert dutch.category_mix["ecstasy"] > dutch.category_mix.get("cannabis", 0.0)
    assert dutch.median_order_eur > 0
    assert (profile.period_start, profile.period_end) == ("2016-01-01", "2016-03-31")
    assert 5000 < profile.origin_monthly_items("NL") < 12000


def test_feedback_records_give_the_same_corridors_as_the_orders(
    market: GeneratedMarket, tmp_path: Path
) -> None:
    dutch = [i for i, x in enumerate(market.listings) if x.ships_from == "NL"]
    listings = [market.listings[i] for i in dutch]
    renumber = {old: new for new, old in enumerate(dutch)}
    dutch_orders = market.transactions.where(market.transactions.origin == "NL")
    orders = replace(dutch_orders, listing=np.array([renumber[i] for i in dutch_orders.listing.tolist()]))
    write_listings_jsonl(tmp_path / "dutch.jsonl", listings, orders)
    imported = import_contract(tmp_path / "dutch.jsonl")
    assert imported.report.rows_kept == len(listings)
    from_feedback = learn_profile(imported.listings, source="feedback")
    from_orders = learn_profile(listings, orders, source="orders")
    assert from_feedback.corridors.keys() == from_orders.corridors.keys()
    for key, corridor in from_orders.corridors.items():
        other = from_feedback.corridors[key]
        assert other.monthly_items == pytest.approx(corridor.monthly_items)
        assert other.mail_class_mix == pytest.approx(corridor.mail_class_mix)
        assert other.category_mix == pytest.approx(corridor.category_mix)


def test_agora_listings_give_a_profile() -> None:
    listings = import_agora(FIXTURES / "agora_sample.csv").listings
    profile = learn_profile(listings, source="agora sample", monthly_orders=10_000)
    on_corridors = sum(c.monthly_items for c in profile.corridors.values())
    assert 0.8 * 10_000 < on_corridors < 10_000
    assert profile.corridor("NL", "DE") is not None
    assert profile.corridor("AU", "GB") is None  # the Australian listings ship to Australia only
    assert profile.period_start == ""


def test_profile_from_a_listing_file_detects_its_layout() -> None:
    profile = profile_from_listings_file(FIXTURES / "listings_sample.jsonl")
    assert profile.corridor("NL", "DE") is not None
    assert profile.source.startswith("contract JSONL import of listings_sample.jsonl")
