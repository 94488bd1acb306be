"""Baseline selectors the model must beat: a customs rules lane and a market-profile-only score."""

import numpy as np
import numpy.typing as npt

from model.features import FEATURE_NAMES, FEATURES_BY_NAME
from model.shipment import ItemCategory, MailClass, PostageMethod

_COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}
RULE_WEIGHT_BAND_G = (10.0, 250.0)
_VAGUE_CATEGORIES = (ItemCategory.GIFT.value, ItemCategory.DOCUMENTS.value, "none")


def _column(features: npt.NDArray[np.float64], name: str) -> npt.NDArray[np.float64]:
    return features[:, _COLUMN[name]]


def _level(name: str, value: str) -> int:
    return FEATURES_BY_NAME[name].levels.index(value)


def rules_lane_score(features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """How many criteria of an ASYCUDA-style selectivity rule an item meets (0 to 5).

    International; letter post; a weight of 10 to 250 g; declared as gift or documents or not declared;
    postage paid with stamps. Customs lanes select items meeting the most criteria first.
    """
    weight = _column(features, "weight_g")
    declared = _column(features, "declared_category")
    criteria = [
        _column(features, "international") == 1.0,
        _column(features, "mail_class") == _level("mail_class", MailClass.LETTER.value),
        (weight >= RULE_WEIGHT_BAND_G[0]) & (weight <= RULE_WEIGHT_BAND_G[1]),
        np.isin(declared, [_level("declared_category", c) for c in _VAGUE_CATEGORIES]),
        _column(features, "postage_method") == _level("postage_method", PostageMethod.STAMPS.value),
    ]
    met: npt.NDArray[np.float64] = np.sum(criteria, axis=0).astype(np.float64)
    return met


def market_profile_score(features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The market profile's estimate of an item's chance of being a vendor item, from its corridor alone.

    Expected vendor items per month on the item's corridor, in its weight band and mail class, per item of the
    corridor's traffic (the decayed 7-day count the service keeps). Without the traffic denominator the score
    would rank the busiest corridors first, where vendor items are a large count but a tiny share.
    """
    expected = (
        _column(features, "corridor_monthly_items")
        * _column(features, "corridor_weight_fit")
        * _column(features, "corridor_class_fit")
    )
    score: npt.NDArray[np.float64] = expected / np.maximum(_column(features, "corridor_items_7d"), 1.0)
    return score
