"""The `market` sub-app: report, generate, import and profile, driven through Typer's test runner."""

import re
from pathlib import Path

from typer.testing import CliRunner

from model.market_profile import MarketProfile
from training.market.cli import app

from .conftest import FIXTURES

runner = CliRunner()


def test_report_writes_one_self_contained_page(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--out", str(out), "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.count("PASS") == 16
    assert "FAIL" not in result.output
    html = out.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 3
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "Rank of the Netherlands by drug revenue" in html


def test_generate_then_import_then_profile(tmp_path: Path) -> None:
    generated = runner.invoke(app, ["generate", str(tmp_path / "market"), "--months", "1", "--seed", "4"])
    assert generated.exit_code == 0, generated.output
    assert (tmp_path / "market" / "orders.csv").read_text().startswith("listing,vendor,ordered_on,posted_on")
    imported = runner.invoke(
        app, ["import", str(FIXTURES / "agora_sample.csv"), "--out", str(tmp_path / "agora.jsonl")]
    )
    assert imported.exit_code == 0, imported.output
    assert "80 rows read, 79 kept, 1 skipped" in imported.output
    assert "not mapped 2: origin 'Torland' (undisclosed)" in imported.output
    profiled = runner.invoke(
        app, ["profile", "--listings", str(tmp_path / "agora.jsonl"), "--out", str(tmp_path / "profile.json")]
    )
    assert profiled.exit_code == 0, profiled.output
    saved = MarketProfile.load(tmp_path / "profile.json")
    assert saved.sha256() in profiled.output
    assert saved.corridor("NL", "DE") is not None


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", str(tmp_path / "nothing.csv")])
    assert result.exit_code == 2
