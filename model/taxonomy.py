"""The drug taxonomy used by listings, outcomes and the market profile."""

from enum import StrEnum


class DrugCategory(StrEnum):
    """Substance categories, coarse enough to be reported consistently by markets and customs labs."""

    CANNABIS = "cannabis"
    STIMULANTS = "stimulants"
    ECSTASY = "ecstasy"
    OPIOIDS = "opioids"
    PSYCHEDELICS = "psychedelics"
    DISSOCIATIVES = "dissociatives"
    PRESCRIPTION = "prescription"
    STEROIDS = "steroids"
    OTHER_DRUGS = "other_drugs"
    NON_DRUG = "non_drug"


DRUG_CATEGORIES: tuple[DrugCategory, ...] = tuple(c for c in DrugCategory if c is not DrugCategory.NON_DRUG)
