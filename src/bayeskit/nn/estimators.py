"""Bayesian neural network regressors with scikit-learn-style ``fit`` and a Gaussian-mixture predictive.

``DeepEnsemble`` trains M networks at once (one ``vmap``, no Python loop over members);
``MCDropout`` keeps dropout on at prediction and averages T stochastic passes. Both
standardize inputs and target on the training rows (carried with the model), stop
early on a validation split, and return predictions in the target's original units.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayeskit._validate import check_choice, check_prob
from bayeskit.models.estimators import _Estimator
from bayeskit.nn._core import HEADS
from bayeskit.nn._data import fit_scalers, regression_data
from bayeskit.nn.predictive import GaussianMixturePredictive

__all__ = ["DeepEnsemble", "MCDropout"]


class _NetworkRegressor(_Estimator):
    """Shared training and prediction; subclasses set the number of members and the dropout rate."""

    _method = ""

    def _members(self) -> int:
        raise NotImplementedError

    def _dropout(self) -> float:
        raise NotImplementedError

    def _check_settings(self) -> None:
        check_choice(self.head, "head", HEADS)
        hidden = tuple(self.hidden)
        if any(not isinstance(h, int) or h < 1 for h in hidden):
            raise ValueError(
                f"`hidden` must be a tuple of positive layer widths, e.g. (50,) (or () for a linear model); "
                f"got {self.hidden!r}."
            )
        for name in ("epochs", "batch_size", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int; got {value!r}.")
        if not 0.0 <= self.validation_fraction < 0.5:
            raise ValueError(f"`validation_fraction` must be in [0, 0.5); got {self.validation_fraction!r}.")
        if not self.learning_rate > 0:
            raise ValueError(f"`learning_rate` must be > 0; got {self.learning_rate!r}.")

    def fit(self, X: Any, y: Any):
        """Train on ``(X, y)`` (DataFrame or arrays); returns self."""
        import jax
        import jax.numpy as jnp
        import optax

        from bayeskit._progress import progress_bar
        from bayeskit.nn._core import keep_best, make_epoch, make_members, validation_loss

        self._check_settings()
        x, target, names = regression_data(X, y)
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(x.shape[0])
        num_valid = round(self.validation_fraction * x.shape[0])
        valid, train = order[:num_valid], order[num_valid:]
        if train.size < 2:
            raise ValueError(f"need at least 2 training rows after the validation split; got {train.size}.")
        x_scaler, y_scaler = fit_scalers(x[train], target[train], names)
        xs = jnp.asarray(x_scaler.forward(x), jnp.float32)
        ys = jnp.asarray(y_scaler.forward(target), jnp.float32)
        members, batch = self._members(), min(self.batch_size, train.size)
        key = jax.random.PRNGKey(self.seed)
        key_init, key_train = jax.random.split(key)
        import equinox as eqx

        networks = make_members(
            x.shape[1], tuple(self.hidden), self._dropout(), self.head, jax.random.split(key_init, members)
        )
        params, static = eqx.partition(networks, eqx.is_array)
        optimizer = optax.adamw(self.learning_rate, weight_decay=self.weight_decay)
        opt_state = jax.vmap(optimizer.init)(params)
        epoch = make_epoch(static, optimizer, batch, train.size)
        x_train, y_train = xs[train], ys[train]
        x_valid, y_valid = xs[valid], ys[valid]
        best, best_loss, stale = params, jnp.full(members, jnp.inf), np.zeros(members, dtype=int)
        history, valid_history = [], []
        with progress_bar(f"training {self._method}", self.epochs, self.progress) as advance:
            for _ in range(self.epochs):
                key_train, key_epoch = jax.random.split(key_train)
                params, opt_state, losses = epoch(
                    params, opt_state, x_train, y_train, jax.random.split(key_epoch, members)
                )
                history.append(np.asarray(losses))
                advance(1)
                if num_valid == 0:
                    best = params
                    continue
                loss = validation_loss(params, static, x_valid, y_valid)
                improved = np.asarray(loss < best_loss)
                best, best_loss = keep_best(params, best, loss, best_loss)
                valid_history.append(np.asarray(loss))
                stale = np.where(improved, 0, stale + 1)
                if np.all(stale >= self.patience):
                    break
        self.params_, self._static = best, static
        self.x_scaler_, self.y_scaler_ = x_scaler, y_scaler
        self.feature_names_in_, self.n_features_in_ = names, x.shape[1]
        self.training_loss_ = np.stack(history)
        self.validation_loss_ = np.stack(valid_history) if valid_history else np.empty((0, members))
        self.epochs_run_ = len(history)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ValueError(f"this {type(self).__name__} is not fitted yet: call fit(X, y) first.")

    def _standardized_members(self, xs):
        raise NotImplementedError

    def predictive(self, X: Any) -> GaussianMixturePredictive:
        """The posterior predictive at ``X`` in the target's units: a mixture over members or passes."""
        import jax.numpy as jnp

        from bayeskit.models._data import design_matrix

        self._check_fitted()
        x = design_matrix(X, expected=self.feature_names_in_).values
        means, variances = self._standardized_members(jnp.asarray(self.x_scaler_.forward(x), jnp.float32))
        scale = float(self.y_scaler_.std)
        return GaussianMixturePredictive(
            np.asarray(means, dtype=float) * scale + float(self.y_scaler_.mean),
            np.asarray(variances, dtype=float) * scale**2,
            self._method,
        )

    def predict(self, X: Any, return_std: bool = False):
        """Predictive mean (and standard deviation: aleatoric plus epistemic) in the target's units."""
        predictive = self.predictive(X)
        return (predictive.mean(), predictive.std()) if return_std else predictive.mean()

    def predict_interval(self, X: Any, prob: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Central predictive interval (exact quantiles of the mixture)."""
        return self.predictive(X).interval(check_prob(prob))


class DeepEnsemble(_NetworkRegressor):
    """Deep ensemble (Lakshminarayanan, Pritzel & Blundell, 2017): M networks with Gaussian NLL heads.

    The members differ only in initialization and minibatch order; they are trained
    together in one vectorized program. The predictive is the equal mixture of the
    members' Gaussians; its variance splits into aleatoric (the heads' noise) and
    epistemic (the members' disagreement).

    Parameters
    ----------
    members
        Ensemble size (5 in the paper).
    hidden
        Hidden layer widths.
    head
        ``"heteroscedastic"`` (each member predicts a variance; default) or ``"homoscedastic"``.
    epochs, batch_size, learning_rate, weight_decay
        AdamW training.
    validation_fraction, patience
        Rows held out for early stopping (each member keeps its best epoch); 0 trains all epochs.
    seed
        Seed for the split, initialization, shuffles and dropout.
    progress
        A progress bar over epochs on stderr.
    """

    _method = "deep ensemble"

    def __init__(
        self,
        members: int = 5,
        hidden: tuple[int, ...] = (50,),
        head: str = "heteroscedastic",
        epochs: int = 500,
        batch_size: int = 32,
        learning_rate: float = 1e-2,
        weight_decay: float = 1e-4,
        validation_fraction: float = 0.1,
        patience: int = 30,
        seed: int = 0,
        progress: bool = False,
    ):
        self._store(locals())

    def _members(self) -> int:
        if isinstance(self.members, bool) or not isinstance(self.members, int) or self.members < 1:
            raise ValueError(f"`members` must be a positive int; got {self.members!r}.")
        return self.members

    def _dropout(self) -> float:
        return 0.0

    def _standardized_members(self, xs):
        from bayeskit.nn._core import predict_members

        return predict_members(self.params_, self._static, xs, None)


class MCDropout(_NetworkRegressor):
    """MC dropout (Gal & Ghahramani, 2016): dropout stays on at prediction; T passes form the predictive.

    Parameters
    ----------
    rate
        Dropout probability before every linear layer (inputs included, as in the paper).
    passes
        Stochastic forward passes T at prediction.
    hidden, head, epochs, batch_size, learning_rate, weight_decay, validation_fraction, patience, seed, progress
        As for :class:`DeepEnsemble` (the default head is homoscedastic, as in the paper).
    """

    _method = "MC dropout"

    def __init__(
        self,
        rate: float = 0.05,
        passes: int = 100,
        hidden: tuple[int, ...] = (50,),
        head: str = "homoscedastic",
        epochs: int = 500,
        batch_size: int = 32,
        learning_rate: float = 1e-2,
        weight_decay: float = 1e-4,
        validation_fraction: float = 0.1,
        patience: int = 30,
        seed: int = 0,
        progress: bool = False,
    ):
        self._store(locals())

    def _members(self) -> int:
        return 1

    def _dropout(self) -> float:
        if not 0.0 <= self.rate < 1.0:
            raise ValueError(f"`rate` must be in [0, 1); got {self.rate!r}.")
        return float(self.rate)

    def _standardized_members(self, xs):
        import jax

        from bayeskit.nn._core import predict_members

        if isinstance(self.passes, bool) or not isinstance(self.passes, int) or self.passes < 1:
            raise ValueError(f"`passes` must be a positive int; got {self.passes!r}.")
        single = jax.tree.map(lambda leaf: leaf[0], self.params_)
        replicated = jax.tree.map(lambda leaf: jax.numpy.broadcast_to(leaf, (self.passes, *leaf.shape)), single)
        keys = jax.random.split(jax.random.PRNGKey(self.seed + 1), self.passes)
        return predict_members(replicated, self._static, xs, keys)
