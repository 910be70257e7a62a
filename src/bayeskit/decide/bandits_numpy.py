"""The conjugate multi-armed bandits on NumPy: one pull of every seed per step, few calls per step.

The JAX simulator (:func:`bayeskit.decide.bandits.simulate`) covers every reward family,
linear contexts, batched and delayed feedback and a GPU. On a CPU its time goes into
counter-based Gamma draws (~290 ns each, against ~50 ns for NumPy's ziggurat samplers),
so for the conjugate context-free cases (Bernoulli and Poisson arms, one pull per round,
immediate feedback) this engine runs the same policies with NumPy's generator:

- Thompson sampling draws every arm's Beta as ``G_a / (G_a + G_b)`` from **one**
  ``standard_gamma`` call over all seeds and arms (Poisson: ``Gamma(1 + events) / (1 + pulls)``);
- the rewards' uniforms come in blocks of 1,024 rounds; the counts are updated by flat
  indexing; the regret is summed once at the end from the pulls of every round.

Same priors, tie-breaking and untried-arms-first rule as the JAX policies, so the regret
matches in distribution (different random streams; checked in the tests).
"""

from __future__ import annotations

import math
import time

import numpy as np

from bayeskit._rng import as_generator

__all__ = ["NUMPY_REWARDS", "simulate_numpy"]

NUMPY_REWARDS = ("bernoulli", "poisson")
_BLOCK = 1024


def _scores(policy, rng, successes, pulls, t, epsilon, reward):
    """Per seed and arm: the score whose argmax is played (``successes`` are events for Poisson arms).

    Thompson sampling on Bernoulli arms has its own loop (:func:`_thompson_bernoulli`).
    """
    num_seeds, num_arms = pulls.shape
    if policy == "thompson":  # Poisson arms: a draw of each rate from Gamma(1 + events, 1 + pulls)
        return rng.standard_gamma(1.0 + successes) / (1.0 + pulls)
    mean = successes / np.maximum(pulls, 1.0)
    if policy == "ucb":
        scale = 1.0 if reward == "bernoulli" else np.sqrt(mean + 1.0 / np.maximum(pulls, 1.0))
        score = mean + scale * np.sqrt(2.0 * math.log(max(t, 1.0)) / np.maximum(pulls, 1.0))
    else:  # epsilon-greedy
        explore = rng.random((num_seeds, 1)) < epsilon
        score = np.where(explore, rng.random((num_seeds, num_arms)), mean)
    return np.where(pulls > 0, score, 1e9) + 1e-9 * rng.random((num_seeds, num_arms))


def _thompson_bernoulli(means, horizon, num_seeds, rng):
    """The hot case, with every buffer allocated once: Beta(1 + s, 1 + f) draws as G_a / (G_a + G_b)."""
    num_arms = means.size
    params = np.ones((2, num_seeds, num_arms))  # 1 + successes, 1 + failures
    flat_alpha, flat_beta = params[0].reshape(-1), params[1].reshape(-1)
    gammas = np.empty_like(params)
    total, score = np.empty((num_seeds, num_arms)), np.empty((num_seeds, num_arms))
    offsets = np.arange(num_seeds) * num_arms
    chosen = np.empty((horizon, num_seeds), dtype=np.intp)
    for start in range(0, horizon, _BLOCK):
        stop = min(start + _BLOCK, horizon)
        uniforms = rng.random((stop - start, num_seeds))
        for t in range(start, stop):
            rng.standard_gamma(params, out=gammas)
            np.add(gammas[0], gammas[1], out=total)
            np.divide(gammas[0], total, out=score)
            arms = score.argmax(axis=1)
            chosen[t] = arms
            won = uniforms[t - start] < means[arms]
            index = offsets + arms
            flat_alpha[index] += won
            flat_beta[index] += ~won
    pulls = params.sum(axis=0) - 2.0
    return np.cumsum(means.max() - means[chosen], axis=0).T, pulls


def _run(policy, reward, means, horizon, num_seeds, epsilon, rng):
    if policy == "thompson" and reward == "bernoulli":
        return _thompson_bernoulli(means, horizon, num_seeds, rng)
    num_arms = means.size
    successes = np.zeros((num_seeds, num_arms))
    pulls = np.zeros((num_seeds, num_arms))
    flat_successes, flat_pulls = successes.reshape(-1), pulls.reshape(-1)
    offsets = np.arange(num_seeds) * num_arms
    chosen = np.empty((horizon, num_seeds), dtype=np.intp)
    for start in range(0, horizon, _BLOCK):
        stop = min(start + _BLOCK, horizon)
        if reward == "bernoulli":
            uniforms = rng.random((stop - start, num_seeds))
        for t in range(start, stop):
            arms = np.argmax(_scores(policy, rng, successes, pulls, t, epsilon, reward), axis=1)
            chosen[t] = arms
            index = offsets + arms
            if reward == "bernoulli":
                flat_successes[index] += uniforms[t - start] < means[arms]
            else:
                flat_successes[index] += rng.poisson(means[arms])
            flat_pulls[index] += 1.0
    regret = np.cumsum(means.max() - means[chosen], axis=0).T  # (num_seeds, horizon)
    return regret, pulls


def simulate_numpy(
    rng,
    problem,
    horizon: int,
    policies=("thompson", "ucb", "epsilon-greedy"),
    num_seeds: int = 100,
    epsilon: float = 0.1,
    num_points: int = 200,
):
    """Simulate the conjugate context-free bandit ``problem`` on NumPy (see the module docstring).

    Returns the same :class:`~bayeskit.decide.bandits.BanditSimulation` as ``simulate``; ``rng`` is a
    ``numpy.random.Generator``, an int or a JAX key (accepted as everywhere, by one helper).
    """
    from bayeskit.decide.bandits import POLICIES, BanditSimulation, _checkpoints

    if problem.reward not in NUMPY_REWARDS:
        raise ValueError(
            f"the NumPy engine covers {', '.join(NUMPY_REWARDS)} arms; got {problem.reward!r}. Use engine='jax'."
        )
    for policy in policies:
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}; choose from {', '.join(map(repr, POLICIES))}.")
    streams = as_generator(rng).spawn(len(policies))  # one independent stream per policy
    means = np.asarray(problem.means, dtype=float)
    steps = _checkpoints(int(horizon), num_points)
    regret, pulls, seconds = {}, {}, {}
    for policy, stream in zip(policies, streams, strict=True):
        start = time.perf_counter()
        curves, counts = _run(policy, problem.reward, means, int(horizon), int(num_seeds), epsilon, stream)
        seconds[policy] = time.perf_counter() - start
        regret[policy], pulls[policy] = curves[:, steps - 1], counts
    settings = {"epsilon": float(epsilon), "engine": "numpy", "compile_seconds": dict.fromkeys(policies, 0.0)}
    return BanditSimulation(problem, int(horizon), steps, regret, pulls, seconds, 1, 0, settings)
