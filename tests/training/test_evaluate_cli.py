"""`training evaluate` and `training evaluate-worlds` through the real command line."""

import csv
from datetime import UTC, datetime
from pathlib import Path

import orjson
from typer.testing import CliRunner

from model.artifact import ModelArtifact
from training.cli import cli
from training.evaluate import SCORE_COLUMNS

runner = CliRunner()


def test_evaluate_writes_per_item_scores_from_the_test_start_date_with_the_partners_rules(
    tmp_path: Path, model_dir: Path, simulated_dir: Path
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text('{"destinations": ["US", "GB"], "mail_classes": ["U", "C"]}')
    shipments = tmp_path / "shipments.jsonl"  # the feed's first ten days keep the replay short
    lines = (simulated_dir / "shipments.jsonl").read_bytes().splitlines(keepends=True)
    shipments.write_bytes(
        b"".join(line for line in lines if orjson.loads(line)["posting"]["posted_at"] < "2025-10-16")
    )
    out = tmp_path / "evaluation"
    result = runner.invoke(
        cli,
        [
            "evaluate", "--model", str(model_dir), "--shipments", str(shipments),
            "--outcomes", str(simulated_dir / "outcomes.jsonl"), "--truth", str(simulated_dir / "truth.jsonl"),
            "--out", str(out), "--test-from", "2025-10-12", "--rules-lane", str(rules), "--workers", "1",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with (out / "scores.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == SCORE_COLUMNS
    start = datetime(2025, 10, 12, tzinfo=UTC)
    assert all(datetime.fromisoformat(row["posted_at"]) >= start for row in rows)
    evaluation = orjson.loads((out / "evaluation.json").read_bytes())
    assert evaluation["items"] == len(rows) > 0
    assert evaluation["positives"] == sum(row["label"] == "1" for row in rows)
    assert {row["selection_reason"] for row in rows if row["inspected"] == "1"} >= {"random", "rule"}
    assert sorted(evaluation["rules"]["destinations"]) == ["GB", "US"]
    assert evaluation["rules"]["international"] is None  # a partner's file names all of its criteria
    assert "recall_low" in evaluation["model"][0]
    assert "top 5% of scores" in (out / "report.html").read_text()


def test_evaluate_refuses_a_rules_file_that_is_not_criteria(tmp_path: Path, model_dir: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text('{"weight": 3}')
    result = runner.invoke(
        cli,
        ["evaluate", "--model", str(model_dir), "--shipments", str(rules), "--out", str(tmp_path),
         "--rules-lane", str(rules)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "weight" in result.output


def test_evaluate_worlds_reports_the_mean_over_unseen_worlds_and_refuses_the_training_seed(
    tmp_path: Path, model_dir: Path
) -> None:
    trained_on = int(ModelArtifact.load(model_dir).manifest.training["seed"])
    tiny = ["--days", "6", "--items-per-day", "600", "--illicit-share", "0.01", "--workers", "1"]
    refused = runner.invoke(
        cli,
        [
            "evaluate-worlds",
            "--model",
            str(model_dir),
            "--out",
            str(tmp_path),
            "--seeds",
            f"{trained_on},40",
            *tiny,
        ],
    )
    assert refused.exit_code == 2
    assert "trained on" in refused.output
    out = tmp_path / "worlds"
    result = runner.invoke(
        cli, ["evaluate-worlds", "--model", str(model_dir), "--out", str(out), "--seeds", "40,41", *tiny]
    )
    assert result.exit_code == 0, result.output
    evaluation = orjson.loads((out / "evaluation.json").read_bytes())
    assert [world["seed"] for world in evaluation["worlds"]] == [40, 41]
    headline = next(row for row in evaluation["recall"]["model"] if row["rate"] == 0.01)
    per_world = [next(r for r in w["selectors"]["model"] if r["rate"] == 0.01) for w in evaluation["worlds"]]
    assert headline["recall"]["mean"] == sum(r["recall"] for r in per_world) / 2
    assert headline["pooled"]["positives"] == sum(w["positives"] for w in evaluation["worlds"])
    assert "mean over 2 unseen worlds" in (out / "report.html").read_text()
