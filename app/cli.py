"""Operator commands: migrations, partners and their keys, officers and their tokens, demo credentials."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import orjson
import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cli_models import models_cli
from app.credentials import (
    PartnerKind,
    Role,
    create_officer,
    create_partner,
    disable_officer,
    issue_api_key,
    issue_officer_token,
    officer_for_token,
    partner_for_key,
    revoke_api_key,
)
from app.db.engine import one_off_session
from app.db.migrate import upgrade
from app.db.tables import Officer, Partner
from app.metrics import counted_together
from app.services import audit, retention
from app.services.audit import verify_chain
from app.services.policy_admin import ProposedChange, backtest
from app.services.rules import RuleConditions
from app.settings import get_settings

cli = typer.Typer(help="Parcel Radar service administration.", no_args_is_help=True)
cli.add_typer(models_cli, name="models")
console = Console()
DEMO_CREDENTIALS = Path("var/demo-credentials.json")


@contextmanager
def _session() -> Iterator[Session]:
    """A session on a one-off engine, disposed afterwards (no pooled connection outlives the command)."""
    with one_off_session(get_settings().database_url) as session:
        yield session


@cli.command()
def migrate() -> None:
    """Apply every pending database migration (SQLite or PostgreSQL, from PARCEL_RADAR_DATABASE_URL)."""
    upgrade(get_settings().database_url)
    console.print("database is at the newest schema")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(envvar="PARCEL_RADAR_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PARCEL_RADAR_PORT")] = 8000,
    apply_migrations: Annotated[bool, typer.Option("--migrate/--no-migrate")] = True,
    workers: Annotated[
        int,
        typer.Option(
            envvar="PARCEL_RADAR_WORKERS", min=1, help="Worker processes (each its own engine and model)"
        ),
    ] = 1,
) -> None:
    """Apply migrations, then serve the API with uvicorn (the start command of `make run` and the image).

    Migrations run here, once, before any worker starts; replicas starting together take turns on the
    migration lock (app.db.migrate), so no worker or replica ever serves a half-migrated schema. Workers count
    their metrics together, so a scrape of any of them sees them all (app.metrics.counted_together).
    """
    if apply_migrations:
        upgrade(get_settings().database_url)
    with counted_together(workers):
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            log_config=None,
            access_log=False,  # the app logs each request itself: route template and request id, never the path
        )


@cli.command("create-partner")
def create_partner_command(
    name: str, kind: Annotated[PartnerKind, typer.Option(help="post: S10 ids only; courier: waybills too")]
) -> None:
    """Register a partner and print its first API key (shown once, stored hashed)."""
    with _session() as session, session.begin():
        partner = create_partner(session, name=name, kind=kind)
        key = issue_api_key(session, partner=partner)
    console.print(f"partner {name!r} created; API key (shown once):\n{key}", soft_wrap=True)


@cli.command("issue-key")
def issue_key_command(partner_name: str) -> None:
    """Issue another API key for an existing partner (rotate: issue, deploy it, then revoke the old one)."""
    with _session() as session, session.begin():
        partner = session.scalar(select(Partner).where(Partner.name == partner_name))
        if partner is None:
            raise typer.BadParameter(f"no partner {partner_name!r}")
        key = issue_api_key(session, partner=partner)
    console.print(f"new API key for {partner_name!r} (shown once):\n{key}", soft_wrap=True)


@cli.command("revoke-key")
def revoke_key_command(prefix: str) -> None:
    """Revoke a partner API key by its prefix (the 8 characters after 'prk_')."""
    with _session() as session, session.begin():
        revoke_api_key(session, prefix=prefix)
    console.print(f"key {prefix} revoked")


@cli.command("create-officer")
def create_officer_command(
    username: str,
    role: Annotated[Role, typer.Option()] = Role.OFFICER,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    office: Annotated[str | None, typer.Option(help="Customs office code")] = None,
    valid_days: Annotated[int, typer.Option(help="Token lifetime in days")] = 90,
) -> None:
    """Create a customs user and print a bearer token (shown once, stored hashed)."""
    with _session() as session, session.begin():
        officer = create_officer(
            session, username=username, display_name=name or username, role=role, office=office
        )
        token = issue_officer_token(session, officer=officer, valid_days=valid_days)
    console.print(f"{role.value} {username!r} created; token (shown once):\n{token}", soft_wrap=True)


def _demo_credentials(session: Session) -> dict[str, str]:
    """The stored demo secrets if they still work, else fresh ones for the demo partner and supervisor."""
    stored: dict[str, str] = orjson.loads(DEMO_CREDENTIALS.read_bytes()) if DEMO_CREDENTIALS.exists() else {}
    if (
        partner_for_key(session, stored.get("partner_key", "")) is not None
        and officer_for_token(session, stored.get("officer_token", "")) is not None
    ):
        return stored
    partner = session.scalar(select(Partner).where(Partner.name == "demo-post")) or create_partner(
        session, name="demo-post", kind=PartnerKind.POST
    )
    officer = session.scalar(select(Officer).where(Officer.username == "demo-supervisor")) or create_officer(
        session, username="demo-supervisor", display_name="Demo Supervisor", role=Role.SUPERVISOR
    )
    fresh = {
        "partner_key": issue_api_key(session, partner=partner),
        "officer_token": issue_officer_token(session, officer=officer, valid_days=None),
    }
    DEMO_CREDENTIALS.parent.mkdir(parents=True, exist_ok=True)
    DEMO_CREDENTIALS.write_bytes(orjson.dumps(fresh))
    DEMO_CREDENTIALS.chmod(0o600)
    return fresh


@cli.command()
def demo() -> None:
    """Development only: a demo partner key and supervisor token, kept in var/ and printed at every start."""
    if get_settings().environment != "development":
        raise typer.BadParameter("demo credentials exist only in the development environment")
    with _session() as session, session.begin():
        credentials = _demo_credentials(session)
    console.print(f"demo partner API key:      {credentials['partner_key']}", soft_wrap=True)
    console.print(f"demo supervisor token:     {credentials['officer_token']}", soft_wrap=True)


@cli.command("purge")
def purge_command() -> None:
    """Erase clear-text parties past their retention period and expired idempotency keys (run daily)."""
    with _session() as session, session.begin():
        result = retention.purge(session)
    console.print(
        f"erased parties of {result.parties_erased} cases; deleted {result.idempotency_records_deleted} idempotency records"
    )


@cli.command("anchor-audit")
def anchor_audit() -> None:
    """Append an anchor naming the head of every audit chain (export its hash to keep the log's end in evidence)."""
    with _session() as session, session.begin():
        record = audit.anchor(session)
    console.print(f"audit anchor {record.seq}: {record.hash}")


@cli.command("verify-audit")
def verify_audit() -> None:
    """Check every audit chain and the anchors; exits 1 and names the first broken record if it was altered."""
    with _session() as session:
        checked, broken = verify_chain(session)
    if broken is not None:
        console.print(
            f"[red]audit chain broken at record {broken.seq}: {broken.problem}[/red] ({checked} checked)"
        )
        raise typer.Exit(1)
    console.print(f"audit chain verified: {checked} records")


@cli.command("backtest")
def backtest_command(
    rule: Annotated[
        Path | None, typer.Option(help="JSON file with conditions, action and optional raise_by")
    ] = None,
    inspection_rate: Annotated[
        float | None, typer.Option(help="Replay a different inspection rate instead")
    ] = None,
    days: Annotated[int, typer.Option(help="Days of stored assessments to replay")] = 7,
) -> None:
    """Replay a rule or an inspection rate over stored assessments and print the daily change in held items."""
    if (rule is None) == (inspection_rate is None):
        raise typer.BadParameter("give either --rule or --inspection-rate")
    change = ProposedChange(inspection_rate=inspection_rate)
    if rule is not None:
        document = orjson.loads(rule.read_bytes())
        change = ProposedChange(
            conditions=RuleConditions.model_validate(document["conditions"]),
            action=document.get("action", "hold"),
            raise_by=float(document.get("raise_by", 0.0)),
        )
    with _session() as session:
        rows = backtest(session, change=change, days=days)
    table = Table(title=f"Backtest over the last {days} days")
    for column in ("day", "items", "held", "would hold", "added", "removed", "change"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row["day"],
            str(row["items"]),
            str(row["held"]),
            str(row["would_hold"]),
            str(row["added"]),
            str(row["removed"]),
            f"{row['would_hold'] - row['held']:+d}",
        )
    console.print(table)


@cli.command("disable-officer")
def disable_officer_command(username: str) -> None:
    """Disable an officer: their tokens stop working and their page sessions end at once (audited)."""
    with _session() as session, session.begin():
        disable_officer(session, username=username, actor="cli")
    console.print(f"officer {username!r} disabled")
