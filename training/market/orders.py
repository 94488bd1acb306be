"""Orders as rows the profile learner aggregates: corridor, category, value, weight, mail class and weekday."""

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from model.market_profile import MAIL_CLASSES
from model.shipment import MailClass
from training.market.shipping import PACKAGING_G
from training.market.transactions import Transactions, weekday_of

# Where the data carry no posting day: posting on weekdays, a little on Saturday, none on Sunday.
WEEKDAY_PRIOR: NDArray[np.float64] = np.array([0.19, 0.19, 0.19, 0.19, 0.19, 0.05, 0.0])
# Mean packaging per mail class, in MAIL_CLASSES order.
PACKAGING_BY_CLASS: NDArray[np.float64] = np.array([sum(PACKAGING_G[MailClass(c)]) / 2 for c in MAIL_CLASSES])


@dataclass(frozen=True)
class OrderRows:
    """Orders, or estimated fractions of orders: `weight` is how many items a month a row stands for.

    `mail_class` is (n, 3) shares over MAIL_CLASSES and `weekday` (n, 7) shares, Monday first, so that an
    estimate can spread a row over classes and days; `gross_g` is NaN where the weight is unknown.
    """

    origin: NDArray[np.str_]
    destination: NDArray[np.str_]
    category: NDArray[np.int64]
    value_eur: NDArray[np.float64]
    gross_g: NDArray[np.float64]
    mail_class: NDArray[np.float64]
    weekday: NDArray[np.float64]
    weight: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.weight.size)

    def where(self, selection: NDArray[np.bool_] | NDArray[np.intp]) -> "OrderRows":
        """The rows a boolean mask or an index array selects."""
        return OrderRows(**{f.name: getattr(self, f.name)[selection] for f in fields(self)})

    def __add__(self, other: "OrderRows") -> "OrderRows":
        return OrderRows(
            **{f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)]) for f in fields(self)}
        )


def one_hot(index: NDArray[np.int64], width: int) -> NDArray[np.float64]:
    """Rows of zeros with a one at `index`."""
    rows = np.zeros((index.size, width))
    rows[np.arange(index.size), index] = 1.0
    return rows


def mail_class_index(values: NDArray[np.str_]) -> NDArray[np.int64]:
    """Positions of MailClass values in MAIL_CLASSES."""
    index = np.zeros(values.size, dtype=np.int64)
    for position, code in enumerate(MAIL_CLASSES):
        index[values == code] = position
    return index


def rows_from_transactions(orders: Transactions) -> OrderRows:
    """Drug orders as rows, each standing for 1/months items a month; a missing posting day gets the prior."""
    drugs = orders.where(orders.is_drug)
    posted = ~np.isnat(drugs.posted_on)
    weekday = np.tile(WEEKDAY_PRIOR, (len(drugs), 1))
    weekday[posted] = one_hot(weekday_of(drugs.posted_on[posted]), 7)
    return OrderRows(
        origin=drugs.origin,
        destination=drugs.destination,
        category=drugs.category,
        value_eur=drugs.price_eur,
        gross_g=drugs.gross_g,
        mail_class=one_hot(mail_class_index(drugs.mail_class), len(MAIL_CLASSES)),
        weekday=weekday,
        weight=np.full(len(drugs), 1.0 / orders.months),
    )


def gross_estimate(product_g: NDArray[np.float64], mail_class: NDArray[np.float64]) -> NDArray[np.float64]:
    """Product plus the mean packaging of the expected mail class (NaN stays NaN)."""
    return product_g + mail_class @ PACKAGING_BY_CLASS
