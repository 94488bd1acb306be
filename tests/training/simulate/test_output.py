"""The files a run writes: reproducible bytes, valid contracts, time order and consistent outcomes."""

from datetime import date, datetime, timedelta
from pathlib import Path

from model.market_profile import MarketProfile
from model.shipment import Outcome, Shipment
from tests.training.simulate.conftest import SMALL, Run
from training.simulate import ScenarioConfig, simulate

FILES = ("shipments.jsonl", "outcomes.jsonl", "truth.jsonl", "summary.json")
TINY = ScenarioConfig(days=2, items_per_day=1_500, illicit_share=2e-3, seed=3)


def _bytes(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in FILES}


def test_same_seed_gives_the_same_bytes_with_any_number_of_workers(
    small_run: Run, profile: MarketProfile, tmp_path: Path
) -> None:
    simulate(SMALL, profile, tmp_path / "again")
    simulate(SMALL, profile, tmp_path / "parallel", workers=2)
    assert _bytes(tmp_path / "again") == _bytes(small_run.out)
    assert _bytes(tmp_path / "parallel") == _bytes(small_run.out)


def test_another_seed_gives_other_traffic(profile: MarketProfile, tmp_path: Path) -> None:
    simulate(TINY, profile, tmp_path / "a")
    simulate(ScenarioConfig(days=2, items_per_day=1_500, illicit_share=2e-3, seed=4), profile, tmp_path / "b")
    assert (tmp_path / "a" / "shipments.jsonl").read_bytes() != (
        tmp_path / "b" / "shipments.jsonl"
    ).read_bytes()


def test_every_record_validates_against_the_contracts(small_run: Run) -> None:
    shipments = [Shipment.model_validate(record) for record in small_run.shipments]
    outcomes = [Outcome.model_validate(record) for record in small_run.outcomes]
    assert len(shipments) == len(small_run.truth) == small_run.summary.items
    assert outcomes
    assert all(o.selection_reason in {"manual", "rule", "random"} for o in outcomes)
    designed = [o for o in outcomes if o.selection_reason != "manual"]
    assert all(o.selection_probability is not None and 0 < o.selection_probability <= 1 for o in designed)


def test_item_ids_are_unique_and_truth_is_aligned(small_run: Run) -> None:
    ids = [s["item_id"] for s in small_run.shipments]
    assert len(set(ids)) == len(ids)
    assert ids == [t["item_id"] for t in small_run.truth]


def test_shipments_are_in_posting_order_within_the_period(small_run: Run) -> None:
    posted = [datetime.fromisoformat(s["posting"]["posted_at"]) for s in small_run.shipments]
    assert posted == sorted(posted)
    first, last = SMALL.start, SMALL.start + timedelta(days=SMALL.days - 1)
    assert posted[0].date() >= first
    assert posted[-1].date() <= last


def test_outcomes_exist_only_for_inspected_items_and_follow_posting(small_run: Run) -> None:
    posted = {s["item_id"]: datetime.fromisoformat(s["posting"]["posted_at"]) for s in small_run.shipments}
    inspected = {t["item_id"] for t in small_run.truth if t["inspected"]}
    assert {o["item_id"] for o in small_run.outcomes} == inspected
    times = [datetime.fromisoformat(o["inspected_at"]) for o in small_run.outcomes]
    assert times == sorted(times)
    for outcome, at in zip(small_run.outcomes, times, strict=True):
        delay = at.date() - posted[outcome["item_id"]].date()
        assert timedelta(days=1) <= delay <= timedelta(days=3)
        assert date.fromisoformat(outcome["posted_on"]) == posted[outcome["item_id"]].date()


def test_findings_match_the_truth(small_run: Run) -> None:
    truth = {t["item_id"]: t for t in small_run.truth}
    for outcome in small_run.outcomes:
        item = truth[outcome["item_id"]]
        if outcome["result"] in {"seized", "controlled_delivery"}:
            assert item["illicit"]
            assert outcome["substance_category"] == item["category"]
            assert outcome["quantity"]["unit"] == item["unit"]
        elif outcome["result"] in {"nothing_found"}:
            assert not item["illicit"]
        elif outcome["result"] == "inconclusive":
            assert item["illicit"]


def test_outcomes_are_recorded_after_the_inspection_lab_results_days_later(adaptive_run: Run) -> None:
    delays: dict[bool, list[timedelta]] = {True: [], False: []}
    for record in adaptive_run.outcomes:
        delay = datetime.fromisoformat(record["recorded_at"]) - datetime.fromisoformat(record["inspected_at"])
        delays[record["result"] == "inconclusive"].append(delay)
    assert delays[True]
    assert delays[False]
    assert all(timedelta(minutes=5) <= d <= timedelta(hours=4) for d in delays[False])
    assert all(timedelta(days=3) <= d <= timedelta(days=14) for d in delays[True])
