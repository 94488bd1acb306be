"""What licit senders put in their items: products with HS codes, values and weights, and private contents."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    """A licit product line as a CN23 declares it."""

    description: str
    hs_code: str
    value_eur: float
    weight_g: float


def _products(*rows: tuple[str, str, float, float]) -> tuple[Product, ...]:
    return tuple(Product(*row) for row in rows)


SECTORS: dict[str, tuple[Product, ...]] = {
    "fashion": _products(
        ("Cotton t-shirt", "610910", 19.95, 180),
        ("Knitted wool sweater", "611011", 59.0, 450),
        ("Denim jeans", "620342", 69.0, 650),
        ("Leather belt", "420330", 29.0, 150),
        ("Silk scarf", "621410", 35.0, 60),
        ("Cotton socks, 3 pairs", "611595", 12.5, 120),
    ),
    "electronics": _products(
        ("Silicone phone case", "392690", 14.95, 40),
        ("USB-C charging cable", "854442", 9.95, 45),
        ("Bluetooth earphones", "851830", 49.0, 120),
        ("Screen protector glass", "700719", 12.0, 30),
        ("Power bank 10000 mAh", "850760", 29.0, 240),
        ("LED desk lamp", "940520", 39.0, 900),
    ),
    "books": _products(
        ("Printed book, novel", "490199", 21.5, 420),
        ("Children's picture book", "490300", 14.0, 380),
        ("Printed music score", "490400", 18.0, 200),
        ("Paper calendar 2026", "491000", 12.5, 300),
    ),
    "cosmetics": _products(
        ("Face cream 50 ml", "330499", 24.95, 110),
        ("Lipstick", "330410", 17.5, 30),
        ("Shampoo 250 ml", "330510", 9.95, 300),
        ("Perfume 30 ml", "330300", 45.0, 180),
        ("Nail polish set", "330430", 15.0, 150),
    ),
    "toys": _products(
        ("Wooden puzzle", "950300", 19.95, 400),
        ("Board game", "950490", 34.95, 1100),
        ("Plush toy", "950300", 14.95, 200),
        ("Building blocks set", "950300", 49.0, 900),
    ),
    "bicycle": _products(
        ("Bicycle brake pads", "871494", 12.95, 90),
        ("Bicycle chain", "871499", 24.0, 320),
        ("Bicycle light set", "851210", 29.0, 180),
        ("Bicycle tyre 28 inch", "401150", 32.0, 560),
    ),
    "home": _products(
        ("Ceramic mug", "691200", 12.5, 380),
        ("Scented candle", "340600", 16.0, 350),
        ("Cotton tea towel set", "630260", 14.0, 200),
        ("Tulip bulbs, 20 pcs", "060110", 15.0, 500),
        ("Delftware tile", "690790", 22.0, 250),
    ),
    "food": _products(
        ("Stroopwafels, 8 pcs", "190532", 6.5, 310),
        ("Gouda cheese, vacuum packed", "040690", 18.0, 1000),
        ("Liquorice, 250 g", "170490", 5.0, 280),
        ("Loose leaf tea, 100 g", "090230", 9.5, 140),
        ("Vitamin supplement, 60 capsules", "210690", 19.95, 90),
        ("Protein powder 1 kg", "210610", 34.0, 1150),
    ),
}

# Small sellers describe their goods in fewer, vaguer words and often leave the HS code out.
SELLER_DESCRIPTIONS: tuple[tuple[str, str | None], ...] = (
    ("Handmade jewellery", "711719"),
    ("Second-hand clothes", "630900"),
    ("Clothes", None),
    ("Vintage vinyl record", "852380"),
    ("Trading cards", "950440"),
    ("Knitted hat", "650500"),
    ("Handmade soap", "340111"),
    ("Used book", "490199"),
    ("Collectible coins", "970500"),
    ("Stickers", None),
    ("Art print", "491191"),
    ("Hobby materials", None),
    ("Accessories", None),
)

# What private people declare on a CN22 when they declare anything at all.
GIFT_DESCRIPTIONS: tuple[str, ...] = (
    "Birthday card",
    "Gift",
    "Chocolate",
    "Book",
    "Clothes",
    "Photos",
    "Greeting card",
    "Present",
    "Christmas card",
    "Small gift",
    "Tea",
    "Souvenir",
    "Baby clothes",
    "Toy",
)
DOCUMENT_DESCRIPTIONS: tuple[str, ...] = (
    "Documents",
    "Letter",
    "Papers",
    "Contract",
    "Certificates",
    "Correspondence",
    "Tax forms",
)
RETURN_DESCRIPTIONS: tuple[str, ...] = (
    "Return: clothing",
    "Returned goods",
    "Return: shoes",
    "Return: electronics accessory",
    "Returned item",
)
