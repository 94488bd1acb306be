from model.entities import EntityKind, Pseudonymiser, normalise_text, postcode_area
from model.shipment import Party, Shipment
from tests.factories import shipment_doc

SECRET = b"test-secret-of-at-least-32-bytes!!"


def test_normalisation_ignores_case_accents_and_punctuation() -> None:
    assert normalise_text("  Café-Straße 12, Bus 3 ") == normalise_text("cafe strasse 12 bus 3")


def test_postcode_area() -> None:
    assert postcode_area("1012 AB") == "1012"
    assert postcode_area("10115") == "101"
    assert postcode_area("SW1A 1AA") == "SW1A"
    assert postcode_area(None) == ""


def test_keys_are_keyed_and_stable() -> None:
    party = Party(name="Jan de Vries", address_lines=["Keizersgracht 12"], postcode="1015CX", country="NL")
    same = Party(name="JAN DE VRIES", address_lines=["keizersgracht 12"], postcode="1015 cx", country="NL")
    first, second = Pseudonymiser(SECRET), Pseudonymiser(b"another-secret-of-32-bytes-length")
    assert first.party_key(EntityKind.SENDER, party) == first.party_key(EntityKind.SENDER, same)
    assert first.party_key(EntityKind.SENDER, party) != second.party_key(EntityKind.SENDER, party)
    key = first.party_key(EntityKind.SENDER, party)
    assert key is not None
    assert "vries" not in key.lower()


def test_anonymous_sender_has_no_party_key() -> None:
    document = shipment_doc()
    document["sender"] = {"country": "NL"}
    keys = Pseudonymiser(SECRET).keys_for(Shipment.model_validate(document))
    assert keys.sender is None
    assert keys.sender_address is None
    assert keys.sender_area is None
    assert keys.corridor == "cor:NL-GB"
