"""The live estimate on a simulated week served by the service: recall from random-lane outcomes and their
logged probabilities is within 25% of the ground truth, and shows in /metrics and on the dashboard."""

import math
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from app.db.tables import Assessment, Officer, ReviewCase
from app.schemas import OutcomeInput
from app.services.live_estimate import TARGETED_LANES, live_estimate
from app.services.outcomes import record_outcome
from app.services.policy import Capacity
from tests.app.test_web_pages import sign_in_form
from tests.conftest import Service, start_service
from training.evaluate import Truth
from training.market.profile import default_market_profile
from training.simulate import ScenarioConfig, simulate

# A week with many drug items and a large random lane, so that the random lane finds enough of the drug
# items the model leaves for the estimate's standard error to be well inside the 25% tolerance (checked below).
WEEK = ScenarioConfig(days=7, items_per_day=1250, illicit_share=0.01, seed=23)
INSPECTION_RATE = 0.5
EXPLORATION_SHARE = 0.8
TOLERANCE = 0.25
BATCH = 1000


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("live-estimate-week")
    simulate(WEEK, default_market_profile(seed=WEEK.seed), directory)
    return directory


def _serve_week(service: Service, week: Path) -> None:
    with (week / "shipments.jsonl").open("rb") as handle:
        items = [orjson.loads(line) for line in handle]
    for start in range(0, len(items), BATCH):
        response = service.client.post(
            "/v1/assessments", json={"items": items[start : start + BATCH]}, headers=service.as_partner()
        )
        assert response.status_code == 200, response.text[:300]


def _inspect_every_held_item(service: Service, truth: Truth) -> None:
    """Officers record what each held item really held (the simulator's truth), as the review workflow does."""
    with service.session() as session, session.begin():
        officer = session.scalars(select(Officer).where(Officer.role == "officer")).one()
        cases = session.execute(select(ReviewCase.id, Assessment.item_id).join(Assessment)).all()
        for case_id, item_id in cases:
            if truth.illicit.get(item_id, False):
                outcome: dict[str, Any] = {"result": "seized", "substance_category": truth.category[item_id]}
            else:
                outcome = {"result": "nothing_found"}
            record_outcome(
                session, case_id=case_id, officer=officer, outcome=OutcomeInput.model_validate(outcome)
            )


def _bound(metrics: str, name: str, bound: str) -> float:
    match = re.search(rf'^{name}{{bound="{bound}"}} (\S+)$', metrics, re.MULTILINE)
    assert match is not None, name
    return float(match.group(1))


def test_the_recall_estimate_is_within_a_quarter_of_the_truth(
    tmp_path: Path, model_dir: Path, week: Path
) -> None:
    truth = Truth.read(week / "truth.jsonl")
    for service in start_service(
        f"sqlite:///{tmp_path / 'radar.db'}",
        model_dir,
        inspection_rate=INSPECTION_RATE,
        exploration_share=EXPLORATION_SHARE,
        monitoring_refresh_seconds=0,
        web_cookie_secure=False,
    ):
        _serve_week(service, week)
        _inspect_every_held_item(service, truth)
        with service.session() as session:
            lanes = session.execute(select(Assessment.item_id, Assessment.selection_reason)).all()
            estimate = live_estimate(session, days=28)
        drug_items = sum(truth.illicit.get(item_id, False) for item_id, _ in lanes)
        caught = sum(truth.illicit.get(item_id, False) for item_id, lane in lanes if lane in TARGETED_LANES)
        true_recall = caught / drug_items
        # The standard error the scenario allows: the drug items the targeted lanes leave are estimated from
        # a Bernoulli(q) sample of them, so the relative error of recall is (1 - recall) * sqrt((1 - q) / (q U)).
        q = Capacity("test", INSPECTION_RATE, EXPLORATION_SHARE).random_probability
        left = drug_items - caught
        relative_se = (1 - true_recall) * math.sqrt((1 - q) / (q * left))
        assert estimate.recall is not None
        error = estimate.recall.recall / true_recall - 1
        print(
            f"\n{len(lanes)} items, {drug_items} drug items; targeted lanes caught {caught}: true recall "
            f"{true_recall:.3f}; estimated {estimate.recall.recall:.3f} "
            f"({estimate.recall.recall_low:.3f}-{estimate.recall.recall_high:.3f}) from "
            f"{estimate.random.findings} random-lane findings in {estimate.random.inspections} inspections; "
            f"relative error {error:+.1%} (tolerance {TOLERANCE:.0%} = {TOLERANCE / relative_se:.1f} standard "
            f"errors of {relative_se:.1%}); drug items estimated {estimate.drug_items:.0f} "
            f"({estimate.drug_items_low:.0f}-{estimate.drug_items_high:.0f}); precision "
            f"{estimate.precision:.3f} ({estimate.precision_low:.3f}-{estimate.precision_high:.3f})"
        )
        assert 3 * relative_se <= TOLERANCE  # the scenario keeps a chance failure below 0.3%
        assert abs(error) <= TOLERANCE
        assert estimate.precision == pytest.approx(caught / estimate.targeted.inspections)

        metrics = service.client.get("/metrics").text
        assert _bound(metrics, "parcel_radar_live_recall", "estimate") == pytest.approx(
            estimate.recall.recall
        )
        assert _bound(metrics, "parcel_radar_live_precision", "low") == pytest.approx(estimate.precision_low)
        assert sign_in_form(service, service.supervisor_token).status_code == 303
        page = service.client.get("/dashboard").text
        assert f'id="live-recall">{estimate.recall.recall:.0%}<' in page
        lane_table = re.search(r'<table id="lane-table">(.*?)</table>', page, re.DOTALL)
        assert lane_table is not None
        for lane in ("model", "random"):
            assert f"<td>{lane}</td>" in lane_table.group(1)
