"""ASGI middleware: request ids, request metrics and the access log; the request body size limit (413) and
encoded bodies (415); the throttle on failed bearer authentication (429); no-store on every dynamic answer."""

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from anyio import to_thread
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth import AuthGuard
from app.errors import PayloadTooLarge, UnsupportedMediaType, error_response
from app.ids import new_id
from app.logging import REQUEST_ID_HEADER, request_id

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
UNMATCHED_ROUTE = "unmatched"
MAX_REMEMBERED_ADDRESSES = 10_000  # failed addresses a process keeps in mind before forgetting stale ones
access_log = logging.getLogger("app.access")


def route_template(scope: Scope) -> str:
    """The template of the route that served the request ("/v1/review/cases/{case_id}"), never the path;
    "unmatched" for unknown paths and requests refused before routing."""
    template = getattr(scope.get("route"), "path_format", None)
    if isinstance(template, str):
        return template
    if "app_root_path" in scope:  # a Mount (/static) served it, and appended its prefix to root_path
        return f"{str(scope['root_path']).removeprefix(str(scope['app_root_path']))}/{{path}}"
    return UNMATCHED_ROUTE


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SANE_REQUEST_ID.fullmatch(text) else None
    return None


class ObservedRequests:
    """For every HTTP request: an X-Request-ID (the caller's when it is a sane token, else a new one), the
    request metrics by route template, and one access-log line. Paths, queries, bodies and headers are never
    logged: they can hold case ids, credentials or party data."""

    def __init__(self, app: ASGIApp, observe: Callable[[str, str, int, float], None]) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_request_id(scope) or new_id()
        # Each request runs in its own task, hence its own context: the id ends with the request. It is not
        # reset here, so the error handler outside this middleware still logs it with an unhandled error.
        request_id.set(rid)
        status = 500  # what the client gets when the app raises before it starts a response
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, rid)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            method, route = scope["method"], route_template(scope)
            self.observe(method, route, status, seconds)
            access_log.info(
                "%s %s %d %.1f ms",
                method,
                route,
                status,
                seconds * 1000,
                extra={
                    "fields": {
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 1),
                    }
                },
            )


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuse bodies over `max_bytes` before they reach a route, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if response_started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            PayloadTooLarge.status_code,
            PayloadTooLarge.error,
            f"the body is limited to {self.max_bytes} bytes",
        )
        await response(scope, receive, send)


class RefuseEncodedBodies:
    """415 for a request body sent with a Content-Encoding (gzip, deflate...): bodies are plain JSON or forms."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        encoding = dict(scope.get("headers", ())).get(b"content-encoding", b"identity")
        if scope["type"] == "http" and encoding.strip().lower() != b"identity":
            response = error_response(
                UnsupportedMediaType.status_code,
                UnsupportedMediaType.error,
                "send the body uncompressed (no Content-Encoding)",
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class NoStore:
    """Cache-Control: no-store on every answer but the static assets: API answers and pages can hold
    personal data, and no browser or proxy cache should keep them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith("/static/"):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_no_store)


def _bearer_credential(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credential = value.decode("latin-1").partition(" ")
            return credential.strip() if scheme.lower() == "bearer" and credential.strip() else None
    return None


class FailedAuthThrottle:
    """Every 401 answered to a bearer credential counts against the client's address and the credential (see
    AuthGuard); past a limit the 401 becomes 429 with Retry-After, and an address past its limit is refused
    before its next attempt is checked.

    A request that authenticates never waits on this: the database is asked before authentication only for
    an address this process saw fail within the window (other processes find out at that address's first
    failure with them). If the database cannot be asked, the request goes on and is answered as usual."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._failed_at: dict[str, float] = {}  # address -> monotonic time of its last failure here

    def _failed_recently(self, address: str, window_s: float) -> bool:
        now = time.monotonic()
        if len(self._failed_at) > MAX_REMEMBERED_ADDRESSES:
            self._failed_at = {a: t for a, t in self._failed_at.items() if now - t < window_s}
        at = self._failed_at.get(address)
        return at is not None and now - at < window_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope.get("app")  # Starlette puts itself there; the lifespan made the guard
        guard: AuthGuard | None = getattr(app.state, "auth_guard", None) if app is not None else None
        credential = _bearer_credential(scope) if scope["type"] == "http" else None
        if guard is None or credential is None:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        window_s = guard.window.total_seconds()
        if self._failed_recently(address, window_s):
            wait = await _ask(guard.address_wait, address)
            if wait is not None:
                await _too_many(wait)(scope, receive, send)
                return
        refused = False

        async def count_failures(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 401:
                self._failed_at[address] = time.monotonic()
                wait = await _ask(guard.fail, guard.limits(address, credential))
                if wait is not None:
                    refused = True
                    await _too_many(wait)(scope, receive, send)
            if not refused:
                await send(message)

        await self.app(scope, receive, count_failures)


async def _ask(question: Callable[[Any], int | None], argument: Any) -> int | None:
    """A throttle question answered from a worker thread; None when the database cannot answer."""
    try:
        return await to_thread.run_sync(question, argument)
    except SQLAlchemyError:
        access_log.warning("could not consult the failed-authentication counts: the database is unavailable")
        return None


def _too_many(wait: int) -> Response:
    return error_response(
        429, "too_many_requests", "too many failed authentications; retry later", {"Retry-After": str(wait)}
    )
