"""Text and instants every store accepts: no control characters, dates inside a window of the calendar."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

# PostgreSQL refuses NUL in text and JSONB; the other C0 controls and DEL are never meant in a shipment, a note
# or a query, and break logs and CSV exports. Tab, newline and carriage return stay (multi-line notes).
PLAIN_TEXT_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"
PlainText = Annotated[str, Field(pattern=PLAIN_TEXT_PATTERN)]

# An instant is accepted when the year it is written in lies in 2000-2099. Wide enough for any archived feed
# and any clock error; narrow enough that converting any UTC offset to UTC (and adding the retention and
# history windows, which are days to years) never leaves the calendar Python and both databases represent.
# The pattern says the same in the OpenAPI document.
FIRST_YEAR, LAST_YEAR = 2000, 2099
INSTANT_PATTERN = r"^20[0-9]{2}-"


def _within_window(value: datetime) -> datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"a date between {FIRST_YEAR} and {LAST_YEAR}")
    return value


Instant = Annotated[
    AwareDatetime,
    AfterValidator(_within_window),
    Field(json_schema_extra={"pattern": INSTANT_PATTERN}),
]
