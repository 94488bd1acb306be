"""One contract row to one normalised listing: taxonomy, places, quantity and price in euros."""

from dataclasses import dataclass

from training.market.categories import Classification, classify, is_drug_path
from training.market.listings import Feedback, FeedbackRecord, Listing, ListingRecord, parse_shipping_option
from training.market.places import Place, parse_destinations, parse_place
from training.market.prices import DEFAULT_BTC_EUR, Price, PriceError, price_eur
from training.market.quantities import parse_quantity


class RowSkipped(ValueError):
    """A row that cannot become a listing; the message is the reason the import report counts."""


@dataclass(frozen=True)
class Normalised:
    """A listing with what normalisation understood of it, for the import report."""

    listing: Listing
    classification: Classification
    drug_row: bool
    origin: Place
    destinations: Place
    origin_text: str
    category_text: str


def normalise(record: ListingRecord, btc_eur: float = DEFAULT_BTC_EUR) -> Normalised:
    """The normalised listing of one contract row; raises RowSkipped when its price cannot be read."""
    try:
        eur = price_eur(Price(record.price, record.currency.upper()), btc_eur)
    except PriceError as exc:
        raise RowSkipped(str(exc)) from exc
    classification = classify(record.category, record.title)
    origin = parse_place(record.ships_from)
    destinations = parse_destinations(record.ships_to)
    listing = Listing(
        market=record.market,
        vendor=record.vendor,
        title=record.title,
        category=classification.category,
        price_eur=eur,
        ships_from=origin.country,
        ships_to=destinations.codes,
        quantity=parse_quantity(record.title),
        shipping=tuple(o for o in map(parse_shipping_option, record.shipping_options) if o is not None),
        rating=record.rating,
        feedback_count=record.feedback_count,
        observed_at=record.observed_at,
        feedback=tuple(_feedback(f, record.currency.upper(), btc_eur) for f in record.feedback),
    )
    drug_row = is_drug_path(record.category) or listing.is_drug
    return Normalised(
        listing, classification, drug_row, origin, destinations, record.ships_from, record.category
    )


def _feedback(record: FeedbackRecord, currency: str, btc_eur: float) -> Feedback:
    paid: float | None = None
    if record.price is not None:
        try:
            paid = price_eur(Price(record.price, currency), btc_eur)
        except PriceError:
            paid = None
    destination = parse_place(record.destination).country if record.destination else None
    shipping = parse_shipping_option(record.shipping) if record.shipping else None
    return Feedback(record.date, destination, paid, shipping)
