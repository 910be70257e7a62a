"""``bayeskit ab``: a Bayesian A/B/n test from a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bayeskit.cli._errors import BadInput, bad_input_on_value_errors


def load_and_run(
    data: Path | None, variant_col: str | None, metric_col: str | None, metric: str | None, **options: Any
):
    """Read the table (or the bundled example), detect its layout and run the test."""
    from bayeskit.cli.ab_data import detect_ab_data, read_table, run_ab_test
    from bayeskit.datasets import dataset_path

    source = str(data) if data is not None else "bundled example ab_conversions.csv"
    with bad_input_on_value_errors():
        frame = read_table(data if data is not None else dataset_path("ab_conversions"))
        ab_data = detect_ab_data(frame, variant_col=variant_col, metric_col=metric_col, metric=metric)
        result = run_ab_test(ab_data, **options)
    return source, ab_data, result


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
    console.print(f"method: {result.method}; largest numerical error {result.numerical_error:.1e}")


def check_options(threshold: float, rope: float, prob: float) -> None:
    """Reject impossible option values before reading any data."""
    if not 0 < prob < 1:
        raise BadInput(f"`--prob` must be in (0, 1), e.g. 0.95; got {prob}.")
    for name, value in (("--threshold", threshold), ("--rope", rope)):
        if value < 0:
            raise BadInput(f"`{name}` must be >= 0 (a fraction of the control's mean); got {value}.")
