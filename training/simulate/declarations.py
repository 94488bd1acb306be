"""CN22/CN23 declarations as each kind of sender writes them, shared by licit senders and the vendors imitating them."""

from training.simulate.catalogue import (
    DOCUMENT_DESCRIPTIONS,
    GIFT_DESCRIPTIONS,
    RETURN_DESCRIPTIONS,
    SELLER_DESCRIPTIONS,
    Product,
)
from training.simulate.identities import Rng
from training.simulate.records import Record, content_line, declaration

# Net weight is the contents without packaging: a noisy share of the gross weight, never one fixed ratio.
NET_SHARE = (0.55, 0.95)
# A small seller lists two things (an order of two items) on this share of its declarations.
SELLER_TWO_LINES = 0.15


def net_share(rng: Rng) -> float:
    """The share of the gross weight a sender writes as net weight."""
    return float(rng.uniform(*NET_SHARE))


def private_declaration(rng: Rng, category: str, net_kg: float) -> Record:
    """What a private person writes: documents at no value, or a gift (or sample) of a few euros."""
    if category == "documents":
        description = str(rng.choice(DOCUMENT_DESCRIPTIONS))
        return declaration(category, [content_line(description, 0.0, net_kg)])
    if category == "returned_goods":
        line = content_line(str(rng.choice(RETURN_DESCRIPTIONS)), float(rng.lognormal(3.8, 0.6)), net_kg)
        return declaration(category, [line])
    if category == "commercial_sample":
        description = "Commercial sample"
    else:
        description = str(rng.choice(GIFT_DESCRIPTIONS))
    return declaration(category, [content_line(description, float(rng.lognormal(2.8, 0.6)), net_kg)])


def seller_declaration(rng: Rng, category: str, net_kg: float) -> Record:
    """A marketplace seller's declaration: one or two vague lines, an HS code half the time."""
    if category == "documents":
        return private_declaration(rng, category, net_kg)
    count = 2 if rng.random() < SELLER_TWO_LINES else 1
    chosen = [SELLER_DESCRIPTIONS[int(i)] for i in rng.integers(len(SELLER_DESCRIPTIONS), size=count)]
    split = float(rng.uniform(0.3, 0.7)) if len(chosen) > 1 else 1.0
    lines = [
        content_line(
            description,
            float(rng.lognormal(3.2, 0.7)) / len(chosen),
            net_kg * (split if i == 0 else 1.0 - split),
            hs_code if rng.random() < 0.5 else None,
        )
        for i, (description, hs_code) in enumerate(chosen)
    ]
    return declaration(category, lines, "Handmade items" if category == "other" else None)


def webshop_declaration(
    rng: Rng, category: str, net_kg: float, products: tuple[Product, ...], origin: str
) -> Record:
    """A webshop's CN23: one to three catalogue products with HS codes, values and the country of origin."""
    picks = rng.choice(len(products), size=min(len(products), int(rng.integers(1, 4))), replace=False)
    chosen = [products[int(i)] for i in picks]
    total_g = sum(p.weight_g for p in chosen)
    lines = [
        content_line(p.description, p.value_eur, net_kg * p.weight_g / total_g, p.hs_code)
        | {"origin_country": origin}
        for p in chosen
    ]
    return declaration(category, lines)
