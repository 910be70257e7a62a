"""Bayes-by-backprop (Blundell, Cornebise, Kavukcuoglu & Wierstra, 2015): mean-field Gaussian weights.

Every weight and bias has its own Gaussian ``N(mu, softplus(rho)^2)``; the prior is
``N(0, prior_scale^2)`` on every weight (in standardized units). Training maximizes
the ELBO, ``E_q[log p(y | w)] - KL(q || p)``, by stochastic gradients: each minibatch
loss is the mean negative log-likelihood plus ``KL / n_train`` (the closed-form
Gaussian KL from ``bayeskit.info``). The likelihood term is estimated with the
local reparameterization trick (pre-activations are sampled, one independent draw
per row), which has lower variance than sampling weights. Predictions draw whole
weight matrices, so each of the ``passes`` is a coherent function draw.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import numpy as np

from bayeskit._estimator import positive_int
from bayeskit.nn.estimators import _NetworkModel

__all__ = ["BayesByBackprop"]


@eqx.filter_jit
def _member_kl(params: Any, static: Any) -> jax.Array:
    """Each member's KL term."""
    return jax.vmap(lambda p: eqx.combine(p, static).kl())(params)


class BayesByBackprop(_NetworkModel):
    """A mean-field variational Bayesian network trained by Bayes-by-backprop.

    Parameters
    ----------
    prior_scale
        Standard deviation of the Gaussian prior on every weight (standardized units).
    init_std
        Initial posterior standard deviation of every weight.
    passes
        Weight draws at prediction.
    hidden, head, components, epochs, batch_size, learning_rate, validation_fraction, patience, key, progress
        As for :class:`bayeskit.nn.DeepEnsemble`. Early stopping watches the mean network's validation NLL.
    weight_decay
        Extra AdamW decay; 0 by default, since the KL term already regularizes.

    Attributes
    ----------
    elbo_
        ``(epochs_run,)`` the ELBO per epoch (standardized target units): ``-n_train`` times the
        epoch's mean minibatch loss.
    kl_
        ``(epochs_run,)`` the KL term at the end of each epoch.
    """

    _method = "Bayes-by-backprop"

    def __init__(
        self,
        prior_scale: float = 1.0,
        init_std: float = 1e-2,
        passes: int = 100,
        hidden: tuple[int, ...] = (50,),
        head: str = "homoscedastic",
        components: int = 3,
        epochs: int = 500,
        batch_size: int = 32,
        learning_rate: float = 1e-2,
        weight_decay: float = 0.0,
        validation_fraction: float = 0.1,
        patience: int = 30,
        key: Any = 0,
        progress: bool = False,
    ):
        self._store(locals())

    def _members(self) -> int:
        return 1

    def _check_settings(self) -> None:
        super()._check_settings()
        for name in ("prior_scale", "init_std"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                raise ValueError(f"`{name}` must be a finite number > 0; got {value!r}.")
        positive_int(self.passes, "passes")

    def _network_options(self) -> dict[str, Any]:
        return {"prior_variance": float(self.prior_scale) ** 2, "init_std": float(self.init_std)}

    def _loss(self, num_train: int) -> tuple[float, float]:
        self._num_train = num_train
        return 1.0 / num_train, 0.0

    def fit(self, X: Any, y: Any):
        """Maximize the ELBO on ``(X, y)``; returns self with ``elbo_`` and ``kl_`` traces."""
        self._kl_trace = []
        super().fit(X, y)
        self.kl_ = np.asarray(self._kl_trace)
        self.elbo_ = -self._num_train * self.training_loss_[:, 0]
        del self._kl_trace
        return self

    def _record_epoch(self, params, static) -> None:
        self._kl_trace.append(float(_member_kl(params, static)[0]))

    def _prediction_params(self, key):
        return self._stochastic_passes(key, draw_weights=True)
