"""Responses rendered inside the worker thread that ran the route.

A sync route that wrote holds its transaction's locks (SQLite's write lock, PostgreSQL advisory locks) until the
session dependency commits, after the route returns. If FastAPI still had to validate and render the return
value, it would need a free worker thread for that, and under load every worker thread can be waiting for
exactly those locks. Routes that write therefore return a finished Response.
"""

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from app.errors import OrjsonResponse


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


def json_response(content: Any, status_code: int = 200) -> Response:
    return OrjsonResponse(content, status_code=status_code)
