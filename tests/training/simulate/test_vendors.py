"""Vendor habits are learnable but not trivial, and vendors change what a seizure gave away."""

import itertools
from collections import defaultdict
from typing import Any

import numpy as np
import orjson

from model.market_profile import MarketProfile, weight_band
from tests.training.simulate.conftest import Run
from training.simulate.vendors import OriginMarket, adapt, new_vendor

HIDDEN = '{"country":"NL"}'
HABIT_FIELDS = ("sender", "office", "channel", "postage", "mail_class", "band", "declared")


def _habit_view(shipment: dict[str, Any]) -> dict[str, str]:
    declaration = shipment.get("declaration")
    return {
        "sender": orjson.dumps(shipment["sender"], option=orjson.OPT_SORT_KEYS).decode(),
        "office": shipment["posting"]["office_id"],
        "channel": shipment["posting"]["channel"],
        "postage": shipment["posting"]["postage_method"],
        "mail_class": shipment["mail_class"],
        "band": weight_band(shipment["gross_weight_kg"] * 1000),
        "declared": declaration["category"] if declaration else "none",
    }


def _shared_fields(pairs: list[tuple[dict[str, str], dict[str, str]]]) -> float:
    """Mean number of habit fields two items have in common."""
    return float(np.mean([sum(a[f] == b[f] for f in HABIT_FIELDS) for a, b in pairs]))


def test_items_of_one_vendor_share_habits_far_more_than_random_pairs(vendor_run: Run) -> None:
    by_vendor: defaultdict[str, list[dict[str, str]]] = defaultdict(list)
    everyone = [_habit_view(s) for s in vendor_run.shipments]
    for view, truth in zip(everyone, vendor_run.truth, strict=True):
        if truth["illicit"]:
            by_vendor[truth["vendor_id"]].append(view)
    within = [pair for items in by_vendor.values() for pair in itertools.combinations(items, 2)]
    rng = np.random.default_rng(0)
    random_pairs = [(everyone[i], everyone[j]) for i, j in rng.integers(len(everyone), size=(len(within), 2))]
    assert len(within) > 100
    assert _shared_fields(within) > 4.5
    assert _shared_fields(within) > 2 * _shared_fields(random_pairs)
    same_place = np.mean([a["office"] == b["office"] or a["sender"] == b["sender"] for a, b in within])
    assert same_place > 0.4


def test_licit_look_alikes_outnumber_vendor_items(vendor_run: Run) -> None:
    """No combination of item attributes gives vendors away: licit mail looks the same far more often."""
    signature_fields = ("channel", "postage", "mail_class", "band", "declared")
    illicit, licit = defaultdict(int), defaultdict(int)
    for shipment, truth in zip(vendor_run.shipments, vendor_run.truth, strict=True):
        view = _habit_view(shipment)
        signature = (*(view[f] for f in signature_fields), shipment["addressee"]["country"] != "NL")
        (illicit if truth["illicit"] else licit)[signature] += 1
    look_alikes = sum(licit[signature] for signature in illicit)
    assert look_alikes > 10 * sum(illicit.values())


def test_adaptation_changes_the_attribute_it_names(profile: MarketProfile) -> None:
    market = OriginMarket.of(profile, "NL")
    for kind in ("identity", "posting_place", "packaging"):
        rng = np.random.default_rng(1)
        vendor = new_vendor(rng, "V0001", market, "NL", 2.0)
        before = vendor.habits
        identities, area, channels = list(before.identities), before.area, dict(before.channel)
        declared, bands = before.declared, dict(before.bands)
        adapt(rng, vendor, kind, 0, "NL")
        after = vendor.habits
        assert after.version == 1
        if kind == "identity":
            assert after.identities[0] != identities[0]
            assert after.identities[1:] == identities[1:]
        elif kind == "posting_place":
            assert after.channel != channels
            assert after.area != area
        else:
            assert after.declared != declared
            assert all(after.bands[c] != bands[c] for c in bands)


def test_caught_vendors_drop_what_gave_them_away(adaptive_run: Run) -> None:
    """After an identity change the seized sender identity is gone; after a move the posting places are new."""
    events = adaptive_run.summary.vendors["adaptation_events"]
    assert {e["kind"] for e in events} >= {"identity", "posting_place"}
    items: defaultdict[str, list[tuple[int, int, dict[str, str]]]] = defaultdict(list)
    for shipment, truth in zip(adaptive_run.shipments, adaptive_run.truth, strict=True):
        if truth["illicit"]:
            items[truth["vendor_id"]].append(
                (truth["habit_version"], truth["identity"], _habit_view(shipment))
            )
    checked = 0
    for event in events:
        version, vendor_items = event["habit_version"], items[event["vendor_id"]]
        if event["kind"] == "identity":
            slot = event["seized_identity"]
            # Letters of anonymous-looking vendors carry no sender at all, before and after.
            written = [(v, view["sender"]) for v, i, view in vendor_items if i == slot]
            before = {sender for v, sender in written if v == version - 1 and sender != HIDDEN}
            after = {sender for v, sender in written if v == version and sender != HIDDEN}
        elif event["kind"] == "posting_place":
            before = {view["office"] for v, _, view in vendor_items if v == version - 1}
            after = {view["office"] for v, _, view in vendor_items if v == version}
        else:
            continue
        if before and after:
            assert not before & after, event
            checked += 1
    assert checked >= 2
