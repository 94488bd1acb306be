"""Error hierarchy with status codes, and the handlers that render every error as {"error", "detail"}."""

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.logging import REQUEST_ID_HEADER, request_id

logger = logging.getLogger(__name__)


class OrjsonResponse(JSONResponse):
    """JSON rendered by orjson (datetimes, numpy scalars and non-str keys included)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)


class AppError(Exception):
    """Base of every error the service answers on purpose; subclasses fix the status and error code."""

    status_code = 500
    error = "internal_error"
    headers: dict[str, str] | None = None

    def __init__(self, detail: Any = None) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequest(AppError):
    status_code = 400
    error = "bad_request"


class Unauthorized(AppError):
    status_code = 401
    error = "unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012 - a constant shared by all instances


class Forbidden(AppError):
    status_code = 403
    error = "forbidden"


class NotFound(AppError):
    status_code = 404
    error = "not_found"


class Conflict(AppError):
    status_code = 409
    error = "conflict"


class Gone(AppError):
    status_code = 410
    error = "gone"


class PayloadTooLarge(AppError):
    status_code = 413
    error = "payload_too_large"


class UnsupportedMediaType(AppError):
    status_code = 415
    error = "unsupported_media_type"


class InvalidRequest(AppError):
    status_code = 422
    error = "validation_error"


class ServiceUnavailable(AppError):
    status_code = 503
    error = "service_unavailable"


def field_errors(errors: Sequence[Any], prefix: Sequence[str | int] = ()) -> list[dict[str, Any]]:
    """Pydantic errors as [{"loc": "items.3.posting.country", "path": [...], "message", "type"}]."""
    rendered = []
    for error in errors:
        path = [*prefix, *(part for part in error["loc"] if part != "body")]
        rendered.append(
            {
                "loc": ".".join(str(part) for part in path),
                "path": path,
                "message": error["msg"].removeprefix("Value error, "),
                "type": error["type"],
            }
        )
    return rendered


def error_response(
    status_code: int, error: str, detail: Any, headers: Mapping[str, str] | None = None
) -> OrjsonResponse:
    return OrjsonResponse({"error": error, "detail": detail}, status_code=status_code, headers=headers)


ErrorPage = Callable[[Request, int, str, Any], Response]
"""Renders an error as a page; a web router puts one in `request.state.error_page` for its routes."""


def _respond(
    request: Request, status_code: int, error: str, detail: Any, headers: Mapping[str, str] | None = None
) -> Response:
    page: ErrorPage | None = getattr(request.state, "error_page", None)
    if page is not None:
        return page(request, status_code, error, detail)
    return error_response(status_code, error, detail, headers)


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return _respond(request, exc.status_code, exc.error, exc.detail, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError | ValidationError)
    return _respond(request, 422, InvalidRequest.error, field_errors(exc.errors()))


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette's 405 names only the first route's)."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]
    return ", ".join(allowed)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return _respond(request, exc.status_code, error, exc.detail, headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    # This handler runs outside every middleware, so it names the request itself.
    current = request_id.get()
    headers = {REQUEST_ID_HEADER: current} if current else None
    return _respond(request, 500, AppError.error, "internal error; the request was not committed", headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
