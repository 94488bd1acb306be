"""Illicit items: each day's vendor orders as postal items, and the vendors' reaction to seizures."""

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from model.market_profile import WEIGHT_BAND_EDGES_G, WEIGHT_BANDS, MarketProfile
from training.simulate.clock import CLOSED_ON_SUNDAY, HOUR_PROBABILITIES, DayClock
from training.simulate.config import ScenarioConfig
from training.simulate.declarations import (
    net_share,
    private_declaration,
    seller_declaration,
    webshop_declaration,
)
from training.simulate.identities import PartyDict, Rng, business, email_address, person
from training.simulate.records import Record, SimItem, needs_declaration, pick
from training.simulate.segments import PARCEL_CATEGORY_MIX_ABROAD
from training.simulate.senders import HABIT_KEPT, NAME_ONLY_SHARE, hidden_sender, office_id
from training.simulate.vendors import (
    ADAPTATIONS,
    Buyer,
    Habits,
    OriginMarket,
    Vendor,
    adapt,
    category_of,
    new_vendor,
)

BAND_EDGES_G = (0.0, *WEIGHT_BAND_EDGES_G, 4_000.0)
WHOLESALE_MIN_BAND = WEIGHT_BANDS.index("250-500g")
UNIT_MASS_G = {"ecstasy": 0.35, "prescription": 0.3, "psychedelics": 0.05, "steroids": 0.6}
LETTER_MAX_G = 2000.0
PARCEL_MIN_G = 100.0
# Vendors write one sender identity on most items and keep the others for a change of scenery.
MAIN_IDENTITY_SHARE = 0.7
# Dealers who buy wholesale have it sent to a business name half the time.
DEALER_BUSINESS_SHARE = 0.5
SUNDAY = 6


class IllicitTraffic:
    """The vendors of the posting country, their daily orders and their adaptation after seizures."""

    def __init__(self, config: ScenarioConfig, profile: MarketProfile, rng: Rng) -> None:
        self._config = config
        self._home = config.posting_country
        self._rng = rng
        self.market = OriginMarket.of(profile, self._home)
        self._initial = max(
            2, round(config.illicit_share * config.items_per_day * 7 / config.vendor_weekly_items)
        )
        self.vendors: list[Vendor] = []
        for _ in range(self._initial):
            self._enter()
        licit = np.asarray(config.weekday_volume, dtype=np.float64)
        self._licit_weekday = licit * 7 / licit.sum()
        illicit = self.market.weekday_mix * np.minimum(1.0, self._licit_weekday)
        self._illicit_weekday = illicit * 7 / illicit.sum()
        self._owed = float(rng.random())
        self._pending: list[tuple[float, str, int]] = []
        self._buyers = 0
        self.adaptations: list[dict[str, Any]] = []
        self.entered = 0
        self.exited = 0

    def _enter(self) -> Vendor:
        vendor_id = f"V{len(self.vendors) + 1:04d}"
        vendor = new_vendor(self._rng, vendor_id, self.market, self._home, self._config.vendor_weekly_items)
        self.vendors.append(vendor)
        return vendor

    def notice(self, vendor_id: str, identity: int, known_at: float) -> None:
        """The vendor learns at `known_at` (epoch seconds) that an item sent under `identity` never arrived."""
        self._pending.append((known_at, vendor_id, identity))

    def start_day(self, clock: DayClock) -> None:
        """Vendors react to the seizures they learnt of before this day; new vendors may enter."""
        config, rng = self._config, self._rng
        known = [p for p in self._pending if p[0] <= clock.midnight_utc]
        self._pending = [p for p in self._pending if p[0] > clock.midnight_utc]
        for _, vendor_id, identity in known:
            vendor = next(v for v in self.vendors if v.vendor_id == vendor_id)
            if not vendor.active:
                continue
            if rng.random() < config.exit_after_seizure:
                vendor.active = False
                self.exited += 1
            elif rng.random() < config.adaptation_probability:
                kind = pick(rng, {k: config.adaptation_weights.get(k, 0.0) for k in ADAPTATIONS})
                rotation = adapt(rng, vendor, kind, identity, self._home)
                self.adaptations.append(
                    {
                        "vendor_id": vendor_id,
                        "day": clock.day.isoformat(),
                        "kind": kind,
                        "habit_version": vendor.habits.version,
                        "seized_identity": identity,
                        **({"rotation": rotation} if rotation else {}),
                    }
                )
        arrivals = int(rng.poisson(config.vendor_entry_per_week / 7 * self._initial))
        if not any(v.active for v in self.vendors):
            arrivals = max(arrivals, 1)
        for _ in range(arrivals):
            self._enter()
            self.entered += 1

    def day(self, clock: DayClock, licit_count: int) -> list[SimItem]:
        """The vendor orders posted on this day, sized so illicit items keep their configured share."""
        share = self._config.illicit_share
        weekday = clock.weekday
        target = (
            share / (1 - share) * licit_count / self._licit_weekday[weekday] * self._illicit_weekday[weekday]
        )
        self._owed += target
        active = [v for v in self.vendors if v.active]
        rates = np.array([v.weekly_items * v.habits.weekdays[weekday] for v in active])
        if rates.sum() <= 0:
            return []
        count = math.floor(self._owed)
        self._owed -= count
        orders = self._rng.multinomial(count, rates / rates.sum())
        return [
            self._order(clock, vendor)
            for vendor, n in zip(active, orders.tolist(), strict=True)
            for _ in range(n)
        ]

    def _order(self, clock: DayClock, vendor: Vendor) -> SimItem:
        rng, habits = self._rng, vendor.habits
        wholesale = rng.random() < self._config.wholesale_order_share
        destination = vendor.destinations[
            int(rng.choice(len(vendor.destinations), p=vendor.destination_weights))
        ]
        buyer = self._buyer(vendor, destination, wholesale)
        category = vendor.categories[int(rng.choice(len(vendor.categories), p=vendor.category_weights))]
        weight_g = self._weight_g(vendor, category, wholesale)
        mail_class = "C" if wholesale else habits.mail_class.get(buyer.country, "U")
        if mail_class == "U" and weight_g >= LETTER_MAX_G:
            mail_class = "C"
        elif mail_class == "C" and weight_g < PARCEL_MIN_G:
            mail_class = "U"
        channel, postage, second = self._posting(clock, habits, mail_class)
        identity = min(int(rng.geometric(MAIN_IDENTITY_SHARE)) - 1, len(habits.identities) - 1)
        abroad = buyer.country != self._home
        shipment: Record = {
            "item_id": "",
            "mail_class": mail_class,
            "mail_category": pick(rng, PARCEL_CATEGORY_MIX_ABROAD) if mail_class == "C" and abroad else "A",
            "service": self._kept(habits.service[mail_class], habits.spec.service_by_class.get(mail_class)),
            "gross_weight_kg": round(weight_g / 1000.0, 3),
            "posting": {
                "posted_at": clock.timestamp(second),
                "country": self._home,
                "channel": channel,
                "office_id": office_id(
                    self._home, channel, habits.area, habits.account, habits.boxes[int(rng.integers(2))]
                ),
                "postage_method": postage,
            },
            "sender": self._sender(habits, identity, mail_class),
            "addressee": buyer.party,
        }
        declared = self._kept(habits.declared, habits.spec.declared_mix)
        if needs_declaration(self._home, buyer.country) and declared != "none":
            shipment["declaration"] = self._declaration(habits, declared, weight_g)
        truth = self._truth(clock, vendor, buyer, category, wholesale, weight_g, identity)
        return SimItem(second, shipment, truth)

    def _kept(self, habit: str, mix: Mapping[str, float] | None) -> str:
        """The vendor's habit on most items; otherwise what any sender of the imitated segment would do."""
        return habit if mix is None or self._rng.random() < HABIT_KEPT else pick(self._rng, mix)

    def _posting(self, clock: DayClock, habits: Habits, mail_class: str) -> tuple[str, str, int]:
        """Channel, postage method and local posting second of one item."""
        rng, spec = self._rng, habits.spec
        channel = self._kept(habits.channel[mail_class], spec.channel_by_class.get(mail_class))
        if clock.weekday == SUNDAY:
            channel = CLOSED_ON_SUNDAY.get(channel, channel)
        allowed = spec.postage_by_channel.get(channel, {"online_label": 1.0})
        postage = habits.postage.get(channel, "")
        postage = postage if postage in allowed and rng.random() < HABIT_KEPT else pick(rng, allowed)
        hours = habits.hours.get(channel)
        if hours is None:
            hours = np.cumsum(HOUR_PROBABILITIES[channel])
        second = int(np.searchsorted(hours, rng.random())) * 3600 + int(rng.integers(3600))
        return channel, postage, min(second, 86_399)

    def _sender(self, habits: Habits, identity: int, mail_class: str) -> PartyDict:
        """The identity as written on the item: letters of anonymous vendors (and some private-looking ones)
        carry a bare name or no sender at all, as private letters do."""
        party = habits.identities[identity]
        rng = self._rng
        if mail_class != "U":
            return party
        if habits.style == "anonymous" or rng.random() < habits.spec.anonymous_share:
            return hidden_sender(party, rng.random() < NAME_ONLY_SHARE)
        return party

    def _truth(
        self,
        clock: DayClock,
        vendor: Vendor,
        buyer: Buyer,
        category: str,
        wholesale: bool,
        weight_g: float,
        identity: int,
    ) -> dict[str, Any]:
        quantity, unit = _quantity(self._rng, category, weight_g)
        return {
            "item_id": "",
            "posted_on": clock.day.isoformat(),
            "illicit": True,
            "segment": "vendor",
            "vendor_id": vendor.vendor_id,
            "category": category_of(category).value,
            "wholesale": wholesale,
            "quantity": quantity,
            "unit": unit,
            "buyer_id": buyer.buyer_id,
            "habit_version": vendor.habits.version,
            "identity": identity,
        }

    def _buyer(self, vendor: Vendor, destination: str, wholesale: bool) -> Buyer:
        rng = self._rng
        known = [
            b for b in vendor.buyers if b.wholesale == wholesale and (wholesale or b.country == destination)
        ]
        comeback = 0.7 if wholesale else self._config.repeat_buyer_share
        if known and rng.random() < comeback:
            return known[int(rng.integers(len(known)))]
        self._buyers += 1
        if wholesale and rng.random() < DEALER_BUSINESS_SHARE:
            party = business(rng, destination)
        else:
            party = person(rng, destination)
            if rng.random() < vendor.habits.spec.email_share:
                party["email"] = email_address(rng, party["name"])
        buyer = Buyer(f"B{self._buyers:06d}", party, destination, wholesale)
        vendor.buyers.append(buyer)
        return buyer

    def _weight_g(self, vendor: Vendor, category: str, wholesale: bool) -> float:
        rng = self._rng
        if rng.random() < vendor.band_loyalty:
            band = vendor.habits.bands.get(category, 1)
        else:
            band = int(rng.choice(len(WEIGHT_BANDS), p=self.market.weight_bands))
        if wholesale:
            band = max(band, WHOLESALE_MIN_BAND) + int(rng.integers(0, 3))
        band = min(band, len(WEIGHT_BANDS) - 1)
        return float(rng.uniform(max(5.0, BAND_EDGES_G[band]), BAND_EDGES_G[band + 1]))

    def _declaration(self, habits: Habits, category: str, weight_g: float) -> Record:
        """A declaration written as the imitated segment writes its own."""
        rng = self._rng
        net_kg = weight_g / 1000.0 * net_share(rng)
        if habits.shop is not None:
            return webshop_declaration(rng, category, net_kg, habits.shop.products, habits.shop.origin)
        if habits.style == "small_shop":
            return seller_declaration(rng, category, net_kg)
        return private_declaration(rng, category, net_kg)


def _quantity(rng: Rng, category: str, weight_g: float) -> tuple[float, str]:
    """What is inside: the weight less packaging, in grams or in units (pills, tabs) by category."""
    net_g = weight_g * float(rng.uniform(0.45, 0.8))
    unit_mass = UNIT_MASS_G.get(category)
    if unit_mass is None:
        return max(0.1, round(net_g, 1)), "g"
    return float(max(1, round(net_g / unit_mass))), "units"
