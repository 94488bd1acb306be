"""The import directions of ARCHITECTURE.md: model/ is the core, app/ and training/ never import each other."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "model": {"fastapi", "starlette", "sqlalchemy", "alembic", "app", "training", "uvicorn"},
    "training": {"app", "fastapi", "sqlalchemy"},
    "app": {"training", "sklearn", "matplotlib"},
}
# Retraining reads the service's database (feature log, outcomes, registry) with SQLAlchemy Core, there only.
ALLOWED = {"training/service_db.py": {"sqlalchemy"}, "training/from_database.py": {"sqlalchemy"}}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_import_direction(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules found in {package}/"
    found = {str(path.relative_to(ROOT)): _imported_roots(path) & FORBIDDEN[package] for path in files}
    offenders = {
        name: sorted(roots - ALLOWED.get(name, set()))
        for name, roots in found.items()
        if roots - ALLOWED.get(name, set())
    }
    assert offenders == {}
