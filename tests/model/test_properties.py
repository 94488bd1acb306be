"""Properties over many inputs: S10 ids, the contract's round trip, and the model's promised monotonicity."""

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from model.artifact import ModelArtifact
from model.codes import country_codes
from model.entities import Pseudonymiser
from model.features import FEATURES, feature_matrix
from model.s10 import make_s10, s10_problem
from model.shipment import Shipment
from tests.factories import shipment_doc

MONOTONE = [i for i, f in enumerate(FEATURES) if f.monotone == 1]


@given(
    serial=st.integers(0, 99_999_999),
    country=st.sampled_from(sorted(country_codes())),
    service=st.sampled_from(["RR", "CP", "EE", "LX", "UA"]),
)
def test_every_built_s10_is_valid_and_every_other_check_digit_is_not(
    serial: int, country: str, service: str
) -> None:
    item_id = make_s10(service, serial, country)
    assert s10_problem(item_id) is None
    for digit in "0123456789":
        if digit != item_id[10]:
            assert s10_problem(item_id[:10] + digit + item_id[11:]) is not None


@given(
    weight=st.floats(0.001, 2.0),
    value=st.floats(0, 10_000),
    destination=st.sampled_from(["GB", "DE", "US", "AU", "NL", "FR"]),
    channel=st.sampled_from(["counter", "mailbox", "parcel_locker", "business_pickup"]),
)
def test_contract_round_trips(weight: float, value: float, destination: str, channel: str) -> None:
    document = shipment_doc(gross_weight_kg=weight)
    document["addressee"]["country"] = destination
    document["posting"]["channel"] = channel
    document["declaration"]["declared_value"] = value
    shipment = Shipment.model_validate(document)
    assert Shipment.model_validate_json(shipment.model_dump_json()) == shipment


@settings(max_examples=60, deadline=None)
@given(
    serial=st.integers(10_000_000, 99_999_999),
    weight=st.floats(0.005, 1.9),
    destination=st.sampled_from(["GB", "DE", "US", "AU", "NL", "FR"]),
    raise_by=st.integers(1, 5),
)
def test_more_linked_seizures_never_lower_the_score(
    model_dir: Path, serial: int, weight: float, destination: str, raise_by: int
) -> None:
    artifact = ModelArtifact.load(model_dir)  # a model trained by the pipeline keeps the promised directions
    document = shipment_doc(serial=serial, gross_weight_kg=weight)
    document["addressee"]["country"] = destination
    shipment = Shipment.model_validate(document)
    keys = [Pseudonymiser(b"property-test-secret-32-bytes-long").keys_for(shipment)]
    base = feature_matrix([shipment], keys, {}, artifact.profile)
    riskier = base.copy()
    riskier[0, MONOTONE] = np.nan_to_num(riskier[0, MONOTONE]) + raise_by
    assert MONOTONE, "the model promises a direction for no feature"
    assert artifact.raw_scores(riskier)[0] >= artifact.raw_scores(base)[0]
