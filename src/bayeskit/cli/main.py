"""Entry point of the ``bayeskit`` command (Typer app; heavy imports happen inside commands)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import typer

from bayeskit import __version__
from bayeskit.cli._errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    Failed,
    bad_input_on_value_errors,
    check_output,
    handle_errors,
    on_interrupt,
)

app = typer.Typer(
    name="bayeskit",
    help="Bayesian machine learning that tells the truth about its own uncertainty.\n\n"
    "Exit codes: 0 ok, 1 failed, 2 bad input. Results go to stdout; progress and warnings to stderr.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"bayeskit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Bayesian machine learning that tells the truth about its own uncertainty."""


@app.command()
@handle_errors
def demo(
    out: Path | None = typer.Option(
        None, "--out", help="Folder for index.html (created if missing; its parent must exist). Omit: no file."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the results as JSON on stdout."),
    quick: bool = typer.Option(
        False, "--quick", help="Fewer draws, epochs and simulated pulls: the same report in a fraction of the time."
    ),
) -> None:
    """Run every workflow on bundled data and write a self-contained HTML report (OUT/index.html)."""
    from bayeskit.cli._output import print_json, stderr_console, stdout_console
    from bayeskit.cli.demo import FULL, QUICK, run_demo

    check_output(out, "--out", folder=True)
    messages = stderr_console()
    with messages.status("running the demo") as status:
        path, results = run_demo(
            out, progress=lambda name: status.update(f"demo: {name}"), size=QUICK if quick else FULL
        )
    if json_output:
        print_json({"report": str(path), **results})
    else:
        console = stdout_console()
        _print_conjugate(console, results["conjugate"])
        _print_ab_summary(console, results["ab_test"])
    messages.print(f"wrote {path}" if path is not None else "no report written; pass --out DIR for index.html.")
    messages.print(
        "next: [bold]bayeskit serve[/bold] starts the interactive playground at http://127.0.0.1:8765/ "
        "(explorations, the A/B explorer, live monitors); Ctrl-C stops it."
    )


@app.command()
@handle_errors
def ab(
    data: Path | None = typer.Argument(
        None, help="CSV or Parquet file (events or per-arm totals); omit to run the bundled example."
    ),
    variant_col: str | None = typer.Option(
        None, "--variant-col", help="Column naming the variant (detected if omitted)."
    ),
    metric_col: str | None = typer.Option(None, "--metric-col", help="Row-level metric column (detected if omitted)."),
    metric: str | None = typer.Option(None, "--metric", help="binary | count | continuous (detected if omitted)."),
    prior: str | None = typer.Option(
        None,
        "--prior",
        help="binary: uniform|jeffreys|skeptical; count: jeffreys|uniform|skeptical; continuous: vague|weak|skeptical.",
    ),
    control: str | None = typer.Option(
        None,
        "--control",
        help="Control arm (default: 'control', 'baseline' or 'A' if present, else the first name).",
    ),
    threshold: float = typer.Option(
        0.005, "--threshold", help="Ship when the expected loss is below this fraction of the control's mean."
    ),
    rope: float = typer.Option(
        0.01, "--rope", help="Half-width of the region of practical equivalence (relative lift)."
    ),
    prob: float = typer.Option(0.95, "--prob", help="Credible mass of the intervals."),
    lognormal: bool = typer.Option(
        False, "--lognormal", help="Continuous metric: model positive values as log-normal."
    ),
    db: Path | None = typer.Option(None, "--db", help="A DuckDB database file (opened read-only)."),
    table: str | None = typer.Option(None, "--table", help="The table of --db to read."),
    sql: str | None = typer.Option(
        None, "--sql", help="One read-only SELECT query (DuckDB SQL; may read Parquet/CSV files or --db tables)."
    ),
    segment: str | None = typer.Option(
        None, "--segment", help="Comma-separated columns: one exact test per segment, in one vectorized call."
    ),
    covariate: str | None = typer.Option(
        None, "--covariate", help="Continuous metric: a pre-experiment column for CUPED (regression adjustment)."
    ),
    split: str | None = typer.Option(
        None, "--split", help="Planned traffic split in the arms' sorted order, e.g. 50,50 (default: equal)."
    ),
    planned_visitors: float | None = typer.Option(
        None,
        "--planned-visitors",
        help="Binary metric: visitors per arm at the planned end; reports P(the decision changes by then).",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the full result as JSON on stdout."),
    report: Path | None = typer.Option(None, "--report", help="Write a self-contained HTML report here."),
) -> None:
    """Bayesian A/B/n test: P(best), expected loss, lift, a decision, prior sensitivity and a sample-ratio check.

    Reads a CSV, a Parquet file, a DuckDB table or a SELECT query; the aggregation runs inside DuckDB.
    Exits 1 (after writing every output) when the sample-ratio check finds the experiment broken.
    """
    from bayeskit.cli._output import print_json, stderr_console, stdout_console
    from bayeskit.cli.ab import check_options, load_and_run, print_result, print_srm_banner

    check_options(threshold, rope, prob)
    check_output(report, "--report")
    messages = stderr_console()
    segments = tuple(s.strip() for s in segment.split(",") if s.strip()) if segment else ()
    with messages.status("computing exact posteriors"):
        source, ab_data, result = load_and_run(
            data,
            variant_col,
            metric_col,
            metric,
            db=db,
            table=table,
            sql=sql,
            segments=segments,
            covariate=covariate,
            split=split,
            control=control,
            prior=prior,
            threshold=threshold,
            rope=rope,
            prob=prob,
            lognormal=lognormal,
        )
    if segments:
        _segments_output(result, ab_data, source, json_output, report, messages)
        return
    settled = _settledness(result, ab_data, planned_visitors, prob, threshold, rope) if planned_visitors else None
    extra = {} if settled is None else {"settledness": {**dataclasses.asdict(settled), "message": settled.message}}
    if json_output:
        banner = {"broken": True, "banner": result.srm.message} if result.broken else {}  # leads the JSON
        columns = {"source": source, "layout": ab_data.layout, "columns": ab_data.columns}
        print_json({**banner, **columns, **result.to_dict(), **extra})
    else:
        print_srm_banner(stdout_console(), result)
        print_result(stdout_console(), result, ab_data)
        if settled is not None:
            stdout_console().print(f"how settled: {settled.message}")
    if result.conclusion_depends_on_prior and not result.broken:
        messages.print(
            "[yellow]warning:[/yellow] the decision changes under another reasonable prior; see the sensitivity table."
        )
    if report is not None:
        from bayeskit.report import Report
        from bayeskit.report.ab import add_ab_sections

        written = add_ab_sections(Report("Bayesian A/B test"), result, source).save(report)
        messages.print(f"wrote {written}")
    if result.broken:  # the output is written; the exit status tells a pipeline the experiment is broken
        messages.print(f"[red]error:[/red] {result.srm.message}")
        raise typer.Exit(EXIT_FAILED)


def _settledness(result, ab_data, planned_visitors: float, prob: float, threshold: float, rope: float):
    from bayeskit.cli._errors import BadInput, bad_input_on_value_errors
    from bayeskit.decide.settle import decision_stability

    if result.metric != "binary":
        raise BadInput("`--planned-visitors` applies to a binary metric (visitors and conversions).")
    with bad_input_on_value_errors():
        return decision_stability(
            list(ab_data.names),
            ab_data.visitors,
            ab_data.conversions,
            planned_visitors=planned_visitors,
            rng=0,
            control=result.control,
            prob=prob,
            threshold=threshold,
            rope=rope,
        )


def _segments_output(table, warehouse, source: str, json_output: bool, report: Path | None, messages) -> None:
    from bayeskit.cli._output import print_json, stdout_console
    from bayeskit.cli.ab import print_segments
    from bayeskit.cli.ab_warehouse import forest_rows

    if json_output:
        print_json(
            {
                "source": source,
                "layout": warehouse.layout,
                "columns": warehouse.columns,
                "segments": list(warehouse.segments),
                "metric": warehouse.metric,
                **table.attrs,
                "tests": forest_rows(table),
            }
        )
    else:
        print_segments(stdout_console(), table, warehouse)
    if report is not None:
        from bayeskit.report import Report
        from bayeskit.report.ab import add_segment_sections

        written = add_segment_sections(Report("Bayesian A/B test per segment"), table, warehouse, source).save(report)
        messages.print(f"wrote {written}")
    if (table["decision"] == "withheld").any():
        messages.print("[red]error:[/red] some segments have a sample-ratio mismatch; their decisions are withheld.")
        raise typer.Exit(EXIT_FAILED)


@app.command()
@handle_errors
def calibrate(
    data: Path | None = typer.Argument(None, help="CSV of predictions; omit to run the bundled example."),
    task: str | None = typer.Option(None, "--task", help="classification | regression (detected if omitted)."),
    label_col: str | None = typer.Option(None, "--label-col", help="Integer class label column."),
    prob_cols: str | None = typer.Option(
        None, "--prob-cols", help="Comma-separated probability columns (default: p_*)."
    ),
    target_col: str | None = typer.Option(None, "--target-col", help="Regression target column (default: y)."),
    mean_col: str | None = typer.Option(None, "--mean-col", help="Predictive mean column (default: mean)."),
    std_col: str | None = typer.Option(None, "--std-col", help="Predictive standard deviation column (default: std)."),
    quantile_cols: str | None = typer.Option(
        None, "--quantile-cols", help="Comma-separated quantile columns (default: q05, q0.5, ...)."
    ),
    quantile_levels: str | None = typer.Option(
        None, "--quantile-levels", help="Their levels, e.g. 0.05,0.5,0.95 (default: from the names)."
    ),
    recalibrate: bool = typer.Option(
        False, "--recalibrate", help="Fit temperature/variance scaling on half, compare on the other half."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the metrics as JSON on stdout."),
    report: Path | None = typer.Option(None, "--report", help="Write a self-contained HTML report here."),
) -> None:
    """Check calibration: ECE, reliability, Brier/NLL (classification) or NLL, CRPS, coverage (regression)."""
    from bayeskit.cli._output import print_json, print_warnings, stderr_console, stdout_console
    from bayeskit.cli.calibrate import load_and_evaluate

    check_output(report, "--report")
    messages = stderr_console()
    source, predictions, results = load_and_evaluate(
        data,
        recalibrate,
        task=task,
        label_col=label_col,
        prob_cols=prob_cols,
        target_col=target_col,
        mean_col=mean_col,
        std_col=std_col,
        quantile_cols=quantile_cols,
        quantile_levels=quantile_levels,
    )
    if json_output:
        print_json(
            {
                "source": source,
                "task": predictions.task,
                "columns": predictions.columns,
                "metrics": results["summaries"],
                "verdicts": results["verdicts"],
                "warnings": results["warnings"],
            }
        )
    else:
        console = stdout_console()
        _print_metrics(console, f"Calibration check: {predictions.task} ({source})", results["summaries"])
        for name, text in results["verdicts"].items():
            console.print(f"verdict{'' if len(results['verdicts']) == 1 else f' ({name})'}: {text}")
    print_warnings(results["warnings"])
    if report is not None:
        from bayeskit.report import Report
        from bayeskit.report.calibration import (
            add_classification_sections,
            add_quantile_sections,
            add_regression_sections,
        )

        if predictions.task == "classification":
            add = add_classification_sections
        else:
            add = add_regression_sections if predictions.quantiles is None else add_quantile_sections
        written = add(
            Report("Calibration report"), results["models"], results["summaries"], note=f"Data: {source}."
        ).save(report)
        messages.print(f"wrote {written}")


@app.command()
@handle_errors
def fit(
    data: Path | None = typer.Argument(None, help="CSV file; omit to fit the bundled Grunfeld panel."),
    target: str | None = typer.Option(None, "--target", help="Column to predict (required with a data file)."),
    features: str | None = typer.Option(
        None, "--features", help="Comma-separated feature columns (default: every other column)."
    ),
    family: str = typer.Option("gaussian", "--family", help="gaussian | bernoulli | poisson | student."),
    group: str | None = typer.Option(None, "--group", help="Column of group labels: partial-pooling intercepts."),
    method: str | None = typer.Option(
        None, "--method", help="exact | laplace | nuts | advi (default: exact when possible, else nuts)."
    ),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="NUTS checkpoint file: written as it runs; rerun to resume after a kill."
    ),
    mass_matrix: str = typer.Option(
        "numpyro",
        "--mass-matrix",
        help="NUTS warmup: numpyro (its own) | variance | diag | lowrank | auto (bayeskit's; restarts stuck chains).",
    ),
    init: str = typer.Option(
        "auto",
        "--init",
        help="NUTS starts: auto (pathfinder with a bayeskit warmup, else uniform) | uniform | prior (a prior draw "
        "per chain) | pathfinder (a Pathfinder draw and metric per chain); prior and pathfinder need a bayeskit "
        "warmup.",
    ),
    precision: str = typer.Option(
        "float32", "--precision", help="float32 | float64 for nuts, laplace and advi (float64: large or long data)."
    ),
    chains: int = typer.Option(4, "--chains", help="NUTS chains."),
    warmup: int = typer.Option(1000, "--warmup", help="NUTS warmup iterations per chain."),
    samples: int = typer.Option(1000, "--samples", help="NUTS draws per chain."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same numbers)."),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 1 (after printing everything) when a convergence check fails."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the full result as JSON on stdout."),
    report: Path | None = typer.Option(
        None, "--report", help="Write an HTML report (trace, rank, intervals, predictive check, shrinkage)."
    ),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Print the memory the fit needs (against what is free) and its time from a short calibration, then "
        "stop; exit 1 when it would not fit.",
    ),
) -> None:
    """Fit a Bayesian regression to a CSV and print the posterior with its convergence diagnostics.

    A failed check (divergences, R-hat > 1.01, ESS < 400, E-BFMI < 0.3) prints a banner on stdout and stderr
    and sets "trustworthy": false in the JSON; the exit code stays 0 unless --strict is given.
    """
    from bayeskit.cli._output import print_json, stderr_console, stdout_console
    from bayeskit.cli.fit import FitRequest, load_and_fit, print_fit, readable_findings, to_json

    check_output(report, "--report")
    check_output(checkpoint, "--checkpoint")
    request = FitRequest(
        data=data,
        target=target,
        features=[c.strip() for c in features.split(",") if c.strip()] if features else None,
        family=family,
        group=group,
        method=method,
        checkpoint=checkpoint,
        mass_matrix=mass_matrix,
        init=init,
        precision=precision,
        chains=chains,
        warmup=warmup,
        samples=samples,
        seed=seed,
        pooling_comparison=report is not None,
    )
    messages = stderr_console()
    if dry_run:
        _dry_run(load_and_fit, request, json_output=json_output)
        return
    on_interrupt(
        f"the checkpoint {str(checkpoint)!r} holds every finished chunk of draws; rerun the same command to resume."
        if checkpoint is not None
        else "nothing was saved; pass --checkpoint FILE to make a long NUTS fit resumable."
    )
    source, roles, model, training = load_and_fit(request)
    resumed = getattr(model.posterior_, "details", {}).get("resumed_from", 0)
    if resumed:
        messages.print(
            f"resumed from the checkpoint {str(checkpoint)!r}: {resumed} of {warmup + samples} "
            "transitions per chain were already done."
        )
    if json_output:
        from bayeskit._progress import status

        with status("computing PSIS-LOO and WAIC for the JSON", roles["method"] != "exact"):
            payload = to_json(source, roles, model)
        print_json(payload)
    else:
        print_fit(stdout_console(), source, roles, model)
    findings = readable_findings(model)
    if findings:
        from rich.panel import Panel

        from bayeskit.infer import banner

        messages.print(Panel(banner(findings), title="DIAGNOSTICS FAILED", border_style="bold red"))
        messages.print("[bold red]warning:[/bold red] convergence checks failed; do not trust these numbers.")
    if report is not None:
        from bayeskit.report import Report
        from bayeskit.report.fit import add_fit_sections

        written = add_fit_sections(Report("Bayesian regression"), source, roles, model, training).save(report)
        messages.print(f"wrote {written}")
    if strict and findings:
        raise Failed(f"--strict: {len(findings)} convergence check(s) failed (listed above); exit 1.")


@app.command()
@handle_errors
def uq(
    data: Path | None = typer.Argument(
        None, help="CSV file; omit to use the bundled uq_regression (or uq_classification) table."
    ),
    target: str | None = typer.Option(None, "--target", help="Column to predict (required with a data file)."),
    features: str | None = typer.Option(None, "--features", help="Comma-separated features (default: the rest)."),
    method: str = typer.Option(
        "ensemble", "--method", help="ensemble | mc-dropout | swag | bbb (Bayes-by-backprop) | laplace (last layer)."
    ),
    task: str = typer.Option(
        "regression", "--task", help="regression | classification (the target holds class labels, text or numbers)."
    ),
    test_fraction: float = typer.Option(0.2, "--test-fraction", help="Share of rows held out for evaluation."),
    epochs: int = typer.Option(500, "--epochs", help="Maximum training epochs (early stopping on 10% of training)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (split, initialization, shuffles)."),
    json_output: bool = typer.Option(False, "--json", help="Print the held-out metrics as JSON on stdout."),
    report: Path | None = typer.Option(
        None, "--report", help="Write an HTML report (intervals, decomposition, calibration)."
    ),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Print the memory the training needs (against what is free) and its time from a short calibration, "
        "then stop; exit 1 when it would not fit.",
    ),
) -> None:
    """Train a Bayesian neural network on a CSV and check its uncertainty on held-out rows."""
    from bayeskit.cli._output import print_json, stderr_console, stdout_console
    from bayeskit.cli.uq import print_uq, run_uq, to_json

    check_output(report, "--report")
    arguments = (
        data,
        target,
        [c.strip() for c in features.split(",") if c.strip()] if features else None,
        method,
        task,
        test_fraction,
        epochs,
        seed,
    )
    if dry_run:
        _dry_run(run_uq, *arguments, json_output=json_output)
        return
    result = run_uq(*arguments)
    if json_output:
        print_json(to_json(result))
    else:
        print_uq(stdout_console(), result)
    if report is not None:
        from bayeskit.report import Report
        from bayeskit.report.uq import add_uq_sections

        written = add_uq_sections(Report("Neural network uncertainty"), result).save(report)
        stderr_console().print(f"wrote {written}")


@app.command()
@handle_errors
def optimize(
    target: str | None = typer.Argument(
        None, help="MODULE:FUNCTION taking a dict of parameters, returning a number; omit for the bundled example."
    ),
    space: Path | None = typer.Option(
        None,
        "--space",
        help='JSON search space (required with your own target): one entry per parameter, {"lr": {"type": '
        '"float", "low": 1e-4, "high": 0.1, "log": true}, "layers": {"type": "int", "low": 1, "high": 4}, '
        '"act": {"type": "categorical", "choices": ["relu", "tanh"]}}. "log" (optional) searches on a log '
        "scale. Example: examples/optimize/space.json.",
    ),
    trials: int = typer.Option(30, "--trials", help="Finished trials the study should hold (resumed ones count)."),
    study: Path | None = typer.Option(None, "--study", help="SQLite file; an existing one is resumed."),
    direction: str = typer.Option("minimize", "--direction", help="minimize | maximize."),
    acquisition: str = typer.Option("logei", "--acquisition", help="logei | ei | pi | ucb | thompson."),
    seed: int = typer.Option(0, "--seed", help="Seed of the Sobol start, the GP restarts and the candidates."),
    workers: int | None = typer.Option(
        None,
        "--workers",
        help="Trials run at once, each in a worker process (default 1), or Ray tasks in flight with --ray "
        "(default: the cluster's CPUs).",
    ),
    ray: str | None = typer.Option(
        None,
        "--ray",
        help="Run the trials as Ray tasks: a cluster's HOST:PORT (as `ray start --head` prints), 'auto', or "
        "'local' for a Ray instance on this machine.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the study as JSON on stdout."),
    report: Path | None = typer.Option(None, "--report", help="Write an HTML report (convergence, GP slices)."),
) -> None:
    """Minimize (or maximize) a Python function by Bayesian optimization; resumable from its SQLite study.

    The function gets a dict of parameters (named as in --space) and returns the number to optimize; a trial that
    raises or returns NaN is recorded as failed. Exit 1 when no trial completes.
    """
    from bayeskit.cli._output import print_json, stderr_console, stdout_console
    from bayeskit.cli.optimize import print_optimize, run_optimize, to_json

    check_output(report, "--report")
    on_interrupt(
        f"the study {str(study)!r} keeps every finished trial; rerun the same command to resume (the interrupted "
        "trial runs again with the same parameters)."
        if study is not None
        else "the finished trials were in memory only; pass --study FILE to keep them across runs."
    )
    result = run_optimize(target, space, trials, study, direction, acquisition, seed, workers=workers, ray_address=ray)
    if json_output:
        print_json(to_json(result))
    else:
        print_optimize(stdout_console(), result)
    if report is not None:
        from bayeskit.optimize.slices import gp_slices
        from bayeskit.report import Report
        from bayeskit.report.optimize import add_optimize_sections

        result["slices"] = gp_slices(result["_study"])
        written = add_optimize_sections(Report("Bayesian optimization"), result).save(report)
        stderr_console().print(f"wrote {written}")


@app.command()
@handle_errors
def track(
    data: Path | None = typer.Argument(None, help="CSV of positions over time; omit to run the bundled track."),
    cols: str | None = typer.Option(None, "--cols", help="Comma-separated position columns (default: x,y[,z])."),
    time_col: str | None = typer.Option(None, "--time-col", help="Time column (regular steps); sets the step."),
    dt: float | None = typer.Option(None, "--dt", help="Time step when there is no time column (default 1)."),
    process_noise: float | None = typer.Option(
        None, "--process-noise", help="Acceleration noise density (learned by maximum likelihood if omitted)."
    ),
    measurement_noise: float | None = typer.Option(
        None, "--measurement-noise", help="Position noise variance (learned by maximum likelihood if omitted)."
    ),
    prob: float = typer.Option(0.95, "--prob", help="Credible mass of the bands."),
    json_output: bool = typer.Option(False, "--json", help="Print the fit and the smoothed track as JSON."),
    report: Path | None = typer.Option(None, "--report", help="Write an HTML report with the track figure."),
) -> None:
    """Kalman filter and RTS smoother on noisy positions (constant velocity); empty cells are missed detections."""
    from bayeskit.cli._output import print_json, stderr_console, stdout_console
    from bayeskit.cli.track import print_track, run_track, to_json

    check_output(report, "--report")
    columns = [c.strip() for c in cols.split(",") if c.strip()] if cols else None
    messages = stderr_console()
    with messages.status("fitting the tracker"):
        result = run_track(data, columns, time_col, dt, process_noise, measurement_noise, prob)
    if json_output:
        print_json(to_json(result))
    else:
        print_track(stdout_console(), result)
    for finding in result["findings"]:
        messages.print(f"[bold red]warning:[/bold red] {finding}")
    if report is not None:
        from bayeskit.report import Report
        from bayeskit.report.sequential import add_track_sections

        written = add_track_sections(Report("Tracking"), result).save(report)
        messages.print(f"wrote {written}")


@app.command()
@handle_errors
def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on; anything but loopback lets other machines in (warned)."
    ),
    port: int = typer.Option(8765, "--port", help="Port to listen on."),
    study: list[Path] = typer.Option(
        [], "--study", help="An optimize study file to watch live at /studies (repeatable; read-only)."
    ),
    checkpoint: list[Path] = typer.Option(
        [], "--checkpoint", help="A NUTS checkpoint to watch live at /runs (repeatable; read-only)."
    ),
    open_browser: bool = typer.Option(False, "--open", help="Open the start page in the default browser."),
) -> None:
    """Start the interactive playground: explorations, the A/B explorer and live monitors, all computed by bayeskit.

    Only the files named with --study and --checkpoint are visible to the browser, and only for reading.
    Stop with Ctrl-C.
    """
    from bayeskit.cli._output import stderr_console
    from bayeskit.cli.serve import check_address, check_files
    from bayeskit.serve.server import is_loopback
    from bayeskit.serve.server import serve as run_server

    messages = stderr_console()
    notes = check_files(study, "--study") + check_files(checkpoint, "--checkpoint")
    check_address(host, port)
    for note in notes:
        messages.print(f"note: {note}")
    if not is_loopback(host):
        messages.print(
            f"[bold red]warning:[/bold red] listening on {host}, not loopback: anyone who can reach this machine can "
            "use the playground and read the files named with --study and --checkpoint."
        )
    on_interrupt("the server stopped; it writes nothing, so nothing was lost.")

    def ready(url: str) -> None:
        print(f"bayeskit serve: open {url} (Ctrl-C stops it)", flush=True)
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    run_server(host, port, study, checkpoint, on_ready=ready)


@app.command()
@handle_errors
def topics(
    docs: Path | None = typer.Argument(
        None,
        help="A text file (one document per line) or a CSV with --column; omit for the standard library's docstrings.",
    ),
    column: str | None = typer.Option(None, "--column", help="The CSV column that holds the texts."),
    num_topics: int = typer.Option(10, "--topics", help="Number of topics."),
    words: int = typer.Option(10, "--words", help="Top words shown per topic."),
    passes: int = typer.Option(10, "--passes", help="Passes of variational Bayes over the documents."),
    method: str = typer.Option("batch", "--method", help="batch | online (minibatches of 128 documents)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same topics)."),
    json_output: bool = typer.Option(False, "--json", help="Print the topics as JSON on stdout."),
    report: Path | None = typer.Option(
        None, "--report", help="Write an HTML report (top words with intervals, sizes, document-topic map)."
    ),
) -> None:
    """Find the topics of a set of texts (latent Dirichlet allocation) and print their top words and sizes."""
    from bayeskit.cli._output import print_json, stderr_console, stdout_console
    from bayeskit.cli.topics import print_topics, run_topics, to_json

    check_output(report, "--report")
    result = run_topics(docs, column, num_topics, words, passes, method, seed)
    if json_output:
        print_json(to_json(result))
    else:
        print_topics(stdout_console(), result)
    if report is not None:
        from bayeskit.report import Report
        from bayeskit.report.topics import add_topic_sections

        written = add_topic_sections(Report("Topic model"), result).save(report)
        stderr_console().print(f"wrote {written}")


bandit_app = typer.Typer(help="Bandit policies: simulate Thompson sampling against UCB and epsilon-greedy.")
app.add_typer(bandit_app, name="bandit")


@bandit_app.command("simulate")
@handle_errors
def bandit_simulate(
    arms: str = typer.Option(
        "0.04,0.05,0.06", "--arms", help="Arm means (Bernoulli: probabilities); linear: weight rows split by ';'."
    ),
    reward: str = typer.Option("bernoulli", "--reward", help="bernoulli | poisson | gaussian | linear."),
    horizon: int = typer.Option(100_000, "--horizon", help="Pulls per run."),
    seeds: int = typer.Option(100, "--seeds", help="Independent runs per policy."),
    batch_size: int = typer.Option(1, "--batch-size", help="Pulls chosen per posterior update (batched feedback)."),
    delay: int = typer.Option(0, "--delay", help="Rounds before a reward reaches the policy (delayed feedback)."),
    epsilon: float = typer.Option(0.1, "--epsilon", help="Exploration rate of epsilon-greedy."),
    noise_sd: float = typer.Option(1.0, "--noise-sd", help="Reward noise sd (gaussian and linear rewards)."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    json_output: bool = typer.Option(False, "--json", help="Print the summary and mean regret curves as JSON."),
    report: Path | None = typer.Option(None, "--report", help="Write an HTML report with the regret curves here."),
    engine: str = typer.Option(
        "jax", "--engine", help="jax (every case, GPU) | numpy (bernoulli/poisson, one pull per round; faster on CPU)."
    ),
) -> None:
    """Simulate Thompson sampling, UCB and epsilon-greedy; print their regret and write the curves."""
    from bayeskit.cli._output import print_json, stderr_console, stdout_console
    from bayeskit.cli.bandit import print_bandit, run_bandit

    if report is not None and str(report) in ("", "."):
        report = None  # the old way to skip the report, still accepted
    check_output(report, "--report")
    result = run_bandit(arms, reward, horizon, seeds, batch_size, delay, epsilon, noise_sd, seed, engine=engine)
    if json_output:
        print_json(result.to_dict())
    else:
        print_bandit(stdout_console(), result)
    if report is not None:
        from bayeskit.report import Report
        from bayeskit.report.sequential import add_bandit_sections

        written = add_bandit_sections(Report("Bandit simulation"), result).save(report)
        stderr_console().print(f"wrote {written}")


def _dry_run(run, *arguments, json_output: bool) -> None:
    """``--dry-run``: the estimate of the command's big run, printed; exit 1 when it would not fit."""
    from bayeskit.cli._output import print_json
    from bayeskit.resources import estimate

    with bad_input_on_value_errors():
        plan = estimate(run, *arguments)
    if json_output:
        print_json(plan.to_dict())
    else:
        print(plan.table())
    if not plan.fits:
        raise Failed(f"--dry-run: the run would not fit ({plan.shortfall()}). {plan.fix}")


def _print_metrics(console, title: str, summaries: dict) -> None:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    for name in summaries:
        table.add_column(name, justify="right")
    for metric in next(iter(summaries.values())):
        table.add_row(metric, *(f"{summary[metric]:.4g}" for summary in summaries.values()))
    console.print(table)


def _print_conjugate(console, results) -> None:
    from rich.table import Table

    table = Table(title="Conjugate walkthrough (bundled data)")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    posterior, robust, bf = results["posterior"], results["robust"], results["bayes_factor"]
    low, high = posterior["eti_95"]
    table.add_row(
        f"P(heads) after {results['num_flips']} flips",
        f"{posterior['mean']:.3f}  [{low:.3f}, {high:.3f}] 95%",
    )
    table.add_row("mass: Gaussian MLE (pulled by outliers)", f"{robust['gaussian_mle_mean']:.3f} g")
    table.add_row("mass: Student-t MLE (robust)", f"{robust['student_t_loc']:.3f} g")
    table.add_row(
        f"Bayes factor {bf['hypotheses'][0]} vs {bf['hypotheses'][1]}",
        f"{bf['bayes_factor']:.3g} ({bf['strength']})",
    )
    console.print(table)


def _print_ab_summary(console, result: dict) -> None:
    from rich.table import Table

    table = Table(title="A/B test (bundled data, exact)")
    for column in ("arm", "mean", "P(best)", "exp. loss (% of control)"):
        table.add_column(column, justify="left" if column == "arm" else "right")
    for arm in result["arms"]:
        loss = arm["expected_loss_relative"]  # the unit of the decision's sentence below
        shown = f"{loss:.3%}" if loss is not None else f"{arm['expected_loss']:.2g}"
        table.add_row(arm["name"], f"{arm['mean']:.4f}", f"{arm['prob_best']:.3f}", shown)
    console.print(table)
    arm = f" {result['decision_arm']!r}" if result["decision_arm"] else ""
    console.print(f"decision: [bold]{result['decision']}{arm}[/bold]. {result['reason']}")


def _compilation_cache() -> None:
    """The command's own process keeps compiled programs on disk, so a second run skips compiling.

    Only JAX's configuration of this process changes; JAX is imported (and the cache configured)
    when a command first needs it, not here: a bad-input exit stays fast.
    """
    import os

    if os.environ.get("BAYESKIT_COMPILATION_CACHE", "1") == "0" or os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return
    from bayeskit.compilation_cache import MIN_COMPILE_SECONDS, default_cache_dir

    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(default_cache_dir())
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", str(MIN_COMPILE_SECONDS))


def run() -> None:
    """Console-script entry point (usage errors exit 2 through Typer; see ``handle_errors``).

    Ctrl-C ends the process at once through :func:`~bayeskit.cli._errors.interrupted` (exit 130,
    saying what was kept), without the interpreter's teardown, which can crash while XLA threads
    are still compiling. A SIGINT that the shell set to be ignored (a background job) stays ignored.
    """
    import os
    import signal

    from bayeskit.cli._errors import interrupted

    _compilation_cache()
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupted)
    try:
        app()
    except SystemExit as done:
        if done.code == EXIT_INTERRUPTED:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        raise
