"""Pathfinder starts for NUTS: a point and an inverse mass matrix from a quasi-Newton path.

Pathfinder (Zhang, Carpenter, Gelman & Vehtari 2022) follows L-BFGS from a dispersed
start, fits a Gaussian at every point of the path from the optimizer's inverse-Hessian
estimate, and keeps the Gaussian with the highest ELBO. One draw from it is the chain's
start, and its covariance the initial inverse mass matrix: the chain begins in the
typical set with a metric of the right scale instead of at a uniform point in [-2, 2].
Because the best Gaussian is chosen by ELBO, not by density, a funnel does not drag the
start to its neck the way a plain optimizer's mode would.

BlackJAX's implementation does the work (``blackjax.vi.pathfinder``); this module runs it
for one chain inside the compiled initialization, falls back to the uniform start when
the path fails, and counts its cost.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["ELBO_DRAWS", "ITERATIONS", "PathfinderStart", "pathfinder_start"]

ITERATIONS = 30  # L-BFGS iterations at most (BlackJAX's default); the best ELBO is usually reached sooner
ELBO_DRAWS = 20  # draws per path point for its ELBO (Stan's Pathfinder uses 25)


class PathfinderStart(NamedTuple):
    """One chain's Pathfinder start (all JAX arrays)."""

    x: Any  # flat unconstrained start
    inverse: Any  # initial inverse mass matrix: the diagonal, or the dense covariance when ``dense``
    ok: Any  # bool: the path gave a finite ELBO and a start with finite density and gradient
    evaluations: Any  # log-density evaluations spent, gradients included


def pathfinder_start(
    potential: Any, x0: Any, key: Any, dense: bool, iterations: int = ITERATIONS, draws: int = ELBO_DRAWS
) -> PathfinderStart:
    """Run Pathfinder from ``x0`` and return a start drawn from its best Gaussian.

    Parameters
    ----------
    potential
        The negative log density of a flat unconstrained vector.
    x0
        The flat starting point of the L-BFGS path (a uniform start).
    key
        A JAX PRNG key.
    dense
        Return the dense covariance (for a dense or low-rank mass matrix) instead of its diagonal.
    iterations, draws
        L-BFGS iterations at most, and ELBO draws per point of the path.

    Returns
    -------
    PathfinderStart
        When ``ok`` is false the caller should keep its own start; ``x`` and ``inverse`` are then
        ``x0`` and ones.
    """
    import jax
    import jax.numpy as jnp
    from blackjax.vi import pathfinder

    path_key, draw_key = jax.random.split(key)
    best, info = pathfinder.approximate(path_key, lambda x: -potential(x), x0, num_samples=draws, maxiter=iterations)
    x, _ = pathfinder.sample(draw_key, best)
    scaled = best.beta @ best.gamma
    diagonal = best.alpha + jnp.sum(scaled * best.beta, axis=1)
    u, g = jax.value_and_grad(potential)(x)
    ok = (
        jnp.isfinite(best.elbo)
        & jnp.all(jnp.isfinite(x))
        & jnp.all(jnp.isfinite(diagonal))
        & jnp.all(diagonal > 0)
        & jnp.isfinite(u)
        & jnp.all(jnp.isfinite(g))
    )
    inverse = diagonal
    if dense:  # the factored covariance can lose definiteness in float32: then its diagonal alone
        covariance = jnp.diag(best.alpha) + scaled @ best.beta.T
        covariance = 0.5 * (covariance + covariance.T)
        definite = jnp.all(jnp.isfinite(jnp.linalg.cholesky(covariance[::-1, ::-1])))
        inverse = jnp.where(definite, covariance, jnp.diag(diagonal))
    fallback = jnp.eye(x0.shape[0], dtype=x0.dtype) if dense else jnp.ones_like(x0)
    # Cost: each L-BFGS step evaluates the density and gradient about twice (the line search and the new
    # point), and every point of the path is scored with ``draws`` density evaluations; all counted as gradients.
    steps = jnp.sum(jnp.isfinite(info.path.elbo))
    evaluations = 2 * steps + 1 + (iterations + 1) * draws + 1
    return PathfinderStart(
        x=jnp.where(ok, x, x0),
        inverse=jnp.where(ok, inverse, fallback),
        ok=ok,
        evaluations=evaluations.astype(jnp.int32),
    )
