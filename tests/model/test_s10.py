import pytest

from model.s10 import make_s10, s10_check_digit, s10_problem


def test_reference_example_from_upu_s10() -> None:
    assert s10_check_digit("12345678") == 5
    assert s10_problem("RR123456785NL") is None


@pytest.mark.parametrize(
    ("serial", "check"),
    [("00000000", 5), ("10000014", 0)],  # remainder 0 -> 11 -> 5; remainder 1 -> 10 -> 0
)
def test_special_check_digits(serial: str, check: int) -> None:
    assert s10_check_digit(serial) == check


def test_wrong_check_digit_is_explained() -> None:
    assert s10_problem("RR123456784NL") == "S10 check digit is 4, expected 5"


@pytest.mark.parametrize("item_id", ["RR12345678NL", "R1123456785NL", "rr123456785nl", "RR123456785N1", ""])
def test_malformed_ids_are_refused(item_id: str) -> None:
    assert s10_problem(item_id) is not None


def test_make_s10_round_trips() -> None:
    for serial in range(0, 10_000_000, 999_983):
        assert s10_problem(make_s10("CP", serial, "DE")) is None
