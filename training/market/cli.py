"""`python -m training market ...`: calibration report, market generation, listing import, profile learning."""

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from training.market.estimates import DEFAULT_MONTHLY_ORDERS
from training.market.export import write_listings_jsonl, write_orders_csv
from training.market.generator import GeneratedMarket, MarketSettings, generate_market
from training.market.layouts import Layout, import_listings
from training.market.prices import DEFAULT_BTC_EUR
from training.market.profile import profile_from_listings_file, profile_of_market
from training.market.report import write_report

app = typer.Typer(
    help="Market intelligence: cryptomarket listings in, vendor shipping patterns out.", no_args_is_help=True
)


Seed = Annotated[int, typer.Option(help="Seed of the generated market")]
Months = Annotated[int, typer.Option(min=1, help="Months of orders to generate")]
Growth = Annotated[float, typer.Option(help="Monthly growth of order rates, e.g. 0.02")]
Start = Annotated[str, typer.Option(help="First day of the generated period (ISO date)")]
BtcEur = Annotated[float, typer.Option(help="EUR per bitcoin for BTC prices")]
LayoutOption = Annotated[Layout | None, typer.Option(help="Layout of the listing file (default: detected)")]


def _generate(seed: int, months: int, growth: float, start: str) -> GeneratedMarket:
    try:
        first = date.fromisoformat(start)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date: {start}", param_hint="--start") from exc
    return generate_market(MarketSettings(seed=seed, months=months, start=first, monthly_growth=growth))


@app.command()
def report(
    out: Annotated[Path, typer.Option(help="HTML file to write")] = Path("market-report.html"),
    seed: Seed = 0,
    months: Months = 3,
    growth: Growth = 0.0,
    start: Start = "2016-01-01",
) -> None:
    """Generate the calibrated market and report its figures against market-facts.md; exit 1 on any FAIL."""
    result = write_report(_generate(seed, months, growth, start), out)
    for line in result.lines:
        verdict = "PASS" if line.passed else "FAIL"
        typer.echo(
            f"{verdict}  {line.target.label}: {line.value:.2f} {line.target.unit} (target {line.target.stated})"
        )
    typer.echo(f"report written to {out}")
    if not result.passed:
        raise typer.Exit(1)


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Argument(help="Directory for listings.jsonl and orders.csv")],
    seed: Seed = 0,
    months: Months = 3,
    growth: Growth = 0.0,
    start: Start = "2016-01-01",
) -> None:
    """Write a generated market: listings in the contract (orders as feedback records) and every order."""
    market = _generate(seed, months, growth, start)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_listings_jsonl(out_dir / "listings.jsonl", market.listings, market.transactions)
    write_orders_csv(out_dir / "orders.csv", market.listings, market.transactions)
    typer.echo(
        f"{len(market.listings):,} listings and {len(market.transactions):,} orders written to {out_dir}"
    )


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Listing file to read")],
    layout: LayoutOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the normalised listings here (contract JSONL)")
    ] = None,
    btc_eur: BtcEur = DEFAULT_BTC_EUR,
    market: Annotated[str, typer.Option(help="Market name for dump rows that carry none")] = "dump",
) -> None:
    """Read a listing file, report rows read, kept and skipped, and optionally write the normalised listings."""
    result = import_listings(path, layout, btc_eur, market)
    for line in result.report.summary():
        typer.echo(line)
    if out is not None:
        write_listings_jsonl(out, result.listings)
        typer.echo(f"{len(result.listings):,} normalised listings written to {out}")


@app.command()
def profile(
    out: Annotated[Path, typer.Option(help="Market profile JSON to write")] = Path("market_profile.json"),
    listings: Annotated[
        Path | None,
        typer.Option(
            exists=True, dir_okay=False, help="Learn from this listing file, not a generated market"
        ),
    ] = None,
    layout: LayoutOption = None,
    btc_eur: BtcEur = DEFAULT_BTC_EUR,
    monthly_orders: Annotated[
        float, typer.Option(help="Drug orders a month, for listings without orders")
    ] = DEFAULT_MONTHLY_ORDERS,
    seed: Seed = 0,
    months: Months = 3,
) -> None:
    """Learn the market profile (from a listing file, or from the generated market) and save it with its hash."""
    if listings is None:
        learned = profile_of_market(_generate(seed, months, 0.0, "2016-01-01"))
    else:
        learned = profile_from_listings_file(listings, layout, btc_eur, monthly_orders)
    digest = learned.save(out)
    typer.echo(f"{len(learned.corridors):,} corridors written to {out} (sha256 {digest})")
    for note in learned.notes:
        typer.echo(note)
