"""Page sign-in state: the session cookie read per request, page roles, and the CSRF check of every form."""

import hmac
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Form, Request, Response

from app.api.deps import ReadSessionsDep
from app.auth import AuthGuard
from app.credentials import Role
from app.errors import Forbidden, Unauthorized
from app.services.web_sessions import SignedIn, signed_in
from app.web.templating import SESSION_COOKIE

REVIEW_ROLES = frozenset({Role.OFFICER.value, Role.SUPERVISOR.value, Role.ADMIN.value})


def _signed_in(request: Request, sessions: ReadSessionsDep) -> SignedIn:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthorized("sign in first")
    with sessions() as session:  # its own short session, like the bearer checks of the API
        signed = signed_in(session, cookie)
    if signed is None:
        raise Unauthorized("the sign-in expired or was ended")
    request.state.web_user = signed
    return signed


WebUserDep = Annotated[SignedIn, Depends(_signed_in)]


def _form_user(user: WebUserDep, csrf_token: Annotated[str, Form()] = "") -> SignedIn:
    if not hmac.compare_digest(csrf_token.encode(), user.csrf_token.encode()):
        raise Forbidden("the form is out of date or came from another site; reload the page and try again")
    return user


FormUserDep = Annotated[SignedIn, Depends(_form_user)]


def _reviewer(user: WebUserDep) -> SignedIn:
    if user.officer.role not in REVIEW_ROLES:
        raise Forbidden("the review pages are for officers and supervisors")
    return user


def _reviewer_form(user: FormUserDep) -> SignedIn:
    return _reviewer(user)


ReviewerPageDep = Annotated[SignedIn, Depends(_reviewer)]
ReviewerFormDep = Annotated[SignedIn, Depends(_reviewer_form)]


def set_session_cookie(response: Response, value: str, *, expires_at: datetime, secure: bool) -> None:
    """HttpOnly (no script reads it) and SameSite=Strict (no other site's page sends it)."""
    response.set_cookie(
        SESSION_COOKIE,
        value,
        expires=expires_at,
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def sign_in_throttled(request: Request) -> int | None:
    """Seconds to wait when this address failed too often recently (None: go ahead and check the token)."""
    guard: AuthGuard = request.app.state.auth_guard
    return guard.address_wait(_client_address(request))


def sign_in_failed(request: Request, token: str, reason: str) -> int | None:
    """Count the failure against the address and the token and audit it (never the token itself); the
    seconds to wait when either is now past its limit."""
    guard: AuthGuard = request.app.state.auth_guard
    return guard.fail(guard.limits(_client_address(request), token), sign_in_reason=reason)
