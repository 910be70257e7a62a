"""The report of a fitted regression: banner, summary, intervals, trace, rank, predictive check, shrinkage."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from bayeskit.report.html import Report

__all__ = ["add_fit_sections"]


def _interval_figure(table: Any) -> Figure:
    from bayeskit.models._glm import sampling_scale

    rows = [name for name in table.index if not sampling_scale(str(name))]
    low_col = next(c for c in table.columns if c.endswith("2.5%"))
    high_col = next(c for c in table.columns if c.endswith("97.5%"))
    figure = Figure(figsize=(7, 0.3 * len(rows) + 1.2), layout="constrained")
    axis = figure.subplots()
    positions = np.arange(len(rows))[::-1]
    axis.hlines(positions, table.loc[rows, low_col], table.loc[rows, high_col], color="C0")
    axis.plot(table.loc[rows, "mean"], positions, "o", color="C0")
    axis.set_yticks(positions, rows, fontsize=8)
    axis.axvline(0.0, color="0.7", linewidth=0.8)
    axis.set_title("posterior means and 95% intervals")
    return figure


def _predictive_figure(model: Any, x: Any, y: np.ndarray) -> tuple[Figure, Any]:
    from bayeskit.infer.checks import plot_predictive_check, predictive_check

    replicated = model.sample_posterior_predictive(x)
    replicated = replicated[np.linspace(0, replicated.shape[0] - 1, min(500, replicated.shape[0])).astype(int)]
    return plot_predictive_check(replicated, y, kind="posterior"), predictive_check(replicated, y)


def add_fit_sections(report: Report, source: str, roles: dict[str, Any], model: Any, data: tuple[Any, np.ndarray]):
    """Append the fit's sections to ``report`` (returns the report)."""
    import warnings

    from bayeskit.infer import DiagnosticsWarning, banner

    posterior = model.posterior_
    findings = tuple(getattr(posterior, "findings", ()))
    report.heading(f"Bayesian {roles['family']} regression of {roles['target']}")
    report.text(
        f"Data: {source}. Features: {', '.join(roles['features'])}"
        + (f"; groups: {roles['group']} (partial pooling)" if roles["group"] else "")
        + f". Inference: {roles['method']}."
    )
    if findings:
        report.warning(banner(findings))
    elif roles["method"] == "nuts":
        report.text("All convergence checks passed: R-hat <= 1.01, bulk and tail ESS >= 400, no divergences.")
    for note in getattr(posterior, "notes", ()):
        report.text(note, css_class="note")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DiagnosticsWarning)
        table = model.summary()
    report.table(table)
    report.figure(_interval_figure(table), "Posterior means with 95% intervals (sampling-scale parameters hidden).")
    if roles["method"] != "exact":
        names = [n for n in ("beta", "sigma", "tau", "mu_alpha", "nu", "intercept") if n in posterior.draws]
        labels = {"beta": list(roles["features"])}  # the columns, not beta 0, 1, ...
        report.figure(
            posterior.plot_trace(names, labels=labels), "Trace plots: chains should overlap and look like noise."
        )
        report.figure(posterior.plot_rank(names, labels=labels), "Rank plots: flat histograms when the chains agree.")
    x, y = data
    figure, check = _predictive_figure(model, x, y)
    report.figure(figure, "Posterior predictive check: observed data (black) against replicated data sets.")
    report.table(check)
    if hasattr(model, "pooling_fits_"):
        report.figure(model.plot_shrinkage(), "Partial pooling pulls each group toward the population.")
        report.table(model.group_intercepts())
    return report
