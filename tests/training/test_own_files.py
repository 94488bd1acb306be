"""Training and evaluation on an analyst's own files, written through the public contracts (no simulator)."""

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from model.artifact import ModelArtifact
from model.s10 import make_s10
from model.shipment import Outcome, Shipment
from training.cli import cli

START = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 42
DESTINATIONS = ["NL", "NL", "NL", "DE", "BE", "GB", "FR", "US"]
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
        vendor = rng.random() < 0.01
        document = _item(10_000_000 + serial, when, vendor=vendor, rng=rng)
        Shipment.model_validate(document)  # the contract, not a hand-made shortcut
        shipments.append(document)
        if rng.random() < (0.3 if vendor else 0.01):
            result = (
                {"result": "seized", "substance_category": "ecstasy"}
                if vendor
                else {"result": "nothing_found"}
            )
            outcome = {
                "item_id": document["item_id"],
                "posted_on": when.date().isoformat(),
                "inspected_at": (when + timedelta(days=2)).isoformat(),
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
        for vendor, title, category, price, origin, to, options in LISTINGS:
            writer.writerow(["dream", vendor, title, category, price, "EUR", origin, to, options, 300])
    return paths


@pytest.mark.slow
def test_train_and_evaluate_from_your_own_files(tmp_path: Path) -> None:
    shipments, outcomes, listings = _write_files(tmp_path)
    runner = CliRunner()
    trained = runner.invoke(
        cli,
        [
            "train",
            "--shipments",
            str(shipments),
            "--outcomes",
            str(outcomes),
            "--listings",
            str(listings),
            "--out",
            str(tmp_path / "model"),
        ],
    )
    assert trained.exit_code == 0, trained.output
    artifact = ModelArtifact.load(tmp_path / "model")
    assert artifact.manifest.training["items"] == DAYS * 600
    assert artifact.manifest.training["confirmed_findings"] > 20
    assert artifact.profile.corridor("NL", "GB") is not None
    assert (tmp_path / "model" / "report.html").read_text().count("<img") >= 2
    assert "confirmed findings" in str(artifact.manifest.metrics["test_labels"])
    evaluated = runner.invoke(
        cli,
        [
            "evaluate",
            "--model",
            str(tmp_path / "model"),
            "--shipments",
            str(shipments),
            "--outcomes",
            str(outcomes),
            "--out",
            str(tmp_path / "evaluation"),
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    evaluation = orjson.loads((tmp_path / "evaluation" / "evaluation.json").read_bytes())
    assert evaluation["positives"] > 5
    at_one_percent = next(row for row in evaluation["model"] if row["rate"] == 0.01)
    assert at_one_percent["recall"] >= 0.5  # the planted vendor pattern is found on the analyst's own data
