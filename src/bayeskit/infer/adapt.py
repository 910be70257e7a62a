"""NUTS warmup: step size by dual averaging, a mass matrix from draws *and* gradients, stuck chains restarted.

NumPyro's kernel does the sampling; this module replaces its variance-based warmup.
The compiled NUTS program accumulates each window's statistics (sums of positions,
gradients and energies, a buffer of draws for the low-rank estimate) and adapts the
step size by dual averaging; at a window end the host computes the new mass matrix and
restarts stuck chains with the NumPy functions below, between two chunks of the same
compiled program. Nothing extra is compiled for a healthy run (a restart compiles one
gradient evaluation), and checkpoints, which are written between chunks, keep working.

Mass matrix (Seyboldt, Carlson & Carpenter 2026, the nutpie adaptation)
    For a Gaussian target with covariance S, draws x have covariance S and the
    gradients g of the log density have covariance S^-1. The inverse mass matrix that
    minimizes the Fisher divergence between the target and its Gaussian approximation
    solves ``M C_g M = C_x``. With a diagonal matrix the solution is
    ``sqrt(var(x) / var(g))``; it uses the curvature the gradients see, not only the
    spread of a short window of autocorrelated draws, and needs far fewer of them.
    ``"lowrank"`` adds the eigen-directions of the same estimator in the span of the
    window's draws and gradients (eigenvalues outside [1/2, 2] after diagonal scaling),
    held as a dense matrix: for correlated posteriors of up to a few thousand
    dimensions.

Windows
    Stan's schedule (an initial buffer, doubling slow windows, a terminal buffer, as
    NumPyro builds it). The first mass matrix is ``1 / |gradient|`` at the starting
    point. Dual averaging restarts at every window end and its average is the step
    size after warmup.

Stuck chains
    At the end of every window but the last, a chain is stuck when it hardly moved
    (fewer than 5% of its transitions moved it, or its positions spread less than
    1/100 as far as the median chain's) or, with three chains or more, when it sits
    far from the others (its mean potential energy more than 20 within-chain standard
    deviations, and more than 20 nats, above the median chain's). A stuck chain
    restarts at a fresh point (uniform in [-2, 2] in unconstrained space, or the
    position of the best chain where that point has no finite density) with the step
    size and mass matrix of the best healthy chain, at most ``max_restarts`` times.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "AUTO_LOW_RANK_LIMIT",
    "INITIAL_CLIP",
    "MASS_MATRICES",
    "Schedule",
    "WarmupState",
    "fisher_diagonal",
    "regularized_variance",
    "low_rank",
    "mass_matrix_parts",
    "schedule",
    "stuck_chains",
    "window_end",
]

MASS_MATRICES = ("numpyro", "variance", "auto", "diag", "lowrank")
AUTO_LOW_RANK_LIMIT = 1000  # "auto": low-rank up to this many unconstrained dimensions, diagonal above
_FROZEN_MOVES = 0.05
_FROZEN_SPREAD = 1e-2
_FAR_SD, _FAR_NATS = 20.0, 20.0
_LOW_RANK_CUTOFF = 2.0
_BUFFER = 512  # draws kept for the low-rank estimate (the latest of a longer window)
INITIAL_CLIP = 1e4  # the first inverse mass, 1 / |gradient|, is kept within [1/INITIAL_CLIP, INITIAL_CLIP]


class Schedule(NamedTuple):
    """Per warmup transition: ``check`` (a window ends: stuck chains restart), ``update`` (a slow window ends)."""

    check: np.ndarray
    update: np.ndarray
    collect: np.ndarray
    longest: int


def schedule(num_warmup: int) -> Schedule:
    """Stan's warmup windows (as NumPyro builds them) as boolean arrays over the warmup transitions."""
    from numpyro.infer.hmc_util import build_adaptation_schedule

    check = np.zeros(max(num_warmup, 1), bool)
    update = np.zeros_like(check)
    collect = np.zeros_like(check)
    windows = build_adaptation_schedule(num_warmup) if num_warmup >= 20 else []
    longest = 1
    for index, (start, end) in enumerate(windows[:-1]):
        check[end] = True
        if index > 0:
            update[end] = True
            collect[start : end + 1] = True
            longest = max(longest, end + 1 - start)
    return Schedule(check, update, collect, min(longest, _BUFFER))


class WarmupState(NamedTuple):
    """What warmup accumulates per chain (leading axis: chains)."""

    da: tuple  # NumPyro's dual-averaging state of the log step size
    n: Any  # transitions in the current window
    moves: Any  # of them, those that moved the chain
    mean_x: Any  # Welford means and sums of squared deviations (sums of squares cancel in float32)
    m2_x: Any
    mean_g: Any
    m2_g: Any
    mean_u: Any
    m2_u: Any
    kept: Any  # draws in the low-rank buffer
    buffer_x: Any  # (chains, buffer, d) or (chains, 0, d) for a diagonal matrix
    buffer_g: Any
    restarts: Any
    restarted_at: Any  # the last transition at which the chain restarted (-1: never)
    key: Any  # seeds the fresh starting points of restarts
    gradients: Any  # leapfrog steps (gradient evaluations) in warmup so far


def regularized_variance(warm: WarmupState) -> np.ndarray:
    """Stan's (and NumPyro's) diagonal: the window's variance of the draws, shrunk towards 1e-3 for short windows."""
    n = np.maximum(warm.n, 2)[:, None]
    variance = warm.m2_x / (n - 1)
    shrunk = (n / (n + 5.0)) * variance + 1e-3 * (5.0 / (n + 5.0))
    return np.where(np.isfinite(shrunk) & (shrunk > 0), shrunk, 1.0)


def fisher_diagonal(warm: WarmupState) -> np.ndarray:
    """``sqrt(var(x) / var(g))`` per chain and coordinate: the Fisher-divergence-optimal diagonal inverse mass."""
    n = np.maximum(warm.n, 1)[:, None]
    var_x, var_g = warm.m2_x / n, warm.m2_g / n
    tiny = np.finfo(float).tiny
    with np.errstate(all="ignore"):
        diagonal = np.sqrt(np.maximum(var_x, tiny) / np.maximum(var_g, tiny))
    return np.where(np.isfinite(diagonal) & (diagonal > 0), diagonal, 1.0)


def low_rank(xs: np.ndarray, gs: np.ndarray, diagonal: np.ndarray, gamma: float = 1e-5) -> np.ndarray:
    """The dense inverse mass matrix: the diagonal, corrected in the span of one chain's draws and gradients.

    Parameters
    ----------
    xs, gs
        ``(n, d)`` draws and log-density gradients of one window.
    diagonal
        ``(d,)`` the Fisher diagonal of the same window.
    gamma
        Ridge added to both projected covariances (in diagonal-scaled units).

    Returns
    -------
    numpy.ndarray
        ``(d, d)``: ``D^1/2 (I + U (L - 1) U') D^1/2`` where ``U, L`` are the eigenvectors and
        eigenvalues of the solution of ``M C_g M = C_x`` in that span, kept outside [1/2, 2].
    """
    n = xs.shape[0]
    scale = np.sqrt(diagonal)
    x = (xs - xs.mean(0)) / scale
    g = (gs - gs.mean(0)) * scale
    basis, _ = np.linalg.qr(np.concatenate([x.T, g.T], axis=1))  # (d, k): the span of both
    basis = basis[:, : min(basis.shape[1], xs.shape[1])]
    px, pg = x @ basis, g @ basis
    eye = np.eye(basis.shape[1])
    cov_x = px.T @ px / n + gamma * eye
    cov_g = pg.T @ pg / n + gamma * eye
    values_g, vectors_g = np.linalg.eigh(cov_g)  # M = geometric mean of cov_x and cov_g^-1
    root_g = (vectors_g * np.sqrt(values_g)) @ vectors_g.T
    inverse_root_g = (vectors_g / np.sqrt(values_g)) @ vectors_g.T
    middle_values, middle_vectors = np.linalg.eigh(root_g @ cov_x @ root_g)
    middle = (middle_vectors * np.sqrt(np.maximum(middle_values, 0.0))) @ middle_vectors.T
    values, vectors = np.linalg.eigh(inverse_root_g @ middle @ inverse_root_g)
    keep = (values > _LOW_RANK_CUTOFF) | (values < 1.0 / _LOW_RANK_CUTOFF)
    directions = basis @ vectors[:, keep]
    inner = np.eye(xs.shape[1]) + (directions * (values[keep] - 1.0)) @ directions.T
    dense = scale[:, None] * inner * scale[None, :]
    dense = 0.5 * (dense + dense.T)
    return dense if np.all(np.isfinite(dense)) else np.diag(diagonal)


def _low_rank_or_diagonal(xs: np.ndarray, gs: np.ndarray, diagonal: np.ndarray) -> np.ndarray:
    """:func:`low_rank`, or the diagonal where the window is too short or not finite (a chain in trouble)."""
    if xs.shape[0] < 3 or not (np.all(np.isfinite(xs)) and np.all(np.isfinite(gs))):
        return np.diag(diagonal)
    try:
        return low_rank(xs, gs, diagonal)
    except np.linalg.LinAlgError:
        return np.diag(diagonal)


def mass_matrix_parts(inverse: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(inverse_mass_matrix, mass_matrix_sqrt, mass_matrix_sqrt_inv)`` in NumPyro's conventions, one chain."""
    if inverse.ndim == 1:
        root_inverse = np.sqrt(inverse)
        return inverse, 1.0 / root_inverse, root_inverse
    # NumPyro: mass_matrix_sqrt_inv is the transposed, flipped Cholesky factor of the flipped inverse
    root_inverse = np.linalg.cholesky(inverse[::-1, ::-1])[::-1, ::-1].T
    return inverse, np.linalg.inv(root_inverse), root_inverse


def stuck_chains(warm: WarmupState) -> np.ndarray:
    """Boolean per chain: hardly moved in this window, or (three chains or more) far above the others' energy."""
    n = np.maximum(warm.n, 1)
    var_x = warm.m2_x / n[:, None]
    reference = np.median(var_x, axis=0)
    spread = np.median(var_x / np.where(reference > 0, reference, 1.0), axis=1)
    frozen = (warm.moves / n < _FROZEN_MOVES) | (spread < _FROZEN_SPREAD**2)
    sd_u = np.sqrt(np.median(warm.m2_u / n))
    excess = warm.mean_u - np.median(warm.mean_u)
    far = (excess > _FAR_SD * sd_u) & (excess > _FAR_NATS) & (excess.shape[0] >= 3)
    return (frozen | far) & (warm.n > 0)


def _rows(tree_leaves: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([leaf.reshape(leaf.shape[0], -1) for leaf in tree_leaves], axis=1)


def window_end(program: Any, state: Any, dynamic: list[Any], t: int, max_restarts: int) -> Any:
    """The state after warmup transition ``t`` ends a window: stuck chains restarted, mass matrix, step size.

    Runs on the host between two chunks of the compiled program; the returned state has
    exactly the shapes and dtypes of the one given.
    """
    import jax

    hmc_state, warm_device = state
    warm = jax.tree.map(lambda leaf: np.asarray(leaf, dtype=float), warm_device)  # host copies, in float64
    inverse = np.asarray(hmc_state.adapt_state.inverse_mass_matrix, dtype=float)
    step_size = np.exp(warm.da[0])
    if program.plan.update[t] and program.mass_matrix == "variance":
        inverse = regularized_variance(warm)
    elif program.plan.update[t]:
        diagonal = fisher_diagonal(warm)
        if inverse.ndim == 3:
            kept = int(min(warm.kept[0], warm.buffer_x.shape[1]))
            inverse = np.stack(
                [
                    _low_rank_or_diagonal(warm.buffer_x[c, :kept], warm.buffer_g[c, :kept], diagonal[c])
                    for c in range(len(diagonal))
                ]
            )
        else:
            inverse = diagonal
    stuck = stuck_chains(warm) & (np.asarray(warm_device.restarts) < max_restarts)
    z_leaves = jax.tree.leaves(hmc_state.z)
    z, z_grad, potential = hmc_state.z, hmc_state.z_grad, hmc_state.potential_energy
    if stuck.any():
        donor = int(np.argmin(np.where(stuck, np.inf, warm.mean_u)))
        flat = _rows([np.asarray(leaf) for leaf in z_leaves])
        rng = np.random.default_rng([*np.asarray(warm_device.key).astype(np.int64).ravel().tolist(), t])
        fresh = rng.uniform(-2.0, 2.0, size=flat.shape).astype(flat.dtype)
        u_new, g_new, z_new = program.evaluate(fresh, dynamic)
        u_new = np.asarray(u_new)
        finite = np.isfinite(u_new) & np.isfinite(_rows([np.asarray(v) for v in jax.tree.leaves(g_new)])).all(1)
        take = stuck & finite
        fallback = stuck & ~finite  # no finite density at the fresh point: the best healthy chain's position

        def pick(old, new):
            old, new = np.asarray(old), np.asarray(new)
            shape = (-1,) + (1,) * (old.ndim - 1)
            out = np.where(take.reshape(shape), new, old)
            return np.where(fallback.reshape(shape), old[donor], out)

        z = jax.tree.map(pick, z, z_new)
        z_grad = jax.tree.map(pick, z_grad, g_new)
        potential = pick(potential, u_new)
        inverse = np.where(stuck.reshape((-1,) + (1,) * (inverse.ndim - 1)), inverse[donor], inverse)
        step_size = np.where(stuck, step_size[donor], step_size)
    parts = [mass_matrix_parts(row) for row in inverse]
    dtype = np.asarray(hmc_state.adapt_state.step_size).dtype
    adapt_state = hmc_state.adapt_state._replace(
        step_size=np.asarray(step_size, dtype),
        inverse_mass_matrix=np.stack([p[0] for p in parts]).astype(dtype),
        mass_matrix_sqrt=np.stack([p[1] for p in parts]).astype(dtype),
        mass_matrix_sqrt_inv=np.stack([p[2] for p in parts]).astype(dtype),
    )
    hmc_state = hmc_state._replace(z=z, z_grad=z_grad, potential_energy=np.asarray(potential), adapt_state=adapt_state)
    if program.plan.update[t] or stuck.any():  # a new mass matrix: start from NumPyro's heuristic step size for it
        typed = jax.tree.map(lambda new, old: jax.numpy.asarray(new, dtype=old.dtype), hmc_state, state[0])
        keys = jax.vmap(lambda key: jax.random.fold_in(key, t))(jax.numpy.asarray(warm_device.key))
        found = np.asarray(program.step_sizes(typed, keys, dynamic), dtype=float)
        found = np.where(np.isfinite(found) & (found > 0), found, step_size)
        step_size = np.where(program.plan.update[t] | stuck, found, step_size)
        adapt_state = adapt_state._replace(step_size=np.asarray(step_size, dtype))
        hmc_state = hmc_state._replace(adapt_state=adapt_state)
    zeros = jax.tree.map(np.zeros_like, warm_device)
    log_step = np.log(10.0 * step_size)
    da = (*tuple(np.zeros_like(np.asarray(part)) for part in warm_device.da[:4]), log_step)
    warm_next = zeros._replace(
        da=da,
        restarts=np.asarray(warm_device.restarts) + stuck,
        restarted_at=np.where(stuck, t, np.asarray(warm_device.restarted_at)),
        buffer_x=warm_device.buffer_x,
        buffer_g=warm_device.buffer_g,
        key=warm_device.key,
        gradients=warm_device.gradients,
    )
    template = jax.tree.leaves(state)
    leaves = jax.tree.leaves((hmc_state, warm_next))
    _, structure = jax.tree.flatten(state)
    return jax.tree.unflatten(
        structure, [jax.numpy.asarray(new, dtype=old.dtype) for new, old in zip(leaves, template, strict=True)]
    )
