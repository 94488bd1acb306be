"""The image's install step, `pip install .`: the wheel holds every module, migration, template and static file
of the three packages, and the service's migrations run from the installed copy."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "model", "training")
NOT_SHIPPED = shutil.ignore_patterns("__pycache__", "*.pyc")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from what the Dockerfile copies, in a copy of its own (the work tree gets no build/)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=NOT_SHIPPED)
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), "."]
    built = subprocess.run(command, cwd=source, capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    (path,) = out.glob("parcel_radar-*.whl")
    return path


def shipped_files(package: str) -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_holds_every_file_of_the_packages(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in PACKAGES:
        assert shipped_files(package) - names == set()
    assert "app/migrations/env.py" in names
    assert {"app/templates/base.html", "app/static/style.css", "training/simulate/__init__.py"} <= names
    assert any(n.startswith("app/migrations/versions/") and n.endswith(".py") for n in names)


def test_migrations_run_from_the_installed_copy(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARCEL_RADAR_")},
        "PYTHONPATH": str(site),  # ahead of the work tree's editable install
        "PARCEL_RADAR_DATABASE_URL": f"sqlite:///{tmp_path / 'radar.db'}",
    }
    where = subprocess.run(
        [sys.executable, "-c", "import app.db.migrate as m; print(m.MIGRATIONS_DIR)"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert Path(where.stdout.strip()) == site / "app" / "migrations"
    migrated = subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "newest schema" in migrated.stdout
