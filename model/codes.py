"""ISO 3166-1 alpha-2 country codes and ISO 4217 currency codes, from pycountry's tables."""

from functools import cache

import pycountry


@cache
def country_codes() -> frozenset[str]:
    """Every assigned ISO 3166-1 alpha-2 code."""
    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def currency_codes() -> frozenset[str]:
    """Every active ISO 4217 alphabetic currency code."""
    return frozenset(c.alpha_3 for c in pycountry.currencies)


def is_country(code: str) -> bool:
    return code in country_codes()


def is_currency(code: str) -> bool:
    return code in currency_codes()
