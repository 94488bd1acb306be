"""The `simulate` command writes the files and prints measured shares next to their targets."""

import json
from pathlib import Path

from typer.testing import CliRunner

from model.market_profile import MarketProfile
from training.simulate.cli import app


def test_simulate_command_writes_files_and_prints_the_summary(profile: MarketProfile, tmp_path: Path) -> None:
    profile_path = tmp_path / "profile.json"
    profile.save(profile_path)
    out = tmp_path / "sim"
    arguments = ["--days", "2", "--seed", "1", "--out", str(out), "--items-per-day", "1000"]
    arguments += ["--profile", str(profile_path), "--workers", "1", "--no-progress"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "illicit_share" in result.output
    assert "inspection_rate" in result.output
    for name in ("shipments.jsonl", "outcomes.jsonl", "truth.jsonl"):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == {
        "seed": 1,
        "start": "2025-10-06",
        "days": 2,
        "items_per_day": 1000,
        "posting_country": "NL",
    }


def test_simulate_command_rejects_a_bad_share(profile: MarketProfile, tmp_path: Path) -> None:
    profile_path = tmp_path / "profile.json"
    profile.save(profile_path)
    arguments = ["--days", "1", "--out", str(tmp_path / "sim"), "--profile", str(profile_path)]
    result = CliRunner().invoke(app, [*arguments, "--illicit-share", "0.5", "--no-progress"])
    assert result.exit_code != 0
