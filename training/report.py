"""The evaluation report (HTML with plots) and the model card (Markdown) written into every artifact."""

import html
import math

from training.evaluate import Evaluation
from training.html import figure_html, new_figure, page_html, table_html
from training.metrics import AtRate

SELECTORS = {
    "model": "model",
    "rules_lane": "rules lane",
    "market_profile": "market profile only",
    "random": "random",
}
RECALL_VS_RANDOM_TARGET = 5.0
RECALL_VS_RULES_TARGET = 2.0
ECE_TARGET = 0.02


def targets(evaluation: Evaluation) -> list[tuple[str, float, str, bool]]:
    """The acceptance lines of the report: (what, measured, target, passed)."""
    model = evaluation.headline("model").recall
    random = evaluation.headline("random").recall
    rules = evaluation.headline("rules_lane").recall
    return [
        (
            "recall at 1% / random",
            model / random if random else math.nan,
            f">= {RECALL_VS_RANDOM_TARGET}",
            random > 0 and model >= RECALL_VS_RANDOM_TARGET * random,
        ),
        (
            "recall at 1% / rules lane",
            model / rules if rules else math.inf,
            f">= {RECALL_VS_RULES_TARGET}",
            model >= RECALL_VS_RULES_TARGET * rules,
        ),
        (
            "expected calibration error",
            evaluation.expected_calibration_error,
            f"<= {ECE_TARGET}",
            evaluation.expected_calibration_error <= ECE_TARGET,
        ),
    ]


def _recall_plot(evaluation: Evaluation) -> str:
    figure, axes = new_figure()
    for key, label in SELECTORS.items():
        rows: list[AtRate] = getattr(evaluation, key)
        axes.plot([r.rate * 100 for r in rows], [r.recall for r in rows], marker="o", label=label)
    axes.set_xscale("log")
    axes.set_xlabel("inspection rate (% of items)")
    axes.set_ylabel("recall (share of drug items found)")
    axes.set_ylim(0, 1)
    axes.legend()
    axes.grid(alpha=0.3)
    return figure_html(figure, "Recall against inspection rate for the model and the baselines")


def _reliability_plot(evaluation: Evaluation) -> str:
    figure, axes = new_figure(5, 4)
    predicted = [row["predicted"] for row in evaluation.reliability]
    observed = [row["observed"] for row in evaluation.reliability]
    top = max([*predicted, *observed, 1e-6])
    axes.plot([0, top], [0, top], linestyle="--", color="grey", label="perfect calibration")
    axes.plot(predicted, observed, marker="o", label="model (equal-count bins)")
    axes.set_xlabel("mean predicted probability")
    axes.set_ylabel("observed frequency")
    axes.legend()
    return figure_html(figure, "Reliability diagram of the calibrated probabilities")


def _rate_table(evaluation: Evaluation) -> str:
    rows = []
    for index, at in enumerate(evaluation.model):
        row: list[object] = [f"{at.rate:.2%}"]
        for key in SELECTORS:
            selector: AtRate = getattr(evaluation, key)[index]
            row += [selector.recall, selector.precision]
        rows.append(row)
    headers = ["inspection rate"] + [
        f"{label} {m}" for label in SELECTORS.values() for m in ("recall", "precision")
    ]
    return table_html(headers, rows)


def _breakdowns(evaluation: Evaluation) -> str:
    parts = []
    for name, rows in evaluation.breakdowns.items():
        table = table_html(
            [name, "items", "drug items", "found at 1%", "recall at 1%"],
            [[r["group"], r["items"], r["positives"], r["found_at_1pct"], r["recall_at_1pct"]] for r in rows],
        )
        parts.append(f"<h3>By {html.escape(name.replace('_', ' '))}</h3>{table}")
    return "".join(parts)


def render_report(version: str, training: dict[str, str | int | float], evaluation: Evaluation) -> str:
    """One self-contained HTML page with the targets, curves, calibration and breakdowns."""
    body = [
        f"<p>Model <b>{html.escape(version)}</b>. Test period: {evaluation.items:,} items, "
        f"{evaluation.positives:,} drug items; labels: {html.escape(evaluation.labels)}.</p>",
        "<h2>Targets</h2>",
        table_html(["line", "measured", "target", "result"], targets(evaluation)),
        "<h2>Recall at inspection rates</h2>",
        _recall_plot(evaluation),
        _rate_table(evaluation),
        "<h2>Ranking and calibration</h2>",
        table_html(["selector", "PR-AUC"], [[SELECTORS.get(k, k), v] for k, v in evaluation.pr_auc.items()]),
        f"<p>Expected calibration error: {evaluation.expected_calibration_error:.5f}</p>",
        _reliability_plot(evaluation),
        "<h2>Breakdowns</h2>",
        _breakdowns(evaluation),
        "<h2>Training data</h2>",
        table_html(["field", "value"], sorted(training.items())),
    ]
    return page_html(f"Parcel Radar evaluation: {version}", "".join(body))


def model_card(version: str, training: dict[str, str | int | float], evaluation: Evaluation) -> str:
    """The model card: intended use, data, metrics, limits and uses it must not be put to."""
    headline = evaluation.headline("model")
    lines = [
        f"# Model card: {version}",
        "",
        "## Intended use",
        "Rank postal and courier items so that customs can choose which to inspect for drugs within a fixed",
        "inspection capacity. A hold opens a case; an officer decides. The score is never a finding.",
        "",
        "## Data",
        f"- Shipments from {training['period_start']} to {training['period_end']} ({training['items']:,} items),",
        f"  {training['inspected']:,} inspected, {training['confirmed_findings']:,} confirmed findings.",
        f"- Selective labels handled with the `{training['label_strategy']}` strategy (see docs/learning.md).",
        "- Party history is pseudonymised (keyed HMAC); names, nationality and other personal attributes are",
        "  not features.",
        "",
        "## Metrics (test period)",
        f"- Labels: {evaluation.labels}; {evaluation.items:,} items, {evaluation.positives:,} drug items.",
        f"- Recall at 1% inspection: {headline.recall:.3f} (random {evaluation.headline('random').recall:.3f},"
        f" rules lane {evaluation.headline('rules_lane').recall:.3f}); precision {headline.precision:.4f}.",
        f"- PR-AUC {evaluation.pr_auc['model']:.4f}; expected calibration error"
        f" {evaluation.expected_calibration_error:.5f}.",
        "",
        "## Limits",
        "- Trained on one partner's traffic and period; vendors adapt after seizures, so performance decays:",
        "  retrain on fresh outcomes and watch the live estimate from the exploration share.",
        "- Labels exist only for inspected items; recall outside the inspected regions is estimated, not seen.",
        "- Probabilities are calibrated on the validation period's labels; drift breaks calibration first.",
        "",
        "## Must not be used for",
        "- Deciding anything about a person, or any purpose other than selecting items for customs inspection.",
        "- Automatic seizure or refusal of items without an officer's inspection.",
        "- Profiling senders or addressees by name, nationality, ethnicity or any other personal attribute.",
    ]
    return "\n".join(lines) + "\n"
