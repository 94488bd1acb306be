from typing import Any

import pytest
from pydantic import ValidationError

from model.shipment import Outcome, Shipment
from tests.factories import shipment_doc


def _locations(document: dict[str, Any]) -> list[tuple[str | int, ...]]:
    with pytest.raises(ValidationError) as caught:
        Shipment.model_validate(document)
    return [error["loc"] for error in caught.value.errors()]


def test_valid_document_parses() -> None:
    shipment = Shipment.model_validate(shipment_doc())
    assert shipment.corridor == ("NL", "GB")
    assert shipment.posting.posted_at.tzinfo is not None


def test_bad_check_digit_is_reported_on_item_id() -> None:
    assert _locations(shipment_doc(item_id="RR123456784NL")) == [("item_id",)]


def test_waybill_is_accepted_only_when_declared() -> None:
    assert _locations(shipment_doc(item_id="1Z999AA10123456784")) == [("item_id",)]
    assert Shipment.model_validate(shipment_doc(item_id="1Z999AA10123456784", item_id_scheme="waybill"))


def test_unknown_country_and_currency() -> None:
    document = shipment_doc()
    document["addressee"]["country"] = "XX"
    document["declaration"]["currency"] = "EUX"
    assert sorted(_locations(document)) == [("addressee", "country"), ("declaration", "currency")]


def test_negative_weight_and_letter_over_limit() -> None:
    assert _locations(shipment_doc(gross_weight_kg=-1)) == [("gross_weight_kg",)]
    assert _locations(shipment_doc(gross_weight_kg=2.5)) == [("gross_weight_kg",)]
    assert Shipment.model_validate(shipment_doc(gross_weight_kg=2.5, mail_class="C"))


def test_naive_posting_time_is_refused() -> None:
    document = shipment_doc()
    document["posting"]["posted_at"] = "2026-03-02T10:15:00"
    assert _locations(document) == [("posting", "posted_at")]


def test_unknown_fields_are_refused() -> None:
    assert _locations(shipment_doc(colour="brown")) == [("colour",)]


def test_other_category_needs_an_explanation() -> None:
    document = shipment_doc()
    document["declaration"]["category"] = "other"
    assert _locations(document) == [("declaration", "category_explanation")]


def test_outcome_needs_substance_when_seized() -> None:
    base = {"item_id": "RR123456785NL", "inspected_at": "2026-03-03T09:00:00+01:00", "result": "seized"}
    with pytest.raises(ValidationError) as caught:
        Outcome.model_validate(base)
    assert caught.value.errors()[0]["loc"] == ("substance_category",)
    outcome = Outcome.model_validate(
        {**base, "substance_category": "ecstasy", "quantity": {"value": 50, "unit": "units"}}
    )
    assert outcome.found_drugs
    assert not Outcome.model_validate({**base, "result": "nothing_found"}).found_drugs


def test_outcome_is_known_when_recorded_and_older_files_default_to_the_inspection() -> None:
    base = {
        "item_id": "RR123456785NL",
        "inspected_at": "2026-03-03T09:00:00+01:00",
        "result": "nothing_found",
    }
    old = Outcome.model_validate(base)
    assert old.recorded_at == old.inspected_at == old.known_at
    assert not old.superseded
    lab = Outcome.model_validate({**base, "recorded_at": "2026-03-10T14:00:00+01:00", "superseded": True})
    assert lab.known_at.isoformat() == "2026-03-10T14:00:00+01:00"
    assert lab.inspected_at.isoformat() == "2026-03-03T09:00:00+01:00"
