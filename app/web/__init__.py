"""Officer web pages: server-rendered sign-in, queue, case and dashboard, with their static assets."""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.web import case_pages, dashboard, pages
from app.web.templating import STATIC_DIR


def install_web(app: FastAPI) -> None:
    """Mount the pages and /static (served from the package: no external requests)."""
    app.include_router(pages.router)
    app.include_router(case_pages.router)
    app.include_router(dashboard.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
