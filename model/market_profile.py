"""The market profile: what cryptomarket vendors ship per corridor, learned offline and read by features."""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from model.shipment import MailClass

PROFILE_FORMAT = 1
# Upper edges in grams of the weight bands shared by the profile and the features; the last band is open.
WEIGHT_BAND_EDGES_G: tuple[float, ...] = (20, 50, 100, 250, 500, 1000, 2000)
WEIGHT_BANDS: tuple[str, ...] = (
    "0-20g",
    "20-50g",
    "50-100g",
    "100-250g",
    "250-500g",
    "500-1000g",
    "1000-2000g",
    "2000g+",
)
MAIL_CLASSES: tuple[str, ...] = tuple(m.value for m in MailClass)


def weight_band(grams: float) -> str:
    for edge, band in zip(WEIGHT_BAND_EDGES_G, WEIGHT_BANDS, strict=False):
        if grams < edge:
            return band
    return WEIGHT_BANDS[-1]


@dataclass(frozen=True)
class CorridorProfile:
    """Illicit shipping on one corridor (ships-from x destination), per month."""

    origin: str
    destination: str
    monthly_items: float
    monthly_revenue_eur: float
    category_mix: dict[str, float]
    weight_bands: dict[str, float]
    mail_class_mix: dict[str, float]
    weekday_mix: list[float] = field(default_factory=lambda: [1 / 7] * 7)
    median_order_eur: float = 0.0

    def weight_fit(self, grams: float) -> float:
        """Share of this corridor's illicit items in the weight band of `grams`."""
        return self.weight_bands.get(weight_band(grams), 0.0)


@dataclass(frozen=True)
class MarketProfile:
    """Per-corridor expectations plus per-origin totals, with provenance."""

    version: str
    source: str
    period_start: str
    period_end: str
    corridors: dict[tuple[str, str], CorridorProfile]
    notes: list[str] = field(default_factory=list)

    def corridor(self, origin: str, destination: str) -> CorridorProfile | None:
        return self.corridors.get((origin, destination))

    def origin_monthly_items(self, origin: str) -> float:
        return sum(c.monthly_items for (o, _), c in self.corridors.items() if o == origin)

    def to_json(self) -> bytes:
        document = {
            "format": PROFILE_FORMAT,
            "version": self.version,
            "source": self.source,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "notes": self.notes,
            "corridors": [
                {
                    "origin": c.origin,
                    "destination": c.destination,
                    "monthly_items": c.monthly_items,
                    "monthly_revenue_eur": c.monthly_revenue_eur,
                    "category_mix": c.category_mix,
                    "weight_bands": c.weight_bands,
                    "mail_class_mix": c.mail_class_mix,
                    "weekday_mix": c.weekday_mix,
                    "median_order_eur": c.median_order_eur,
                }
                for c in sorted(self.corridors.values(), key=lambda c: (c.origin, c.destination))
            ],
        }
        return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, raw: bytes) -> "MarketProfile":
        document = orjson.loads(raw)
        if document.get("format") != PROFILE_FORMAT:
            raise ValueError(f"market profile format {document.get('format')!r} is not {PROFILE_FORMAT}")
        corridors = {
            (c["origin"], c["destination"]): CorridorProfile(
                origin=c["origin"],
                destination=c["destination"],
                monthly_items=float(c["monthly_items"]),
                monthly_revenue_eur=float(c["monthly_revenue_eur"]),
                category_mix=dict(c["category_mix"]),
                weight_bands=dict(c["weight_bands"]),
                mail_class_mix=dict(c["mail_class_mix"]),
                weekday_mix=list(c.get("weekday_mix") or [1 / 7] * 7),
                median_order_eur=float(c.get("median_order_eur", 0.0)),
            )
            for c in document["corridors"]
        }
        return cls(
            version=document["version"],
            source=document["source"],
            period_start=document["period_start"],
            period_end=document["period_end"],
            corridors=corridors,
            notes=list(document.get("notes", [])),
        )

    def sha256(self) -> str:
        return hashlib.sha256(self.to_json()).hexdigest()

    def save(self, path: Path) -> str:
        raw = self.to_json()
        path.write_bytes(raw)
        return hashlib.sha256(raw).hexdigest()

    @classmethod
    def load(cls, path: Path) -> "MarketProfile":
        return cls.from_json(path.read_bytes())
