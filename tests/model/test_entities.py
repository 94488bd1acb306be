from model.entities import EntityKind, Pseudonymiser, normalise_text, postcode_area, seizure_targets
from model.features import observe
from model.history import EntityState
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


def _sender(name: str, line: str, postcode: str = "1015CX", city: str = "Amsterdam") -> Party:
    return Party(name=name, address_lines=[line], postcode=postcode, city=city, country="NL")


def test_loose_keys_survive_spelling_and_address_variation() -> None:
    pseudonymiser = Pseudonymiser(SECRET)
    seized = pseudonymiser.loose_keys(_sender("Jan de Vries", "Kerkstraat 12"))
    varied = pseudonymiser.loose_keys(_sender("J. de Vreis", "KERKSTR. 12-a"))
    accented = pseudonymiser.loose_keys(_sender("JAN DE VRIES", "Kérk straat 12A", postcode="1015 cx"))
    assert seized == varied == accented
    assert None not in seized
    renamed = pseudonymiser.loose_keys(_sender("Piet Bakker", "Kerkstraat 12"))
    assert renamed.premises == seized.premises
    assert renamed.street == seized.street
    assert renamed.name != seized.name
    moved = pseudonymiser.loose_keys(_sender("Jan de Vries", "Kerkstraat 14"))
    assert moved.premises != seized.premises
    assert moved.street != seized.street
    assert moved.name == seized.name
    assert all("vries" not in key and "kerk" not in key for key in seized if key)


def test_the_habit_and_buyer_keys_name_the_posting_office_and_the_addressee() -> None:
    document = shipment_doc()
    document["posting"]["office_id"] = "NL-MB-1012-3"
    pseudonymiser = Pseudonymiser(SECRET)
    keys = pseudonymiser.keys_for(Shipment.model_validate(document))
    assert keys.sender_habit is not None
    assert keys.sender_habit.startswith("shb:")
    assert keys.buyer is not None
    assert keys.addressee is not None
    assert keys.buyer == f"byr:{keys.addressee[-12:]}"
    document["posting"]["office_id"] = None
    assert pseudonymiser.keys_for(Shipment.model_validate(document)).sender_habit is None


def test_a_seizure_reaches_the_buyers_its_sender_wrote_to() -> None:
    pseudonymiser = Pseudonymiser(SECRET)
    states: dict[str, EntityState] = {}
    buyers = []
    for number in range(3):
        document = shipment_doc()
        document["addressee"]["name"] = f"Buyer {number}"
        shipment = Shipment.model_validate(document)
        keys = pseudonymiser.keys_for(shipment)
        observe(states, keys, shipment)
        buyers.append(keys.buyer)
    targets = seizure_targets((key for _, key in keys.items()), states)
    assert set(buyers) <= set(targets)
    assert len(targets) == len(set(targets)) == len(keys.items()) + 2
