"""Cities, postcode formats and the locale of each country, for plausible addresses on simulated items."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from training.simulate.names import names_of, words

EU_COUNTRIES = frozenset(
    words("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE")
)


@dataclass(frozen=True)
class City:
    """A city with the numeric range its postcodes are drawn from (see `Locale.postcode`)."""

    name: str
    low: int
    high: int
    weight: float
    prefix: str = ""


@dataclass(frozen=True)
class Locale:
    """How people, streets and postcodes look in one country."""

    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[City, ...]
    postcode_style: str
    number_first: bool = False

    def address_line(self, street: int, number: int) -> str:
        """Street and house number in the country's order."""
        name = self.streets[street]
        return f"{number} {name}" if self.number_first else f"{name} {number}"

    def postcode(self, city: int, number: int, letters: int) -> str:
        """The postcode for `number` (within the city's range) and a letter/digit pick `letters` (0-675)."""
        return _POSTCODE_FORMATS[self.postcode_style](self.cities[city].prefix, number, letters)


_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZEGT"
_LETTER_PAIRS = tuple(a + b for a in _LETTERS for b in _LETTERS)
# Postcode layouts by style, from (city prefix, number, letter pick): NL "1012 AB", GB "SE12 3AB",
# CA "M5A 3B7", IE "D04 K53P", SE "111 20", PL "00-950", JP "100-0001", plain 4 or 5 digits.
_POSTCODE_FORMATS: dict[str, Callable[[str, int, int], str]] = {
    "nl": lambda _, n, k: f"{n:04d} {_LETTER_PAIRS[k]}",
    "gb": lambda p, n, k: f"{p}{n} {k % 9 + 1}{_LETTER_PAIRS[k]}",
    "ca": lambda p, n, k: f"{p}{n % 10}{_LETTERS[k // 26]} {k % 10}{_LETTERS[k % 26]}{n // 10 % 10}",
    "ie": lambda p, n, k: f"{p}{n:02d} {_LETTERS[k // 26]}{k % 90 + 10}{_LETTERS[k % 26]}",
    "se": lambda _, n, k: f"{n // 100:03d} {n % 100:02d}",
    "pl": lambda _, n, k: f"{n // 1000:02d}-{n % 1000:03d}",
    "jp": lambda _, n, k: f"{n // 10000:03d}-{n % 10000:04d}",
    "d5": lambda _, n, k: f"{n:05d}",
    "d4": lambda _, n, k: f"{n:04d}",
}


def _cities(*rows: tuple[str, int, int, float] | tuple[str, int, int, float, str]) -> tuple[City, ...]:
    return tuple(City(*row) for row in rows)


_NL_CITIES = _cities(
    ("Amsterdam", 1011, 1109, 9.3),
    ("Rotterdam", 3011, 3089, 6.6),
    ("'s-Gravenhage", 2491, 2599, 5.6),
    ("Utrecht", 3511, 3585, 3.7),
    ("Eindhoven", 5611, 5658, 2.4),
    ("Groningen", 9711, 9747, 2.4),
    ("Tilburg", 5011, 5049, 2.2),
    ("Almere", 1311, 1365, 2.2),
    ("Breda", 4811, 4839, 1.9),
    ("Nijmegen", 6511, 6546, 1.8),
    ("Arnhem", 6811, 6846, 1.6),
    ("Haarlem", 2011, 2037, 1.6),
    ("Enschede", 7511, 7548, 1.6),
    ("Maastricht", 6211, 6229, 1.2),
    ("Leiden", 2311, 2334, 1.3),
    ("Zwolle", 8011, 8047, 1.3),
    ("Amersfoort", 3811, 3833, 1.6),
    ("Apeldoorn", 7311, 7339, 1.6),
    ("'s-Hertogenbosch", 5211, 5237, 1.6),
    ("Dordrecht", 3311, 3329, 1.2),
    ("Leeuwarden", 8911, 8939, 1.2),
    ("Delft", 2611, 2629, 1.0),
    ("Alkmaar", 1811, 1834, 1.1),
    ("Deventer", 7411, 7431, 1.0),
    ("Venlo", 5911, 5932, 1.0),
    ("Zaandam", 1501, 1509, 0.8),
    ("Hilversum", 1211, 1223, 0.9),
)
_DE_CITIES = _cities(
    ("Berlin", 10115, 14199, 3.7),
    ("Hamburg", 20095, 22769, 1.9),
    ("München", 80331, 81929, 1.5),
    ("Köln", 50667, 51149, 1.1),
    ("Frankfurt am Main", 60306, 60599, 0.8),
    ("Düsseldorf", 40210, 40629, 0.6),
    ("Stuttgart", 70173, 70629, 0.6),
    ("Leipzig", 4103, 4357, 0.6),
    ("Dortmund", 44135, 44388, 0.6),
    ("Essen", 45127, 45359, 0.6),
    ("Bremen", 28195, 28779, 0.6),
    ("Hannover", 30159, 30669, 0.5),
)
_GB_CITIES = _cities(
    ("London", 1, 20, 9.0, "SE"),
    ("London", 1, 20, 4.0, "N"),
    ("Manchester", 1, 40, 2.5, "M"),
    ("Birmingham", 1, 45, 2.5, "B"),
    ("Leeds", 1, 29, 1.8, "LS"),
    ("Glasgow", 1, 84, 1.6, "G"),
    ("Bristol", 1, 16, 1.0, "BS"),
    ("Liverpool", 1, 37, 1.0, "L"),
    ("Edinburgh", 1, 17, 1.0, "EH"),
    ("Sheffield", 1, 36, 0.9, "S"),
    ("Cardiff", 1, 24, 0.7, "CF"),
)
_US_CITIES = _cities(
    ("New York NY", 10001, 10292, 8.3),
    ("Los Angeles CA", 90001, 90089, 3.9),
    ("Chicago IL", 60601, 60661, 2.7),
    ("Houston TX", 77001, 77099, 2.3),
    ("Phoenix AZ", 85001, 85055, 1.6),
    ("Philadelphia PA", 19102, 19154, 1.6),
    ("San Diego CA", 92101, 92199, 1.4),
    ("Dallas TX", 75201, 75398, 1.3),
    ("Seattle WA", 98101, 98199, 0.7),
    ("Denver CO", 80201, 80299, 0.7),
    ("Boston MA", 2108, 2137, 0.7),
    ("Miami FL", 33101, 33199, 0.5),
    ("Atlanta GA", 30301, 30399, 0.5),
    ("Portland OR", 97201, 97299, 0.6),
)
_AU_CITIES = _cities(
    ("Sydney NSW", 2000, 2234, 5.3),
    ("Melbourne VIC", 3000, 3207, 5.1),
    ("Brisbane QLD", 4000, 4179, 2.6),
    ("Perth WA", 6000, 6199, 2.1),
    ("Adelaide SA", 5000, 5199, 1.4),
    ("Gold Coast QLD", 4207, 4230, 0.7),
    ("Canberra ACT", 2600, 2620, 0.5),
    ("Hobart TAS", 7000, 7055, 0.3),
)
_FR_CITIES = _cities(
    ("Paris", 75001, 75020, 2.1),
    ("Marseille", 13001, 13016, 0.9),
    ("Lyon", 69001, 69009, 0.5),
    ("Toulouse", 31000, 31500, 0.5),
    ("Nice", 6000, 6300, 0.3),
    ("Nantes", 44000, 44300, 0.3),
    ("Strasbourg", 67000, 67200, 0.3),
    ("Lille", 59000, 59800, 0.3),
    ("Bordeaux", 33000, 33800, 0.3),
)
_BE_CITIES = _cities(
    ("Brussel", 1000, 1210, 1.2),
    ("Antwerpen", 2000, 2660, 0.5),
    ("Gent", 9000, 9052, 0.3),
    ("Leuven", 3000, 3018, 0.1),
    ("Brugge", 8000, 8380, 0.1),
    ("Hasselt", 3500, 3512, 0.1),
)
_GENERIC_CITIES = {
    "ES": (
        _cities(
            ("Madrid", 28001, 28080, 3.3), ("Barcelona", 8001, 8042, 1.6), ("Valencia", 46001, 46026, 0.8)
        ),
        "d5",
    ),
    "IT": (
        _cities(
            ("Roma", 118, 199, 2.8),
            ("Milano", 20121, 20162, 1.4),
            ("Napoli", 80121, 80147, 0.9),
            ("Torino", 10121, 10156, 0.8),
        ),
        "d5",
    ),
    "AT": (_cities(("Wien", 1010, 1230, 1.9), ("Graz", 8010, 8063, 0.3), ("Linz", 4020, 4040, 0.2)), "d4"),
    "CH": (
        _cities(("Zürich", 8001, 8064, 0.4), ("Genève", 1201, 1209, 0.2), ("Basel", 4001, 4059, 0.2)),
        "d4",
    ),
    "DK": (_cities(("København", 1050, 2500, 0.8), ("Aarhus", 8000, 8270, 0.3)), "d4"),
    "NO": (_cities(("Oslo", 150, 1295, 0.7), ("Bergen", 5003, 5098, 0.3)), "d4"),
    "NZ": (_cities(("Auckland", 600, 2699, 1.7), ("Wellington", 6011, 6037, 0.4)), "d4"),
    "SE": (
        _cities(
            ("Stockholm", 11120, 12999, 1.0), ("Göteborg", 41101, 42699, 0.6), ("Malmö", 21110, 21899, 0.3)
        ),
        "se",
    ),
    "PL": (
        _cities(("Warszawa", 1, 4999, 1.8), ("Kraków", 30001, 31999, 0.8), ("Wrocław", 50001, 54999, 0.6)),
        "pl",
    ),
    "JP": (_cities(("Tokyo", 1000001, 1999999, 9.0), ("Osaka", 5300001, 5599999, 2.7)), "jp"),
    "IE": (_cities(("Dublin", 1, 24, 1.2, "D"), ("Dún Laoghaire", 94, 96, 0.2, "A")), "ie"),
    "CA": (
        _cities(
            ("Toronto ON", 0, 99, 2.8, "M"),
            ("Vancouver BC", 0, 99, 0.7, "V"),
            ("Montréal QC", 0, 99, 1.8, "H"),
        ),
        "ca",
    ),
}

_NUMBER_FIRST = frozenset({"GB", "IE", "AU", "NZ", "US", "CA", "FR"})
_OWN_CITIES = {
    "NL": (_NL_CITIES, "nl"),
    "DE": (_DE_CITIES, "d5"),
    "GB": (_GB_CITIES, "gb"),
    "US": (_US_CITIES, "d5"),
    "AU": (_AU_CITIES, "d4"),
    "FR": (_FR_CITIES, "d5"),
    "BE": (_BE_CITIES, "d4"),
}
_FALLBACK_CITIES = _cities(("Capital", 10000, 99999, 1.0))


@cache
def locale_for(country: str) -> Locale:
    """The locale of `country`; countries without their own tables get English names and numeric postcodes."""
    first, last, streets = names_of(country)
    cities, style = _OWN_CITIES.get(country) or _GENERIC_CITIES.get(country) or (_FALLBACK_CITIES, "d5")
    return Locale(
        first_names=tuple(first),
        last_names=tuple(last),
        streets=tuple(streets),
        cities=cities,
        postcode_style=style,
        number_first=country in _NUMBER_FIRST,
    )
