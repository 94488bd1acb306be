"""The evaluation report (HTML with plots) and the model card (Markdown) written into every artifact."""

import html
import math
from collections.abc import Sequence

from training.evaluate import Evaluation
from training.html import figure_html, new_figure, page_html, table_html
from training.metrics import AtRate
from training.propensity import PropensityEstimate

SELECTORS = {
    "model": "model",
    "rules_lane": "rules lane",
    "market_profile": "market profile only",
    "random": "random",
}
RECALL_VS_RANDOM_TARGET = 5.0
RECALL_VS_RULES_TARGET = 2.0
BRIER_SKILL_TARGET = 0.001  # beat always-the-prevalence by a margin, not by rounding error
LOG_LOSS_SKILL_TARGET = 0.001
MEAN_TO_PREVALENCE_TARGET = (0.5, 2.0)
MIN_POSITIVES_TO_JUDGE = 30
TOO_FEW = "too few to judge"
NOT_JUDGED_ON_FINDINGS = "not judged: confirmed findings only"


def with_interval(value: float, low: float, high: float, digits: int = 3) -> str:
    """`value (low-high)`, the way every figure with an interval is printed."""
    if math.isnan(value):
        return "n/a"
    return f"{value:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def _status(evaluation: Evaluation, passed: bool) -> str:
    if not evaluation.ground_truth:
        return NOT_JUDGED_ON_FINDINGS
    if evaluation.positives < MIN_POSITIVES_TO_JUDGE:
        return TOO_FEW
    return "PASS" if passed else "FAIL"


def targets(evaluation: Evaluation) -> list[tuple[str, float, str, str]]:
    """The acceptance lines of the report: (what, measured, target, status).

    A line is judged PASS or FAIL only against ground truth with at least 30 drug items; otherwise its status
    says why it is not judged.
    """
    model = evaluation.headline("model").recall
    random = evaluation.headline("random").recall
    rules = evaluation.headline("rules_lane").recall
    quality = evaluation.calibration
    low, high = MEAN_TO_PREVALENCE_TARGET
    lines = [
        ("recall at 1% / random", model / random if random else math.nan, f">= {RECALL_VS_RANDOM_TARGET}",
         random > 0 and model >= RECALL_VS_RANDOM_TARGET * random),
        ("recall at 1% / rules lane", model / rules if rules else math.inf, f">= {RECALL_VS_RULES_TARGET}",
         model >= RECALL_VS_RULES_TARGET * rules),
        ("Brier skill against the prevalence", quality.brier_skill, f"> {BRIER_SKILL_TARGET}",
         quality.brier_skill > BRIER_SKILL_TARGET),
        ("log-loss skill against the prevalence", quality.log_loss_skill, f"> {LOG_LOSS_SKILL_TARGET}",
         quality.log_loss_skill > LOG_LOSS_SKILL_TARGET),
        ("mean predicted probability / prevalence", quality.mean_to_prevalence, f"in [{low}, {high}]",
         low <= quality.mean_to_prevalence <= high),
    ]  # fmt: skip
    return [(line, measured, target, _status(evaluation, bool(ok))) for line, measured, target, ok in lines]


def _recall_plot(evaluation: Evaluation) -> str:
    figure, axes = new_figure()
    for key, label in SELECTORS.items():
        rows: list[AtRate] = getattr(evaluation, key)
        rates = [r.rate * 100 for r in rows]
        axes.plot(rates, [r.recall for r in rows], marker="o", label=label)
        axes.fill_between(rates, [r.recall_low for r in rows], [r.recall_high for r in rows], alpha=0.12)
    axes.set_xscale("log")
    axes.set_xlabel("inspection rate (% of items)")
    axes.set_ylabel("recall (share of drug items found)")
    axes.set_ylim(0, 1)
    axes.legend()
    axes.grid(alpha=0.3)
    return figure_html(figure, "Recall against inspection rate, with 95% Wilson intervals")


def _reliability_plot(rows: list[dict[str, float]], what: str) -> str:
    figure, axes = new_figure(5, 4)
    predicted = [row["predicted"] for row in rows]
    observed = [row["observed"] for row in rows]
    top = max([*predicted, *observed, 1e-6])
    axes.plot([0, top], [0, top], linestyle="--", color="grey", label="perfect calibration")
    axes.plot(predicted, observed, marker="o", label=f"model, {what} (equal-count bins)")
    axes.set_xlabel("mean predicted probability")
    axes.set_ylabel("observed frequency")
    axes.legend()
    return figure_html(figure, f"Reliability diagram of the calibrated probabilities, {what}")


def _rate_table(evaluation: Evaluation) -> str:
    rows = []
    for index, at in enumerate(evaluation.model):
        row: list[object] = [f"{at.rate:.2%}"]
        for key in SELECTORS:
            s: AtRate = getattr(evaluation, key)[index]
            row += [with_interval(s.recall, s.recall_low, s.recall_high),
                    with_interval(s.precision, s.precision_low, s.precision_high, 4)]  # fmt: skip
        rows.append(row)
    headers = ["inspection rate"] + [
        f"{label} {m}" for label in SELECTORS.values() for m in ("recall", "precision")
    ]
    return table_html(headers, rows)


def _propensity_section(evaluation: Evaluation) -> str:
    estimate = evaluation.propensity
    if estimate is None:
        return "<p>No random-lane inspections in the test period: recall cannot be estimated beyond the labels.</p>"
    caution = (
        ""
        if estimate.reliable
        else "<p><b>The random lane found fewer than 10 drug items: the estimate and its interval mean little.</b></p>"
    )
    rows = []
    for index, rate in enumerate(r.rate for r in estimate.selectors["model"]):
        row: list[object] = [f"{rate:.2%}"]
        for name in estimate.selectors:
            e = estimate.selectors[name][index]
            row += [with_interval(e.recall, e.recall_low, e.recall_high),
                    with_interval(e.precision, e.precision_low, e.precision_high, 4)]  # fmt: skip
        rows.append(row)
    headers = ["inspection rate"] + [
        f"{SELECTORS[n]} {m}" for n in estimate.selectors for m in ("recall", "precision")
    ]
    return (
        f"<p>From {estimate.random_inspections:,} random-lane inspections ({estimate.random_findings} drug items"
        f" found) and {estimate.other_lane_findings} findings of the other lanes: about "
        f"{with_interval(estimate.estimated_drug_items, estimate.estimated_drug_items_low, estimate.estimated_drug_items_high, 0)}"
        " drug items in the test period (95% intervals).</p>"
        + _estimated_level(evaluation, estimate)
        + caution
        + table_html(headers, rows)
    )


def _estimated_level(evaluation: Evaluation, estimate: PropensityEstimate) -> str:
    """The mean predicted probability against the estimated prevalence (not the findings' prevalence)."""
    prevalence = estimate.estimated_drug_items / evaluation.items if evaluation.items else math.nan
    ratio = evaluation.calibration.mean_probability / prevalence if prevalence else math.nan
    return (
        f"<p>Estimated prevalence {prevalence:.2e}; mean predicted probability / estimated prevalence"
        f" {ratio:.2f}.</p>"
    )


def _calibration_table(evaluation: Evaluation) -> str:
    quality = evaluation.calibration
    return table_html(
        ["figure", "value"],
        [
            ["prevalence (labels)", quality.prevalence],
            ["mean predicted probability", quality.mean_probability],
            ["mean predicted probability / prevalence", quality.mean_to_prevalence],
            ["Brier skill against the prevalence", quality.brier_skill],
            ["log-loss skill against the prevalence", quality.log_loss_skill],
            ["expected calibration error (information only)", evaluation.expected_calibration_error],
        ],
    )


def _breakdowns(evaluation: Evaluation) -> str:
    parts = []
    for name, rows in evaluation.breakdowns.items():
        table = table_html(
            [name, "items", "drug items", "found at 1%", "recall at 1%"],
            [[r["group"], r["items"], r["positives"], r["found_at_1pct"], r["recall_at_1pct"]] for r in rows],
        )
        parts.append(f"<h3>By {html.escape(name.replace('_', ' '))}</h3>{table}")
    return "".join(parts)


def _labels_note(evaluation: Evaluation) -> str:
    if evaluation.ground_truth:
        return ""
    return (
        "<p><b>No ground truth.</b> Recall here is among confirmed findings, biased toward what the old policy "
        "selected: items no lane inspected count as clean, and the lanes that chose the inspections look "
        "better than they are. The inverse-propensity estimate below is the figure to read.</p>"
    )


def _seen_worlds_note(training: dict[str, str | int | float]) -> str:
    """Simulated training: the test period is the later weeks of worlds the model learnt from."""
    if "seeds" not in training:
        return ""
    return (
        f"<p class='warning'>This test period is the later weeks of the simulated worlds the model was trained "
        f"on (seeds {html.escape(str(training['seeds']))}). The figure that counts is over worlds it never "
        "saw: <code>python -m training evaluate-worlds</code> (for the shipped model, "
        "<code>unseen/report.html</code>, made by <code>make unseen-report</code>).</p>"
    )


def render_report(
    version: str,
    training: dict[str, str | int | float],
    evaluation: Evaluation,
    sections: Sequence[str] = (),
) -> str:
    """One self-contained HTML page with the targets, curves, calibration and breakdowns.

    `sections` (HTML) follow the recall table: a model trained from the service's data adds its champion's.
    """
    body = [
        f"<p>Model <b>{html.escape(version)}</b>. Test period: {evaluation.items:,} items, "
        f"{evaluation.positives:,} drug items; labels: {html.escape(evaluation.labels)}.</p>",
        _labels_note(evaluation),
        _seen_worlds_note(training),
        "<h2>Targets</h2>",
        f"<p>Judged only against ground truth with at least {MIN_POSITIVES_TO_JUDGE} drug items.</p>",
        table_html(["line", "measured", "target", "status"], targets(evaluation)),
        "<h2>Recall at inspection rates (95% Wilson intervals)</h2>",
        _recall_plot(evaluation),
        _rate_table(evaluation),
        *sections,
        "<h2>Inverse-propensity estimate from the random lane</h2>",
        _propensity_section(evaluation),
        "<h2>Ranking and calibration</h2>",
        table_html(["selector", "PR-AUC"], [[SELECTORS.get(k, k), v] for k, v in evaluation.pr_auc.items()]),
        _calibration_table(evaluation),
        _reliability_plot(evaluation.reliability, "all items"),
        _reliability_plot(evaluation.reliability_top, "top 5% of scores"),
        "<h2>Rules lane: targeting criteria</h2>",
        table_html(["criterion", "value"], [[k, v] for k, v in evaluation.rules.items() if v is not None]),
        "<h2>Breakdowns</h2>",
        _breakdowns(evaluation),
        "<h2>Training data</h2>",
        table_html(["field", "value"], sorted(training.items())),
    ]
    return page_html(f"Parcel Radar evaluation: {version}", "".join(body))


def model_card(version: str, training: dict[str, str | int | float], evaluation: Evaluation) -> str:
    """The model card: intended use, data, metrics, limits and uses it must not be put to."""
    headline, quality = evaluation.headline("model"), evaluation.calibration
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
        f"- Recall at 1% inspection: {with_interval(headline.recall, headline.recall_low, headline.recall_high)}"
        f" (random {evaluation.headline('random').recall:.3f},"
        f" rules lane {evaluation.headline('rules_lane').recall:.3f}); precision {headline.precision:.4f}.",
        f"- PR-AUC {evaluation.pr_auc['model']:.4f}; Brier skill {quality.brier_skill:.4f}, log-loss skill"
        f" {quality.log_loss_skill:.4f}, mean probability / prevalence {quality.mean_to_prevalence:.2f}.",
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
