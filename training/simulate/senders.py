"""Persistent licit senders: webshops, small sellers and business mailers, each with a volume and habits."""

from dataclasses import dataclass

import numpy as np

from training.simulate.catalogue import SECTORS, Product
from training.simulate.clock import CHANNELS
from training.simulate.identities import PartyDict, Rng, business, person
from training.simulate.records import pick
from training.simulate.segments import SegmentSpec

POSTAGE_METHODS: tuple[str, ...] = ("stamps", "franking_machine", "online_label", "contract_account")
SECTOR_NAMES: tuple[str, ...] = tuple(SECTORS)
# Where the goods of each sector were made, for the CN23 origin box.
SECTOR_ORIGIN = {"electronics": "CN", "toys": "CN", "fashion": "TR", "cosmetics": "FR"}
HABIT_KEPT = 0.9
# Of the private letters without a sender address, the share that still carries the sender's name.
NAME_ONLY_SHARE = 0.35


def office_area(party: PartyDict) -> str:
    """The first four characters of the sender's postcode, which names the nearby office or mailbox."""
    return str(party.get("postcode", "0000")).replace(" ", "")[:4]


def hidden_sender(party: PartyDict, keep_name: bool) -> PartyDict:
    """The sender box of a letter posted without a sender address: the bare name, or nothing at all."""
    if keep_name and party.get("name"):
        return {"name": party["name"], "country": party["country"]}
    return {"country": party["country"]}


def office_id(country: str, channel: str, area: str, account: str, box: int) -> str:
    """The posting office: a business pickup account, a post office counter, or a numbered box or locker."""
    if channel == "business_pickup":
        return f"{country}-BP-{account or area}"
    if channel == "counter":
        return f"{country}-PO-{area}"
    return f"{country}-{'MB' if channel == 'mailbox' else 'PL'}-{area}-{box}"


@dataclass(frozen=True)
class SenderPool:
    """Senders of one segment: their parties, posting volumes (Zipf) and posting habits."""

    parties: list[PartyDict]
    probabilities: np.ndarray
    channel: np.ndarray
    postage: np.ndarray
    areas: list[str]
    accounts: list[str]
    products: list[tuple[Product, ...]]
    origins: list[str]

    def sample(self, rng: Rng, count: int) -> np.ndarray:
        """`count` sender indices, busy senders more often."""
        return rng.choice(len(self.parties), size=count, p=self.probabilities)


def build_sender_pool(rng: Rng, spec: SegmentSpec, country: str, size: int, zipf: float) -> SenderPool:
    """`size` senders of `spec`'s segment in `country`; the k-th busiest posts in proportion to k^-zipf."""
    main_class = max(spec.class_weight, key=lambda c: spec.class_weight[c])
    parties, channels, postages, products, origins = [], [], [], [], []
    for _ in range(size):
        party = (
            business(rng, country)
            if spec.sender_kind != "seller" or rng.random() < 0.4
            else person(rng, country)
        )
        channel = pick(rng, spec.channel_by_class[main_class])
        sector = SECTOR_NAMES[int(rng.integers(len(SECTOR_NAMES)))]
        catalogue = SECTORS[sector]
        chosen = rng.choice(len(catalogue), size=min(len(catalogue), int(rng.integers(2, 6))), replace=False)
        parties.append(party)
        channels.append(CHANNELS.index(channel))
        postages.append(POSTAGE_METHODS.index(pick(rng, spec.postage_by_channel[channel])))
        products.append(tuple(catalogue[int(i)] for i in chosen))
        origins.append(SECTOR_ORIGIN.get(sector, country))
    ranks = np.arange(1, size + 1, dtype=np.float64) ** -zipf
    rng.shuffle(ranks)
    return SenderPool(
        parties=parties,
        probabilities=ranks / ranks.sum(),
        channel=np.array(channels),
        postage=np.array(postages),
        areas=[office_area(p) for p in parties],
        accounts=[f"{country}{int(rng.integers(10**7, 10**8))}" for _ in range(size)],
        products=products,
        origins=origins,
    )
