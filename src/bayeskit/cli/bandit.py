"""``bayeskit bandit simulate``: Thompson sampling against UCB and epsilon-greedy on arms you describe."""

from __future__ import annotations

from typing import Any

import numpy as np

from bayeskit.cli._errors import BadInput, bad_input_on_value_errors

__all__ = ["parse_arms", "print_bandit", "run_bandit"]


def parse_arms(text: str, reward: str) -> np.ndarray:
    """``"0.04,0.05,0.06"`` (one number per arm), or ``"1,0;0,1"`` (a weight row per arm) for linear rewards."""
    rows = [row for row in text.replace(" ", "").split(";") if row]
    try:
        values = [[float(v) for v in row.split(",") if v] for row in rows]
    except ValueError:
        raise BadInput(
            f"`--arms` must be numbers separated by commas (rows by ';' for linear); got {text!r}."
        ) from None
    if reward == "linear":
        if len({len(r) for r in values}) != 1:
            raise BadInput(f"`--arms` rows must all have the same number of weights; got {text!r}.")
        return np.array(values)
    if len(values) != 1:
        raise BadInput(f"`--arms` takes one comma-separated row for {reward} rewards; got {text!r}.")
    return np.array(values[0])


def run_bandit(
    arms: str,
    reward: str,
    horizon: int,
    seeds: int,
    batch_size: int,
    delay: int,
    epsilon: float,
    noise_sd: float,
    seed: int,
    progress: bool = True,
    engine: str = "jax",
) -> Any:
    """Validate the options and simulate every policy."""
    import jax

    from bayeskit.decide import REWARDS, BanditProblem, simulate

    if reward not in REWARDS:
        raise BadInput(f"`--reward` must be one of {', '.join(REWARDS)}; got {reward!r}.")
    if horizon > 10_000_000:
        raise BadInput(f"`--horizon` {horizon} is above the limit of 10,000,000 pulls per run.")
    with bad_input_on_value_errors():
        problem = BanditProblem(reward, parse_arms(arms, reward), float(noise_sd))
        return simulate(
            jax.random.key(seed),
            problem,
            horizon,
            num_seeds=seeds,
            batch_size=batch_size,
            delay=delay,
            epsilon=epsilon,
            progress=progress,
            engine=engine,
        )


def print_bandit(console: Any, result: Any) -> None:
    """A Rich table of final regret per policy."""
    from rich.table import Table

    problem = result.problem
    arms = ", ".join(f"{v:g}" for v in problem.means.ravel()) if problem.reward != "linear" else "linear weights"
    feedback = []
    if result.batch_size > 1:
        feedback.append(f"batches of {result.batch_size}")
    if result.delay:
        feedback.append(f"{result.delay} rounds of delay")
    title = f"{problem.reward} arms ({arms}): {result.horizon:,} pulls x {result.num_seeds} seeds"
    table = Table(title=title + (f", {', '.join(feedback)}" if feedback else ""))
    summary = result.summary()
    for name in [
        "policy",
        "regret (mean ± se)",
        "median",
        *(["best-arm share"] if "best arm share" in summary else []),
    ]:
        table.add_column(name, justify="left" if name == "policy" else "right")
    for policy, row in summary.iterrows():
        cells = [policy, f"{row['regret']:.1f} ± {row['se']:.1f}", f"{row['median']:.1f}"]
        if "best arm share" in summary:
            cells.append(f"{row['best arm share']:.1%}")
        table.add_row(*cells)
    console.print(table)
