"""Training and evaluation on an analyst's own files, written through the public contracts (no simulator)."""

import csv
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from typer.testing import CliRunner

from model.artifact import ModelArtifact
from model.s10 import make_s10
from model.shipment import Outcome, Shipment
from training.cli import cli
from training.replay import replay

START = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 42
DESTINATIONS = ["NL", "NL", "NL", "DE", "BE", "GB", "FR", "US"]
RANDOM_LANE_SHARE = 0.04  # a random inspection lane: its findings say how many drug items went unseen
VENDOR_SHARE = 0.01
VENDOR_SENDERS = [("Mark Jansen", "Dorpsstraat 4", "1012 AB"), ("M. de Boer", "Kerkweg 17", "1013 CD")]
LISTINGS = [
    ("NLsupplier", "100 x Tesla XTC 250mg", "ecstasy", "120", "NL", "GB;DE;US;FR", "letter untracked"),
    (
        "NLsupplier",
        "50 x Blue Punisher",
        "ecstasy",
        "80",
        "NL",
        "worldwide",
        "letter untracked;letter tracked",
    ),
    (
        "DutchGreen",
        "10g Amnesia Haze",
        "Drugs/Cannabis/Weed",
        "90",
        "Netherlands",
        "Europe",
        "letter untracked",
    ),
    ("DutchGreen", "28g Amnesia Haze", "cannabis", "210", "NL", "DE;BE;FR;GB", "parcel tracked"),
    ("SpeedNL", "5g Speed paste", "Drugs/Stimulants/Speed", "40", "NL", "GB;DE", "letter untracked"),
]


def _party(name: str, street: str, postcode: str, country: str) -> dict[str, Any]:
    return {"name": name, "address_lines": [street], "postcode": postcode, "city": "Town", "country": country}


def _item(serial: int, when: datetime, *, vendor: bool, rng: random.Random) -> dict[str, Any]:
    destination = rng.choice(["GB", "DE", "US", "FR"]) if vendor else rng.choice(DESTINATIONS)
    if vendor:
        name, street, postcode = rng.choice(VENDOR_SENDERS)
        sender = _party(name, street, postcode, "NL")
        weight, channel, category, value = rng.uniform(0.02, 0.06), "mailbox", "gift", 10.0
    else:
        n = rng.randrange(4000)
        sender = _party(f"Sender {n}", f"Straat {n % 300}", f"{1000 + n % 900} XY", "NL")
        weight, channel = rng.uniform(0.02, 2.0), rng.choice(["counter", "mailbox", "parcel_locker"])
        category, value = rng.choice(["gift", "sale_of_goods", "documents"]), round(rng.uniform(5, 80), 2)
    mail_class = "U" if weight < 1.9 else "C"
    declaration = None
    if destination not in ("NL", "DE", "BE", "FR"):
        declaration = {
            "category": category,
            "declared_value": value,
            "currency": "EUR",
            "contents": [
                {
                    "description": "present" if vendor else "book",
                    "quantity": 1,
                    "net_weight_kg": round(weight * 0.8, 3),
                    "value": value,
                    "currency": "EUR",
                }
            ],
        }
    return {
        "item_id": make_s10("RR" if mail_class == "U" else "CP", serial, "NL"),
        "mail_class": mail_class,
        "service": "untracked" if vendor else rng.choice(["untracked", "tracked"]),
        "gross_weight_kg": round(weight, 3),
        "posting": {
            "posted_at": when.isoformat(),
            "country": "NL",
            "channel": channel,
            "postage_method": "stamps" if vendor else rng.choice(["stamps", "online_label"]),
        },
        "sender": sender,
        "addressee": _party(
            f"Buyer {rng.randrange(10**6)}", f"{rng.randrange(99)} Road", "12345", destination
        ),
        "declaration": declaration,
    }


def _write_files(directory: Path) -> tuple[Path, Path, Path]:
    rng = random.Random(11)
    shipments, outcomes = [], []
    for serial in range(DAYS * 600):
        when = START + timedelta(days=serial // 600, seconds=rng.randrange(8 * 3600, 20 * 3600))
        vendor = rng.random() < VENDOR_SHARE
        document = _item(10_000_000 + serial, when, vendor=vendor, rng=rng)
        Shipment.model_validate(document)  # the contract, not a hand-made shortcut
        shipments.append(document)
        lane = "random" if rng.random() < RANDOM_LANE_SHARE else None
        if lane is None and rng.random() < (0.3 if vendor else 0.01):
            lane = "rule"
        if lane is not None:
            result = (
                {"result": "seized", "substance_category": "ecstasy"}
                if vendor
                else {"result": "nothing_found"}
            )
            outcome = {
                "item_id": document["item_id"],
                "posted_on": when.date().isoformat(),
                "inspected_at": (when + timedelta(days=2)).isoformat(),
                "selection_reason": lane,
                **result,
            }
            Outcome.model_validate(outcome)
            outcomes.append(outcome)
    shipments.sort(key=lambda d: d["posting"]["posted_at"])
    paths = directory / "shipments.jsonl", directory / "outcomes.jsonl", directory / "listings.csv"
    paths[0].write_bytes(b"".join(orjson.dumps(d, option=orjson.OPT_APPEND_NEWLINE) for d in shipments))
    paths[1].write_bytes(b"".join(orjson.dumps(o, option=orjson.OPT_APPEND_NEWLINE) for o in outcomes))
    with paths[2].open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "market",
                "vendor",
                "title",
                "category",
                "price",
                "currency",
                "ships_from",
                "ships_to",
                "shipping_options",
                "feedback_count",
            ]
        )
        for seller, title, category, price, origin, to, options in LISTINGS:
            writer.writerow(["dream", seller, title, category, price, "EUR", origin, to, options, 300])
    return paths


@dataclass(frozen=True)
class OwnFiles:
    shipments: Path
    outcomes: Path
    listings: Path
    model: Path


def _train(files: tuple[Path, Path, Path], out: Path, *extra: str) -> None:
    shipments, outcomes, listings = files
    arguments = [
        "train",
        "--shipments",
        str(shipments),
        "--outcomes",
        str(outcomes),
        "--listings",
        str(listings),
    ]
    trained = CliRunner().invoke(cli, [*arguments, "--out", str(out), *extra])
    assert trained.exit_code == 0, trained.output


@pytest.fixture(scope="module")
def own_files(tmp_path_factory: pytest.TempPathFactory) -> OwnFiles:
    directory = tmp_path_factory.mktemp("own_files")
    files = _write_files(directory)
    _train(files, directory / "model")
    return OwnFiles(*files, model=directory / "model")


def _vendor_items(shipments: Path) -> set[str]:
    vendors = {name for name, _, _ in VENDOR_SENDERS}
    documents = [orjson.loads(line) for line in shipments.read_bytes().splitlines()]
    return {d["item_id"] for d in documents if d["sender"]["name"] in vendors}


@pytest.mark.slow
def test_train_and_evaluate_from_your_own_files(own_files: OwnFiles, tmp_path: Path) -> None:
    artifact = ModelArtifact.load(own_files.model)
    assert artifact.manifest.training["items"] == DAYS * 600
    assert int(artifact.manifest.training["confirmed_findings"]) > 20
    assert artifact.profile.corridor("NL", "GB") is not None
    assert (own_files.model / "report.html").read_text().count("<img") >= 2
    assert "confirmed findings" in str(artifact.manifest.metrics["test_labels"])
    evaluated = CliRunner().invoke(
        cli,
        [
            "evaluate",
            "--model",
            str(own_files.model),
            "--shipments",
            str(own_files.shipments),
            "--outcomes",
            str(own_files.outcomes),
            "--out",
            str(tmp_path / "evaluation"),
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    evaluation = orjson.loads((tmp_path / "evaluation" / "evaluation.json").read_bytes())
    assert evaluation["positives"] > 5
    at_one_percent = next(row for row in evaluation["model"] if row["rate"] == 0.01)
    assert at_one_percent["recall"] >= 0.5  # the planted vendor pattern is found on the analyst's own data


@pytest.mark.slow
def test_probabilities_are_set_by_the_random_lane_and_no_held_item_shows_zero(own_files: OwnFiles) -> None:
    """Findings alone say "the old policy found drugs here"; the random lane sets the level to "carries drugs"."""
    artifact = ModelArtifact.load(own_files.model)
    assert "propensity-weighted findings" in str(artifact.manifest.training["calibration"])
    data = replay(own_files.shipments, own_files.outcomes, artifact.profile)
    probabilities = artifact.predict(data.features)
    assert probabilities.min() > 0.0
    assert probabilities[data.found].min() > 0.001, "a held item with a finding is shown as (nearly) 0%"
    vendors = _vendor_items(own_files.shipments)
    prevalence = len(vendors) / len(data)
    assert 0.5 <= probabilities.mean() / prevalence <= 2.0
    is_vendor = np.array([item_id in vendors for item_id in data.item_ids])
    assert probabilities[is_vendor].mean() > 20 * probabilities[~is_vendor].mean()


@pytest.mark.slow
def test_a_shipped_model_is_fine_tuned_on_your_outcomes(
    own_files: OwnFiles, model_dir: Path, tmp_path: Path
) -> None:
    files = (own_files.shipments, own_files.outcomes, own_files.listings)
    _train(files, tmp_path / "tuned", "--init-model", str(model_dir))
    shipped, tuned = ModelArtifact.load(model_dir), ModelArtifact.load(tmp_path / "tuned")
    assert int(tuned.manifest.training["trees"]) > int(shipped.manifest.training["trees"])
    assert float(str(tuned.manifest.metrics["recall_at_1pct"])) >= 0.5
