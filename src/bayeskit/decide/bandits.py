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
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from bayeskit._rng import as_jax_key
from bayeskit._validate import as_float_array, check_choice

__all__ = ["POLICIES", "REWARDS", "BanditProblem", "BanditSimulation", "Policy", "Rewards", "policy_for", "simulate"]

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


# ---------------------------------------------------------------- core: policies and rewards as pure functions


class Policy(NamedTuple):
    """A bandit policy as three pure functions over per-arm sufficient statistics.

    ``init(num_arms, num_features) -> stats``; ``choose(key, stats, t, context, epsilon) ->
    scores (K,)`` (the arm played is the argmax); ``update(stats, increment) -> stats``.
    Built by :func:`policy_for`, so the simulation never branches on a name while tracing.
    """

    init: Callable[[int, int], Any]
    choose: Callable[..., jax.Array]
    update: Callable[[Any, Any], Any]


class Rewards(NamedTuple):
    """A reward model: how rewards are drawn and the sufficient statistics they add.

    ``draw(key, arms, means, noise_sd, contexts) -> (rewards, expected)`` and
    ``increment(num_arms, arms, rewards, contexts, noise_sd) -> stats increment``.
    """

    draw: Callable[..., tuple[jax.Array, jax.Array]]
    increment: Callable[..., Any]
    contextual: bool


def _add(stats: Any, increment: Any) -> Any:
    """Conjugate updating: sufficient statistics add."""
    return jax.tree.map(jnp.add, stats, increment)


def _counts_init(num_arms: int, num_features: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Per-arm pulls, reward sums and sums of squares."""
    return (jnp.zeros(num_arms), jnp.zeros(num_arms), jnp.zeros(num_arms))


def _linear_init(num_arms: int, num_features: int) -> tuple[jax.Array, jax.Array]:
    """Per-arm precision ``I + X^T X / s^2`` and information ``X^T y / s^2`` (an N(0, I) prior)."""
    return (jnp.tile(jnp.eye(num_features), (num_arms, 1, 1)), jnp.zeros((num_arms, num_features)))


def _moments(stats):
    counts, sums, squares = stats
    safe = jnp.maximum(counts, 1.0)
    mean = sums / safe
    return counts, sums, safe, mean, jnp.maximum(squares - counts * mean**2, 0.0)


def _untried_first(score: jax.Array, counts: jax.Array, key_tie: jax.Array) -> jax.Array:
    score = jnp.where(counts > 0, score, UNPULLED)
    return score + 1e-9 * jax.random.uniform(key_tie, score.shape)


def _tie_broken(score: jax.Array, key_tie: jax.Array) -> jax.Array:
    return score + 1e-9 * jax.random.uniform(key_tie, score.shape)


def _thompson_bernoulli(key, stats, t, context, epsilon):
    """A draw from each arm's Beta(1 + successes, 1 + failures)."""
    key_draw, _, key_tie = jax.random.split(key, 3)
    counts, sums, _, _, _ = _moments(stats)
    return _tie_broken(jax.random.beta(key_draw, 1.0 + sums, 1.0 + counts - sums), key_tie)


def _thompson_poisson(key, stats, t, context, epsilon):
    """A draw from each arm's Gamma(1 + events, 1 + pulls)."""
    key_draw, _, key_tie = jax.random.split(key, 3)
    counts, sums, _, _, _ = _moments(stats)
    return _tie_broken(jax.random.gamma(key_draw, 1.0 + sums) / (1.0 + counts), key_tie)


def _thompson_gaussian(key, stats, t, context, epsilon):
    """A draw of each arm's mean from its Normal-Inverse-Gamma(0, 0.01, 1, 1) posterior (a Student-t)."""
    key_draw, _, key_tie = jax.random.split(key, 3)
    counts, sums, _, mean, centred = _moments(stats)
    kappa = 0.01 + counts
    alpha = 1.0 + counts / 2
    beta = 1.0 + 0.5 * centred + 0.01 * counts * mean**2 / (2 * kappa)
    draw = sums / kappa + jnp.sqrt(beta / (alpha * kappa)) * jax.random.t(key_draw, 2 * alpha)
    return _tie_broken(draw, key_tie)


def _ucb(scale_fn: Callable) -> Callable:
    def choose(key, stats, t, context, epsilon):
        """UCB1: the mean plus ``scale * sqrt(2 log t / n)``; untried arms first."""
        counts, _, safe, mean, centred = _moments(stats)
        score = mean + scale_fn(mean, centred, safe) * jnp.sqrt(2.0 * jnp.log(jnp.maximum(t, 1.0)) / safe)
        return _untried_first(score, counts, jax.random.split(key, 3)[2])

    return choose


_ucb_bernoulli = _ucb(lambda mean, centred, safe: 1.0)
_ucb_poisson = _ucb(lambda mean, centred, safe: jnp.sqrt(mean + 1.0 / safe))
_ucb_gaussian = _ucb(lambda mean, centred, safe: jnp.sqrt(centred / safe + 1.0 / safe))


def _epsilon_greedy(key, stats, t, context, epsilon):
    """The best empirical mean, or a random arm with probability ``epsilon``; untried arms first."""
    key_draw, key_explore, key_tie = jax.random.split(key, 3)
    counts, _, _, mean, _ = _moments(stats)
    explore = jax.random.uniform(key_explore) < epsilon
    return _untried_first(jnp.where(explore, jax.random.uniform(key_draw, mean.shape), mean), counts, key_tie)


def _linear_posterior(stats):
    precision, information = stats
    factor = jnp.linalg.cholesky(precision)  # (K, d, d)
    mean = jax.vmap(lambda f, b: jax.scipy.linalg.cho_solve((f, True), b))(factor, information)
    return factor, mean


def _thompson_linear(key, stats, t, context, epsilon):
    """A draw of each arm's weights from its Gaussian posterior, scored on the context."""
    key_draw, _, key_tie = jax.random.split(key, 3)
    factor, mean = _linear_posterior(stats)
    noise = jax.random.normal(key_draw, mean.shape)
    draws = mean + jax.vmap(lambda f, z: jax.scipy.linalg.solve_triangular(f.T, z, lower=False))(factor, noise)
    return _tie_broken(draws @ context, key_tie)


def _linucb(key, stats, t, context, epsilon):
    """LinUCB: the posterior mean score plus ``alpha`` posterior sd of it."""
    factor, mean = _linear_posterior(stats)
    solved = jax.vmap(lambda f: jax.scipy.linalg.solve_triangular(f, context, lower=True))(factor)
    score = mean @ context + LINUCB_ALPHA * jnp.sqrt(jnp.sum(solved**2, axis=1))
    return _tie_broken(score, jax.random.split(key, 3)[2])


def _epsilon_greedy_linear(key, stats, t, context, epsilon):
    """The best posterior mean score, or a random arm with probability ``epsilon``."""
    key_draw, key_explore, key_tie = jax.random.split(key, 3)
    _, mean = _linear_posterior(stats)
    explore = jax.random.uniform(key_explore) < epsilon
    return _tie_broken(jnp.where(explore, jax.random.uniform(key_draw, (mean.shape[0],)), mean @ context), key_tie)


_CHOICES = {
    ("thompson", "bernoulli"): _thompson_bernoulli,
    ("thompson", "poisson"): _thompson_poisson,
    ("thompson", "gaussian"): _thompson_gaussian,
    ("thompson", "linear"): _thompson_linear,
    ("ucb", "bernoulli"): _ucb_bernoulli,
    ("ucb", "poisson"): _ucb_poisson,
    ("ucb", "gaussian"): _ucb_gaussian,
    ("ucb", "linear"): _linucb,
    ("epsilon-greedy", "bernoulli"): _epsilon_greedy,
    ("epsilon-greedy", "poisson"): _epsilon_greedy,
    ("epsilon-greedy", "gaussian"): _epsilon_greedy,
    ("epsilon-greedy", "linear"): _epsilon_greedy_linear,
}


def policy_for(name: str, reward: str) -> Policy:
    """The :class:`Policy` called ``name`` (one of :data:`POLICIES`) for ``reward`` arms (one of :data:`REWARDS`)."""
    check_choice(name, "policy", POLICIES)
    check_choice(reward, "reward", REWARDS)
    return Policy(_linear_init if reward == "linear" else _counts_init, _CHOICES[name, reward], _add)


def _draw_context_free(law: Callable) -> Callable:
    def draw(key, arms, means, noise_sd, contexts):
        expected = means[arms]
        return law(key, expected, noise_sd), expected

    return draw


def _draw_linear(key, arms, means, noise_sd, contexts):
    expected = jnp.sum(means[arms] * contexts, axis=1)
    return expected + noise_sd * jax.random.normal(key, arms.shape), expected


def _counts_increment(num_arms, arms, rewards, contexts, noise_sd):
    onehot = jax.nn.one_hot(arms, num_arms)  # (batch, K)
    return (onehot.sum(0), onehot.T @ rewards, onehot.T @ rewards**2)


def _linear_increment(num_arms, arms, rewards, contexts, noise_sd):
    onehot = jax.nn.one_hot(arms, num_arms)
    outer = contexts[:, :, None] * contexts[:, None, :] / noise_sd**2
    return (
        jnp.einsum("bk,bij->kij", onehot, outer),
        jnp.einsum("bk,bi->ki", onehot, contexts * rewards[:, None] / noise_sd**2),
    )


_REWARD_MODELS = {
    "bernoulli": Rewards(
        _draw_context_free(lambda key, p, s: jax.random.bernoulli(key, p).astype(jnp.float32)), _counts_increment, False
    ),
    "poisson": Rewards(
        _draw_context_free(lambda key, rate, s: jax.random.poisson(key, rate).astype(jnp.float32)),
        _counts_increment,
        False,
    ),
    "gaussian": Rewards(
        _draw_context_free(lambda key, mean, s: mean + s * jax.random.normal(key, mean.shape)), _counts_increment, False
    ),
    "linear": Rewards(_draw_linear, _linear_increment, True),
}


def _simulation(policy: Policy, rewards: Rewards, num_arms, num_features, num_rounds, batch_size, delay):
    """One jitted simulation of ``num_rounds`` rounds, vmapped over seeds (keys)."""

    def run(key, means, noise_sd, epsilon):
        stats = policy.init(num_arms, num_features)
        pending = jax.tree.map(lambda s: jnp.zeros((delay, *s.shape)), stats)

        def best(contexts):
            if rewards.contextual:
                return jnp.max(contexts @ means.T, axis=1)
            return jnp.full((batch_size,), jnp.max(means))

        def step(carry, key_round):
            stats, pending, pulls, t = carry
            key_context, key_choose, key_reward = jax.random.split(key_round, 3)
            contexts = jax.random.normal(key_context, (batch_size, num_features))
            keys = jax.random.split(key_choose, batch_size)
            scores = jax.vmap(lambda k, x: policy.choose(k, stats, t, x, epsilon))(keys, contexts)
            arms = jnp.argmax(scores, axis=1)
            observed, expected = rewards.draw(key_reward, arms, means, noise_sd, contexts)
            increment = rewards.increment(num_arms, arms, observed, contexts, noise_sd)
            if delay:
                arrived = jax.tree.map(lambda p: p[0], pending)
                pending = jax.tree.map(lambda p, i: jnp.concatenate([p[1:], i[None]]), pending, increment)
            else:
                arrived = increment
            stats = policy.update(stats, arrived)
            pulls = pulls + jax.nn.one_hot(arms, num_arms).sum(0)
            return (stats, pending, pulls, t + batch_size), best(contexts) - expected

        carry = (stats, pending, jnp.zeros(num_arms), jnp.asarray(0.0))
        (_, _, pulls, _), regret = jax.lax.scan(step, carry, jax.random.split(key, num_rounds))
        return jnp.cumsum(regret.reshape(-1)), pulls

    return jax.jit(jax.vmap(run, (0, None, None, None)))


@lru_cache(maxsize=64)
def _executable(policy, reward, num_arms, num_features, num_rounds, batch_size, delay, num_seeds):
    """The simulation compiled ahead of time for ``num_seeds`` seeds, so that runs are timed without compilation."""
    run = _simulation(
        policy_for(policy, reward), _REWARD_MODELS[reward], num_arms, num_features, num_rounds, batch_size, delay
    )
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
            "engine": self.settings.get("engine", "jax"),
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
    engine: str = "jax",
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
    engine
        ``"jax"`` (every case; compiled, a GPU when there is one) or ``"numpy"`` (Bernoulli and Poisson
        arms with one pull per round and immediate feedback; faster on a CPU: see
        :mod:`bayeskit.decide.bandits_numpy`).

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

    key = as_jax_key(key)
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
    check_choice(engine, "engine", ("jax", "numpy"))
    if engine == "numpy":
        if batch_size != 1 or delay != 0:
            raise ValueError("engine='numpy' simulates one pull per round with immediate feedback; use engine='jax'.")
        from bayeskit.decide.bandits_numpy import simulate_numpy

        return simulate_numpy(key, problem, int(horizon), tuple(policies), int(num_seeds), float(epsilon), num_points)
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
