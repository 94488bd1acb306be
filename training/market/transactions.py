"""Completed orders as columns: when, from where to where, what, how heavy, how paid for and how shipped."""

from dataclasses import dataclass, fields
from datetime import date

import numpy as np
from numpy.typing import NDArray

from model.taxonomy import DrugCategory

CATEGORY_ORDER: tuple[DrugCategory, ...] = tuple(DrugCategory)
NON_DRUG_CODE = CATEGORY_ORDER.index(DrugCategory.NON_DRUG)
DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class Transactions:
    """One row per order. `category` indexes CATEGORY_ORDER; `mail_class` holds MailClass values."""

    listing: NDArray[np.int64]
    ordered_on: NDArray[np.datetime64]
    posted_on: NDArray[np.datetime64]
    origin: NDArray[np.str_]
    destination: NDArray[np.str_]
    category: NDArray[np.int64]
    product_g: NDArray[np.float64]
    gross_g: NDArray[np.float64]
    price_eur: NDArray[np.float64]
    mail_class: NDArray[np.str_]
    tracked: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.listing.size)

    def where(self, mask: NDArray[np.bool_]) -> "Transactions":
        """The rows where `mask` holds."""
        return Transactions(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    @property
    def is_drug(self) -> NDArray[np.bool_]:
        return np.asarray(self.category != NON_DRUG_CODE, dtype=np.bool_)

    @property
    def months(self) -> float:
        """Length of the period the orders span (at least one month)."""
        if not len(self):
            return 1.0
        return months_spanned(self.ordered_on.min().item(), self.ordered_on.max().item())


def weekday_of(days: NDArray[np.datetime64]) -> NDArray[np.int64]:
    """Monday = 0 for each day (1970-01-01 was a Thursday)."""
    return ((days.astype("datetime64[D]").astype(np.int64) + 3) % 7).astype(np.int64)


def months_spanned(first: date, last: date) -> float:
    """Months of DAYS_PER_MONTH from `first` to `last`, both included; at least one."""
    return max(((last - first).days + 1) / DAYS_PER_MONTH, 1.0)
