"""Listing prices ("0.05 BTC", "12.50 EUR", "$30") parsed and converted to euros."""

import math
import re
from dataclasses import dataclass

from model.money import to_eur

# EUR per bitcoin for listings priced in BTC. Agora's 2014-2015 rows sat between roughly USD 200 and 600 a
# coin; 350 EUR is a mid-period figure. Pass the rate of the period being imported where it is known.
DEFAULT_BTC_EUR = 350.0
# Listings above this are placeholders ("do not buy", holiday prices) rather than offers.
MAX_PLAUSIBLE_EUR = 100_000.0
BITCOIN_CODES = frozenset({"BTC", "XBT"})
_SYMBOLS: dict[str, str] = {"$": "USD", "€": "EUR", "£": "GBP", "฿": "BTC", "A$": "AUD", "C$": "CAD"}
_CODE = r"([A-Za-z]{3}|A\$|C\$|[$€£฿])"
_AMOUNT = r"(\d[\d,]*(?:\.\d+)?|\.\d+)"
_AMOUNT_FIRST = re.compile(rf"^\s*~?{_AMOUNT}\s*{_CODE}\s*$")
_CODE_FIRST = re.compile(rf"^\s*{_CODE}\s*{_AMOUNT}\s*$")


@dataclass(frozen=True)
class Price:
    """An amount in a currency, as the listing stated it."""

    amount: float
    currency: str


class PriceError(ValueError):
    """A price that cannot be read or converted; the message is the skip reason."""


def _amount(text: str) -> float:
    if re.fullmatch(r"\d+,\d{1,2}", text):
        return float(text.replace(",", "."))
    return float(text.replace(",", ""))


def parse_price(text: str) -> Price:
    """A price string with its currency on either side; raises PriceError when it is not one."""
    match = _AMOUNT_FIRST.match(text)
    if match:
        amount, code = match[1], match[2]
    else:
        match = _CODE_FIRST.match(text)
        if not match:
            raise PriceError("price not understood")
        code, amount = match[1], match[2]
    return Price(_amount(amount), _SYMBOLS.get(code, code.upper()))


def price_eur(price: Price, btc_eur: float = DEFAULT_BTC_EUR) -> float:
    """The price in euros: bitcoin at `btc_eur`, fiat through model.money's reference rates."""
    bitcoin = price.currency in BITCOIN_CODES
    eur = price.amount * btc_eur if bitcoin else to_eur(price.amount, price.currency)
    if math.isnan(eur):
        raise PriceError(f"currency {price.currency} has no euro rate")
    if not 0 < eur <= MAX_PLAUSIBLE_EUR:
        raise PriceError("price not plausible (zero or above EUR 100,000)")
    return eur
