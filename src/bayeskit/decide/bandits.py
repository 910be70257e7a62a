"""Multi-armed and linear contextual bandits: Thompson sampling against UCB and epsilon-greedy, simulated in JAX.

Each policy keeps conjugate sufficient statistics per arm and turns them into a choice:

- **Thompson sampling** draws each arm's mean from its posterior and plays the best draw.
  Bernoulli rewards: Beta(1, 1) prior; Poisson: Gamma(1, 1); Gaussian (unknown mean and
  variance): Normal-Inverse-Gamma with ``mean 0, kappa 0.01, alpha 1, beta 1``; linear
  contextual: per-arm Bayesian linear regression, ``N(0, I)`` prior, known noise sd.
- **UCB**: UCB1 (``mean + sd * sqrt(2 log t / n)``, with ``sd = 1`` for Bernoulli and the
  sample sd otherwise); LinUCB with ``alpha = 1 + sqrt(log(2 / 0.05) / 2)`` for linear arms.
- **Epsilon-greedy**: the best empirical mean, or a uniformly random arm with probability ``epsilon``.

:func:`simulate` runs every policy over many seeds at once (``lax.scan`` over rounds,
``vmap`` over seeds) with optional batched feedback (``batch_size`` pulls share one
posterior) and delayed feedback (rewards arrive ``delay`` rounds late). Regret is the
pseudo-regret: the best arm's expected reward minus the chosen arm's, summed.

References
----------
Thompson, W. R. (1933). On the likelihood that one unknown probability exceeds another. Biometrika 25.
Agrawal, S. & Goyal, N. (2012, 2013). Analysis of Thompson sampling for the multi-armed bandit problem;
Thompson sampling for contextual bandits with linear payoffs.
Auer, P., Cesa-Bianchi, N. & Fischer, P. (2002). Finite-time analysis of the multiarmed bandit problem.
Li, L., Chu, W., Langford, J. & Schapire, R. E. (2010). A contextual-bandit approach to personalized
news article recommendation (LinUCB).
Lai, T. L. & Robbins, H. (1985). Asymptotically efficient adaptive allocation rules.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from bayeskit._rng import check_jax_key
from bayeskit._validate import as_float_array, check_choice

__all__ = ["POLICIES", "REWARDS", "BanditProblem", "BanditSimulation", "simulate"]

REWARDS = ("bernoulli", "poisson", "gaussian", "linear")
POLICIES = ("thompson", "ucb", "epsilon-greedy")
LINUCB_ALPHA = 1.0 + math.sqrt(math.log(2 / 0.05) / 2)
UNPULLED = 1e9  # score of an arm never played: every arm is tried once first


@dataclass(frozen=True)
class BanditProblem:
    """The arms of a simulated bandit.

    Use the constructors: :meth:`bernoulli`, :meth:`poisson`, :meth:`gaussian`, :meth:`linear`.
    ``means`` is ``(K,)`` expected rewards, or ``(K, d)`` weights for linear arms (reward
    ``context @ weights[a] + N(0, noise_sd^2)`` with ``context ~ N(0, I_d)``).
    """

    reward: str
    means: np.ndarray
    noise_sd: float = 1.0

    def __post_init__(self):
        check_choice(self.reward, "reward", REWARDS)
        means = as_float_array(self.means, "arms")
        expected = 2 if self.reward == "linear" else 1
        if means.ndim != expected or means.shape[0] < 2:
            shape = "(K, d) weights" if expected == 2 else "(K,) expected rewards"
            raise ValueError(f"`arms` must be {shape} with K >= 2 arms; got shape {means.shape}.")
        if not np.all(np.isfinite(means)):
            raise ValueError("`arms` must be finite numbers.")
        if self.reward == "bernoulli" and ((means < 0) | (means > 1)).any():
            raise ValueError(f"Bernoulli arms are probabilities in [0, 1]; got {means.tolist()}.")
        if self.reward == "poisson" and (means < 0).any():
            raise ValueError(f"Poisson arms are non-negative rates; got {means.tolist()}.")
        if not (math.isfinite(self.noise_sd) and self.noise_sd > 0):
            raise ValueError(f"`noise_sd` must be a positive number; got {self.noise_sd!r}.")
        object.__setattr__(self, "means", means)

    @classmethod
    def bernoulli(cls, probabilities: Any) -> BanditProblem:
        """Arms paying 1 with the given probabilities (conversion rates), else 0."""
        return cls("bernoulli", probabilities)

    @classmethod
    def poisson(cls, rates: Any) -> BanditProblem:
        """Arms paying Poisson counts with the given rates."""
        return cls("poisson", rates)

    @classmethod
    def gaussian(cls, means: Any, noise_sd: float = 1.0) -> BanditProblem:
        """Arms paying ``N(mean, noise_sd^2)``."""
        return cls("gaussian", means, float(noise_sd))

    @classmethod
    def linear(cls, weights: Any, noise_sd: float = 1.0) -> BanditProblem:
        """Contextual arms: reward ``context @ weights[a] + N(0, noise_sd^2)`` for ``context ~ N(0, I)``."""
        return cls("linear", weights, float(noise_sd))

    @property
    def num_arms(self) -> int:
        """``K``."""
        return self.means.shape[0]

    @property
    def num_features(self) -> int:
        """``d`` for linear arms (0 otherwise)."""
        return self.means.shape[1] if self.reward == "linear" else 0


# ---------------------------------------------------------------- core: statistics, choices, rewards


def _init_stats(reward: str, num_arms: int, num_features: int):
    if reward == "linear":
        return (jnp.tile(jnp.eye(num_features), (num_arms, 1, 1)), jnp.zeros((num_arms, num_features)))
    return (jnp.zeros(num_arms), jnp.zeros(num_arms), jnp.zeros(num_arms))


def _mab_scores(policy, reward, key, stats, t, epsilon):
    counts, sums, squares = stats
    key_draw, key_explore, key_tie = jax.random.split(key, 3)
    seen = counts > 0
    safe = jnp.maximum(counts, 1.0)
    mean = sums / safe
    centred = jnp.maximum(squares - counts * mean**2, 0.0)
    if policy == "thompson":
        if reward == "bernoulli":
            score = jax.random.beta(key_draw, 1.0 + sums, 1.0 + counts - sums)
        elif reward == "poisson":
            score = jax.random.gamma(key_draw, 1.0 + sums) / (1.0 + counts)
        else:  # Normal-Inverse-Gamma(0, 0.01, 1, 1)
            kappa = 0.01 + counts
            loc = sums / kappa
            alpha = 1.0 + counts / 2
            beta = 1.0 + 0.5 * centred + 0.01 * counts * mean**2 / (2 * kappa)
            score = loc + jnp.sqrt(beta / (alpha * kappa)) * jax.random.t(key_draw, 2 * alpha)
        return score + 1e-9 * jax.random.uniform(key_tie, score.shape)
    if policy == "ucb":
        if reward == "bernoulli":
            scale = 1.0
        elif reward == "poisson":
            scale = jnp.sqrt(mean + 1.0 / safe)
        else:
            scale = jnp.sqrt(centred / safe + 1.0 / safe)
        score = mean + scale * jnp.sqrt(2.0 * jnp.log(jnp.maximum(t, 1.0)) / safe)
    else:  # epsilon-greedy
        explore = jax.random.uniform(key_explore) < epsilon
        score = jnp.where(explore, jax.random.uniform(key_draw, mean.shape), mean)
    score = jnp.where(seen, score, UNPULLED)
    return score + 1e-9 * jax.random.uniform(key_tie, score.shape)


def _linear_scores(policy, key, stats, context, epsilon):
    precision, information = stats
    key_draw, key_explore, key_tie = jax.random.split(key, 3)
    factor = jnp.linalg.cholesky(precision)  # (K, d, d)
    mean = jax.vmap(lambda f, b: jax.scipy.linalg.cho_solve((f, True), b))(factor, information)
    if policy == "thompson":
        noise = jax.random.normal(key_draw, mean.shape)
        draws = mean + jax.vmap(lambda f, z: jax.scipy.linalg.solve_triangular(f.T, z, lower=False))(factor, noise)
        score = draws @ context
    elif policy == "ucb":
        solved = jax.vmap(lambda f: jax.scipy.linalg.solve_triangular(f, context, lower=True))(factor)
        score = mean @ context + LINUCB_ALPHA * jnp.sqrt(jnp.sum(solved**2, axis=1))
    else:
        explore = jax.random.uniform(key_explore) < epsilon
        score = jnp.where(explore, jax.random.uniform(key_draw, (mean.shape[0],)), mean @ context)
    return score + 1e-9 * jax.random.uniform(key_tie, score.shape)


def _draw_rewards(reward, key, arms, means, noise_sd, contexts):
    if reward == "linear":
        expected = jnp.sum(means[arms] * contexts, axis=1)
        return expected + noise_sd * jax.random.normal(key, arms.shape), expected
    expected = means[arms]
    if reward == "bernoulli":
        return jax.random.bernoulli(key, expected).astype(jnp.float32), expected
    if reward == "poisson":
        return jax.random.poisson(key, expected).astype(jnp.float32), expected
    return expected + noise_sd * jax.random.normal(key, arms.shape), expected


def _batch_increment(reward, num_arms, arms, rewards, contexts, noise_sd):
    onehot = jax.nn.one_hot(arms, num_arms)  # (batch, K)
    if reward == "linear":
        outer = contexts[:, :, None] * contexts[:, None, :] / noise_sd**2
        return (
            jnp.einsum("bk,bij->kij", onehot, outer),
            jnp.einsum("bk,bi->ki", onehot, contexts * rewards[:, None] / noise_sd**2),
        )
    return (onehot.sum(0), onehot.T @ rewards, onehot.T @ rewards**2)


def _simulation(policy, reward, num_arms, num_features, num_rounds, batch_size, delay):
    """One jitted simulation of ``num_rounds`` rounds, vmapped over seeds (keys)."""

    def run(key, means, noise_sd, epsilon):
        stats = _init_stats(reward, num_arms, num_features)
        pending = jax.tree.map(lambda s: jnp.zeros((delay, *s.shape)), stats)

        if reward == "linear":
            best_fn = lambda contexts: jnp.max(contexts @ means.T, axis=1)  # noqa: E731
        else:
            best_value = jnp.max(means)
            best_fn = lambda contexts: jnp.full((batch_size,), best_value)  # noqa: E731

        def step(carry, key_round):
            stats, pending, pulls, t = carry
            key_context, key_choose, key_reward = jax.random.split(key_round, 3)
            contexts = (
                jax.random.normal(key_context, (batch_size, num_features))
                if reward == "linear"
                else jnp.zeros((batch_size, 0))
            )
            keys = jax.random.split(key_choose, batch_size)
            if reward == "linear":
                scores = jax.vmap(lambda k, x: _linear_scores(policy, k, stats, x, epsilon))(keys, contexts)
            else:
                scores = jax.vmap(lambda k: _mab_scores(policy, reward, k, stats, t, epsilon))(keys)
            arms = jnp.argmax(scores, axis=1)
            rewards, expected = _draw_rewards(reward, key_reward, arms, means, noise_sd, contexts)
            increment = _batch_increment(reward, num_arms, arms, rewards, contexts, noise_sd)
            if delay:
                arrived = jax.tree.map(lambda p: p[0], pending)
                pending = jax.tree.map(lambda p, i: jnp.concatenate([p[1:], i[None]]), pending, increment)
            else:
                arrived = increment
            stats = jax.tree.map(jnp.add, stats, arrived)
            pulls = pulls + jax.nn.one_hot(arms, num_arms).sum(0)
            return (stats, pending, pulls, t + batch_size), best_fn(contexts) - expected

        carry = (stats, pending, jnp.zeros(num_arms), jnp.asarray(0.0))
        (_, _, pulls, _), regret = jax.lax.scan(step, carry, jax.random.split(key, num_rounds))
        return jnp.cumsum(regret.reshape(-1)), pulls

    return jax.jit(jax.vmap(run, (0, None, None, None)))


@lru_cache(maxsize=64)
def _executable(policy, reward, num_arms, num_features, num_rounds, batch_size, delay, num_seeds):
    """The simulation compiled ahead of time for ``num_seeds`` seeds, so that runs are timed without compilation."""
    run = _simulation(policy, reward, num_arms, num_features, num_rounds, batch_size, delay)
    keys = jax.random.split(jax.random.key(0), num_seeds)
    means_shape = (num_arms, num_features) if reward == "linear" else (num_arms,)
    scalar = jnp.float32(0.0)
    return run.lower(keys, jnp.zeros(means_shape, jnp.float32), scalar, scalar).compile()


# ---------------------------------------------------------------- shell


@dataclass(frozen=True)
class BanditSimulation:
    """Cumulative pseudo-regret curves and pull counts of each policy over many seeds.

    ``regret[policy]`` is ``(num_seeds, len(steps))``: cumulative regret after ``steps``
    pulls; ``pulls[policy]`` is ``(num_seeds, K)``; ``seconds[policy]`` the wall time of the
    simulation (compilation, once per configuration, is in ``settings["compile_seconds"]``).
    """

    problem: BanditProblem
    horizon: int
    steps: np.ndarray
    regret: dict[str, np.ndarray]
    pulls: dict[str, np.ndarray]
    seconds: dict[str, float]
    batch_size: int = 1
    delay: int = 0
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def num_seeds(self) -> int:
        """Independent runs per policy."""
        return next(iter(self.regret.values())).shape[0]

    def summary(self) -> pd.DataFrame:
        """Final regret (mean, standard error, median), best-arm share and throughput per policy."""
        best = int(np.argmax(self.problem.means)) if self.problem.reward != "linear" else None
        rows = []
        for policy, curves in self.regret.items():
            final = curves[:, -1].astype(float)
            row = {
                "policy": policy,
                "regret": final.mean(),
                "se": final.std(ddof=1) / math.sqrt(len(final)) if len(final) > 1 else float("nan"),
                "median": float(np.median(final)),
            }
            if best is not None:
                row["best arm share"] = float(self.pulls[policy][:, best].sum() / self.pulls[policy].sum())
            row["pulls per second"] = self.num_seeds * self.horizon / self.seconds[policy]
            rows.append(row)
        return pd.DataFrame(rows).set_index("policy")

    def plot(self, ax=None, log_x: bool = True):
        """Mean cumulative regret per policy with a band of ±2 standard errors; returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 4.0))
        for policy, curves in self.regret.items():
            mean = curves.mean(axis=0)
            se = curves.std(axis=0, ddof=1) / math.sqrt(curves.shape[0]) if curves.shape[0] > 1 else 0 * mean
            ax.plot(self.steps, mean, label=policy)
            ax.fill_between(self.steps, mean - 2 * se, mean + 2 * se, alpha=0.25)
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel("pulls")
        ax.set_ylabel("cumulative regret")
        ax.set_title(f"{self.problem.reward} bandit, {self.num_seeds} seeds (band: ±2 SE)")
        ax.legend()
        return ax

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready results: the summary table and the mean regret curves."""
        table = self.summary().reset_index()
        return {
            "reward": self.problem.reward,
            "arms": self.problem.means.tolist(),
            "horizon": self.horizon,
            "num_seeds": self.num_seeds,
            "batch_size": self.batch_size,
            "delay": self.delay,
            "summary": table.to_dict(orient="records"),
            "steps": self.steps.tolist(),
            "mean_regret": {p: c.mean(axis=0).tolist() for p, c in self.regret.items()},
        }


def _checkpoints(horizon: int, num_points: int) -> np.ndarray:
    """About ``num_points`` pull counts, spaced evenly in log, from 1 to ``horizon``."""
    return np.unique(np.round(np.geomspace(1, horizon, num_points)).astype(int))


def simulate(
    key: Any,
    problem: BanditProblem,
    horizon: int,
    policies: tuple[str, ...] | list[str] = POLICIES,
    num_seeds: int = 100,
    batch_size: int = 1,
    delay: int = 0,
    epsilon: float = 0.1,
    num_points: int = 200,
    progress: bool = False,
) -> BanditSimulation:
    """Simulate ``policies`` on ``problem`` for ``horizon`` pulls, ``num_seeds`` times each.

    Parameters
    ----------
    key
        JAX PRNG key; each policy sees the same seeds.
    problem
        The arms (:class:`BanditProblem`).
    horizon
        Pulls per run (rounded up to whole batches).
    policies
        Any of ``"thompson"``, ``"ucb"``, ``"epsilon-greedy"``.
    num_seeds
        Independent runs per policy (run together by ``vmap``).
    batch_size
        Pulls chosen from one posterior before their rewards are used (batched feedback).
    delay
        Rounds (batches) before a reward reaches the policy (delayed feedback).
    epsilon
        Exploration probability of epsilon-greedy.
    num_points
        Points of each regret curve kept (log-spaced, always including the horizon).
    progress
        A progress bar over policies on stderr.

    Returns
    -------
    BanditSimulation

    Examples
    --------
    >>> import jax
    >>> from bayeskit.decide import BanditProblem, simulate
    >>> result = simulate(jax.random.key(0), BanditProblem.bernoulli([0.1, 0.2, 0.3]), 2000, num_seeds=20)
    >>> table = result.summary()
    >>> bool(table.loc["thompson", "regret"] < table.loc["epsilon-greedy", "regret"])
    True

    """
    from bayeskit._progress import progress_bar

    key = check_jax_key(key)
    if not isinstance(problem, BanditProblem):
        raise TypeError(f"`problem` must be a BanditProblem (e.g. BanditProblem.bernoulli([...])); got {problem!r}.")
    policies = list(policies)
    if not policies:
        raise ValueError("`policies` is empty; choose some of " + ", ".join(map(repr, POLICIES)) + ".")
    for policy in policies:
        check_choice(policy, "policy", POLICIES)
    for name, value, low in (("horizon", horizon, 1), ("num_seeds", num_seeds, 1), ("batch_size", batch_size, 1)):
        if int(value) != value or value < low:
            raise ValueError(f"`{name}` must be a whole number >= {low}; got {value!r}.")
    if int(delay) != delay or delay < 0:
        raise ValueError(f"`delay` must be a whole number >= 0 (rounds); got {delay!r}.")
    if not 0.0 <= float(epsilon) <= 1.0:
        raise ValueError(f"`epsilon` must be a probability in [0, 1]; got {epsilon!r}.")
    num_rounds = -(-int(horizon) // int(batch_size))
    horizon = num_rounds * int(batch_size)
    steps = _checkpoints(horizon, num_points)
    keys = jax.random.split(key, int(num_seeds))
    means = jnp.asarray(problem.means, jnp.float32)
    regret, pulls, seconds, compile_seconds = {}, {}, {}, {}
    batch_size, delay = int(batch_size), int(delay)
    with progress_bar("simulating policies", len(policies), progress) as advance:
        for policy in policies:
            config = (policy, problem.reward, problem.num_arms, problem.num_features, num_rounds, batch_size, delay)
            start = time.perf_counter()
            run = _executable(*config, int(num_seeds))
            compile_seconds[policy] = time.perf_counter() - start
            start = time.perf_counter()
            curves, counts = run(keys, means, jnp.float32(problem.noise_sd), jnp.float32(epsilon))
            curves = np.asarray(curves)[:, steps - 1]
            seconds[policy] = time.perf_counter() - start
            regret[policy], pulls[policy] = curves, np.asarray(counts)
            advance(1)
    settings = {"epsilon": float(epsilon), "compile_seconds": compile_seconds}
    return BanditSimulation(problem, horizon, steps, regret, pulls, seconds, batch_size, delay, settings)
