"""Valid shipment documents for tests, built through the public contract (dicts, as partners send them)."""

from copy import deepcopy
from datetime import UTC, datetime, timedelta
from typing import Any

from model.s10 import make_s10

BASE_TIME = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


def shipment_doc(serial: int = 12345678, **overrides: Any) -> dict[str, Any]:
    """A letter from Amsterdam to London, valid against model.shipment.Shipment; override any top-level field."""
    document: dict[str, Any] = {
        "item_id": make_s10("RR", serial, "NL"),
        "mail_class": "U",
        "mail_category": "A",
        "service": "registered",
        "gross_weight_kg": 0.045,
        "posting": {
            "posted_at": (BASE_TIME + timedelta(minutes=serial % 997)).isoformat(),
            "country": "NL",
            "channel": "counter",
            "office_id": "NL-1012",
            "postage_method": "stamps",
        },
        "sender": {
            "name": "Jan de Vries",
            "address_lines": ["Keizersgracht 12"],
            "postcode": "1015 CX",
            "city": "Amsterdam",
            "country": "NL",
        },
        "addressee": {
            "name": "John Smith",
            "address_lines": ["12 High Street"],
            "postcode": "SW1A 1AA",
            "city": "London",
            "country": "GB",
        },
        "declaration": {
            "category": "gift",
            "contents": [
                {
                    "description": "birthday card",
                    "quantity": 1,
                    "net_weight_kg": 0.03,
                    "value": 5,
                    "currency": "EUR",
                }
            ],
            "declared_value": 5,
            "currency": "EUR",
        },
    }
    document.update(deepcopy(overrides))
    return document
