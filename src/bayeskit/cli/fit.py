"""``bayeskit fit``: a Bayesian regression from a CSV, with diagnostics that cannot be missed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bayeskit.cli._errors import BadInput, bad_input_on_value_errors
from bayeskit.models._glm import sampling_scale

__all__ = ["DEFAULTS", "FitRequest", "load_and_fit", "print_fit", "to_json"]

DEFAULTS = {"target": "log_invest", "features": ["log_value", "log_capital"], "group": "firm"}
FIT_METHODS = ("exact", "laplace", "nuts", "advi")


@dataclass
class FitRequest:
    """What the user asked for, after the options were checked."""

    data: Path | None
    target: str | None
    features: list[str] | None
    family: str
    group: str | None
    method: str | None
    checkpoint: Path | None = None
    chains: int = 4
    warmup: int = 1000
    samples: int = 1000
    seed: int = 0
    progress: bool = True
    pooling_comparison: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _columns(frame, request: FitRequest) -> tuple[str, list[str], str | None]:
    from bayeskit.models import FAMILIES

    if request.family not in FAMILIES:
        raise BadInput(f"`--family` must be one of {', '.join(FAMILIES)}; got {request.family!r}.")
    if request.data is None and request.target is None:
        target, features, group = DEFAULTS["target"], DEFAULTS["features"], request.group or DEFAULTS["group"]
    else:
        if request.target is None:
            raise BadInput(f"`--target` is required with a data file; columns are: {', '.join(frame.columns)}.")
        target, features, group = request.target, request.features, request.group
    names = list(frame.columns)
    for label, column in (("--target", target), ("--group", group)):
        if column is not None and column not in names:
            raise BadInput(f"`{label}` column {column!r} is not in the data; columns are: {', '.join(names)}.")
    if features is None:
        features = [c for c in names if c not in (target, group)]
    missing = [c for c in features if c not in names]
    if missing:
        raise BadInput(f"`--features` {missing} not in the data; columns are: {', '.join(names)}.")
    if target in features or (group is not None and group in features):
        raise BadInput("`--features` must not include the target or the group column.")
    if not features:
        raise BadInput("no feature columns: pass `--features a,b` naming at least one numeric column.")
    return target, features, group


def _method(request: FitRequest, group: str | None) -> str:
    method = request.method or ("exact" if request.family == "gaussian" and group is None else "nuts")
    if method not in FIT_METHODS:
        raise BadInput(f"`--method` must be one of {', '.join(FIT_METHODS)}; got {method!r}.")
    if method == "exact" and (request.family != "gaussian" or group is not None):
        raise BadInput(
            "`--method exact` needs `--family gaussian` and no `--group` (the only conjugate case); "
            "use --method nuts, laplace or advi."
        )
    if request.checkpoint is not None and method != "nuts":
        raise BadInput("`--checkpoint` applies to --method nuts only.")
    return method


def load_and_fit(request: FitRequest) -> tuple[str, dict[str, Any], Any, tuple[Any, np.ndarray]]:
    """Read the table and fit the requested model.

    Returns the source label, the column roles, the fitted estimator and the
    validated ``(X, y)`` it was fitted to.
    """
    import pandas as pd

    from bayeskit._table import constant_columns, line_label, numeric_column, read_table
    from bayeskit.datasets import dataset_path

    with bad_input_on_value_errors():
        frame = read_table(request.data if request.data is not None else dataset_path("grunfeld"))
    source = str(request.data) if request.data is not None else "bundled Grunfeld investment panel (11 firms)"
    target, features, group = _columns(frame, request)
    method = _method(request, group)
    with bad_input_on_value_errors():
        x = pd.DataFrame({name: numeric_column(frame, name) for name in features})
        y = numeric_column(frame, target)
    if len(y) < 2:
        raise BadInput(
            f"{source} has 1 data row; a regression needs at least 2 (with one row the noise and the "
            "coefficients cannot be told apart, and the answer would be the prior)."
        )
    warnings = constant_columns(x)
    coefficients = len(features) + 1
    if len(y) <= coefficients:
        warnings.append(
            f"{len(y)} rows for {coefficients} coefficients (with the intercept): the prior, not the data, decides "
            "the answer; collect more rows or use fewer --features."
        )
    if group is not None:
        labels = frame[group].astype(str).str.strip()
        if (labels == "").any():
            row = int(np.argmax(labels == ""))
            raise BadInput(f"`--group` column {group!r} has an empty label at {line_label(frame, row)}.")
        x[group] = labels.to_numpy()
        levels = labels.nunique()
        if levels == len(labels):
            warnings.append(
                f"`--group` column {group!r} has a different level in every row ({levels} levels for {len(labels)} "
                "rows): each group intercept rests on one observation and cannot be told from the noise; group "
                "by a coarser column, or drop --group."
            )
        elif levels == 1:
            warnings.append(
                f"`--group` column {group!r} has a single level ({labels.iloc[0]!r}): there is nothing to pool; "
                "drop --group."
            )
    if warnings and request.progress:
        from bayeskit.cli._output import stderr_console

        for warning in warnings:
            stderr_console().print(f"[yellow]warning:[/yellow] {warning}")
    model = _estimator(request, method, group)
    with bad_input_on_value_errors():
        if request.pooling_comparison and group is not None:
            model.fit_pooling_comparison(x, y)
        else:
            model.fit(x, y)
    roles = {
        "target": target,
        "features": features,
        "group": group,
        "method": method,
        "family": request.family,
        "warnings": warnings,
    }
    return source, roles, model, (x, y)


def _estimator(request: FitRequest, method: str, group: str | None) -> Any:
    from bayeskit.models import BayesianGLM, BayesianLinearRegression, HierarchicalRegression

    for name, value, minimum in (("--chains", request.chains, 1), ("--warmup", request.warmup, 0)):
        if value < minimum:
            raise BadInput(f"`{name}` must be >= {minimum}; got {value}.")
    if request.samples < 1:
        raise BadInput(f"`--samples` must be >= 1; got {request.samples}.")
    sampling = {"num_chains": request.chains, "num_warmup": request.warmup, "num_samples": request.samples}
    if method == "exact":
        return BayesianLinearRegression(method="exact", key=request.seed)
    options = {
        "family": request.family,
        "method": method,
        "key": request.seed,
        "progress": request.progress,
        "checkpoint": request.checkpoint,
        **sampling,
    }
    if group is not None:
        return HierarchicalRegression(group=group, **options)
    return BayesianGLM(**options)


def _rows(model: Any, prob: float = 0.95):
    import warnings

    from bayeskit.infer import DiagnosticsWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DiagnosticsWarning)  # the banner is printed by the caller, once
        table = model.summary(prob)
    return table


def to_json(source: str, roles: dict[str, Any], model: Any) -> dict[str, Any]:
    """The machine-readable result: summary, diagnostics, whether to trust it, timings, evidence or LOO."""
    import dataclasses

    from bayeskit.compare import information_criteria

    table = _rows(model)
    findings = model.posterior_.check()
    payload: dict[str, Any] = {
        "source": source,
        **roles,
        "trustworthy": not findings,
        "findings": [dataclasses.asdict(finding) for finding in findings],
        "diagnostics": [str(finding) for finding in findings],
        "notes": list(getattr(model.posterior_, "notes", ())),
        "summary": {
            str(index): {str(k): (None if not np.isfinite(v) else float(v)) for k, v in row.items()}
            for index, row in table.iterrows()
        },
        "timings": dict(getattr(model.posterior_, "timings", {})),
    }
    if hasattr(model, "log_evidence_"):
        payload["log_evidence"] = model.log_evidence_
    if roles["method"] != "exact":
        criteria = information_criteria(model)
        payload["loo"] = {
            k: criteria[k] for k in ("elpd_loo", "se_loo", "p_loo", "pareto_k_bad", "waic", "aic", "bic", "warnings")
        }
    return payload


def print_fit(console: Any, source: str, roles: dict[str, Any], model: Any) -> None:
    """A Rich table of the posterior, preceded by the banner while any diagnostic fails."""
    from rich.panel import Panel
    from rich.table import Table

    from bayeskit.infer import banner

    findings = model.posterior_.check()
    if findings:
        console.print(Panel(banner(findings), title="DIAGNOSTICS FAILED", border_style="bold red"))
    table = _rows(model)
    title = f"{roles['family']} regression of {roles['target']} ({roles['method']}; {source})"
    out = Table(title=title)
    shown = [c for c in table.columns if c in ("mean", "sd", "eti_2.5%", "eti_97.5%", "hdi_2.5%", "hdi_97.5%")]
    diagnostics = [c for c in ("r_hat", "ess_bulk", "ess_tail") if c in table.columns]
    out.add_column("parameter")
    for column in shown + diagnostics:
        out.add_column(column.replace("eti_", "").replace("hdi_", "HDI ").replace("_", " "), justify="right")
    for name, row in table.iterrows():
        if sampling_scale(str(name)):
            continue  # the JSON output has them
        out.add_row(str(name), *(f"{row[c]:.4g}" for c in shown + diagnostics))
    console.print(out)
    for note in getattr(model.posterior_, "notes", ()):
        console.print(f"note: {note}")
    if not findings and roles["method"] == "nuts":
        console.print("diagnostics: all checks passed (R-hat <= 1.01, ESS >= 400, no divergences, E-BFMI >= 0.3).")
