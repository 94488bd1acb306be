"""`python -m training evaluate` and `evaluate-worlds`: an artifact on other data, or on unseen simulated worlds."""

from datetime import datetime
from pathlib import Path
from typing import Annotated

import numpy as np
import orjson
import typer
from rich.console import Console
from rich.table import Table

from model.artifact import ModelArtifact
from training.baselines import TargetingRules
from training.evaluate import HEADLINE_RATE, Evaluation, Truth, evaluate, evaluation_period, write_scores
from training.replay import replay
from training.report import render_report, targets, with_interval
from training.simulate import ScenarioConfig
from training.unseen import evaluate_unseen_worlds, refuse_trained_seeds
from training.unseen_report import headline_text, render_worlds_report

console = Console()
JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY
WORKERS_OPTION = typer.Option(
    min=1, help="Processes that validate shipments and compute history-free features (history stays in order)"
)
RULES_LANE_OPTION = typer.Option(
    "--rules-lane",
    help="JSON file of the partner's targeting criteria for the rules lane (default: the project's)",
)


def print_evaluation(evaluation: Evaluation) -> None:
    """The evaluation as a console table with 95% Wilson intervals, then the targets with their status."""
    table = Table(title=f"Test period: {evaluation.items:,} items, {evaluation.positives:,} drug items")
    for column in (
        "inspection rate",
        "model recall",
        "rules lane",
        "market profile",
        "random",
        "model precision",
    ):
        table.add_column(column, justify="right")
    for index, row in enumerate(evaluation.model):
        baselines = (evaluation.rules_lane[index], evaluation.market_profile[index], evaluation.random[index])
        table.add_row(
            f"{row.rate:.2%}",
            with_interval(row.recall, row.recall_low, row.recall_high),
            *(with_interval(b.recall, b.recall_low, b.recall_high) for b in baselines),
            with_interval(row.precision, row.precision_low, row.precision_high, 4),
        )
    console.print(table)
    if not evaluation.ground_truth:
        console.print(f"labels: {evaluation.labels}")
    if evaluation.propensity is not None:
        estimate = evaluation.propensity.selectors["model"]
        at = next(e for e in estimate if e.rate == HEADLINE_RATE)
        console.print(
            f"inverse-propensity estimate from {evaluation.propensity.random_findings} random-lane findings:"
            f" model recall at 1% {with_interval(at.recall, at.recall_low, at.recall_high)}"
        )
    for line, measured, target, status in targets(evaluation):
        console.print(f"{status:>5}  {line}: {measured:.3f} (target {target})")


def _rules(path: Path | None) -> TargetingRules:
    try:
        return TargetingRules.read(path) if path else TargetingRules()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise typer.BadParameter(f"{path}: {exc}") from exc


def evaluate_command(
    model: Annotated[Path, typer.Option(help="Artifact directory")],
    shipments: Annotated[Path, typer.Option(help="Shipments JSONL")],
    out: Annotated[Path, typer.Option(help="Directory for evaluation.json, report.html and scores.csv")],
    outcomes: Annotated[Path | None, typer.Option(help="Outcomes JSONL")] = None,
    truth: Annotated[Path | None, typer.Option(help="Ground truth JSONL (simulations only)")] = None,
    test_share: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Evaluate the last share of the period (history warms up before)"
        ),
    ] = 0.5,
    test_from: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Evaluate items posted from this UTC date on"),
    ] = None,
    rules_lane: Annotated[Path | None, RULES_LANE_OPTION] = None,
    workers: Annotated[int, WORKERS_OPTION] = 2,
) -> None:
    """Evaluate an artifact on other data, e.g. a robustness run in which vendors adapt faster."""
    artifact = ModelArtifact.load(model)
    rules = _rules(rules_lane)
    data = replay(shipments, outcomes, artifact.profile, workers=workers)
    test = evaluation_period(data, share=test_share, start=test_from.date() if test_from else None)
    if not len(test):
        raise typer.BadParameter("no items in the test period")
    raw = np.asarray(artifact.raw_scores(test.features), dtype=np.float64)
    labels = Truth.read(truth) if truth else None
    evaluation = evaluate(test, raw, artifact.calibration, truth=labels, targeting_rules=rules)
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_bytes(orjson.dumps(evaluation.to_dict(), option=JSON_OPTIONS))
    (out / "report.html").write_text(
        render_report(artifact.version, dict(artifact.manifest.training), evaluation)
    )
    write_scores(out / "scores.csv", test, raw, artifact.calibration, labels)
    print_evaluation(evaluation)
    console.print(f"report: {out / 'report.html'}; per-item scores: {out / 'scores.csv'}")


def _seeds(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise typer.BadParameter("seeds are comma-separated integers, e.g. 5,6,7,8,9") from exc


def evaluate_worlds_command(
    model: Annotated[Path, typer.Option(help="Artifact directory")],
    out: Annotated[Path, typer.Option(help="Directory for evaluation.json and report.html")],
    seeds: Annotated[
        str, typer.Option(help="Simulator seeds of the unseen worlds, comma-separated")
    ] = "5,6,7,8,9",
    days: Annotated[int, typer.Option(min=1)] = ScenarioConfig.days,
    items_per_day: Annotated[int, typer.Option(min=100)] = ScenarioConfig.items_per_day,
    illicit_share: Annotated[float, typer.Option()] = ScenarioConfig.illicit_share,
    test_share: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.5,
    rules_lane: Annotated[Path | None, RULES_LANE_OPTION] = None,
    workers: Annotated[int, WORKERS_OPTION] = 2,
) -> None:
    """Evaluate an artifact on simulated worlds it was never trained on: per world and as the mean over worlds."""
    artifact = ModelArtifact.load(model)
    world_seeds, rules = _seeds(seeds), _rules(rules_lane)
    try:
        scenario = ScenarioConfig(days=days, items_per_day=items_per_day, illicit_share=illicit_share)
        refuse_trained_seeds(artifact, world_seeds)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    evaluation = evaluate_unseen_worlds(
        artifact,
        world_seeds,
        scenario,
        test_share=test_share,
        targeting_rules=rules,
        workers=workers,
        progress=console.print,
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_bytes(orjson.dumps(evaluation.to_dict(), option=JSON_OPTIONS))
    (out / "report.html").write_text(render_worlds_report(evaluation))
    console.print(headline_text(evaluation))
    console.print(f"report: {out / 'report.html'}")
