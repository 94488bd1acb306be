"""`python -m app models ...`: register, list, promote, roll back, shadow and compare model versions."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.db.engine import one_off_session
from app.errors import AppError
from app.services import registry
from app.services.shadow import ShadowComparison, compare
from app.settings import get_settings
from model.artifact import ArtifactError, read_artifact_files

models_cli = typer.Typer(help="The model registry: every worker serves its champion.", no_args_is_help=True)
console = Console()
ACTOR = "cli"
LISTED_METRICS = {"recall_at_1pct": "recall@1%", "precision_at_1pct": "precision@1%", "pr_auc": "PR AUC"}


def _refused(exc: Exception) -> typer.Exit:
    detail = exc.detail if isinstance(exc, AppError) else str(exc)
    console.print(f"[red]refused: {detail}[/red]")
    return typer.Exit(1)


@models_cli.command("register")
def register_command(
    directory: Path,
    promote: Annotated[bool, typer.Option("--promote", help="Make it the champion at once")] = False,
    shadow: Annotated[bool, typer.Option("--shadow", help="Score beside the champion from now on")] = False,
) -> None:
    """Verify an artifact directory (every hash in its manifest) and store it in the registry (audited)."""
    if promote and shadow:
        raise typer.BadParameter("choose --promote or --shadow, not both")
    status = registry.ModelStatus.REGISTERED
    status = registry.ModelStatus.CHAMPION if promote else status
    status = registry.ModelStatus.SHADOW if shadow else status
    try:
        with one_off_session(get_settings().database_url) as session, session.begin():
            row = registry.register(session, read_artifact_files(directory), actor=ACTOR, status=status)
    except (ArtifactError, AppError) as exc:
        raise _refused(exc) from exc
    console.print(f"registered {row.version} ({row.status})")


@models_cli.command("list")
def list_command() -> None:
    """Every registered version with its status and the key figures of its manifest."""
    with one_off_session(get_settings().database_url) as session:
        rows = registry.list_versions(session)
    table = Table(title="Model registry")
    for column in ("version", "status", "registered", "promoted", *LISTED_METRICS.values()):
        table.add_column(column)
    for row in rows:
        figures = [row.metrics.get(name) for name in LISTED_METRICS]
        table.add_row(
            row.version,
            row.status,
            f"{row.registered_at:%Y-%m-%d %H:%M}",
            f"{row.promoted_at:%Y-%m-%d %H:%M}" if row.promoted_at else "",
            *(f"{v:.3f}" if isinstance(v, float) else str(v or "") for v in figures),
        )
    Console(width=max(console.width, 132)).print(table)  # a version name is read whole, not cut


@models_cli.command("promote")
def promote_command(version: str) -> None:
    """Make VERSION the champion; every worker switches within PARCEL_RADAR_MODEL_POLL_SECONDS (audited)."""
    try:
        with one_off_session(get_settings().database_url) as session, session.begin():
            registry.promote(session, version, actor=ACTOR)
    except AppError as exc:
        raise _refused(exc) from exc
    console.print(f"{version} is the champion")


@models_cli.command("rollback")
def rollback_command() -> None:
    """Back to the previous champion (audited)."""
    try:
        with one_off_session(get_settings().database_url) as session, session.begin():
            row = registry.rollback(session, actor=ACTOR)
    except AppError as exc:
        raise _refused(exc) from exc
    console.print(f"rolled back: {row.version} is the champion")


@models_cli.command("shadow")
def shadow_command(
    version: Annotated[str | None, typer.Argument(help="The challenger to score beside the champion")] = None,
    off: Annotated[bool, typer.Option("--off", help="Stop shadow scoring")] = False,
) -> None:
    """Score every batch also with VERSION (no effect on decisions), or stop with --off (audited)."""
    if (version is None) == (not off):
        raise typer.BadParameter("give a VERSION or --off")
    try:
        with one_off_session(get_settings().database_url) as session, session.begin():
            registry.set_shadow(session, version, actor=ACTOR)
    except AppError as exc:
        raise _refused(exc) from exc
    console.print(f"{version} scores in shadow" if version else "shadow scoring is off")


@models_cli.command("compare")
def compare_command(
    version: Annotated[str | None, typer.Argument(help="Challenger (default: the current shadow)")] = None,
) -> None:
    """The challenger against the decisions made on the same items: agreement, the held set, recall."""
    settings = get_settings()
    try:
        with one_off_session(settings.database_url) as session:
            result = compare(session, version=version, default_rate=settings.inspection_rate)
    except AppError as exc:
        raise _refused(exc) from exc
    for line in comparison_lines(result):
        console.print(line)


def comparison_lines(result: ShadowComparison) -> list[str]:
    """The comparison in plain lines, as the CLI prints it."""
    lines = [
        f"challenger {result.challenger} on {result.items:,} items scored by {', '.join(result.champions)}",
        f"at an inspection rate of {result.rate:.2%} ({result.held:,} items held by each):",
        f"  same decision on {result.agreement:.2%} of items; rank correlation {result.rank_correlation:.3f}",
        f"  held by the champion only: {result.champion_only:,}; by the challenger only: {result.challenger_only:,}",
    ]
    for name, recall in (("champion", result.champion_recall), ("challenger", result.challenger_recall)):
        lines.append(f"  {name} recall on {recall.describe()}")
    if result.findings < 30:
        lines.append(f"  {result.findings} findings recorded since the shadow started: too few to judge")
    return lines
