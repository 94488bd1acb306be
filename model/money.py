"""Conversion of declared values to euros with a fixed, documented reference table."""

import math

# Euro reference rates (units of currency per EUR), rounded ECB figures of late 2025. Declared values are
# features, not accounting: a few percent of drift does not change a risk score. Unknown currencies give NaN.
EUR_RATES: dict[str, float] = {
    "EUR": 1.0,
    "USD": 1.16,
    "GBP": 0.87,
    "AUD": 1.77,
    "CAD": 1.62,
    "CHF": 0.94,
    "SEK": 10.9,
    "NOK": 11.7,
    "DKK": 7.46,
    "PLN": 4.25,
    "CZK": 24.3,
    "HUF": 390.0,
    "RON": 5.08,
    "BGN": 1.96,
    "JPY": 172.0,
    "CNY": 8.3,
    "HKD": 9.05,
    "SGD": 1.5,
    "NZD": 1.98,
    "INR": 101.0,
    "BRL": 6.3,
    "MXN": 21.6,
    "ZAR": 20.4,
    "TRY": 47.0,
    "KRW": 1610.0,
    "THB": 37.6,
    "ILS": 3.9,
    "AED": 4.26,
    "ISK": 143.0,
}


def to_eur(amount: float, currency: str) -> float:
    rate = EUR_RATES.get(currency)
    return amount / rate if rate else math.nan
