"""Who posts licit mail and how: one spec per sender segment, and the joint segment x class x destination table."""

from dataclasses import dataclass

import numpy as np

from training.simulate.config import ScenarioConfig

MAIL_CLASSES: tuple[str, ...] = ("U", "C", "E")
EMS_DOMESTIC_FACTOR = 0.1
RAKING_ROUNDS = 200
# Parcels abroad go priority (A), SAL (B) or surface (C); items at home and other classes go A.
PARCEL_CATEGORY_MIX_ABROAD: dict[str, float] = {"A": 0.6, "B": 0.25, "C": 0.15}

Mix = dict[str, float]


@dataclass(frozen=True)
class SegmentSpec:
    """How one kind of licit sender posts: mail classes, channels, postage, service, weights, declarations."""

    name: str
    sender_kind: str
    class_weight: Mix
    abroad_weight: float
    channel_by_class: dict[str, Mix]
    postage_by_channel: dict[str, Mix]
    service_by_class: dict[str, Mix]
    weight_g_by_class: dict[str, tuple[float, float]]
    declared_mix: Mix
    anonymous_share: float = 0.0
    email_share: float = 0.0
    business_addressee_share: float = 0.0
    writes_to_contacts: bool = False


_TRACKED: dict[str, Mix] = {"C": {"tracked": 0.95, "insured": 0.05}, "E": {"tracked": 1.0}}

SEGMENTS: tuple[SegmentSpec, ...] = (
    SegmentSpec(
        name="webshop",
        sender_kind="webshop",
        class_weight={"U": 0.35, "C": 0.6, "E": 0.05},
        abroad_weight=0.6,
        channel_by_class={
            "U": {"business_pickup": 0.8, "counter": 0.1, "parcel_locker": 0.1},
            "C": {"business_pickup": 0.85, "counter": 0.1, "parcel_locker": 0.05},
            "E": {"business_pickup": 0.9, "counter": 0.1},
        },
        postage_by_channel={
            "business_pickup": {"contract_account": 0.85, "franking_machine": 0.15},
            "counter": {"contract_account": 0.5, "online_label": 0.5},
            "parcel_locker": {"online_label": 0.7, "contract_account": 0.3},
        },
        service_by_class={"U": {"untracked": 0.6, "tracked": 0.4}, **_TRACKED},
        weight_g_by_class={"U": (180, 0.7), "C": (1400, 0.8), "E": (900, 0.7)},
        declared_mix={"sale_of_goods": 0.97, "commercial_sample": 0.03},
        email_share=0.85,
    ),
    SegmentSpec(
        name="small_seller",
        sender_kind="seller",
        class_weight={"U": 0.45, "C": 0.5, "E": 0.05},
        abroad_weight=0.7,
        channel_by_class={
            "U": {"mailbox": 0.35, "counter": 0.3, "parcel_locker": 0.25, "business_pickup": 0.1},
            "C": {"parcel_locker": 0.45, "counter": 0.45, "business_pickup": 0.1},
            "E": {"counter": 1.0},
        },
        postage_by_channel={
            "mailbox": {"stamps": 0.6, "online_label": 0.4},
            "counter": {"online_label": 0.5, "franking_machine": 0.5},
            "parcel_locker": {"online_label": 1.0},
            "business_pickup": {"contract_account": 0.7, "online_label": 0.3},
        },
        service_by_class={"U": {"untracked": 0.55, "tracked": 0.45}, **_TRACKED},
        weight_g_by_class={"U": (120, 0.8), "C": (900, 0.8), "E": (600, 0.7)},
        declared_mix={"sale_of_goods": 0.6, "gift": 0.2, "commercial_sample": 0.08, "other": 0.12},
        email_share=0.3,
    ),
    SegmentSpec(
        name="private",
        sender_kind="person",
        class_weight={"U": 0.78, "C": 0.2, "E": 0.02},
        abroad_weight=0.5,
        channel_by_class={
            "U": {"mailbox": 0.75, "counter": 0.25},
            "C": {"counter": 0.55, "parcel_locker": 0.45},
            "E": {"counter": 1.0},
        },
        postage_by_channel={
            "mailbox": {"stamps": 0.95, "online_label": 0.05},
            "counter": {"stamps": 0.3, "franking_machine": 0.4, "online_label": 0.3},
            "parcel_locker": {"online_label": 1.0},
        },
        service_by_class={"U": {"untracked": 0.9, "registered": 0.07, "tracked": 0.03}, **_TRACKED},
        weight_g_by_class={"U": (24, 0.6), "C": (1800, 0.8), "E": (700, 0.7)},
        declared_mix={"none": 0.5, "documents": 0.2, "gift": 0.3},
        anonymous_share=0.25,
        writes_to_contacts=True,
    ),
    SegmentSpec(
        name="returns",
        sender_kind="person",
        class_weight={"U": 0.2, "C": 0.8, "E": 0.0},
        abroad_weight=0.9,
        channel_by_class={"U": {"mailbox": 0.5, "counter": 0.5}, "C": {"parcel_locker": 0.5, "counter": 0.5}},
        postage_by_channel={
            channel: {"online_label": 0.8, "contract_account": 0.2}
            for channel in ("mailbox", "counter", "parcel_locker")
        },
        service_by_class={"U": {"tracked": 0.7, "untracked": 0.3}, **_TRACKED},
        weight_g_by_class={"U": (250, 0.6), "C": (1100, 0.8)},
        declared_mix={"returned_goods": 1.0},
        business_addressee_share=1.0,
    ),
    SegmentSpec(
        name="business_mail",
        sender_kind="business_mail",
        class_weight={"U": 0.97, "C": 0.03, "E": 0.0},
        abroad_weight=0.08,
        channel_by_class={
            "U": {"business_pickup": 0.75, "counter": 0.15, "mailbox": 0.1},
            "C": {"business_pickup": 1.0},
        },
        postage_by_channel={
            "business_pickup": {"franking_machine": 0.6, "contract_account": 0.4},
            "counter": {"franking_machine": 1.0},
            "mailbox": {"franking_machine": 0.7, "stamps": 0.3},
        },
        service_by_class={
            "U": {"untracked": 0.8, "registered": 0.15, "tracked": 0.05},
            "C": {"tracked": 1.0},
        },
        weight_g_by_class={"U": (35, 0.5), "C": (1200, 0.7)},
        declared_mix={"documents": 0.9, "commercial_sample": 0.1},
        business_addressee_share=0.2,
    ),
)
SEGMENT_NAMES: tuple[str, ...] = tuple(s.name for s in SEGMENTS)
SEGMENT_BY_NAME: dict[str, SegmentSpec] = {s.name: s for s in SEGMENTS}


def joint_table(config: ScenarioConfig) -> tuple[list[tuple[int, str, str]], np.ndarray]:
    """Cells (segment index, mail class, destination) and their probabilities.

    Each segment's own propensities seed the table; iterative proportional fitting then rakes it to the
    configured segment, mail-class and destination shares, keeping the segments' odds ratios.
    """
    destinations = config.destination_mix
    home = config.posting_country
    countries = list(destinations)
    seed = np.zeros((len(SEGMENTS), len(MAIL_CLASSES), len(countries)))
    for s, spec in enumerate(SEGMENTS):
        for c, mail_class in enumerate(MAIL_CLASSES):
            for d, country in enumerate(countries):
                abroad = spec.abroad_weight * destinations[country] if country != home else 1.0
                ems = EMS_DOMESTIC_FACTOR if mail_class == "E" and country == home else 1.0
                seed[s, c, d] = spec.class_weight.get(mail_class, 0.0) * abroad * ems
    targets = (
        np.array([config.segment_mix.get(name, 0.0) for name in SEGMENT_NAMES]),
        np.array([config.mail_class_mix.get(m, 0.0) for m in MAIL_CLASSES]),
        np.array([destinations[c] for c in countries]),
    )
    table = _rake(seed, tuple(t / t.sum() for t in targets))
    cells = [(s, m, d) for s in range(len(SEGMENTS)) for m in MAIL_CLASSES for d in countries]
    return cells, table.ravel() / table.sum()


def _rake(seed: np.ndarray, targets: tuple[np.ndarray, ...]) -> np.ndarray:
    table = seed / seed.sum()
    for _ in range(RAKING_ROUNDS):
        for axis, target in enumerate(targets):
            others = tuple(a for a in range(table.ndim) if a != axis)
            margin = table.sum(axis=others)
            factor = np.divide(target, margin, out=np.zeros_like(target), where=margin > 0)
            shape = [1] * table.ndim
            shape[axis] = -1
            table = table * factor.reshape(shape)
    raked: np.ndarray = table
    return raked
