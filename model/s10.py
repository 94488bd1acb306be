"""UPU S10 item identifiers: format and check digit."""

import re
from operator import mul

S10_PATTERN = re.compile(r"^[A-Z]{2}\d{8}\d[A-Z]{2}$")
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    """Check digit of an 8-digit S10 serial number (UPU S10, weights 8 6 4 2 3 5 9 7)."""
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError("an S10 serial number is exactly 8 digits")
    remainder: int = sum(map(mul, map(int, serial), _WEIGHTS)) % 11
    check = 11 - remainder
    if check == 10:
        return 0
    if check == 11:
        return 5
    return check


def s10_problem(item_id: str) -> str | None:
    """Why `item_id` is not a valid S10 code, or None when it is one."""
    if not S10_PATTERN.match(item_id):
        return "an S10 item id is 2 letters, 8 serial digits, 1 check digit and a 2-letter country code"
    expected = s10_check_digit(item_id[2:10])
    if int(item_id[10]) != expected:
        return f"S10 check digit is {item_id[10]}, expected {expected}"
    return None


def make_s10(service_indicator: str, serial: int, country: str) -> str:
    """Build a valid S10 code, e.g. make_s10("RR", 12345678, "NL") == "RR123456785NL"."""
    digits = f"{serial:08d}"
    return f"{service_indicator}{digits}{s10_check_digit(digits)}{country}"
