"""Market category paths and listing titles mapped to the drug taxonomy."""

import re
from dataclasses import dataclass
from functools import cache

from model.taxonomy import DrugCategory

# Checked in this order, so a specific word wins over a broad one ("MDMA" before "pills").
_KEYWORDS: tuple[tuple[DrugCategory, str], ...] = (
    (
        DrugCategory.STEROIDS,
        r"steroids?|testosterone|anavar|oxandrolone|dianabol|trenbolone|nandrolone|winstrol|clenbuterol|hgh|anabolic",
    ),
    (DrugCategory.DISSOCIATIVES, r"dissociatives?|ketamine|keta|mxe|methoxetamine|pcp|dxm"),
    (
        DrugCategory.ECSTASY,
        r"ecstasy|mdma|mda|xtc|molly|e-pills?",
    ),
    (
        DrugCategory.OPIOIDS,
        r"opioids?|opiates?|heroin|fentanyl|oxycodone|oxycontin|oxy|morphine|opium|methadone|buprenorphine|subutex|hydrocodone|codeine",
    ),
    (
        DrugCategory.PSYCHEDELICS,
        r"psychedelics?|lsd|acid|blotters?|mushrooms?|shrooms|psilocybin|dmt|mescaline|2c-[a-z]|nbome|ayahuasca|lsa",
    ),
    (
        DrugCategory.STIMULANTS,
        r"stimulants?|cocaine|coke|crack|speed|amphetamines?|amfetamine|meth|methamphetamine|crystal meth|mephedrone|4-mmc|3-mmc|a-pvp|adderall",
    ),
    (
        DrugCategory.CANNABIS,
        r"cannabis|weed|marijuana|hash|hashish|kush|haze|skunk|buds?|thc|concentrates?|edibles?|wax|shatter|sativa|indica|cheese|amnesia",
    ),
    (
        DrugCategory.PRESCRIPTION,
        r"prescription|benzos?|benzodiazepines?|xanax|alprazolam|valium|diazepam|clonazepam|klonopin|lorazepam|etizolam|zolpidem|modafinil|armodafinil|viagra|sildenafil|cialis|tadalafil|ritalin|methylphenidate|tramadol|pregabalin|lyrica|barbiturates?|weight loss|sleeping pills?",
    ),
    (
        DrugCategory.OTHER_DRUGS,
        r"ghb|gbl|kratom|research chemicals?|rcs?|spice|synthetic cannabinoids?|salvia|poppers",
    ),
)
_PATTERNS = tuple((category, re.compile(rf"\b(?:{words})\b", re.IGNORECASE)) for category, words in _KEYWORDS)
_DRUG_ROOTS = frozenset({"drugs", "drug", "narcotics", "drugs & chemicals", "drugs and chemicals"})
_NON_DRUG_ROOTS = frozenset(
    {
        "services",
        "information",
        "info",
        "counterfeits",
        "data",
        "weapons",
        "forgeries",
        "electronics",
        "jewelry",
        "jewellery",
        "tobacco",
        "drug paraphernalia",
        "paraphernalia",
        "chemicals",
        "digital goods",
        "fraud",
        "guides",
        "guides & tutorials",
        "software",
        "security",
        "erotica",
        "carded items",
        "miscellaneous",
        "other",
        "non_drug",
        "books",
        "apparel",
        "art",
        "listings",
    }
)
_OTHER_UNDER_DRUGS = frozenset({"other", "others", "misc", "other drugs"})
_TAXONOMY_VALUES = frozenset(c.value for c in DrugCategory)
_PATH_SPLIT = re.compile(r"\s*(?:/|>|\||::)\s*")


@dataclass(frozen=True)
class Classification:
    """A taxonomy category, and whether a rule recognised it (False: a fallback guess)."""

    category: DrugCategory
    matched: bool


def keyword_category(text: str) -> DrugCategory | None:
    """The first drug category whose keywords occur in `text`."""
    return next((category for category, pattern in _PATTERNS if pattern.search(text)), None)


@cache
def classify(path: str, title: str = "") -> Classification:
    """Category path first (most specific segment first), then title keywords; unrecognised rows fall back."""
    segments = [s.lower() for s in _PATH_SPLIT.split(path.strip()) if s]
    root = segments[0] if segments else ""
    under_drugs = root in _DRUG_ROOTS
    if root in _NON_DRUG_ROOTS:
        return Classification(DrugCategory.NON_DRUG, True)
    for segment in reversed(segments):
        if segment in _TAXONOMY_VALUES:
            return Classification(DrugCategory(segment), True)
        if under_drugs and segment in _OTHER_UNDER_DRUGS:
            return Classification(DrugCategory.OTHER_DRUGS, True)
        found = keyword_category(segment)
        if found is not None:
            return Classification(found, True)
    found = keyword_category(title)
    if found is not None:
        return Classification(found, True)
    return Classification(DrugCategory.OTHER_DRUGS if under_drugs else DrugCategory.NON_DRUG, False)


def is_drug_path(path: str) -> bool:
    """Whether a market category path sits under a drugs root (how "drug rows" are counted)."""
    segments = _PATH_SPLIT.split(path.strip().lower())
    return bool(segments) and segments[0] in _DRUG_ROOTS
