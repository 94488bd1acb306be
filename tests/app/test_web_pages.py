"""The officer pages over HTTP (ASGI): sign-in and its cookie, CSRF, roles, the case forms, local-only assets."""

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db.tables import Officer, PartyAccess, ReviewCase, WebSession
from app.web.charts import Bar, Column, Segment, bar_chart, column_chart
from tests.app.review_support import held_by_rule, new_officer, run_cli
from tests.conftest import Service, start_service

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web_service(tmp_path: Path, model_dir: Path) -> Iterator[Service]:
    """The service with cookies allowed over plain HTTP, as the test client speaks it."""
    yield from start_service(f"sqlite:///{tmp_path / 'radar.db'}", model_dir, web_cookie_secure=False)


def sign_in_form(service: Service, token: str) -> Any:
    """Load the sign-in page (for its CSRF cookie and field) and post the token; the unfollowed response."""
    page = service.client.get("/signin")
    match = CSRF.search(page.text)
    assert match is not None
    return service.client.post(
        "/signin", data={"token": token, "csrf_token": match.group(1)}, follow_redirects=False
    )


def _csrf(service: Service, path: str) -> str:
    match = CSRF.search(service.client.get(path).text)
    assert match is not None
    return match.group(1)


def _post(service: Service, path: str, **data: str) -> Any:
    return service.client.post(
        path, data={"csrf_token": _csrf(service, "/queue"), **data}, follow_redirects=False
    )


def test_sign_in_sets_a_strict_http_only_cookie_naming_a_stored_session(service: Service) -> None:
    service.client.base_url = "https://testserver"  # Secure cookies need HTTPS
    response = sign_in_form(service, service.officer_token)
    assert response.status_code == 303
    assert response.headers["location"] == "/queue"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("pr_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" in cookie  # outside development by default
    value = cookie.split(";")[0].removeprefix("pr_session=")
    with service.session() as session:
        stored = session.scalars(select(WebSession)).one()
    assert stored.id_sha256 == hashlib.sha256(value.encode()).hexdigest()
    assert value not in (stored.csrf_token, stored.id_sha256)
    assert service.client.get("/queue").status_code == 200


def test_pages_need_a_sign_in(web_service: Service) -> None:
    for path in ("/queue", "/cases/1", "/dashboard", "/"):
        response = web_service.client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] in {"/signin", "/queue"}
    claim = web_service.client.post("/cases/1/claim", data={"csrf_token": "x"}, follow_redirects=False)
    assert claim.headers["location"] == "/signin"


def test_bad_tokens_partner_keys_and_stale_forms_do_not_sign_in(web_service: Service) -> None:
    for token in ("pro_nonsense", web_service.partner_key, ""):
        refused = sign_in_form(web_service, token)
        assert refused.status_code == 401
        assert "Not signed in" in refused.text
    stale = web_service.client.post("/signin", data={"token": web_service.officer_token, "csrf_token": "old"})
    assert stale.status_code == 403
    assert "pr_session" not in web_service.client.cookies


def test_forms_need_the_session_csrf_token(web_service: Service) -> None:
    case = held_by_rule(web_service, count=1)[0]
    sign_in_form(web_service, web_service.officer_token)
    forged = web_service.client.post(f"/cases/{case['case_id']}/claim", data={"csrf_token": "guess"})
    assert forged.status_code == 403
    assert "reload the page" in forged.text
    missing = web_service.client.post(f"/cases/{case['case_id']}/claim", data={})
    assert missing.status_code == 403
    with web_service.session() as session:
        assert session.get_one(ReviewCase, case["case_id"]).claimed_by is None


def test_an_officer_works_a_case_through_the_forms(web_service: Service) -> None:
    case = held_by_rule(web_service, count=2)[0]
    path = f"/cases/{case['case_id']}"
    sign_in_form(web_service, web_service.officer_token)
    queue = web_service.client.get("/queue")
    assert f'href="{path}"' in queue.text
    page = web_service.client.get(path)
    assert "Letters to GB" in page.text  # the rule hit
    assert "Why it was held" in page.text
    claimed = _post(web_service, f"{path}/claim")
    assert claimed.headers["location"] == f"{path}?done=claimed"
    assert "You hold this case now." in web_service.client.get(claimed.headers["location"]).text
    incomplete = _post(
        web_service, f"{path}/outcome", result="seized", quantity_value="3", quantity_unit="units"
    )
    assert incomplete.status_code == 422
    assert "required when result is &#39;seized&#39;" in incomplete.text
    assert '<option value="seized" selected>' in incomplete.text  # what was typed is kept
    no_purpose = _post(web_service, f"{path}/parties", purpose="")
    assert no_purpose.status_code == 422
    shown = _post(web_service, f"{path}/parties", purpose="Identify the addressee for the police")
    assert shown.status_code == 200
    assert "Jan de Vries" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert "Jan de Vries" not in web_service.client.get(path).text
    recorded = _post(
        web_service,
        f"{path}/outcome",
        result="seized",
        substance_category="ecstasy",
        quantity_value="3",
        quantity_unit="units",
    )
    assert recorded.headers["location"] == f"{path}?done=outcome"
    corrected = _post(
        web_service, f"{path}/correction", result="nothing_found", reason="The pills were vitamins"
    )
    assert corrected.headers["location"] == f"{path}?done=corrected"
    final = web_service.client.get(path).text
    assert "The pills were vitamins" in final
    assert "(superseded)" in final
    with web_service.session() as session:
        access = session.scalars(select(PartyAccess)).one()
    assert (access.channel, access.purpose) == ("web", "Identify the addressee for the police")


def test_a_supervisor_takes_over_a_case_with_a_reason(web_service: Service) -> None:
    case = held_by_rule(web_service, count=1)[0]
    path = f"/cases/{case['case_id']}"
    web_service.client.post(f"/v1/review{path}/claim", headers=web_service.as_officer())
    sign_in_form(web_service, web_service.supervisor_token)
    page = web_service.client.get(path).text
    assert "Take over this case" in page
    assert 'id="outcome-override"' in page
    no_reason = _post(web_service, f"{path}/outcome", result="nothing_found")
    assert no_reason.status_code == 409
    done = _post(
        web_service, f"{path}/outcome", result="nothing_found", override_reason="Shift ended; item checked"
    )
    assert done.status_code == 303
    with web_service.session() as session:
        assert session.get_one(ReviewCase, case["case_id"]).status == "closed"


def test_analysts_get_the_dashboard_but_not_the_queue(web_service: Service) -> None:
    response = sign_in_form(web_service, web_service.analyst_token)
    assert response.headers["location"] == "/dashboard"
    dashboard = web_service.client.get("/dashboard")
    assert dashboard.status_code == 200
    assert dashboard.text.count('<svg class="chart"') == 4
    assert web_service.client.get("/queue").status_code == 403
    assert web_service.client.get("/dashboard", params={"days": 0}).status_code == 422


def test_signing_out_or_disabling_the_officer_ends_the_session(web_service: Service) -> None:
    sign_in_form(web_service, web_service.officer_token)
    cookie = web_service.client.cookies["pr_session"]
    signed_out = _post(web_service, "/signout")
    assert signed_out.headers["location"] == "/signin"
    web_service.client.cookies.set("pr_session", cookie)
    assert web_service.client.get("/queue", follow_redirects=False).status_code == 303
    token = new_officer(web_service)
    assert sign_in_form(web_service, token).status_code == 303
    with web_service.session() as session:
        username = session.scalars(select(Officer.username).order_by(Officer.id.desc())).first()
    assert username is not None
    exit_code, output = run_cli(web_service.settings.database_url, "disable-officer", username)
    assert exit_code == 0, output
    assert web_service.client.get("/queue", follow_redirects=False).status_code == 303  # out at once
    assert (
        web_service.client.get("/v1/review/cases", headers=web_service.as_officer(token)).status_code == 401
    )


def test_pages_load_nothing_from_other_sites(web_service: Service) -> None:
    case = held_by_rule(web_service, count=1)[0]
    sign_in_form(web_service, web_service.officer_token)
    pages = [web_service.client.get(p) for p in ("/queue", f"/cases/{case['case_id']}", "/dashboard")]
    pages.append(web_service.client.get("/signin"))
    for page in pages:
        assert page.status_code == 200
        assert "default-src 'none'" in page.headers["content-security-policy"]
        links = re.findall(r'(?:src|href|action)="([^"]*)"', page.text)
        assert links
        assert all(link.startswith(("/", "#", "?")) for link in links), links
        assert "<script" not in page.text
    stylesheet = web_service.client.get("/static/style.css")
    assert stylesheet.status_code == 200
    assert "url(" not in stylesheet.text
    assert "@import" not in stylesheet.text


def test_charts_escape_their_labels_and_scale_to_the_largest_value() -> None:
    columns = [Column("<b>", 4, "a & b"), Column("day 2", None, "none"), Column("day 3", 8, "eight")]
    svg = str(column_chart(columns, chart_id="c", title="T <x>", description="D"))
    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg
    assert "T &lt;x&gt;" in svg
    assert svg.count("<rect") == 2
    bars = [Bar("NL → GB", [Segment(3, "bar-found", "3 found"), Segment(1, "bar-other", "1 other")])]
    horizontal = str(bar_chart(bars, chart_id="h", title="T", description="D"))
    assert 'role="img"' in horizontal
    assert horizontal.count("<rect") == 2
    assert "No data" in str(bar_chart([], chart_id="e", title="T", description="D"))
