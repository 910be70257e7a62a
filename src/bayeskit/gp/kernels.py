"""Covariance functions as frozen pytrees (Equinox), composable with ``+`` and ``*``.

Every kernel keeps its hyperparameters unconstrained (the log of each positive
quantity), so an optimizer or NUTS can move them freely and they stay positive.
``kernel(x1, x2)`` is the ``(n1, n2)`` covariance matrix; ``kernel(x)`` is the
matrix of ``x`` with itself, where a ``White`` term adds its variance to the
diagonal; ``kernel.diag(x)`` is that matrix's diagonal without forming it.
Lengthscales are ARD (one per input column) when given as a vector.

References
----------
Rasmussen, C. E. & Williams, C. K. I. (2006). Gaussian Processes for Machine Learning, ch. 4.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "RBF",
    "AbstractKernel",
    "Linear",
    "Matern12",
    "Matern32",
    "Matern52",
    "Periodic",
    "Product",
    "RationalQuadratic",
    "Sum",
    "White",
]


def _log_positive(value: Any, name: str) -> jax.Array:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim > 1 or not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"`{name}` must be a positive number (or a 1-D array of them); got {value!r}.")
    return np.log(array)  # NumPy float64: stays exact until a computation picks its precision


def _scaled_distance(x1: jax.Array, x2: jax.Array, lengthscale: jax.Array) -> jax.Array:
    """Euclidean distances between rows after dividing each column by its lengthscale, ``(n1, n2)``."""
    a, b = x1 / lengthscale, x2 / lengthscale
    squared = jnp.sum(a**2, axis=1)[:, None] + jnp.sum(b**2, axis=1)[None, :] - 2 * a @ b.T
    return jnp.maximum(squared, 0.0)


def _safe_sqrt(squared: jax.Array) -> jax.Array:
    """``sqrt`` with a finite gradient at 0 (where the kernels below have a zero-slope or a kink)."""
    positive = squared > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, squared, 1.0)), 0.0)


class AbstractKernel(eqx.Module):
    """A covariance function; subclasses define ``cross(x1, x2)`` and may override ``diag``."""

    def cross(self, x1: jax.Array, x2: jax.Array) -> jax.Array:
        """The ``(n1, n2)`` covariance between the rows of ``x1`` and ``x2``."""
        raise NotImplementedError

    def __call__(self, x1: jax.Array, x2: jax.Array | None = None) -> jax.Array:
        """``kernel(x1, x2)``: the cross covariance; ``kernel(x1)``: with itself, white noise on its diagonal."""
        if x2 is None:
            return self.cross(x1, x1) + jnp.diag(self.white_diag(x1))
        return self.cross(x1, x2)

    def diag(self, x: jax.Array) -> jax.Array:
        """``diag(kernel(x))`` in O(n)."""
        return jnp.diagonal(self.cross(x, x)) + self.white_diag(x)

    def white_diag(self, x: jax.Array) -> jax.Array:
        """What a White term adds to the diagonal of ``kernel(x)`` (zeros for other kernels)."""
        return jnp.zeros(x.shape[0], dtype=x.dtype)

    def __add__(self, other: AbstractKernel) -> Sum:
        return Sum(self, other)

    def __mul__(self, other: AbstractKernel) -> Product:
        return Product(self, other)

    def hyperparameters(self) -> dict[str, np.ndarray]:
        """The positive hyperparameters by name (``exp`` of the stored logs); sums and products prefix them."""
        out = {}
        for name, value in vars(self).items():
            if name.startswith("log_"):
                out[name[4:]] = np.exp(np.asarray(value, dtype=float))
        return out


class _Stationary(AbstractKernel):
    log_lengthscale: jax.Array
    log_variance: jax.Array

    def __init__(self, lengthscale: Any = 1.0, variance: Any = 1.0):
        self.log_lengthscale = _log_positive(lengthscale, "lengthscale")
        self.log_variance = _log_positive(variance, "variance")

    def _profile(self, squared: jax.Array) -> jax.Array:
        raise NotImplementedError

    def cross(self, x1: jax.Array, x2: jax.Array) -> jax.Array:
        """The ``(n1, n2)`` covariance between the rows of ``x1`` and ``x2``."""
        squared = _scaled_distance(x1, x2, jnp.exp(self.log_lengthscale))
        return jnp.exp(self.log_variance) * self._profile(squared)

    def diag(self, x: jax.Array) -> jax.Array:
        """``diag(kernel(x))`` in O(n)."""
        return jnp.full(x.shape[0], jnp.exp(self.log_variance), dtype=x.dtype)


class RBF(_Stationary):
    """Squared exponential: ``variance * exp(-r^2 / 2)``, r the lengthscale-scaled distance."""

    def _profile(self, squared):
        return jnp.exp(-0.5 * squared)


class Matern12(_Stationary):
    """Matérn 1/2 (exponential, Ornstein-Uhlenbeck): ``variance * exp(-r)``."""

    def _profile(self, squared):
        return jnp.exp(-_safe_sqrt(squared))


class Matern32(_Stationary):
    """Matérn 3/2: ``variance * (1 + sqrt(3) r) exp(-sqrt(3) r)``."""

    def _profile(self, squared):
        r = jnp.sqrt(3.0) * _safe_sqrt(squared)
        return (1.0 + r) * jnp.exp(-r)


class Matern52(_Stationary):
    """Matérn 5/2: ``variance * (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r)``."""

    def _profile(self, squared):
        r = jnp.sqrt(5.0) * _safe_sqrt(squared)
        return (1.0 + r + 5.0 * squared / 3.0) * jnp.exp(-r)


class RationalQuadratic(_Stationary):
    """Rational quadratic: ``variance * (1 + r^2 / (2 alpha))^(-alpha)``, a scale mixture of RBFs."""

    log_alpha: jax.Array

    def __init__(self, lengthscale: Any = 1.0, variance: Any = 1.0, alpha: Any = 1.0):
        super().__init__(lengthscale, variance)
        self.log_alpha = _log_positive(alpha, "alpha")

    def _profile(self, squared):
        alpha = jnp.exp(self.log_alpha)
        return (1.0 + squared / (2.0 * alpha)) ** (-alpha)


class Periodic(AbstractKernel):
    """Periodic (MacKay 1998): ``variance * exp(-2 sum_j sin^2(pi |x_j - x'_j| / period) / lengthscale_j^2)``."""

    log_lengthscale: jax.Array
    log_period: jax.Array
    log_variance: jax.Array

    def __init__(self, lengthscale: Any = 1.0, period: Any = 1.0, variance: Any = 1.0):
        self.log_lengthscale = _log_positive(lengthscale, "lengthscale")
        self.log_period = _log_positive(period, "period")
        self.log_variance = _log_positive(variance, "variance")

    def cross(self, x1, x2):
        """The ``(n1, n2)`` covariance between the rows of ``x1`` and ``x2``."""
        difference = x1[:, None, :] - x2[None, :, :]
        sines = jnp.sin(jnp.pi * difference / jnp.exp(self.log_period)) ** 2
        return jnp.exp(self.log_variance) * jnp.exp(-2.0 * jnp.sum(sines / jnp.exp(2 * self.log_lengthscale), axis=-1))

    def diag(self, x):
        """``diag(kernel(x))`` in O(n)."""
        return jnp.full(x.shape[0], jnp.exp(self.log_variance), dtype=x.dtype)


class Linear(AbstractKernel):
    """Linear (Bayesian linear regression): ``variance * x . x'`` (ARD variances when a vector)."""

    log_variance: jax.Array

    def __init__(self, variance: Any = 1.0):
        self.log_variance = _log_positive(variance, "variance")

    def cross(self, x1, x2):
        """The ``(n1, n2)`` covariance between the rows of ``x1`` and ``x2``."""
        return (x1 * jnp.exp(self.log_variance)) @ x2.T


class White(AbstractKernel):
    """White noise: ``variance`` on the diagonal of ``kernel(x)``; zero between different inputs."""

    log_variance: jax.Array

    def __init__(self, variance: Any = 1.0):
        self.log_variance = _log_positive(variance, "variance")

    def cross(self, x1, x2):
        """The ``(n1, n2)`` covariance between the rows of ``x1`` and ``x2``."""
        return jnp.zeros((x1.shape[0], x2.shape[0]), dtype=x1.dtype)

    def white_diag(self, x):
        """What white-noise terms add to the diagonal of ``kernel(x)``."""
        return jnp.full(x.shape[0], jnp.exp(self.log_variance), dtype=x.dtype)


class Sum(AbstractKernel):
    """``left + right``."""

    left: AbstractKernel
    right: AbstractKernel

    def cross(self, x1, x2):
        """The ``(n1, n2)`` covariance between the rows of ``x1`` and ``x2``."""
        return self.left.cross(x1, x2) + self.right.cross(x1, x2)

    def diag(self, x):
        """``diag(kernel(x))`` in O(n)."""
        return self.left.diag(x) + self.right.diag(x)

    def white_diag(self, x):
        """What white-noise terms add to the diagonal of ``kernel(x)``."""
        return self.left.white_diag(x) + self.right.white_diag(x)

    def hyperparameters(self):
        """The positive hyperparameters by name, prefixed by the side of the sum or product."""
        return {
            **{f"left.{k}": v for k, v in self.left.hyperparameters().items()},
            **{f"right.{k}": v for k, v in self.right.hyperparameters().items()},
        }


class Product(AbstractKernel):
    """``left * right`` (elementwise), e.g. a periodic pattern whose shape drifts: ``Periodic() * RBF()``."""

    left: AbstractKernel
    right: AbstractKernel

    def cross(self, x1, x2):
        """The ``(n1, n2)`` covariance between the rows of ``x1`` and ``x2``."""
        return self.left.cross(x1, x2) * self.right.cross(x1, x2)

    def diag(self, x):
        """``diag(kernel(x))`` in O(n)."""
        return self.left.diag(x) * self.right.diag(x)

    def white_diag(self, x):
        """What white-noise terms add to the diagonal of ``kernel(x)``."""
        # diag(K_l(x) * K_r(x)) beyond the product of the cross terms: w_l d_r + w_r d_l + w_l w_r, where
        # d = diag(cross) = diag - w; written with the full diagonals that is w_l D_r + w_r D_l - w_l w_r.
        white_left, white_right = self.left.white_diag(x), self.right.white_diag(x)
        return white_left * self.right.diag(x) + white_right * self.left.diag(x) - white_left * white_right

    def hyperparameters(self):
        """The positive hyperparameters by name, prefixed by the side of the sum or product."""
        return {
            **{f"left.{k}": v for k, v in self.left.hyperparameters().items()},
            **{f"right.{k}": v for k, v in self.right.hyperparameters().items()},
        }
