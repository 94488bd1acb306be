"""Path and query parameters of the API and the officer pages: blank means not given, every value bounded.

Each type says what it accepts in the OpenAPI document and refuses the rest with a 422 naming the parameter
(`["query", "cursor"]`); the queue's filters are `app.schemas.QueueFilters`, built on the same types.
"""

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator, Field

from app.schemas import ROW_ID_MAX, QueueFilters, blank_is_none
from app.services.review import decode_cursor


def _valid_cursor(cursor: str | None) -> str | None:
    if cursor is not None:
        decode_cursor(cursor)
    return cursor


CursorText = Annotated[str, Field(max_length=200, pattern="^[A-Za-z0-9_=-]*$")]  # URL-safe base64
Cursor = Annotated[
    CursorText | None,
    BeforeValidator(blank_is_none),
    AfterValidator(_valid_cursor),
    Query(description="next_cursor of the previous page"),
]
QueueFiltersQuery = Annotated[QueueFilters, Query()]
CaseId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
EntryId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
AssessmentId = Annotated[str, Path(pattern="^[0-9A-Za-z]{1,32}$")]
