"""Convergence checks that cannot be ignored: R-hat, ESS, divergences, tree depth, E-BFMI, with advice.

Thresholds follow Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021), Rank-normalization,
folding, and localization: an improved R-hat (R-hat < 1.01, bulk and tail ESS >= 400 in
total), and Betancourt (2016) for divergences and E-BFMI (>= 0.3).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayeskit.posterior import Finding

__all__ = ["THRESHOLDS", "Finding", "banner", "check_inference_data"]

THRESHOLDS = {"r_hat": 1.01, "ess": 400.0, "divergences": 0, "e_bfmi": 0.3, "tree_depth_saturation": 0.01}


def check_inference_data(idata: Any, max_tree_depth: int | None = None) -> tuple[Finding, ...]:
    """Every failed convergence check of an ArviZ ``DataTree`` of draws (empty when all pass)."""
    from bayeskit._arviz import bfmi, diagnostics

    findings: list[Finding] = []
    summary = diagnostics(idata)
    if "r_hat" in summary and summary["r_hat"].notna().any():
        worst = summary["r_hat"].idxmax()
        if summary.loc[worst, "r_hat"] > THRESHOLDS["r_hat"]:
            findings.append(
                Finding(
                    "R-hat",
                    float(summary.loc[worst, "r_hat"]),
                    THRESHOLDS["r_hat"],
                    f"at {worst}",
                    "chains disagree: run longer warmup, reparameterize (non-centered), or check for multimodality.",
                )
            )
    for column, label in (("ess_bulk", "bulk ESS"), ("ess_tail", "tail ESS")):
        if column in summary:
            worst = summary[column].idxmin()
            if summary.loc[worst, column] < THRESHOLDS["ess"]:
                findings.append(
                    Finding(
                        label,
                        float(summary.loc[worst, column]),
                        THRESHOLDS["ess"],
                        f"at {worst}",
                        "too few effective draws for stable estimates: draw more samples or reparameterize.",
                    )
                )
    stats = idata["sample_stats"].to_dataset() if "sample_stats" in idata.children else None
    if stats is not None and "diverging" in stats:
        divergences = int(stats["diverging"].sum())
        if divergences > THRESHOLDS["divergences"]:
            total = int(np.prod(stats["diverging"].shape))
            findings.append(
                Finding(
                    "divergences",
                    divergences,
                    THRESHOLDS["divergences"],
                    f"in {total} transitions",
                    "the sampler cannot explore a region of high curvature: use a non-centered parameterization "
                    "or raise target_accept (e.g. 0.95); do not trust the draws until divergences are gone.",
                )
            )
    if stats is not None and "energy" in stats:
        e_bfmi = bfmi(stats["energy"].values)
        if e_bfmi.min() < THRESHOLDS["e_bfmi"]:
            findings.append(
                Finding(
                    "E-BFMI",
                    float(e_bfmi.min()),
                    THRESHOLDS["e_bfmi"],
                    f"in chain {int(e_bfmi.argmin())}",
                    "momentum resampling explores the energy poorly (heavy tails or bad geometry): reparameterize.",
                )
            )
    if stats is not None and "tree_depth" in stats and max_tree_depth is not None:
        saturated = float((stats["tree_depth"] >= max_tree_depth).mean())
        if saturated > THRESHOLDS["tree_depth_saturation"]:
            findings.append(
                Finding(
                    "tree-depth saturation",
                    saturated,
                    THRESHOLDS["tree_depth_saturation"],
                    f"(fraction of draws at max_tree_depth={max_tree_depth})",
                    "trajectories are cut short: raise max_tree_depth or reparameterize for efficiency.",
                )
            )
    return tuple(findings)


def banner(findings: tuple[Finding, ...]) -> str:
    """The 'do not trust these numbers' text shown with every summary of a failing fit ('' when healthy)."""
    if not findings:
        return ""
    lines = "\n".join(f"  - {finding}" for finding in findings)
    return f"DO NOT TRUST THESE NUMBERS: {len(findings)} convergence check(s) failed.\n{lines}"
