"""First names, surnames and street names per language, for plausible parties on simulated items."""


def words(text: str, separator: str | None = None) -> tuple[str, ...]:
    """The entries of a word list written as one string (space- or `separator`-separated)."""
    return tuple(text.split(separator))


_NL_FIRST = words(
    "Daan Sem Lucas Levi Finn Bram Jesse Thomas Ruben Lars Emma Julia Sophie Tess Anna Lotte Eva Sara Fleur "
    "Lisa Noor Mila Sanne Femke Jan Peter Kees Henk Marieke Ingrid Joost Willem Annelies Mohamed Fatima"
)
_NL_LAST = words(
    (
        "de Jong|Jansen|de Vries|van den Berg|van Dijk|Bakker|Janssen|Visser|Smit|Meijer|de Boer|Mulder|de Groot|"
        "Bos|Vos|Peters|Hendriks|van Leeuwen|Dekker|Brouwer|de Wit|Dijkstra|Smits|de Graaf|van der Meer|"
        "Kok|Jacobs|van der Linden|Vermeulen|van den Broek|Willems|Yilmaz|El Amrani|Kramer|Schouten"
    ),
    "|",
)
_NL_STREETS = words(
    (
        "Kerkstraat|Dorpsstraat|Stationsweg|Molenweg|Schoolstraat|Julianastraat|Beatrixlaan|Nieuwstraat|"
        "Wilhelminastraat|Emmastraat|Kastanjelaan|Lindenlaan|Eikenlaan|Parkweg|Hoofdstraat|Marktplein|"
        "Prinsengracht|Oranjestraat|Sportlaan|Dijkweg|Havenstraat|Vondellaan|Rembrandtlaan|Zonnebloemstraat"
    ),
    "|",
)
_DE_FIRST = words(
    "Lukas Leon Finn Paul Jonas Felix Maximilian Mia Emma Hannah Lea Lena Anna Laura Julia Sabine Thomas Michael Stefan Andreas"
)
_DE_LAST = words(
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger"
)
_DE_STREETS = words(
    "Hauptstraße|Schulstraße|Gartenstraße|Bahnhofstraße|Dorfstraße|Bergstraße|Birkenweg|Lindenstraße|Kirchstraße|Waldstraße|Ringstraße|Mozartstraße",
    "|",
)
_EN_FIRST = words(
    "Oliver George Harry Jack Noah Charlie Thomas James William Olivia Amelia Isla Ava Emily Sophie Grace Chloe Lucy Sarah David"
)
_EN_LAST = words(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Walker Wright Robinson Thompson White Hughes Edwards Green Hall"
)
_EN_STREETS = words(
    "High Street|Station Road|Church Lane|Victoria Road|Green Lane|Manor Road|Park Avenue|Queens Road|Kings Road|Mill Lane|The Crescent|Grange Road",
    "|",
)
_US_FIRST = words(
    "Michael James John Robert David William Joseph Daniel Emily Jessica Ashley Sarah Jennifer Amanda Megan Olivia Ethan Tyler Brandon Madison"
)
_US_LAST = words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee"
)
_US_STREETS = words(
    "Main St|Oak Ave|Maple St|Cedar Ln|Pine St|Elm St|Washington Ave|Lake Dr|Hill Rd|Park Blvd|Sunset Blvd|2nd St|Lincoln Ave|Ridge Rd",
    "|",
)
_FR_FIRST = words(
    "Gabriel Louis Raphaël Jules Adam Lucas Arthur Hugo Jade Louise Emma Alice Chloé Léa Manon Camille Inès Marie Pierre Nicolas"
)
_FR_LAST = words(
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel Garcia David Bertrand Roux Vincent Fournier"
)
_FR_STREETS = words(
    "rue de la République|rue Victor Hugo|avenue Jean Jaurès|rue Pasteur|rue de la Gare|boulevard Voltaire|rue des Écoles|place de l'Église|rue du Moulin|allée des Tilleuls",
    "|",
)
_ES_FIRST = words(
    "Hugo Martín Lucas Daniel Pablo Alejandro Lucía Sofía Martina María Julia Paula Carmen Javier Carlos Elena"
)
_ES_LAST = words(
    "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz Hernández Díaz Moreno Álvarez"
)
_ES_STREETS = words(
    "Calle Mayor|Calle Real|Avenida de la Constitución|Calle del Sol|Plaza de España|Calle Nueva|Calle de la Iglesia|Paseo del Prado",
    "|",
)
_IT_FIRST = words(
    "Leonardo Francesco Alessandro Lorenzo Mattia Andrea Sofia Giulia Aurora Alice Ginevra Emma Marco Luca Chiara Francesca"
)
_IT_LAST = words(
    "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti De Luca Costa Giordano"
)
_IT_STREETS = words(
    "Via Roma|Via Garibaldi|Via Mazzini|Via Dante|Corso Italia|Via Verdi|Via Cavour|Piazza della Repubblica|Via Marconi",
    "|",
)
_NORDIC_FIRST = words(
    "Erik Lars Anders Johan Karl Nils Oskar Emil Anna Maria Elin Ida Sofia Ingrid Astrid Freja Mette Kasper"
)
_NORDIC_LAST = words(
    "Andersson Johansson Karlsson Nilsson Eriksson Larsson Hansen Jensen Nielsen Pedersen Olsen Berg Lund Dahl Holm Lindqvist"
)
_NORDIC_STREETS = words(
    "Storgatan|Kungsgatan|Drottninggatan|Skolgatan|Nygade|Vestergade|Strandvejen|Kirkeveien|Parkveien|Sjøgata",
    "|",
)
_PL_FIRST = words(
    "Jakub Antoni Jan Szymon Franciszek Filip Zuzanna Julia Zofia Hanna Maja Lena Piotr Anna Katarzyna Tomasz"
)
_PL_LAST = words(
    "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak Dąbrowski Kozłowski"
)
_PL_STREETS = words(
    "ul. Polna|ul. Leśna|ul. Słoneczna|ul. Krótka|ul. Szkolna|ul. Ogrodowa|ul. Lipowa|ul. Mickiewicza", "|"
)
_JP_FIRST = words("Haruto Yuto Sota Yuki Hayato Ren Yui Hina Aoi Sakura Mio Yuna Kenji Akiko")
_JP_LAST = words("Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Yamada")
_JP_STREETS = words("Chuo Minami Kita Higashi Nishi Sakae Honcho Midori")


_NAMES_BY_COUNTRY: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "NL": (_NL_FIRST, _NL_LAST, _NL_STREETS),
    "BE": (_NL_FIRST, _NL_LAST, _NL_STREETS),
    "DE": (_DE_FIRST, _DE_LAST, _DE_STREETS),
    "AT": (_DE_FIRST, _DE_LAST, _DE_STREETS),
    "CH": (_DE_FIRST, _DE_LAST, _DE_STREETS),
    "GB": (_EN_FIRST, _EN_LAST, _EN_STREETS),
    "IE": (_EN_FIRST, _EN_LAST, _EN_STREETS),
    "AU": (_EN_FIRST, _EN_LAST, _EN_STREETS),
    "NZ": (_EN_FIRST, _EN_LAST, _EN_STREETS),
    "FR": (_FR_FIRST, _FR_LAST, _FR_STREETS),
    "ES": (_ES_FIRST, _ES_LAST, _ES_STREETS),
    "IT": (_IT_FIRST, _IT_LAST, _IT_STREETS),
    "SE": (_NORDIC_FIRST, _NORDIC_LAST, _NORDIC_STREETS),
    "DK": (_NORDIC_FIRST, _NORDIC_LAST, _NORDIC_STREETS),
    "NO": (_NORDIC_FIRST, _NORDIC_LAST, _NORDIC_STREETS),
    "PL": (_PL_FIRST, _PL_LAST, _PL_STREETS),
    "JP": (_JP_FIRST, _JP_LAST, _JP_STREETS),
}


def names_of(country: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """First names, surnames and streets of `country`; countries without their own lists get US English."""
    return _NAMES_BY_COUNTRY.get(country, (_US_FIRST, _US_LAST, _US_STREETS))
