"""An officer in a real browser: sign in, open the queue, claim a case, record a seizure, see the dashboard."""

import os
import re
import tempfile
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.app.review_support import verify_audit_cli
from tests.app.test_assessments import feed_items
from tests.web.conftest import LiveServer

pytestmark = pytest.mark.browser
# Screenshots go to a temporary folder; `make screenshots` sets this variable to refresh the README's copies.
SCREENSHOTS = Path(
    os.environ.get("PARCEL_RADAR_SCREENSHOTS") or Path(tempfile.gettempdir()) / "radar-screenshots"
)
LAPTOP = ViewportSize(width=1366, height=768)


def _seed(server: LiveServer, simulated_dir: Path) -> int:
    """Partner traffic over real HTTP; the number of items held."""
    response = httpx2.post(
        f"{server.url}/v1/assessments",
        json={"items": feed_items(simulated_dir, 1000)},
        headers={"Authorization": f"Bearer {server.partner_key}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return sum(d["decision"] == "hold" for d in response.json()["decisions"])


def _shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def _unlabelled_controls(page: Page) -> list[str]:
    """Form controls a screen reader would announce without a name."""
    names: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !(el.tagName === 'BUTTON' && el.textContent.trim()))
            .map(el => el.outerHTML)"""
    )
    return names


def _sign_in(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/signin")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert _unlabelled_controls(page) == []
    _shoot(page, "sign-in")
    page.get_by_label("Officer token").fill(server.officer_token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/queue$"))


def _more_outcomes(server: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {server.supervisor_token}"}
    queue = httpx2.get(f"{server.url}/v1/review/cases", headers=headers).json()["cases"]
    outcomes = [
        {"result": "nothing_found"},
        {"result": "seized", "substance_category": "ecstasy", "quantity": {"value": 40, "unit": "units"}},
        {"result": "not_presented"},
        {"result": "nothing_found"},
        {"result": "inconclusive", "substance_category": "stimulants"},
    ]
    for case, outcome in zip(queue, outcomes, strict=False):
        url = f"{server.url}/v1/review/cases/{case['case_id']}/outcome"
        assert httpx2.post(url, json=outcome, headers=headers).status_code == 201


def test_officer_goes_from_sign_in_to_a_recorded_seizure(
    live_server: LiveServer, simulated_dir: Path, browser: Browser
) -> None:
    held = _seed(live_server, simulated_dir)
    assert held > 0
    page = browser.new_page(viewport=LAPTOP)
    page.goto(f"{live_server.url}/queue")
    expect(page).to_have_url(re.compile(r"/signin$"))  # pages need a sign-in
    assert page.evaluate("document.activeElement.id") == "token"  # ready to paste
    _sign_in(page, live_server)

    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(min(held, 25))
    risks = [float(text.rstrip("%")) for text in page.locator("table.queue .risk").all_inner_texts()]
    assert risks == sorted(risks, reverse=True)
    assert _unlabelled_controls(page) == []
    _shoot(page, "queue")
    page.keyboard.press("Tab")  # the first stop on every page skips the navigation
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"

    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#hit-rate-total")).to_have_text("–")  # no inspection concluded yet
    page.go_back()

    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Why it was held")).to_be_visible()
    case_url = page.url
    page.get_by_role("button", name="Claim this case").click()
    expect(page.get_by_role("status")).to_have_text("You hold this case now.")
    expect(page.locator(".status-line .badge")).to_have_text("claimed")
    assert _unlabelled_controls(page) == []
    _shoot(page, "case")

    page.get_by_label("Purpose of access").fill("Check the addressee before a controlled delivery")
    page.get_by_role("button", name="Show parties").click()
    expect(page.get_by_role("region", name="Clear-text parties")).to_be_visible()
    expect(page.get_by_role("table", name="Access log")).to_contain_text("controlled delivery")

    page.goto(case_url)  # the parties were on that one response only
    expect(page.get_by_role("region", name="Clear-text parties")).to_have_count(0)
    page.locator("#outcome-result").select_option("seized")
    page.locator("#outcome-category").select_option("cannabis")
    page.locator("#outcome-quantity").fill("25")
    page.locator("#outcome-unit").select_option("g")
    page.get_by_role("button", name="Record outcome").click()
    expect(page.get_by_role("status")).to_have_text("Outcome recorded.")
    expect(page.locator(".status-line .badge")).to_have_text("closed")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#hit-rate-total")).to_have_text("100%")
    expect(page.locator("#category-table")).to_contain_text("cannabis")
    assert page.locator("svg.chart").count() == 4
    _more_outcomes(live_server)  # a fuller picture for the screenshot
    page.reload()
    _shoot(page, "dashboard")

    exit_code, output = verify_audit_cli(live_server.database_url)
    assert exit_code == 0, output
    assert "audit chain verified" in output
    page.close()
