"""Jinja2 rendering for the officer pages, with their security headers, formatting filters and error page."""

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.db.base import utcnow

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
SESSION_COOKIE = "pr_session"

# Pages load only this server's stylesheet; no scripts, frames or third-party requests. Charts are inline SVG.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def _age(value: datetime) -> str:
    hours = (utcnow() - value).total_seconds() / 3600
    if hours < 1:
        return f"{max(int(hours * 60), 0)} min"
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} d"


def _words(value: object) -> str:
    return str(value).replace("_", " ") if value is not None else ""


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(when=_when, age=_age, words=_words, percent=_percent)
    return environment


templates = Jinja2Templates(env=_environment())


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """A page with the security headers; `user` (the signed-in officer or None) is always in the context."""
    context = {"user": getattr(request.state, "web_user", None), "flash": None, **context}
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def error_page(request: Request, status_code: int, error: str, detail: Any) -> Response:
    """Errors on pages: a missing or expired sign-in goes back to the sign-in page, the rest is explained."""
    if status_code == 401:
        response: Response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    messages = detail if isinstance(detail, list) else [detail]
    return render(
        request,
        "error.html",
        {"status": status_code, "error": error, "messages": [_message(m) for m in messages]},
        status_code,
    )


def _message(detail: Any) -> str:
    if isinstance(detail, dict):
        return f"{_words(detail.get('loc', ''))}: {detail.get('message', '')}".strip(": ")
    return str(detail)


def mark_page(request: Request) -> None:
    """A router dependency: errors on these routes render as pages, not JSON."""
    request.state.error_page = error_page
