"""The multi-world report: the headline is the mean over unseen worlds with its interval, beside the baselines."""

import html

from training.evaluate import HEADLINE_RATE
from training.html import figure_html, new_figure, page_html, table_html
from training.report import SELECTORS, with_interval
from training.unseen import AcrossWorlds, RateAcrossWorlds, UnseenWorldsEvaluation


def _mean(figure: AcrossWorlds, digits: int = 3) -> str:
    return with_interval(figure.mean, figure.low, figure.high, digits)


def _pooled(row: RateAcrossWorlds) -> str:
    pooled = row.pooled
    return f"{with_interval(pooled.recall, pooled.recall_low, pooled.recall_high)} [{pooled.found}/{pooled.positives}]"


def headline_text(evaluation: UnseenWorldsEvaluation) -> str:
    """One sentence: the model's mean recall at 1% over unseen worlds against the baselines."""
    parts = [
        f"{label} {_mean(evaluation.headline(name).recall)}"
        for name, label in SELECTORS.items()
        if name in evaluation.recall
    ]
    worlds = evaluation.worlds
    return (
        f"Recall at 1% inspection, mean over {len(worlds)} unseen worlds (95% t interval): "
        + "; ".join(parts)
        + f". Drug items per world in the test period: {', '.join(str(w.positives) for w in worlds)}."
        + f" Mean predicted probability / prevalence: {_mean(evaluation.mean_to_prevalence, 2)}."
    )


def _recall_plot(evaluation: UnseenWorldsEvaluation) -> str:
    figure, axes = new_figure()
    for name, label in SELECTORS.items():
        rows = evaluation.recall[name]
        rates = [row.rate * 100 for row in rows]
        axes.plot(rates, [row.recall.mean for row in rows], marker="o", label=label)
        axes.fill_between(rates, [r.recall.low for r in rows], [r.recall.high for r in rows], alpha=0.12)
    axes.set_xscale("log")
    axes.set_xlabel("inspection rate (% of items)")
    axes.set_ylabel("mean recall over unseen worlds")
    axes.set_ylim(0, 1)
    axes.legend()
    axes.grid(alpha=0.3)
    return figure_html(figure, "Mean recall over unseen worlds against inspection rate, with 95% t intervals")


def _rate_table(evaluation: UnseenWorldsEvaluation) -> str:
    headers = ["inspection rate"] + [
        f"{label} {what}"
        for label in SELECTORS.values()
        for what in ("mean recall", "pooled recall [found/drug items]")
    ]
    rows = []
    for index, row in enumerate(evaluation.recall["model"]):
        cells: list[object] = [f"{row.rate:.2%}"]
        for name in SELECTORS:
            at = evaluation.recall[name][index]
            cells += [_mean(at.recall), _pooled(at)]
        rows.append(cells)
    return table_html(headers, rows)


def _world_table(evaluation: UnseenWorldsEvaluation) -> str:
    rows = []
    for world in evaluation.worlds:
        headline = {
            name: next(r for r in rows_ if r.rate == HEADLINE_RATE) for name, rows_ in world.selectors.items()
        }
        rows.append(
            [world.seed, world.items, world.positives, world.prevalence, world.mean_to_prevalence]
            + [with_interval(h.recall, h.recall_low, h.recall_high) for h in headline.values()]
        )
    headers = ["seed", "items", "drug items", "prevalence", "mean probability / prevalence"] + [
        f"{SELECTORS[name]} recall at 1%" for name in evaluation.worlds[0].selectors
    ]
    return table_html(headers, rows)


def render_worlds_report(evaluation: UnseenWorldsEvaluation) -> str:
    """One self-contained HTML page; its headline is the multi-world figure."""
    scenario = {k: v for k, v in evaluation.scenario.items() if not isinstance(v, dict)}
    body = [
        f"<p><b>{html.escape(headline_text(evaluation))}</b></p>",
        f"<p>Model <b>{html.escape(evaluation.model_version)}</b>, evaluated on simulator worlds it was not trained"
        " on, against ground truth. Pooled figures sum found and drug items over worlds (Wilson interval).</p>",
        "<h2>Recall at inspection rates</h2>",
        _recall_plot(evaluation),
        _rate_table(evaluation),
        "<h2>Per world</h2>",
        _world_table(evaluation),
        "<h2>Rules lane: targeting criteria</h2>",
        table_html(["criterion", "value"], [[k, v] for k, v in evaluation.rules.items() if v is not None]),
        "<h2>Scenario</h2>",
        table_html(["setting", "value"], sorted(scenario.items())),
    ]
    return page_html(f"Parcel Radar on unseen worlds: {evaluation.model_version}", "".join(body))
