"""Licit background mail of a posting country, generated one day at a time from the segment specs."""

from dataclasses import dataclass
from typing import Any

import numpy as np

from training.simulate.clock import CHANNELS, CLOSED_ON_SUNDAY, HOUR_PROBABILITIES, DayClock, seconds_in_hours
from training.simulate.config import ScenarioConfig
from training.simulate.declarations import (
    net_share,
    private_declaration,
    seller_declaration,
    webshop_declaration,
)
from training.simulate.identities import PartyDict, PersonPool, Rng, business
from training.simulate.records import Record, SimItem, cumulative, draw, needs_declaration
from training.simulate.segments import (
    MAIL_CLASSES,
    PARCEL_CATEGORY_MIX_ABROAD,
    SEGMENTS,
    SegmentSpec,
    joint_table,
)
from training.simulate.senders import (
    HABIT_KEPT,
    NAME_ONLY_SHARE,
    POSTAGE_METHODS,
    SenderPool,
    build_sender_pool,
    hidden_sender,
    office_area,
    office_id,
)

SUNDAY = 6
LETTER_MAX_G = 2000.0
RETURN_CENTRES_PER_COUNTRY = 12
CONTACTS_PER_SENDER = 3
PARCEL_CATEGORIES = tuple(PARCEL_CATEGORY_MIX_ABROAD)
PARCEL_CATEGORY_ABROAD = np.cumsum(list(PARCEL_CATEGORY_MIX_ABROAD.values()))[:-1]
HOUR_TABLE = np.cumsum(np.array([HOUR_PROBABILITIES[c] for c in CHANNELS]), axis=1)
SERVICES = ("untracked", "tracked", "registered", "insured")
SENDER_POOL_SIZES = {"webshop": (1 / 60, 0.9), "seller": (1 / 5, 0.5), "business_mail": (1 / 100, 1.0)}


@dataclass(frozen=True)
class _SpecTables:
    """A segment spec turned into cumulative tables for vectorised draws."""

    channel: np.ndarray
    channel_allowed: np.ndarray
    postage: np.ndarray
    postage_allowed: np.ndarray
    service: np.ndarray
    declared: np.ndarray
    declared_levels: tuple[str, ...]
    median_g: np.ndarray
    sigma: np.ndarray

    @classmethod
    def of(cls, spec: SegmentSpec) -> "_SpecTables":
        """The tables of `spec`."""
        channel_rows = [spec.channel_by_class.get(m, {}) for m in MAIL_CLASSES]
        postage_rows = [spec.postage_by_channel.get(c, {}) for c in CHANNELS]
        shapes = [spec.weight_g_by_class.get(m, (100.0, 0.5)) for m in MAIL_CLASSES]
        return cls(
            channel=cumulative(channel_rows, CHANNELS),
            channel_allowed=np.array([[row.get(c, 0.0) > 0 for c in CHANNELS] for row in channel_rows]),
            postage=cumulative(postage_rows, POSTAGE_METHODS),
            postage_allowed=np.array(
                [[row.get(p, 0.0) > 0 for p in POSTAGE_METHODS] for row in postage_rows]
            ),
            service=cumulative(
                [spec.service_by_class.get(m, {"tracked": 1.0}) for m in MAIL_CLASSES], SERVICES
            ),
            declared=cumulative([spec.declared_mix], tuple(spec.declared_mix)),
            declared_levels=tuple(spec.declared_mix),
            median_g=np.array([s[0] for s in shapes], dtype=np.float64),
            sigma=np.array([s[1] for s in shapes], dtype=np.float64),
        )


class LicitTraffic:
    """Everybody but the vendors: webshops, small sellers, private people, returns and business mail."""

    def __init__(self, config: ScenarioConfig, rng: Rng) -> None:
        self._config = config
        self._home = config.posting_country
        cells, self._cell_p = joint_table(config)
        self._countries = list(config.destination_mix)
        self._home_index = self._countries.index(self._home)
        self._declared_to = [needs_declaration(self._home, country) for country in self._countries]
        self._cell_segment = np.array([c[0] for c in cells])
        self._cell_class = np.array([MAIL_CLASSES.index(c[1]) for c in cells])
        self._cell_country = np.array([self._countries.index(c[2]) for c in cells])
        self._tables = [_SpecTables.of(spec) for spec in SEGMENTS]
        self._people = PersonPool(self._home, max(2_000, config.items_per_day * 6), rng)
        self._pools: dict[str, SenderPool] = {
            kind: build_sender_pool(
                rng, _spec(kind), self._home, max(20, int(config.items_per_day * per)), zipf
            )
            for kind, (per, zipf) in SENDER_POOL_SIZES.items()
        }
        self._addressees = {country: self._addressee_pool(rng, country) for country in self._countries}
        self._centres = {
            country: [business(rng, country) for _ in range(RETURN_CENTRES_PER_COUNTRY)]
            for country in self._countries
        }

    def day(self, rng: Rng, clock: DayClock, count: int) -> list[SimItem]:
        """`count` licit items posted on the day of `clock`, in no particular order."""
        cells = rng.choice(len(self._cell_p), size=count, p=self._cell_p)
        items: list[SimItem] = []
        for index, spec in enumerate(SEGMENTS):
            chosen = cells[self._cell_segment[cells] == index]
            if len(chosen):
                items.extend(self._segment_items(rng, clock, spec, self._tables[index], chosen))
        return items

    def _segment_items(
        self, rng: Rng, clock: DayClock, spec: SegmentSpec, tables: _SpecTables, cells: np.ndarray
    ) -> list[SimItem]:
        columns = zip(*self._draw_columns(rng, clock, spec, tables, cells), strict=True)
        home, day, declared_to = self._home, clock.day.isoformat(), self._declared_to
        items = []
        for (
            mail_class,
            country,
            category,
            chan,
            post,
            service,
            weight,
            second,
            box,
            sender,
            addressee,
        ) in columns:
            sender_party, area, account, sender_index = sender
            channel_name = CHANNELS[chan]
            shipment: Record = {
                "item_id": "",
                "mail_class": MAIL_CLASSES[mail_class],
                "mail_category": PARCEL_CATEGORIES[category],
                "service": SERVICES[service],
                "gross_weight_kg": weight,
                "posting": {
                    "posted_at": clock.timestamp(second),
                    "country": home,
                    "channel": channel_name,
                    "office_id": office_id(home, channel_name, area, account, box),
                    "postage_method": POSTAGE_METHODS[post],
                },
                "sender": sender_party,
                "addressee": addressee,
            }
            if declared_to[country]:
                declared = self._declaration(rng, spec, tables, sender_index, weight)
                if declared is not None:
                    shipment["declaration"] = declared
            items.append(SimItem(second, shipment, licit_truth(day, spec.name)))
        return items

    def _draw_columns(
        self, rng: Rng, clock: DayClock, spec: SegmentSpec, tables: _SpecTables, cells: np.ndarray
    ) -> tuple[list[Any], ...]:
        """Every random attribute of the segment's items, drawn for all of them at once, as lists."""
        count = len(cells)
        classes = self._cell_class[cells]
        senders, channel, postage = self._senders_and_habits(rng, spec, tables, classes, count)
        if clock.weekday == SUNDAY:
            for closed, open_instead in CLOSED_ON_SUNDAY.items():
                channel[channel == CHANNELS.index(closed)] = CHANNELS.index(open_instead)
            redrawn = draw(rng, tables.postage, channel)
            postage = np.where(tables.postage_allowed[channel, postage], postage, redrawn)
        weights = tables.median_g[classes] * np.exp(tables.sigma[classes] * rng.standard_normal(count))
        weights = np.where(
            classes == 0, np.clip(weights, 3.0, LETTER_MAX_G), np.clip(weights, 50.0, 30_000.0)
        )
        countries = self._cell_country[cells]
        parcel_abroad = (classes == 1) & (countries != self._home_index)
        categories = np.where(parcel_abroad, np.searchsorted(PARCEL_CATEGORY_ABROAD, rng.random(count)), 0)
        return (
            classes.tolist(),
            countries.tolist(),
            categories.tolist(),
            channel.tolist(),
            postage.tolist(),
            draw(rng, tables.service, classes).tolist(),
            np.round(weights / 1000.0, 3).tolist(),
            seconds_in_hours(rng, draw(rng, HOUR_TABLE, channel)).tolist(),
            rng.integers(1, 5, size=count).tolist(),
            senders,
            self._addressee_parties(rng, spec, cells, np.array([sender[3] for sender in senders])),
        )

    def _senders_and_habits(
        self, rng: Rng, spec: SegmentSpec, tables: _SpecTables, classes: np.ndarray, count: int
    ) -> tuple[list[tuple[PartyDict, str, str, int]], np.ndarray, np.ndarray]:
        channel = draw(rng, tables.channel, classes)
        pool = self._pools.get(spec.sender_kind)
        if pool is None:
            people = self._people.sample(rng, count, skew=1.3)
            parties = self._people.parties(people)
            anonymous = (rng.random(count) < spec.anonymous_share) & (classes == 0)
            name_only = rng.random(count) < NAME_ONLY_SHARE
            senders = [
                (hidden_sender(party, bare) if hidden else party, office_area(party), "", person)
                for party, hidden, bare, person in zip(
                    parties, anonymous.tolist(), name_only.tolist(), people.tolist(), strict=True
                )
            ]
            return senders, channel, draw(rng, tables.postage, channel)
        chosen = pool.sample(rng, count)
        keep = rng.random(count) < HABIT_KEPT
        channel = np.where(
            keep & tables.channel_allowed[classes, pool.channel[chosen]], pool.channel[chosen], channel
        )
        postage = draw(rng, tables.postage, channel)
        postage = np.where(
            keep & tables.postage_allowed[channel, pool.postage[chosen]], pool.postage[chosen], postage
        )
        senders = [(pool.parties[i], pool.areas[i], pool.accounts[i], i) for i in chosen.tolist()]
        return senders, channel, postage

    def _addressee_parties(
        self, rng: Rng, spec: SegmentSpec, cells: np.ndarray, senders: np.ndarray
    ) -> list[PartyDict]:
        """Addressees in each item's destination; private people write to a few contacts of their own."""
        countries = self._cell_country[cells]
        parties: list[PartyDict] = [{}] * len(cells)
        for country in np.unique(countries).tolist():
            where = np.flatnonzero(countries == country)
            code = self._countries[country]
            pool = self._addressees[code]
            emails = rng.random(len(where)) < spec.email_share
            recipients = pool.sample(rng, len(where), skew=1.5)
            if spec.writes_to_contacts:
                slots = rng.integers(0, CONTACTS_PER_SENDER, size=len(where))
                recipients = (senders[where] * 2_654_435_761 + slots * 40_503 + country * 97) % pool.size
            people = pool.parties(recipients, emails)
            to_business = rng.random(len(where)) < spec.business_addressee_share
            centres = self._centres[code]
            picks = rng.integers(0, len(centres), size=len(where)).tolist()
            for slot, person, business_like, pick in zip(
                where.tolist(), people, to_business.tolist(), picks, strict=True
            ):
                parties[slot] = centres[pick] if business_like else person
        return parties

    def _addressee_pool(self, rng: Rng, country: str) -> PersonPool:
        """People of `country` who receive mail, more of them the more traffic the country gets."""
        share = self._config.destination_mix[country]
        return PersonPool(
            country, max(500, int(self._config.items_per_day * share * self._config.days * 0.5)), rng
        )

    def _declaration(
        self, rng: Rng, spec: SegmentSpec, tables: _SpecTables, sender: int, weight_kg: float
    ) -> Record | None:
        category = tables.declared_levels[int(draw(rng, tables.declared, np.zeros(1, np.int64))[0])]
        if category == "none":
            return None
        net = weight_kg * net_share(rng)
        if spec.sender_kind == "webshop":
            pool = self._pools["webshop"]
            return webshop_declaration(rng, category, net, pool.products[sender], pool.origins[sender])
        if spec.sender_kind == "seller":
            return seller_declaration(rng, category, net)
        return private_declaration(rng, category, net)


def _spec(kind: str) -> SegmentSpec:
    return next(spec for spec in SEGMENTS if spec.sender_kind == kind)


def licit_truth(day: str, segment: str) -> dict[str, Any]:
    """The evaluation record of a licit item: no vendor, no substance."""
    return {
        "item_id": "",
        "posted_on": day,
        "illicit": False,
        "segment": segment,
        "vendor_id": None,
        "category": None,
        "wholesale": False,
        "quantity": None,
        "unit": None,
        "buyer_id": None,
        "habit_version": None,
        "identity": None,
    }
