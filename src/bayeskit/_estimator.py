"""The estimator base shared by every ready model: scikit-learn's estimator contract, keys, evidence.

Every bayeskit estimator is a scikit-learn estimator (``BaseEstimator`` plus the regressor or
classifier mixin), so pipelines, ``cross_val_score``, ``GridSearchCV`` and ``clone`` work.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

__all__ = ["_Estimator", "positive_int"]


def positive_int(value: Any, name: str) -> int:
    """An int >= 1, or a clear error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"`{name}` must be a positive int; got {value!r}.")
    return int(value)


class _Estimator(BaseEstimator):
    """Parameters from ``__init__`` (scikit-learn convention: stored as given, validated in ``fit``)."""

    _fixed: tuple[str, ...] = ()

    @classmethod
    def _defaults(cls) -> dict[str, Any]:
        """Constructor parameters and defaults; ``**kwargs`` stand for the parent's (minus those fixed here)."""
        out: dict[str, Any] = {}
        for klass in cls.__mro__:
            if "__init__" not in klass.__dict__ or klass is object:
                continue
            parameters = inspect.signature(klass.__init__).parameters.values()
            for p in parameters:
                if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name not in cls._fixed:
                    out.setdefault(p.name, p.default)
            if not any(p.kind == p.VAR_KEYWORD for p in parameters):
                break
        return out

    def _store(self, arguments: dict[str, Any]) -> None:
        """Keep the constructor's arguments as attributes (call as ``self._store(locals())``)."""
        for name in self._defaults():
            setattr(self, name, arguments[name])

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters and their values."""
        return {name: getattr(self, name) for name in self._defaults()}

    def set_params(self, **params: Any):
        """Set constructor parameters (returns self)."""
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"unknown parameter {name!r} for {type(self).__name__}; valid: {sorted(valid)}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = self._defaults()
        changed = [
            f"{k}={v!r}" for k, v in self.get_params().items() if defaults.get(k) is not v and defaults.get(k) != v
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def _jax_key(self):
        """The estimator's ``key`` (an int seed, a Generator or a JAX key) as a JAX key."""
        from bayeskit._rng import as_jax_key

        return as_jax_key(self.key)

    def _check_fitted(self) -> None:
        if not hasattr(self, "posterior_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(X, y) first.")

    def log_evidence(self) -> float:
        """Log marginal likelihood of the training data (exact, or the Laplace estimate), for ``bayes_factor``."""
        self._check_fitted()
        value = getattr(self, "log_evidence_", None)
        if value is None or not np.isfinite(value):
            raise ValueError(
                f"this {type(self).__name__} has no log evidence: only exact and Laplace fits give one "
                "(fit with method='laplace', or compare by PSIS-LOO with bayeskit.compare.compare)."
            )
        return float(value)
