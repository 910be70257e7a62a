"""Convergence checks that cannot be ignored: R-hat, ESS, divergences, tree depth, E-BFMI, with advice.

Thresholds follow Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021), Rank-normalization,
folding, and localization: an improved R-hat (R-hat < 1.01, bulk and tail ESS >= 400 in
total), and Betancourt (2016) for divergences and E-BFMI (>= 0.3).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayeskit.posterior import Finding

__all__ = [
    "THRESHOLDS",
    "Finding",
    "banner",
    "chain_findings",
    "check_inference_data",
    "independent_draws_findings",
    "precision_findings",
]

THRESHOLDS = {
    "r_hat": 1.01,
    "ess": 400.0,
    "divergences": 0,
    "e_bfmi": 0.3,
    "tree_depth_saturation": 0.01,
    "moved": 0.05,
    "spread": 0.01,
    "apart_sd": 20.0,
    "float32_resolution": 0.01,
}


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


def independent_draws_findings(draws: dict[str, np.ndarray]) -> tuple[Finding, ...]:
    """The convergence checks of independent draws (Laplace, ADVI), where they are known without estimating them.

    Independent draws have an ESS equal to their number and an R-hat of 1 by construction: estimating both
    with ArviZ (about 50 ms per fit) only adds noise around the known values. What can fail is too few
    draws, and draws that are not finite.
    """
    findings: list[Finding] = []
    count = min(int(np.prod(np.shape(v)[:2])) for v in draws.values()) if draws else 0
    if count < THRESHOLDS["ess"]:
        findings.append(
            Finding(
                "bulk ESS",
                float(count),
                THRESHOLDS["ess"],
                "at every site",
                "the draws are independent, so their ESS is their number: ask for more (`num_draws`).",
            )
        )
    for name, values in draws.items():
        bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        if bad:
            findings.append(
                Finding(
                    "non-finite draws",
                    bad,
                    0,
                    f"at {name}",
                    "the approximation is degenerate there (a singular curvature or a diverged optimizer): "
                    "check the model's scales, or use nuts.",
                )
            )
    return tuple(findings)


def chain_findings(draws: dict[str, np.ndarray], lp: np.ndarray, restarts: np.ndarray | None = None) -> tuple:
    """A finding per chain that is stuck: it hardly moved, its draws spread far less than the others', or it sits apart.

    ``draws`` are ``(chain, draw, ...)`` per site, ``lp`` the ``(chain, draw)`` log density.
    "Sits apart" needs three chains or more: its mean log density is more than 20 of the
    chains' typical within-chain standard deviations (and 20 nats) below the median chain's.
    """
    flat = np.concatenate([np.reshape(v, (*v.shape[:2], -1)) for v in draws.values()], axis=2).astype(float)
    num_chains = flat.shape[0]
    moved = np.mean(np.any(np.diff(flat, axis=1) != 0, axis=2), axis=1) if flat.shape[1] > 1 else np.ones(num_chains)
    sd = flat.std(axis=1)
    reference = np.median(sd, axis=0)
    varying = reference > 0  # components constant in every chain (a fixed deterministic site) say nothing
    if num_chains > 1 and varying.any():
        spread = np.median(sd[:, varying] / reference[varying], axis=1)
    else:
        spread = np.ones(num_chains)
    mean_lp = lp.mean(axis=1)
    within = float(np.sqrt(np.median(lp.var(axis=1))))
    deficit = np.median(mean_lp) - mean_lp
    apart = (deficit > THRESHOLDS["apart_sd"] * within) & (deficit > 20.0) & (num_chains >= 3)
    findings = []
    for chain in range(num_chains):
        restarted = int(restarts[chain]) if restarts is not None else 0
        history = f"; it was restarted {restarted} time(s) in warmup" if restarted else ""
        advice = (
            "its draws are not from the posterior: allow restarts (max_restarts), start elsewhere (init=), run a "
            "longer warmup or reparameterize; do not use these draws."
        )
        if moved[chain] < THRESHOLDS["moved"] or spread[chain] < THRESHOLDS["spread"]:
            findings.append(
                Finding(
                    "stuck chain",
                    float(min(moved[chain], spread[chain])),
                    THRESHOLDS["moved"] if moved[chain] < THRESHOLDS["moved"] else THRESHOLDS["spread"],
                    f"chain {chain}",
                    f"chain {chain} never really moved ({moved[chain]:.0%} of its transitions moved it, its draws "
                    f"spread {spread[chain]:.2g} times as far as the median chain's){history}: {advice}",
                )
            )
        elif apart[chain]:
            findings.append(
                Finding(
                    "chain apart",
                    float(deficit[chain] / max(within, 1e-12)),
                    THRESHOLDS["apart_sd"],
                    f"chain {chain}",
                    f"chain {chain} sits {deficit[chain]:.3g} nats of log density below the others (a minor mode or "
                    f"a region it cannot leave){history}: {advice}",
                )
            )
    return tuple(findings)


def precision_findings(lp: np.ndarray, precision: str) -> tuple:
    """A finding when float32 cannot resolve the log density finely enough for NUTS's accept decisions."""
    if precision != "float32" or not np.all(np.isfinite(lp)):
        return ()
    resolution = float(np.max(np.abs(lp))) * 2.0**-23
    if resolution <= THRESHOLDS["float32_resolution"]:
        return ()
    return (
        Finding(
            "float32 round-off",
            resolution,
            THRESHOLDS["float32_resolution"],
            f"(|log density| reaches {np.max(np.abs(lp)):.3g}; float32 resolves it to about this many nats)",
            "energy errors are dominated by round-off at this scale: rerun with precision='float64'.",
        ),
    )


def banner(findings: tuple[Finding, ...]) -> str:
    """The 'do not trust these numbers' text shown with every summary of a failing fit ('' when healthy)."""
    if not findings:
        return ""
    lines = "\n".join(f"  - {finding}" for finding in findings)
    return f"DO NOT TRUST THESE NUMBERS: {len(findings)} convergence check(s) failed.\n{lines}"
