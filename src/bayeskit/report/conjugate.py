"""The conjugate walkthrough: sequential updating, point estimates, robust estimation, Bayes factors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayeskit.conjugate import BetaBinomial
from bayeskit.estimate import gaussian_mle, point_estimates, student_t_mle
from bayeskit.report.html import Report

__all__ = ["add_conjugate_sections", "bayes_factor_label", "conjugate_results"]

UPDATING_PRIOR = (1.0, 1.0)
STUBBORN_PRIOR = (6.0, 18.0)
COMPETING_PRIORS = {"near-fair coin Beta(50, 50)": (50.0, 50.0), "no idea Beta(1, 1)": (1.0, 1.0)}


def bayes_factor_label(log_bayes_factor: float) -> str:
    """Kass & Raftery (1995) wording for the strength of evidence, from ``2 |ln BF|``."""
    strength = abs(2.0 * log_bayes_factor)
    if strength < 2:
        return "not worth more than a bare mention"
    if strength < 6:
        return "positive"
    if strength < 10:
        return "strong"
    return "very strong"


def conjugate_results(heads: np.ndarray, grams: np.ndarray, faulty: np.ndarray | None = None) -> dict[str, Any]:
    """Everything the walkthrough reports, as plain numbers and tables (no figures)."""
    heads = np.asarray(heads, dtype=float)
    num_flips = np.arange(heads.size + 1, dtype=float)
    totals = np.concatenate([[0.0], np.cumsum(heads)])

    path = point_estimates(BetaBinomial(*UPDATING_PRIOR), heads)
    posteriors = BetaBinomial(*UPDATING_PRIOR).update(successes=totals, trials=num_flips)
    hdi = posteriors.interval(0.95, kind="hdi")
    path["hdi_low"], path["hdi_high"] = hdi.low, hdi.high
    path["width"] = path["high"] - path["low"]

    stubborn = point_estimates(BetaBinomial(*STUBBORN_PRIOR), heads)

    robust = student_t_mle(grams, df=None)
    gaussian = gaussian_mle(grams)
    clean = float(np.mean(grams[faulty == 0])) if faulty is not None else None

    evidence = {
        name: BetaBinomial(a, b).log_marginal_likelihood(successes=totals, trials=num_flips)
        for name, (a, b) in COMPETING_PRIORS.items()
    }
    (name_1, log_ev_1), (name_2, log_ev_2) = evidence.items()
    log_bf_path = log_ev_1 - log_ev_2
    final = BetaBinomial(*UPDATING_PRIOR).update(successes=totals[-1], trials=num_flips[-1])
    interval = final.interval(0.95)
    return {
        "num_flips": int(heads.size),
        "num_heads": int(totals[-1]),
        "posterior": {
            "prior": list(UPDATING_PRIOR),
            "mean": float(final.mean()),
            "eti_95": [float(interval.low), float(interval.high)],
            "hdi_95": [float(hdi.low[-1]), float(hdi.high[-1])],
            "interval_width_at": {str(n): float(path["width"].iloc[n]) for n in (1, 10, 100) if n <= heads.size},
        },
        "path": path,
        "stubborn_path": stubborn,
        "robust": {
            "gaussian_mle_mean": gaussian.mean,
            "gaussian_mle_sd": float(np.sqrt(gaussian.variance)),
            "student_t_loc": robust.loc,
            "student_t_scale": robust.scale,
            "student_t_df": robust.df,
            "mean_of_good_weighings": clean,
        },
        "bayes_factor": {
            "hypotheses": [name_1, name_2],
            "log_evidence": {name_1: float(log_ev_1[-1]), name_2: float(log_ev_2[-1])},
            "log_bayes_factor": float(log_bf_path[-1]),
            "bayes_factor": float(np.exp(log_bf_path[-1])),
            "strength": bayes_factor_label(float(log_bf_path[-1])),
        },
        "log_bayes_factor_path": log_bf_path,
    }


def _updating_figure(path: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(8, 3.6))
    axis = figure.subplots()
    n = path.index.to_numpy()
    axis.fill_between(n, path["low"], path["high"], alpha=0.25, color="#3b6ea5", label="95% equal-tailed interval")
    axis.plot(n, path["hdi_low"], ":", color="#1d2433", lw=1, label="95% HDI")
    axis.plot(n, path["hdi_high"], ":", color="#1d2433", lw=1)
    axis.plot(n, path["posterior_mean"], color="#3b6ea5", lw=2, label="posterior mean")
    axis.plot(n, path["mle"], ".", color="#c0392b", ms=3, label="fraction of heads so far (MLE)")
    axis.set(xlabel="flips seen", ylabel="P(heads)", ylim=(0, 1), title="Belief about the coin, flip by flip")
    axis.legend(loc="lower right", fontsize=8)
    return figure


def _densities_figure(heads: np.ndarray, checkpoints=(0, 1, 5, 20, 100)) -> Figure:
    figure = Figure(figsize=(8, 3.4))
    axis = figure.subplots()
    grid = np.linspace(0.0005, 0.9995, 800)
    cumulative = np.concatenate([[0.0], np.cumsum(heads)])
    for n in checkpoints:
        if n > heads.size:
            continue
        posterior = BetaBinomial(*UPDATING_PRIOR).update(successes=cumulative[n], trials=n)
        axis.plot(grid, np.exp(posterior.log_prob(grid)), label=f"after {n} flips")
    axis.set(xlabel="P(heads)", ylabel="posterior density", title="The posterior narrows as flips arrive")
    axis.legend(fontsize=8)
    return figure


def _washout_figure(stubborn: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(8, 3.4))
    axis = figure.subplots()
    n = stubborn.index.to_numpy()
    axis.plot(n, stubborn["mle"], color="#c0392b", label="MLE (data only)")
    axis.plot(n, stubborn["map"], color="#27ae60", label="MAP (posterior mode)")
    axis.plot(n, stubborn["posterior_mean"], color="#3b6ea5", label="posterior mean")
    axis.fill_between(n, stubborn["low"], stubborn["high"], color="#3b6ea5", alpha=0.15, label="95% interval")
    axis.set(
        xlabel="flips seen",
        ylabel="estimate of P(heads)",
        ylim=(0, 1),
        title=f"A stubborn Beta{STUBBORN_PRIOR} prior washes out",
    )
    axis.legend(fontsize=8)
    return figure


def _robust_figure(grams: np.ndarray, robust: dict[str, float]) -> Figure:
    from scipy import stats

    figure = Figure(figsize=(8, 3.4))
    axis = figure.subplots()
    axis.hist(grams, bins=40, density=True, color="#ccd3dd", label="weighings")
    grid = np.linspace(grams.min() - 1, grams.max() + 1, 600)
    axis.plot(
        grid,
        stats.norm.pdf(grid, robust["gaussian_mle_mean"], robust["gaussian_mle_sd"]),
        color="#c0392b",
        label="Gaussian MLE",
    )
    axis.plot(
        grid,
        stats.t.pdf(grid, robust["student_t_df"], robust["student_t_loc"], robust["student_t_scale"]),
        color="#3b6ea5",
        label="Student-t MLE",
    )
    axis.axvline(robust["gaussian_mle_mean"], color="#c0392b", ls="--")
    axis.axvline(robust["student_t_loc"], color="#3b6ea5", ls="--")
    axis.set(xlabel="grams", ylabel="density", title="Four bad weighings drag the Gaussian, not the Student-t")
    axis.legend(fontsize=8)
    return figure


def _bayes_factor_figure(log_bf_path: np.ndarray, hypotheses: list[str]) -> Figure:
    figure = Figure(figsize=(8, 3.2))
    axis = figure.subplots()
    axis.plot(np.arange(log_bf_path.size), log_bf_path, color="#3b6ea5")
    for level in (np.log(3), np.log(20)):
        axis.axhline(level, color="#999", ls=":", lw=1)
        axis.axhline(-level, color="#999", ls=":", lw=1)
    axis.axhline(0, color="#1d2433", lw=0.8)
    axis.set(
        xlabel="flips seen",
        ylabel="log Bayes factor",
        title=f"Evidence for '{hypotheses[0]}' over '{hypotheses[1]}'",
    )
    return figure


def add_conjugate_sections(report: Report, results: dict[str, Any], heads: np.ndarray, grams: np.ndarray) -> Report:
    """Append the walkthrough's sections (text, tables, figures) to ``report``."""
    posterior = results["posterior"]
    report.heading("Coin flips: updating one flip at a time")
    report.text(
        f"A Beta{tuple(posterior['prior'])} (uniform) prior on P(heads) is updated after each of "
        f"{results['num_flips']} flips ({results['num_heads']} heads). The posterior after n flips is exact: "
        f"Beta(1 + heads, 1 + tails). The 95% interval narrows roughly like 1/sqrt(n)."
    )
    report.figure(
        _updating_figure(results["path"]),
        "Posterior mean, 95% equal-tailed interval (band) and HDI (dotted).",
    )
    report.figure(_densities_figure(heads), "Posterior densities after 0, 1, 5, 20 and 100 flips.")
    widths = pd.DataFrame(
        {
            "flips": list(posterior["interval_width_at"]),
            "95% interval width": list(posterior["interval_width_at"].values()),
        }
    )
    report.table(widths, index=False)

    report.heading("MLE vs MAP vs posterior mean")
    stubborn = results["stubborn_path"]
    gap = (stubborn["mle"] - stubborn["posterior_mean"]).abs()
    report.text(
        f"With a stubborn Beta{STUBBORN_PRIOR} prior (it believes heads come up a quarter of the time and counts as "
        f"{sum(STUBBORN_PRIOR):.0f} flips), the MAP and posterior mean start at the prior and move towards the data; "
        f"the MLE ignores the prior. The gap between MLE and posterior mean is {gap.iloc[1]:.3f} after one flip, "
        f"{gap.iloc[10]:.3f} after 10 and {gap.iloc[-1]:.3f} after {results['num_flips']}: it shrinks like "
        f"{sum(STUBBORN_PRIOR):.0f} / ({sum(STUBBORN_PRIOR):.0f} + n), so the prior washes out as data grow."
    )
    report.figure(_washout_figure(results["stubborn_path"]), "Three point estimates as data grow.")
    report.table(results["stubborn_path"].loc[[1, 5, 20, 50, results["num_flips"]]].round(4))

    robust = results["robust"]
    report.heading("Robust estimation with outliers")
    report.text(
        f"{grams.size} weighings of a 100 g reference mass; four came from a mis-tared scale. The Gaussian MLE of the "
        f"mass is {robust['gaussian_mle_mean']:.3f} g; the Student-t MLE (degrees of freedom estimated: "
        f"{robust['student_t_df']:.2f}) is {robust['student_t_loc']:.3f} g, next to the mean of the good weighings "
        f"({robust['mean_of_good_weighings']:.3f} g)."
    )
    report.figure(_robust_figure(grams, robust), "Histogram of weighings with the two fitted densities.")

    bf = results["bayes_factor"]
    report.heading("A Bayes factor between two priors")
    report.text(
        f"Is the coin near-fair? The exact marginal likelihood of the flips under each prior gives a Bayes factor of "
        f"{bf['bayes_factor']:.3g} for '{bf['hypotheses'][0]}' over '{bf['hypotheses'][1]}' "
        f"(log BF {bf['log_bayes_factor']:.2f}: {bf['strength']} evidence on the Kass-Raftery scale)."
    )
    report.table(pd.DataFrame({"log evidence": bf["log_evidence"]}))
    report.figure(
        _bayes_factor_figure(results["log_bayes_factor_path"], bf["hypotheses"]),
        "Log Bayes factor as flips accumulate; dotted lines at BF = 3 and 20 either way.",
    )
    return report
