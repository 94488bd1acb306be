"""Start-up errors name the setting that is wrong, never the secret or credentials it was given."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings

SHORT_SECRET = "too-short-secret-4f1c9a"
DATABASE_PASSWORD = "db-password-8e2b7d"


def test_a_too_short_secret_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings.model_validate(
            {
                "environment": "production",
                "pseudonym_secret": SHORT_SECRET,
                "database_url": f"postgresql://radar:{DATABASE_PASSWORD}@db.internal/radar",
            }
        )
    message = str(refused.value)
    assert "PARCEL_RADAR_PSEUDONYM_SECRET must be at least 32 bytes" in message
    assert SHORT_SECRET not in message
    assert DATABASE_PASSWORD not in message


def test_the_start_command_refuses_a_short_secret_without_printing_it() -> None:
    env = {
        **os.environ,
        "PARCEL_RADAR_ENVIRONMENT": "production",
        "PARCEL_RADAR_PSEUDONYM_SECRET": SHORT_SECRET,
        "PARCEL_RADAR_DATABASE_URL": f"postgresql://radar:{DATABASE_PASSWORD}@127.0.0.1:1/radar",
    }
    done = subprocess.run(
        [sys.executable, "-m", "app", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "must be at least 32 bytes" in output
    assert SHORT_SECRET not in output
    assert DATABASE_PASSWORD not in output


def test_a_secret_file_sets_the_pseudonym_secret(tmp_path: Path) -> None:
    secret = "file-pseudonym-secret-with-more-than-32-bytes"
    (tmp_path / "parcel_radar_pseudonym_secret").write_text(secret + "\n")
    settings = Settings(_secrets_dir=tmp_path, environment="production")
    assert settings.pseudonym_secret.get_secret_value() == secret
