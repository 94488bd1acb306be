"""The error bodies app/errors.py renders, as OpenAPI responses each route lists for the statuses it can return."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Body):
    """Every error the service answers: a stable code and a human-readable detail."""

    error: str = Field(description="Stable code: unauthorized, forbidden, not_found, conflict, ...")
    detail: Any = Field(description="What went wrong, in words (validation errors list the fields)")


class FieldError(_Body):
    loc: str = Field(description="Dotted path of the field, e.g. items.3.posting.country")
    path: list[str | int] = Field(description="The same path as a list: location first (query, path, body)")
    message: str
    type: str = Field(description="Pydantic error type, e.g. string_pattern_mismatch")


class ItemErrors(_Body):
    index: int = Field(description="Position of the rejected item in the batch")
    errors: list[FieldError]


class ValidationErrorBody(_Body):
    error: Literal["validation_error"]
    detail: list[FieldError] = Field(description="Every invalid field")


class BatchValidationErrorBody(_Body):
    error: Literal["validation_error"]
    detail: list[ItemErrors | FieldError] = Field(
        description="Rejected items by index with their fields, or the envelope's own fields"
    )


DESCRIPTIONS = {
    400: "The body cannot be read (not UTF-8 text)",
    401: "Missing, unknown, expired or revoked credential",
    403: "The credential's kind or role has no access to this route",
    404: "No such resource (or not one of the caller's)",
    409: "The resource's state does not allow it, or a concurrent request holds it",
    410: "Erased after the retention period",
    413: "Body larger than the configured limit",
    415: "Body sent with a Content-Encoding (bodies are plain JSON), or a batch not sent as application/json",
    422: "Invalid parameters or body, listed by field path",
    429: "Too many failed authentications; retry after Retry-After seconds",
    503: "The database or the model is unavailable; retry after Retry-After seconds",
}


def errors(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can answer `statuses`; `described` overrides a description (`s404=...`)."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model: type[BaseModel] = ValidationErrorBody if status == 422 else ErrorBody
        description = described.get(f"s{status}", DESCRIPTIONS[status])
        responses[status] = {"model": model, "description": description}
    return responses


AUTHENTICATED = (401, 403, 429, 503)
"""What any route behind a credential can answer: the credential refused or throttled, the database down."""
WITH_BODY = (400, 413, 415, 422)
"""What a route reading a JSON body can answer besides: unreadable (not UTF-8), too large, not JSON, invalid."""
