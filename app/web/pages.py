"""Officer pages: sign-in with a token, sign-out, and the queue of held items."""

import hmac
import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from app.api.deps import (
    OidcDep,
    ReadSessionDep,
    ReadSessionsDep,
    SessionDep,
    SessionFactoryDep,
    SettingsDep,
)
from app.api.params import Cursor, QueueFiltersQuery
from app.auth import authenticate_officer
from app.db.base import utcnow
from app.errors import Forbidden, Unauthorized
from app.schemas import QueueFilters
from app.services.case_detail import case_summary
from app.services.review import QueueOrder, list_queue
from app.services.web_sessions import close_web_session, open_web_session
from app.settings import Settings
from app.web.auth import (
    REVIEW_ROLES,
    FormUserDep,
    ReviewerPageDep,
    set_session_cookie,
    sign_in_failed,
    sign_in_throttled,
)
from app.web.templating import SESSION_COOKIE, mark_page, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])
SIGNIN_COOKIE = "pr_signin"  # double-submit CSRF token of the sign-in form, which has no session yet
QUEUE_PAGE_SIZE = 25


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/queue", status_code=303)


def _signin_page(request: Request, settings: Settings, *, error: str | None, status_code: int) -> Response:
    csrf_token = secrets.token_urlsafe(32)
    response = render(request, "signin.html", {"csrf_token": csrf_token, "error": error}, status_code)
    response.set_cookie(
        SIGNIN_COOKIE,
        csrf_token,
        max_age=900,
        path="/signin",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )
    return response


def _too_many_sign_ins(request: Request, settings: Settings, wait: int) -> Response:
    page = _signin_page(request, settings, error="Too many failed sign-ins; wait.", status_code=429)
    page.headers["Retry-After"] = str(wait)
    return page


@router.get("/signin")
def signin_form(request: Request, settings: SettingsDep) -> Response:
    """The sign-in page: an officer pastes the token `python -m app create-officer` printed."""
    return _signin_page(request, settings, error=None, status_code=200)


@router.post("/signin")
def signin(
    request: Request,
    session: SessionDep,
    read_sessions: ReadSessionsDep,
    sessions: SessionFactoryDep,
    oidc: OidcDep,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=4096)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Check the token once and start a session: an HttpOnly, SameSite=Strict cookie naming a stored session."""
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        return _signin_page(
            request, settings, error="The form expired. Paste your token again.", status_code=403
        )
    if (wait := sign_in_throttled(request)) is not None:
        return _too_many_sign_ins(request, settings, wait)
    try:
        who = authenticate_officer(read_sessions, token=token.strip(), oidc=oidc, sessions=sessions)
    except (Unauthorized, Forbidden) as exc:
        if (wait := sign_in_failed(request, token.strip(), str(exc.detail))) is not None:
            return _too_many_sign_ins(request, settings, wait)
        return _signin_page(request, settings, error=f"Not signed in: {exc.detail}.", status_code=401)
    expires_at = utcnow() + timedelta(hours=settings.web_session_hours)
    if who.expires_at is not None:
        expires_at = min(expires_at, who.expires_at)  # a session never outlives its credential
    cookie, _ = open_web_session(session, officer=who.officer, expires_at=expires_at)
    landing = "/queue" if who.officer.role in REVIEW_ROLES else "/dashboard"
    response = RedirectResponse(landing, status_code=303)
    set_session_cookie(response, cookie, expires_at=expires_at, secure=settings.secure_cookies)
    response.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return response


@router.post("/signout")
def signout(session: SessionDep, user: FormUserDep) -> Response:
    close_web_session(session, signed=user)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _query(filters: QueueFilters, order: QueueOrder, **extra: str) -> str:
    values = {k: v for k, v in filters.model_dump().items() if v not in (None, False)}
    return urlencode({**values, "order": order, **extra})


@router.get("/queue")
def queue_page(
    request: Request,
    session: ReadSessionDep,
    user: ReviewerPageDep,
    filters: QueueFiltersQuery,
    order: QueueOrder = "risk",
    cursor: Cursor = None,
) -> Response:
    """Held items, riskiest first, with filters and one page at a time."""
    rows, next_cursor = list_queue(
        session,
        order=order,
        filters=filters,
        officer_id=user.officer.id,
        limit=QUEUE_PAGE_SIZE,
        cursor=cursor,
    )
    return render(
        request,
        "queue.html",
        {
            "active": "mine" if filters.mine else "queue",
            "cases": [case_summary(row) for row in rows],
            "filters": filters,
            "order": order,
            "next_url": f"/queue?{_query(filters, order, cursor=next_cursor)}" if next_cursor else None,
            "first_url": f"/queue?{_query(filters, order)}" if cursor else None,
        },
    )
