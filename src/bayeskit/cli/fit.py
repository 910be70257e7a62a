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
    mass_matrix: str = "numpyro"
    init: str = "auto"
    precision: str = "float32"
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
    _check_engine_options(request, method)
    return method


def _check_engine_options(request: FitRequest, method: str) -> None:
    """``--mass-matrix``, ``--init`` and ``--precision`` against the method they apply to."""
    from bayeskit.infer.adapt import MASS_MATRICES

    if request.mass_matrix not in MASS_MATRICES:
        raise BadInput(f"`--mass-matrix` must be one of {', '.join(MASS_MATRICES)}; got {request.mass_matrix!r}.")
    if request.mass_matrix != "numpyro" and method != "nuts":
        raise BadInput(f"`--mass-matrix` applies to --method nuts only; this fit uses {method}: add --method nuts.")
    from bayeskit.infer._precision import PRECISIONS
    from bayeskit.infer.nuts import INITS

    if request.init not in INITS:
        raise BadInput(f"`--init` must be one of {', '.join(INITS)}; got {request.init!r}.")
    if request.init not in ("auto", "uniform") and (method != "nuts" or request.mass_matrix == "numpyro"):
        raise BadInput(
            f"`--init {request.init}` needs --method nuts with one of bayeskit's warmups (NumPyro's starts "
            f"uniformly); this fit uses {method} with --mass-matrix {request.mass_matrix}: add --method nuts "
            "--mass-matrix variance (the same estimator as NumPyro's) or auto."
        )
    if request.precision not in PRECISIONS:
        raise BadInput(f"`--precision` must be one of {', '.join(PRECISIONS)}; got {request.precision!r}.")
    if request.precision != "float32" and method == "exact":
        raise BadInput("`--precision` applies to nuts, laplace and advi; the exact fit is float64 already: drop it.")


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
    if request.progress:
        from bayeskit.cli._output import print_warnings

        print_warnings(warnings)
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
        "mass_matrix": request.mass_matrix,
        "init": request.init,
        "precision": request.precision,
        **sampling,
    }
    if group is not None:
        return HierarchicalRegression(group=group, **options)
    return BayesianGLM(**options)


def readable_findings(model: Any) -> tuple:
    """The fit's failed checks, with the sampler's internal sites named after what they stand for.

    ``z[4]`` becomes ``z[IBM] (the non-centered offset behind alpha[IBM])`` and ``mu_alpha_c``
    ``mu_alpha_c (mu_alpha as sampled, on centred features)``: a reader never meets an unexplained name.
    """
    import dataclasses
    import re

    def name(match: re.Match) -> str:
        site = match.group(1)
        label = model._label(site) if hasattr(model, "_label") else site
        base = site.split("[", 1)[0]
        if base == "z":
            return f"{label} (the non-centered offset behind alpha{label[1:]})"
        if sampling_scale(site):
            return f"{label} ({base[:-2]} as sampled, on centred features)"
        return label

    return tuple(
        dataclasses.replace(finding, where=re.sub(r"(?<=at )(\w+(?:\[\d+\])?)", name, finding.where))
        for finding in model.posterior_.check()
    )


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
    findings = readable_findings(model)
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
    if roles["method"] == "nuts":
        payload["mass_matrix"], payload["init"] = model.mass_matrix, model.init
    if roles["method"] != "exact":
        payload["precision"] = model.precision
        criteria = information_criteria(model)
        payload["loo"] = {
            k: criteria[k] for k in ("elpd_loo", "se_loo", "p_loo", "pareto_k_bad", "waic", "aic", "bic", "warnings")
        }
    return payload


def abbreviate(names: list[str], limit: int) -> dict[str, str]:
    """Shorten names longer than ``limit`` in the middle of their label (``alpha[General…oration]``).

    Deterministic, and never ambiguous: where two names would shorten to the same text,
    both keep more characters until they differ (at worst in full).
    """

    def cut(name: str, keep: int) -> str:
        site, bracket, label = name.partition("[")
        label = label[:-1] if bracket else name
        if len(label) <= keep + 1:
            return name
        short = label[: (keep + 1) // 2].rstrip() + "…" + label[len(label) - keep // 2 :].lstrip()
        return f"{site}[{short}]" if bracket else short

    def budget(name: str) -> int:
        site, bracket, _ = name.partition("[")
        return max(4, limit - (len(site) + 2 if bracket else 0) - 1)

    keep = {name: None if len(name) <= limit else budget(name) for name in names}  # None: in full
    while True:
        short = {name: name if k is None else cut(name, k) for name, k in keep.items()}
        seen: dict[str, list[str]] = {}
        for name, text in short.items():
            seen.setdefault(text, []).append(name)
        clashes = [name for group in seen.values() if len(group) > 1 for name in group if keep[name] is not None]
        if not clashes:
            return short
        for name in clashes:
            keep[name] = None if cut(name, keep[name] + 2) == name else keep[name] + 2


def print_fit(console: Any, source: str, roles: dict[str, Any], model: Any) -> None:
    """A Rich table of the posterior, preceded by the banner while any diagnostic fails."""
    from rich import box
    from rich.measure import Measurement
    from rich.panel import Panel
    from rich.table import Table

    from bayeskit.infer import banner

    findings = readable_findings(model)
    if findings:
        console.print(Panel(banner(findings), title="DIAGNOSTICS FAILED", border_style="bold red"))
    table = _rows(model)
    title = f"{roles['family']} regression of {roles['target']} ({roles['method']}; {source})"
    shown = [c for c in table.columns if c in ("mean", "sd", "eti_2.5%", "eti_97.5%", "hdi_2.5%", "hdi_97.5%")]
    diagnostics = [c for c in ("r_hat", "ess_bulk", "ess_tail") if c in table.columns]
    headers = {"r_hat": "R-hat", "ess_bulk": "ESS\nbulk", "ess_tail": "ESS\ntail"}
    rows = {
        str(name): [f"{row[c]:.0f}" if c.startswith("ess") else f"{row[c]:.4g}" for c in shown + diagnostics]
        for name, row in table.iterrows()
        if not sampling_scale(str(name))  # the JSON output has them
    }
    labels = [headers.get(c, c.replace("eti_", "").replace("hdi_", "HDI ")) for c in shown + diagnostics]

    def build(limit: int):
        names = abbreviate(list(rows), limit)
        out = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0), pad_edge=False)
        out.add_column("parameter", no_wrap=True, min_width=max(map(len, names.values()), default=9))
        for label in labels:
            out.add_column(label, justify="right", no_wrap=True)
        for name, cells in rows.items():
            out.add_row(names[name], *cells)
        return out, Measurement.get(console, console.options.update(max_width=10_000), out).maximum

    longest = max([12, *map(len, rows)])
    for limit in range(longest, 11, -1):  # shorten long group labels in the middle, never below 12 characters
        out, needed = build(limit)
        if needed <= console.width:
            break
    if needed > console.width and not console.is_terminal:
        console.width = needed  # a pipe gets every name and number whole rather than cut at 80 columns
    console.print(out)
    for note in getattr(model.posterior_, "notes", ()):
        console.print(f"note: {note}")
    if not findings and roles["method"] == "nuts":
        console.print("diagnostics: all checks passed (R-hat <= 1.01, ESS >= 400, no divergences, E-BFMI >= 0.3).")
