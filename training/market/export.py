"""Listings written back in the contract (JSONL, with orders as feedback records) and orders as CSV."""

import csv
from pathlib import Path

import numpy as np
import orjson

from model.codes import country_codes
from model.shipment import MailClass
from training.market.listings import Listing, ListingRecord, ShippingOption
from training.market.transactions import CATEGORY_ORDER, Transactions

ORDER_COLUMNS = (
    "listing",
    "vendor",
    "ordered_on",
    "posted_on",
    "origin",
    "destination",
    "category",
    "product_g",
    "gross_g",
    "price_eur",
    "mail_class",
    "tracked",
)


def listing_record(listing: Listing) -> ListingRecord:
    """A normalised listing in contract form: ISO codes, euros, taxonomy category."""
    everywhere = listing.ships_to == country_codes()
    return ListingRecord(
        market=listing.market,
        vendor=listing.vendor,
        title=listing.title,
        category=listing.category.value,
        price=listing.price_eur,
        currency="EUR",
        ships_from=listing.ships_from or "",
        ships_to=["worldwide"] if everywhere else sorted(listing.ships_to),
        shipping_options=[option.label for option in listing.shipping],
        rating=listing.rating,
        feedback_count=listing.feedback_count,
        observed_at=listing.observed_at,
    )


def _feedback_by_listing(listings: list[Listing], orders: Transactions) -> list[list[dict[str, object]]]:
    """Each listing's orders as feedback records (the FeedbackRecord fields, as JSON values)."""
    records: list[list[dict[str, object]]] = [[] for _ in listings]
    labels = {(c.value, t): ShippingOption(c, t).label for c in MailClass for t in (True, False)}
    for index, day, destination, price, mail, tracked in zip(
        orders.listing.tolist(),
        orders.ordered_on.astype(str).tolist(),
        orders.destination.tolist(),
        orders.price_eur.tolist(),
        orders.mail_class.tolist(),
        orders.tracked.tolist(),
        strict=True,
    ):
        shipping = labels[(mail, tracked)]
        records[index].append({"date": day, "price": price, "destination": destination, "shipping": shipping})
    return records


def write_listings_jsonl(path: Path, listings: list[Listing], orders: Transactions | None = None) -> None:
    """One contract row per listing; with `orders`, each order becomes a feedback record of its listing."""
    feedback = _feedback_by_listing(listings, orders) if orders is not None else [[] for _ in listings]
    with path.open("wb") as handle:
        for listing, records in zip(listings, feedback, strict=True):
            row = listing_record(listing).model_dump(mode="json", exclude_none=True, exclude={"feedback"})
            handle.write(orjson.dumps({**row, "feedback": records} if records else row))
            handle.write(b"\n")


def write_orders_csv(path: Path, listings: list[Listing], orders: Transactions) -> None:
    """Every order with its shipping choice, one row each, in ORDER_COLUMNS."""
    vendors = np.array([x.vendor for x in listings])[orders.listing]
    categories = np.array([c.value for c in CATEGORY_ORDER])[orders.category]
    columns = (
        orders.listing,
        vendors,
        orders.ordered_on,
        orders.posted_on,
        orders.origin,
        orders.destination,
        categories,
        np.round(orders.product_g, 2),
        np.round(orders.gross_g, 1),
        np.round(orders.price_eur, 2),
        orders.mail_class,
        orders.tracked,
    )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(ORDER_COLUMNS)
        writer.writerows(zip(*(column.tolist() for column in columns), strict=True))
