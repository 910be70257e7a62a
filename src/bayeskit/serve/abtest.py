"""The A/B/n explorer's computation: ``bayeskit.decide`` on per-arm totals, plus each arm's posterior density."""

from __future__ import annotations

from typing import Any

import numpy as np

from bayeskit.serve._params import BadRequest, Choice, Names, Number, Numbers

__all__ = ["FIELDS", "MAX_ARMS", "ab_payload", "ab_report_html", "run_ab"]

MAX_ARMS = 6  # a 6-arm binary test takes ~0.5 s on 2 cores; more would pass the 1 s bound per request
_MAX_COUNT = 1e12

FIELDS = {
    "metric": Choice(("binary", "count"), "binary"),
    "names": Names(2, MAX_ARMS, ("A", "B")),
    "visitors": Numbers(1, _MAX_COUNT, 2, MAX_ARMS, integer=True, default=(10_000, 10_000)),
    "conversions": Numbers(0, _MAX_COUNT, 2, MAX_ARMS, integer=True, default=(1_000, 1_100)),
    "control": Names(1, 1, default=()),
    "prior": Choice(("default", "uniform", "jeffreys", "skeptical"), "default"),
    "prob": Number(0.5, 0.999, 0.95),
    "threshold": Number(0.0, 1.0, 0.005),
    "rope": Number(0.0, 1.0, 0.01),
}
"""Query fields of ``/api/ab``; with ``metric=count``, ``visitors`` is the exposure and ``conversions`` the events."""


def run_ab(options: dict[str, Any]):
    """The :class:`~bayeskit.decide.ABTestResult` for validated ``options`` (the fields of :data:`FIELDS`)."""
    from bayeskit.decide import ab_test_binary, ab_test_count

    names, visitors, conversions = options["names"], options["visitors"], options["conversions"]
    for field, values in (("visitors", visitors), ("conversions", conversions)):
        if len(values) != len(names):
            raise BadRequest(field, f"one value per arm ({len(names)}: {', '.join(names)})", ",".join(map(str, values)))
    control = options["control"][0] if options["control"] else names[0]
    if control not in names:
        raise BadRequest("control", f"one of the arms ({', '.join(names)})", control)
    settings = {
        "control": control,
        "prior": None if options["prior"] == "default" else options["prior"],
        "prob": options["prob"],
        "threshold": options["threshold"],
        "rope": options["rope"],
    }
    if options["metric"] == "binary":
        for name, n, k in zip(names, visitors, conversions, strict=True):
            if k > n:
                raise BadRequest(
                    "conversions", f"<= visitors in every arm (arm {name!r} has {n:g} visitors)", k, "Check the counts."
                )
        return ab_test_binary(names, visitors, conversions, **settings)
    return ab_test_count(names, conversions, visitors, **settings)


def _densities(result: Any) -> dict[str, Any]:
    """Each arm's posterior density on a common grid covering every arm's 99.98% interval."""
    marginals = result.marginals  # a decide._marginal.Marginal, one batch entry per arm
    if marginals is None:
        return {}
    grid = np.linspace(float(np.min(marginals.ppf(1e-4))), float(np.max(marginals.ppf(1 - 1e-4))), 241)
    density = np.asarray(marginals.pdf(grid[:, None]), dtype=float)  # (grid, arms)
    return {"x": grid.tolist(), "arms": {arm.name: density[:, i].tolist() for i, arm in enumerate(result.arms)}}


def ab_payload(options: dict[str, Any]) -> dict[str, Any]:
    """The JSON the ``/ab`` page shows: ``ABTestResult.to_dict()`` plus the arms' densities."""
    result = run_ab(options)
    return {**result.to_dict(), "densities": _densities(result)}


def ab_report_html(options: dict[str, Any]) -> str:
    """The same result as ``bayeskit ab --report`` writes it: a self-contained HTML page."""
    from bayeskit.report import Report
    from bayeskit.report.ab import add_ab_sections

    result = run_ab(options)
    totals = zip(options["names"], options["visitors"], options["conversions"], strict=True)
    arms = ", ".join(f"{name} {k:g}/{n:g}" for name, n, k in totals)
    return add_ab_sections(Report("Bayesian A/B test"), result, f"typed in bayeskit serve ({arms})").render()
