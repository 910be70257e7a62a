"""``GPRegressor``: a scikit-learn-style exact Gaussian process over the functional core in ``exact.py``."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.exceptions import NotFittedError

from bayeskit._estimator import _Estimator
from bayeskit._rng import raw_key
from bayeskit._validate import check_choice
from bayeskit.gp.exact import condition, draw_functions, predict, update
from bayeskit.gp.kernels import AbstractKernel, Matern52
from bayeskit.predictive import GaussianMixturePredictive

__all__ = ["GPRegressor"]


class GPRegressor(RegressorMixin, _Estimator):
    """Exact GP regression with hyperparameters by maximum marginal likelihood (float64).

    Parameters
    ----------
    kernel
        A kernel from ``bayeskit.gp.kernels`` (its values are the starting point); default
        ``Matern52`` with one lengthscale per feature (ARD).
    noise_variance
        Starting (or, with ``optimizer=None``, fixed) observation noise variance, in the
        units of the standardized target when ``normalize_y``.
    optimizer
        ``"lml"`` maximizes the log marginal likelihood (L-BFGS-B with ``restarts``); ``"nuts"``
        samples the hyperparameters with NUTS (fully Bayesian: ``posterior_`` holds the draws and
        the predictive mixes ``num_draws`` of them); ``None`` keeps the given hyperparameters.
    restarts
        Extra random starts of the optimizer.
    normalize_y
        Standardize the target before fitting (predictions come back in its units).
    min_noise_variance
        Lower bound of the noise variance (standardized units).
    key
        A JAX key, a ``numpy.random.Generator`` or an int seed, stored as given
        (sub-streams by ``fold_in``): the restarts and NUTS.
    pad_to
        With ``optimizer="lml"``, pad the data to this many rows (inert, exact) so that refits on
        slowly growing data reuse one compiled objective.
    num_draws, nuts_options
        With ``optimizer="nuts"``: hyperparameter draws in the predictive, and options for
        :func:`bayeskit.infer.nuts` (``num_chains``, ``num_warmup``, ``num_samples``, ``progress``,
        ``prior_scale`` of the log-hyperparameters' Gaussian priors).

    Attributes
    ----------
    kernel_, noise_variance_
        Fitted hyperparameters (``noise_variance_`` in the target's units).
    log_marginal_likelihood_
        ``log p(y)`` at the fitted hyperparameters, in the target's units.
    jitter_
        Diagonal jitter the Cholesky factorization needed (0 when none).
    memory_bytes_
        The estimate of peak memory checked before allocating (:mod:`bayeskit.resources`; a fit
        that cannot fit raises ``ResourceError``, and ``estimate(model.fit, X, y)`` reports memory
        and time without fitting).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 6, 40)[:, None]
    >>> y = np.sin(x[:, 0]) + 0.1 * np.random.default_rng(0).normal(size=40)
    >>> model = GPRegressor().fit(x, y)
    >>> mean, std = model.predict(np.array([[3.0], [12.0]]), return_std=True)
    >>> bool(std[1] > 5 * std[0])
    True
    """

    def __init__(
        self,
        kernel: AbstractKernel | None = None,
        noise_variance: float = 0.1,
        optimizer: str | None = "lml",
        restarts: int = 3,
        normalize_y: bool = True,
        min_noise_variance: float = 1e-6,
        key: Any = 0,
        pad_to: int | None = None,
        num_draws: int = 50,
        nuts_options: dict | None = None,
    ):
        self._store(locals())

    def _check_memory(self, num_points: int, num_features: int) -> None:
        """Refuse (:class:`bayeskit.resources.ResourceError`) an exact GP that cannot fit in the free memory."""
        from bayeskit.gp._footprint import gp_estimate

        self.memory_bytes_ = gp_estimate(num_points, num_features).check().memory()

    def fit(self, X: Any, y: Any):
        """Fit the hyperparameters (per ``optimizer``) and condition on ``(X, y)``; returns self."""
        from bayeskit._design import design_matrix, target_vector
        from bayeskit.gp.fit import fit_hyperparameters

        if self.optimizer is not None:
            check_choice(self.optimizer, "optimizer", ("lml", "nuts"))
        if not (np.isfinite(self.noise_variance) and self.noise_variance > 0):
            raise ValueError(f"`noise_variance` must be a finite number > 0; got {self.noise_variance!r}.")
        design = design_matrix(X)
        x = design.values
        target = target_vector(y, x.shape[0], "gaussian")
        if x.shape[0] < 2:
            raise ValueError(f"a GP needs at least 2 rows; got {x.shape[0]}.")
        self._check_memory(max(x.shape[0], self.pad_to or 0), x.shape[1])
        self.y_mean_, self.y_std_ = (float(target.mean()), float(target.std())) if self.normalize_y else (0.0, 1.0)
        if self.y_std_ == 0:
            raise ValueError("`y` is constant; a GP has nothing to learn. Check the target column.")
        ys = (target - self.y_mean_) / self.y_std_
        kernel = self.kernel if self.kernel is not None else Matern52(np.ones(x.shape[1]))
        noise, mean = float(self.noise_variance), 0.0
        if self.optimizer != "nuts":  # NUTS makes its own estimate (the GP inside every gradient)
            self._stop_a_dry_run(kernel, x, ys, noise)
        if self.optimizer == "lml":
            result = fit_hyperparameters(
                kernel,
                x,
                ys,
                noise,
                mean,
                restarts=self.restarts,
                key=self.key,
                min_noise_variance=self.min_noise_variance,
                learn_mean=False,
                pad_to=self.pad_to,
            )
            kernel, noise = result.kernel, result.noise_variance
            self.optimizer_result_ = result
        if self.optimizer == "nuts":
            kernel, noise = self._sample(kernel, noise, x, ys)
        self.state_ = condition(kernel, noise, 0.0, x, ys, pad_to=self.pad_to)
        self.kernel_ = kernel
        self.noise_variance_ = noise * self.y_std_**2
        self.jitter_ = float(self.state_.jitter) * self.y_std_**2
        self.feature_names_in_, self.n_features_in_ = design.names, x.shape[1]
        self.log_marginal_likelihood_ = self._log_marginal_likelihood()
        return self

    def _stop_a_dry_run(self, kernel: AbstractKernel, x: np.ndarray, ys: np.ndarray, noise: float) -> None:
        """Inside ``bayeskit.resources.estimate``: the calibrated estimate, and the fit stops (memory was checked)."""
        from bayeskit.gp._footprint import calibrate_fit, gp_estimate
        from bayeskit.resources import admit, in_dry_run

        if in_dry_run():
            size = max(x.shape[0], self.pad_to or 0)
            admit(lambda calibrate: gp_estimate(size, x.shape[1], calibrate_fit(self, kernel, x, ys, noise)))

    def _sample(self, kernel: AbstractKernel, noise: float, x: np.ndarray, ys: np.ndarray):
        """NUTS over the hyperparameters; keeps thinned draws' GP states; returns the posterior-median ones."""
        from bayeskit.gp.bayes import hyperparameter_names, sample_hyperparameters

        options = dict(self.nuts_options or {})
        prior_scale = options.pop("prior_scale", 1.5)
        self.posterior_, unravel = sample_hyperparameters(
            kernel, x, ys, noise, raw_key(self.key), prior_scale=prior_scale, **options
        )
        self.hyperparameter_names_ = hyperparameter_names(kernel)
        flat = self.posterior_._flat()
        thetas, log_noises = flat["log_hyperparameters"], flat["log_noise_variance"]
        chosen = np.linspace(0, thetas.shape[0] - 1, min(self.num_draws, thetas.shape[0])).round().astype(int)
        self.draw_states_ = [condition(unravel(thetas[i]), float(np.exp(log_noises[i])), 0.0, x, ys) for i in chosen]
        median = np.median(thetas, axis=0)
        return unravel(median), float(np.exp(np.median(log_noises)))

    def _log_marginal_likelihood(self) -> float:
        """``log N(y; mean, K + s I)`` in the target's units, from the conditioned state's factor and ``alpha``.

        NumPy arithmetic on what ``condition`` computed (no JAX program to trace on a first fit); padding rows
        have a unit diagonal and a zero residual, so they add nothing.
        """
        state = self.state_
        factor, alpha, mask = (np.asarray(a, dtype=float) for a in (state.cholesky, state.alpha, state.mask))
        residual = (np.asarray(state.y, dtype=float) - float(state.mean)) * mask
        count = float(mask.sum())
        value = -0.5 * residual @ alpha - np.sum(np.log(np.diagonal(factor))) - 0.5 * count * np.log(2 * np.pi)
        return float(value) - count * np.log(self.y_std_)

    def log_evidence(self) -> float:
        """``log p(y)`` at the fitted hyperparameters (type-II maximum likelihood), for ``compare.bayes_factor``."""
        self._check_fitted()
        return float(self.log_marginal_likelihood_)

    def _check_fitted(self) -> None:
        if not hasattr(self, "state_"):
            raise NotFittedError("this GPRegressor is not fitted yet: call fit(X, y) first.")

    def _inputs(self, X: Any) -> np.ndarray:
        from bayeskit._design import design_matrix

        self._check_fitted()
        return design_matrix(X, expected=self.feature_names_in_, owner=type(self).__name__).values

    def predictive(self, X: Any) -> Any:
        """The predictive at ``X`` in the target's units, with latent (epistemic) and noise (aleatoric) parts.

        With ``optimizer="nuts"`` it is the mixture over hyperparameter draws (a
        ``GaussianMixturePredictive`` whose epistemic part also holds the draws' disagreement).
        """
        if self.optimizer == "nuts" and hasattr(self, "draw_states_"):
            return self._mixture_predictive(self._inputs(X))
        mean, variance = predict(self.state_, self._inputs(X))
        latent = np.asarray(variance) * self.y_std_**2
        return GaussianMixturePredictive.gaussian(
            np.asarray(mean) * self.y_std_ + self.y_mean_, latent + self.noise_variance_, latent, "Gaussian process"
        )

    def _mixture_predictive(self, x: np.ndarray) -> Any:
        means, latents, noises = [], [], []
        for state in self.draw_states_:
            mean, variance = predict(state, x)
            means.append(np.asarray(mean) * self.y_std_ + self.y_mean_)
            latents.append(np.asarray(variance) * self.y_std_**2)
            noises.append(np.full(x.shape[0], float(state.noise_variance) * self.y_std_**2))
        latent = np.stack(latents)
        return GaussianMixturePredictive(
            np.stack(means), latent + np.stack(noises), "GP (NUTS hyperparameters)", latent_variances=latent
        )

    def predict(self, X: Any, return_std: bool = False, return_cov: bool = False, observation_noise: bool = False):
        """Posterior mean, and with ``return_std`` or ``return_cov`` the latent function's spread.

        As in scikit-learn's ``GaussianProcessRegressor``, the spread is the function's; add
        the observation noise with ``observation_noise=True``.
        """
        x = self._inputs(X)
        if return_std and return_cov:
            raise ValueError("ask for `return_std` or `return_cov`, not both.")
        noise = self.noise_variance_ if observation_noise else 0.0
        mean, spread = predict(self.state_, x, full_covariance=return_cov)
        mean = np.asarray(mean) * self.y_std_ + self.y_mean_
        if return_cov:
            return mean, np.asarray(spread) * self.y_std_**2 + noise * np.eye(x.shape[0])
        if return_std:
            return mean, np.sqrt(np.asarray(spread) * self.y_std_**2 + noise)
        return mean

    def sample_functions(self, X: Any, key: Any, num_draws: int = 10) -> np.ndarray:
        """``(num_draws, n)`` joint draws of the latent function at ``X`` (``key``: a JAX key or int seed)."""
        key = raw_key(key)
        draws = draw_functions(self.state_, key, self._inputs(X), num_draws)
        return np.asarray(draws) * self.y_std_ + self.y_mean_

    def update(self, X: Any, y: Any):
        """Condition on new rows without refitting the hyperparameters (a block Cholesky update); returns self."""
        from bayeskit._design import target_vector

        x = self._inputs(X)
        target = target_vector(y, x.shape[0], "gaussian")
        self._check_memory(self.state_.x.shape[0] + x.shape[0], x.shape[1])
        standardized = (target - self.y_mean_) / self.y_std_
        self.state_ = update(self.state_, x, standardized)
        if hasattr(self, "draw_states_"):
            self.draw_states_ = [update(state, x, standardized) for state in self.draw_states_]
        self.log_marginal_likelihood_ = self._log_marginal_likelihood()
        return self
