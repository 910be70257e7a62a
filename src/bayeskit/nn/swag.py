"""SWAG (Maddox, Garipov, Izmailov, Vetrov & Wilson, 2019): a Gaussian over the weights from the SGD trajectory.

After ordinary training, SGD runs on at a constant learning rate and the weights
are snapshotted once per epoch. The snapshots' mean is the SWA solution; their
second moment gives a diagonal covariance, and the deviations of the last ``rank``
snapshots from the mean a low-rank one. SWAG's Gaussian is

    N(mean, diag(variance) / 2 + D^T D / (2 (rank - 1)))

(the paper's equal mix of the two estimates). The moments are accumulated one
snapshot at a time (memory: ``rank + 2`` weight vectors), by pure functions of the
running state, so they can be checked on any trajectory: on a noisy quadratic,
SGD's stationary covariance solves a discrete Lyapunov equation (tested).
Deviations are taken from the final mean, not the running one (a small change
from the paper that removes the early snapshots' bias).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from bayeskit._estimator import positive_int
from bayeskit._rng import as_generator, substream
from bayeskit.nn.estimators import _NetworkModel

__all__ = ["SWAG", "SwagPosterior", "SwagState", "swag_init", "swag_posterior", "swag_update"]


class SwagState(NamedTuple):
    """Running first and second moments of the snapshots, and the most recent ``rank`` of them."""

    count: int
    mean: np.ndarray
    second_moment: np.ndarray
    recent: tuple[np.ndarray, ...]


class SwagPosterior(NamedTuple):
    """SWAG's Gaussian: ``mean``, diagonal ``variance`` and ``deviations`` ``(rank, ..., P)`` from the mean."""

    mean: np.ndarray
    variance: np.ndarray
    deviations: np.ndarray

    def covariance(self) -> np.ndarray:
        """The dense ``(P, P)`` covariance (single member; for checks on small problems)."""
        rank = self.deviations.shape[0]
        low_rank = self.deviations.T @ self.deviations / max(rank - 1, 1)
        return 0.5 * np.diag(self.variance) + 0.5 * low_rank

    def sample(self, rng: Any, num_draws: int) -> np.ndarray:
        """``(num_draws, ..., P)`` weight vectors, without forming the covariance."""
        from bayeskit._rng import as_generator

        generator = as_generator(rng)
        rank = self.deviations.shape[0]
        diagonal = np.sqrt(self.variance / 2) * generator.standard_normal((num_draws, *self.mean.shape))
        z = generator.standard_normal((num_draws, rank))
        low_rank = np.tensordot(z, self.deviations, axes=(1, 0)) / np.sqrt(2 * max(rank - 1, 1))
        return self.mean + diagonal + low_rank


def swag_init(shape: tuple[int, ...]) -> SwagState:
    """The empty state for snapshots of ``shape`` (``(P,)``, or ``(members, P)`` for MultiSWAG)."""
    return SwagState(0, np.zeros(shape), np.zeros(shape), ())


def swag_update(state: SwagState, snapshot: np.ndarray, rank: int) -> SwagState:
    """Add one snapshot: running moments, and keep only the last ``rank`` snapshots."""
    count = state.count + 1
    snapshot = np.asarray(snapshot, dtype=float)
    mean = state.mean + (snapshot - state.mean) / count
    second = state.second_moment + (snapshot**2 - state.second_moment) / count
    return SwagState(count, mean, second, (*state.recent, snapshot)[-rank:])


def swag_posterior(state: SwagState) -> SwagPosterior:
    """The Gaussian from the accumulated moments (needs at least two snapshots)."""
    if state.count < 2:
        raise ValueError(f"SWAG needs at least 2 snapshots; got {state.count}. Increase `swag_epochs`.")
    variance = np.maximum(state.second_moment - state.mean**2, 0.0)
    return SwagPosterior(state.mean, variance, np.stack(state.recent) - state.mean)


class SWAG(_NetworkModel):
    """SWAG: train, then run constant-rate SGD and fit a Gaussian to the weights it visits.

    With ``members > 1`` each member gets its own SWAG Gaussian and the predictive
    mixes all their draws (MultiSWAG, Wilson & Izmailov 2020), in one vectorized run.

    Parameters
    ----------
    members
        Independent SWAG runs (1 is plain SWAG).
    rank
        Snapshots kept for the low-rank part (20 in the paper).
    swag_epochs
        SGD epochs after training, one snapshot each.
    swag_learning_rate
        The constant SGD learning rate of that phase: it sets the spread of the
        trajectory, and so the width of the posterior.
    clip_norm
        Gradients are clipped to this global norm in the SGD phase. The Gaussian
        NLL's curvature grows like 1 / variance, so after training plain SGD at a
        useful rate can diverge (it did on the UCI sets); clipping keeps it stable.
    num_draws
        Weight draws per member at prediction.
    head
        As for :class:`bayeskit.nn.DeepEnsemble`; homoscedastic by default. With a heteroscedastic head
        the Gaussian also covers the variance output's weights, and on the UCI sets some of its draws
        predicted near-zero noise (held-out log-likelihood of -13.7 on one wine split against -1.07
        homoscedastic).
    hidden, components, epochs, batch_size, learning_rate, weight_decay, validation_fraction, patience,
    key, progress
        As for :class:`bayeskit.nn.DeepEnsemble` (the weight decay also applies during the SGD phase).
    """

    _method = "SWAG"

    def __init__(
        self,
        members: int = 1,
        rank: int = 20,
        swag_epochs: int = 50,
        swag_learning_rate: float = 3e-3,
        clip_norm: float = 1.0,
        num_draws: int = 30,
        hidden: tuple[int, ...] = (50,),
        head: str = "homoscedastic",
        components: int = 3,
        epochs: int = 500,
        batch_size: int = 32,
        learning_rate: float = 1e-2,
        weight_decay: float = 1e-4,
        validation_fraction: float = 0.1,
        patience: int = 30,
        key: Any = 0,
        progress: bool = False,
    ):
        self._store(locals())

    def _members(self) -> int:
        return positive_int(self.members, "members")

    def _check_settings(self) -> None:
        super()._check_settings()
        for name in ("rank", "num_draws"):
            positive_int(getattr(self, name), name)
        if positive_int(self.swag_epochs, "swag_epochs") < 2:
            raise ValueError(f"`swag_epochs` must be >= 2 (one snapshot per epoch); got {self.swag_epochs}.")
        for name in ("swag_learning_rate", "clip_norm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"`{name}` must be > 0; got {getattr(self, name)!r}.")

    def _after_training(self, train: dict[str, Any]) -> None:
        import jax
        from jax.flatten_util import ravel_pytree

        from bayeskit._progress import progress_bar
        from bayeskit.nn._train import make_epoch, make_optimizer

        optimizer = ("sgd-clip", float(self.swag_learning_rate), float(self.weight_decay), float(self.clip_norm))
        params, members, x, y = self.params_, train["members"], train["x"], train["y"]
        opt_state = jax.vmap(make_optimizer(optimizer).init)(params)
        epoch = make_epoch(train["static"], optimizer, train["batch"], x.shape[0], self._loss(x.shape[0]))
        flatten = jax.jit(jax.vmap(lambda p: ravel_pytree(p)[0]))
        state, key, loss = swag_init(flatten(params).shape), train["key"], jax.numpy.zeros(members)
        with progress_bar("SWAG snapshots", self.swag_epochs, self.progress) as advance:
            for _ in range(self.swag_epochs):
                key, key_epoch = jax.random.split(key)
                params, opt_state, *_ = epoch(
                    params, opt_state, params, loss, x, y, x[:0], y[:0], jax.random.split(key_epoch, members)
                )
                state = swag_update(state, np.asarray(flatten(params)), self.rank)
                advance(1)
        self.swag_ = swag_posterior(state)
        self._unravel = ravel_pytree(jax.tree.map(lambda leaf: leaf[0], self.params_))[1]

    def _prediction_params(self, key):
        import jax
        import jax.numpy as jnp

        draws = self.swag_.sample(as_generator(substream(self.key, 1)), self.num_draws)  # (S, M, P)
        flat = jnp.asarray(draws.reshape(-1, draws.shape[-1]), jnp.float32)
        return jax.vmap(self._unravel)(flat), None, False
