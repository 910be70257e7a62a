"""``bayeskit ab``: a Bayesian A/B/n test from a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bayeskit.cli._errors import BadInput, bad_input_on_value_errors


def load_and_run(
    data: Path | None,
    variant_col: str | None,
    metric_col: str | None,
    metric: str | None,
    *,
    db: Path | None = None,
    table: str | None = None,
    sql: str | None = None,
    segments: tuple[str, ...] = (),
    covariate: str | None = None,
    split: str | None = None,
    **options: Any,
):
    """Read the data (a CSV, a Parquet file, a DuckDB table or query, or the bundled example) and run the test.

    Returns ``(source, ab_data, result)``: ``result`` is an ``ABTestResult``, or with ``segments`` a pandas
    table of one test per segment (``ab_data`` is then the warehouse statistics).
    """
    from bayeskit.cli.ab_data import detect_ab_data, read_table, run_ab_test
    from bayeskit.cli.ab_warehouse import as_ab_data, is_warehouse, open_source, read_statistics, segment_table
    from bayeskit.datasets import dataset_path
    from bayeskit.decide.srm import parse_split

    with bad_input_on_value_errors():
        if is_warehouse(data, db, table, sql) or segments or covariate is not None:
            if data is not None and data.suffix.lower() == ".csv":  # read by DuckDB, to group and adjust
                data, sql = None, f"SELECT * FROM read_csv_auto('{_quoted(data)}')"
            connection, relation, source = open_source(data, db, table, sql)
            try:
                warehouse = read_statistics(
                    relation,
                    variant_col=variant_col,
                    metric_col=metric_col,
                    metric=metric,
                    segments=tuple(segments),
                    covariate=covariate,
                )
            finally:
                connection.close()
            if segments:
                arms = warehouse.statistics[warehouse.columns["variant"]].nunique()
                shares = None if split is None else parse_split(split, arms)
                options.pop("sensitivity", None)
                return (
                    source,
                    warehouse,
                    segment_table(warehouse, options.pop("control", None), split=shares, **options),
                )
            ab_data = as_ab_data(warehouse)
        else:
            source = str(data) if data is not None else "bundled example ab_conversions.csv"
            frame = read_table(data if data is not None else dataset_path("ab_conversions"))
            ab_data = detect_ab_data(frame, variant_col=variant_col, metric_col=metric_col, metric=metric)
        shares = None if split is None else parse_split(split, len(ab_data.names))
        result = run_ab_test(ab_data, split=shares, **options)
    return source, ab_data, result


def _quoted(path: Path) -> str:
    if "'" in str(path):
        raise ValueError(f"the path {str(path)!r} contains a quote; rename the file or read it with --sql.")
    return str(path)


def print_srm_banner(console, result) -> None:
    """A red panel leading the output when the split is broken (the decision is withheld)."""
    from rich.panel import Panel

    if result.srm is not None and result.srm.broken:
        console.print(Panel(result.srm.message, title="EXPERIMENT BROKEN: decision withheld", border_style="red"))


def print_segments(console, table, warehouse) -> None:
    """One row per segment and arm: the pooled estimate (the default) with the unpooled one beside it."""
    from rich.table import Table

    variant = warehouse.columns["variant"]
    pooled = "pooled_decision" in table.columns
    title = f"Bayesian A/B test per segment: {warehouse.metric} metric"
    out = Table(title=title + (", partially pooled across segments" if pooled else ", each segment on its own"))
    headers = (*warehouse.segments, "arm", "n", "mean", "P(best)", "decision")
    if pooled:
        headers = (*warehouse.segments, "arm", "n", "mean", "lift", "P(best)", "decision", "unpooled P(best)")
    numeric = ("n", "mean", "lift", "P(best)", "unpooled P(best)")
    for column in headers:
        out.add_column(column, justify="right" if column in numeric else "left")
    for record in table.to_dict(orient="records"):

        def verdict(key: str, record=record) -> str:
            if not record["is_control"]:
                return ""
            if record[key] == "withheld":
                return f"[red]withheld (split p = {record['srm_p_value']:.1g})[/red]"
            arm = record[key.replace("decision", "decision_arm")]
            return record[key] + (f" {arm!r}" if arm else "")

        cells = [
            *(str(record[s]) for s in warehouse.segments),
            str(record[variant]) + (" (control)" if record["is_control"] else ""),
            f"{record['n']:,.0f}",
            f"{record['mean']:.4g}",
        ]
        if pooled:
            lift = "" if record["is_control"] else f"{record['pooled_lift_median']:+.1%}"
            cells += [lift, f"{record['pooled_prob_best']:.3f}", verdict("pooled_decision")]
            cells.append(f"{record['prob_best']:.3f}")
        else:
            cells += [f"{record['prob_best']:.3f}", verdict("decision")]
        out.add_row(*cells)
    console.print(out)
    broken = table.loc[table["decision"] == "withheld", list(warehouse.segments)].drop_duplicates()
    if len(broken):
        console.print(
            f"[red]{len(broken)} segment(s) have a sample-ratio mismatch (p < 0.001): their decisions are "
            "withheld.[/red]"
        )
    how = (
        "Pooled (the default estimate): the segments' effects share a normal population fitted by marginal "
        "likelihood (empirical Bayes), so small segments are shrunk towards it and do not raise false alarms; "
        "unpooled: each segment on its own."
        if pooled
        else "Each segment is its own test (partial pooling covers two-arm binary and count tests)."
    )
    console.print(
        f"{how} Intervals and losses are in --json and --report; the largest numerical error "
        f"{float(table['numerical_error'].max()):.1e}."
    )


def print_result(console, result, ab_data) -> None:
    """A compact per-arm table, the decision and the prior sensitivity, as Rich output."""
    from rich.panel import Panel
    from rich.table import Table

    control_mean = next(arm.mean for arm in result.arms if arm.name == result.control)
    arms = Table(
        title=f"Bayesian A/B test: {result.metric} metric, {ab_data.layout} data",
        caption=(
            "exp. loss: what choosing the arm costs if it is not the best, in % of the control's mean (the unit "
            f"of the --threshold, {result.threshold:.2%}); P(ROPE): the probability that the arm's lift over the "
            f"control is within +/-{result.rope:.0%} (the region of practical equivalence, --rope), i.e. that "
            "the difference does not matter."
        ),
        caption_justify="left",
    )
    for column in (
        "arm",
        "n",
        f"mean [{result.prob:.0%}]",
        "P(best)",
        "exp. loss",
        f"lift [{result.prob:.0%}]",
        "P(ROPE)",
    ):
        arms.add_column(column, justify="left" if column == "arm" else "right")
    for arm in result.arms:
        is_control = arm.name == result.control
        lift = (
            "control"
            if is_control
            else (f"{arm.lift_median:+.1%} [{arm.lift_interval[0]:+.1%}, {arm.lift_interval[1]:+.1%}]")
        )
        arms.add_row(
            arm.name,
            f"{arm.size:,.0f}",
            f"{arm.mean:.4g} [{arm.interval[0]:.4g}, {arm.interval[1]:.4g}]",
            f"{arm.prob_best:.3f}",
            f"{arm.expected_loss / control_mean:.3%}" if control_mean > 0 else f"{arm.expected_loss:.2g}",
            lift,
            "" if arm.prob_in_rope is None else f"{arm.prob_in_rope:.2f}",
        )
    console.print(arms)
    style = "yellow" if result.decision == "keep testing" else "green"
    verdict = result.decision + (f" {result.decision_arm!r}" if result.decision_arm else "")
    console.print(Panel(f"[bold]{verdict}[/bold]\n{result.reason}", title="decision", border_style=style))
    sensitivity = Table(title="Prior sensitivity")
    for column in ("prior", "decision", "best arm", "changes?"):
        sensitivity.add_column(column)
    best = max(result.arms, key=lambda a: a.prob_best)
    sensitivity.add_row(
        f"{result.prior} (used)",
        f"{result.decision} {result.decision_arm or ''}".strip(),
        f"{best.name} ({best.prob_best:.3f})",
        "",
    )
    for row in result.sensitivity:
        sensitivity.add_row(
            row.prior,
            f"{row.decision} {row.decision_arm or ''}".strip(),
            f"{row.best_arm} ({row.best_prob:.3f})",
            "[red]YES[/red]" if row.changes_conclusion else "no",
        )
    console.print(sensitivity)
    if result.adjustment is not None:
        console.print(
            f"CUPED: slope {result.adjustment['slope']:.4g} on the covariate (correlation "
            f"{result.adjustment['correlation']:.3f}); variance reduced by "
            f"{result.adjustment['variance_reduction']:.1%}."
        )
    if result.srm is not None and not result.srm.broken:
        console.print(f"sample ratio: {result.srm.message}")
    console.print(f"method: {result.method}; largest numerical error {result.numerical_error:.1e}")


def check_options(threshold: float, rope: float, prob: float) -> None:
    """Reject impossible option values before reading any data."""
    if not 0 < prob < 1:
        raise BadInput(f"`--prob` must be in (0, 1), e.g. 0.95; got {prob}.")
    for name, value in (("--threshold", threshold), ("--rope", rope)):
        if value < 0:
            raise BadInput(f"`{name}` must be >= 0 (a fraction of the control's mean); got {value}.")
