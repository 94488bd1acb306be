"""ASGI middleware: request ids, request metrics and the access log; the request body size limit (413) and
encoded bodies (415); the throttle on failed bearer authentication (429); no-store on every dynamic answer."""

import logging
import re
import time
from collections.abc import Callable

from anyio import to_thread
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth import AuthGuard
from app.errors import PayloadTooLarge, UnsupportedMediaType, error_response
from app.ids import new_id
from app.logging import REQUEST_ID_HEADER, request_id

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
UNMATCHED_ROUTE = "unmatched"
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
    """Every 401 answered to a bearer credential counts against the client's address and the credential; past
    the limit (see AuthGuard) the request is refused with 429 and Retry-After before it is authenticated.
    If the database cannot be asked, the request goes on: the route answers for the database itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope.get("app")  # Starlette puts itself there; the lifespan made the guard
        guard: AuthGuard | None = getattr(app.state, "auth_guard", None) if app is not None else None
        credential = _bearer_credential(scope) if scope["type"] == "http" else None
        if guard is None or credential is None:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        limits = guard.limits(client[0] if client else "unknown", credential)
        try:
            wait = await to_thread.run_sync(guard.retry_after, limits)
        except SQLAlchemyError:
            wait = None
        if wait is not None:
            refusal = error_response(
                429,
                "too_many_requests",
                "too many failed authentications; retry later",
                {"Retry-After": str(wait)},
            )
            await refusal(scope, receive, send)
            return
        status = 0

        async def watch_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch_status)
        if status == 401:
            try:
                await to_thread.run_sync(guard.record_failure, limits)
            except SQLAlchemyError:
                access_log.warning("could not count a failed authentication: the database is unavailable")
