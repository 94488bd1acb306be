"""Order volumes estimated from listings alone (feedback counts, ratings) or from dated feedback records."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray

from model.market_profile import MAIL_CLASSES
from model.shipment import MailClass
from training.market.demand import DESTINATIONS, destination_shares
from training.market.listings import Listing
from training.market.orders import WEEKDAY_PRIOR, OrderRows, gross_estimate
from training.market.transactions import CATEGORY_ORDER, months_spanned

# Drug orders a month on all cryptomarkets (market-facts.md): the scale listing-only estimates are set to.
DEFAULT_MONTHLY_ORDERS = 95_000.0
# Feedback count assumed where a listing shows none (Agora shows a rating, not a count), and the smoothing
# that leaves a listing with no feedback yet a small share.
ASSUMED_FEEDBACK = 20.0
FEEDBACK_SMOOTHING = 0.5
# Without a stated option, products up to this weight go as letters, heavier ones as parcels; listings that
# offer express send this share of their orders that way.
LETTER_PRIOR_MAX_G = 250.0
EXPRESS_PRIOR_SHARE = 0.05
_CLASS = {c: MAIL_CLASSES.index(c.value) for c in MailClass}
BUYERS = frozenset(DESTINATIONS)


def latest_listings(listings: list[Listing]) -> list[Listing]:
    """One listing per (market, vendor, title): the latest observation, as scrapes repeat listings."""
    latest: dict[tuple[str, str, str], Listing] = {}
    for listing in listings:
        key = (listing.market, listing.vendor, listing.title)
        held = latest.get(key)
        if held is None or (listing.observed_at or date.min) >= (held.observed_at or date.min):
            latest[key] = listing
    return list(latest.values())


def mail_class_prior(listing: Listing) -> NDArray[np.float64]:
    """Expected mail-class shares of a listing's orders, from its options and the weight of its product."""
    offered = {option.mail_class for option in listing.shipping} or set(MailClass)
    grams = listing.product_grams
    preferred = MailClass.LETTER if grams is None or grams <= LETTER_PRIOR_MAX_G else MailClass.PARCEL
    standard = [c for c in (preferred, MailClass.PARCEL, MailClass.LETTER) if c in offered]
    prior = np.zeros(len(MAIL_CLASSES))
    if not standard:
        prior[_CLASS[MailClass.EMS]] = 1.0
        return prior
    express = EXPRESS_PRIOR_SHARE if MailClass.EMS in offered else 0.0
    prior[_CLASS[MailClass.EMS]] = express
    prior[_CLASS[standard[0]]] = 1.0 - express
    return prior


@dataclass(frozen=True)
class ListingColumns:
    """Per-listing columns for the vectorised estimates."""

    listings: list[Listing]
    category: NDArray[np.int64]
    price_eur: NDArray[np.float64]
    product_g: NDArray[np.float64]
    mail_class: NDArray[np.float64]

    @classmethod
    def of(cls, listings: list[Listing]) -> "ListingColumns":
        """Columns of `listings`, in their order."""
        return cls(
            listings,
            np.array([CATEGORY_ORDER.index(x.category) for x in listings], dtype=np.int64),
            np.array([x.price_eur for x in listings], dtype=np.float64),
            np.array([np.nan if x.product_grams is None else x.product_grams for x in listings]),
            np.array([mail_class_prior(x) for x in listings]).reshape(len(listings), len(MAIL_CLASSES)),
        )

    def rows(
        self,
        listing: NDArray[np.int64],
        destination: NDArray[np.str_],
        weight: NDArray[np.float64],
        value_eur: NDArray[np.float64] | None = None,
        mail_class: NDArray[np.float64] | None = None,
    ) -> OrderRows:
        """Rows for orders of `listing` to `destination`; value and mail class default to the listing's."""
        mail = self.mail_class[listing] if mail_class is None else mail_class
        return OrderRows(
            origin=np.array([self.listings[i].ships_from or "" for i in listing], dtype="<U2"),
            destination=destination.astype("<U2"),
            category=self.category[listing],
            value_eur=self.price_eur[listing] if value_eur is None else value_eur,
            gross_g=gross_estimate(self.product_g[listing], mail),
            mail_class=mail,
            weekday=np.tile(WEEKDAY_PRIOR, (listing.size, 1)),
            weight=weight,
        )

    def spread(self, items: NDArray[np.float64]) -> OrderRows:
        """Each listing's `items` a month spread over the countries it ships to, by buyer demand.

        A listing with no known destination keeps one row without one, so that totals stay whole.
        """
        groups: dict[tuple[str, frozenset[str]], list[int]] = defaultdict(list)
        for position, offer in enumerate(self.listings):
            if items[position] > 0:
                groups[(offer.ships_from or "", offer.ships_to)].append(position)
        parts: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]] = [
            (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        ]
        for (origin, ships_to), members in groups.items():
            shares = np.append(destination_shares(origin, ships_to), 0.0 if ships_to & BUYERS else 1.0)
            reached = np.flatnonzero(shares)
            index = np.array(members, dtype=np.int64)
            weights = np.outer(items[index], shares[reached])
            parts.append((np.repeat(index, reached.size), np.tile(reached, index.size), weights.ravel()))
        listing, reached, weight = (np.concatenate(column) for column in zip(*parts, strict=True))
        return self.rows(listing, np.array([*DESTINATIONS, ""])[reached], weight)


def listing_rows(listings: list[Listing], monthly_orders: float = DEFAULT_MONTHLY_ORDERS) -> OrderRows:
    """Drug orders a month estimated from listings: `monthly_orders` split by feedback count, then by demand."""
    drugs = [x for x in latest_listings(listings) if x.is_drug]
    feedback = np.array([ASSUMED_FEEDBACK if x.feedback_count is None else x.feedback_count for x in drugs])
    weight = feedback + FEEDBACK_SMOOTHING
    items = monthly_orders * weight / weight.sum() if drugs else weight
    return ListingColumns.of(drugs).spread(items)


def feedback_rows(listings: list[Listing]) -> OrderRows:
    """Drug orders from dated feedback records, one order each, per month of the records' span.

    A record naming the buyer's country is an order on that corridor; the others are spread over the
    listing's ships-to countries by buyer demand.
    """
    drugs = [x for x in latest_listings(listings) if x.is_drug and x.feedback]
    columns = ListingColumns.of(drugs)
    days = [f.on for x in drugs for f in x.feedback]
    months = months_spanned(min(days), max(days)) if days else 1.0
    directed = [(i, f) for i, x in enumerate(drugs) for f in x.feedback if f.destination is not None]
    index = np.array([i for i, _ in directed], dtype=np.int64)
    mail = columns.mail_class[index]
    for row, (_, record) in enumerate(directed):
        if record.shipping is not None:
            mail[row] = np.eye(len(MAIL_CLASSES))[_CLASS[record.shipping.mail_class]]
    direct = columns.rows(
        index,
        np.array([f.destination for _, f in directed], dtype="<U2"),
        np.full(index.size, 1.0 / months),
        np.array([columns.price_eur[i] if f.price_eur is None else f.price_eur for i, f in directed]),
        mail,
    )
    undirected = np.array([sum(f.destination is None for f in x.feedback) / months for x in drugs])
    return direct + columns.spread(undirected)
