"""A model checked before it is sampled: discrete latents, support violations, non-finite densities, by site.

NumPyro samples a model whose scale can go negative (``Normal(0, s)`` with
``s ~ Normal(0, 1)``): its initialization retries until a start happens to be valid,
and the run reports only low ESS. :func:`check_model` traces the model eagerly at a
few points spread over the unconstrained space (uniform in [-2, 2], NumPyro's own
initialization range, mapped to each site's support) and checks, at each point and
for each site, that every elementwise distribution parameter satisfies its constraint
and that every observed value lies in its distribution's support; a site whose log
density is NaN at every point is refused too. A problem raises :class:`ModelError`
naming the site, the parameter and the fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ModelError", "check_model"]

POINTS = 6


class ModelError(ValueError):
    """A model that cannot be sampled as written; the message names the site and the fix."""


def _trace(model: Any, args: tuple, kwargs: dict, values: dict[str, Any], seed: int) -> dict:
    from numpyro import handlers

    substituted = handlers.substitute(handlers.seed(model, seed), data=values)
    return handlers.trace(substituted).get_trace(*args, **kwargs)


def _first_trace(model: Any, args: tuple, kwargs: dict) -> dict:
    try:
        return _trace(model, args, kwargs, {}, 0)
    except Exception as error:  # the model itself fails: say so with its own error
        raise ModelError(
            f"the model fails when run once with the data given ({type(error).__name__}: {error}); "
            "fix the model or its arguments before sampling."
        ) from error


def _has_funsor() -> bool:
    import importlib.util

    return importlib.util.find_spec("funsor") is not None


def _refuse_discrete(trace: dict) -> None:
    for name, site in trace.items():
        if site["type"] == "sample" and not site["is_observed"] and site["fn"].support.is_discrete:
            if site.get("infer", {}).get("enumerate") == "parallel" and _has_funsor():
                continue  # NumPyro sums it out
            raise ModelError(
                f"site {name!r} is a discrete latent variable ({type(site['fn']).__name__}); NUTS needs continuous "
                "ones. Sum it out: write the likelihood as a mixture (numpyro.distributions.MixtureSameFamily, or "
                "numpyro.factor with logsumexp over its values), or mark it "
                "`infer={'enumerate': 'parallel'}` with funsor installed."
            )


def _points(trace: dict, key: Any) -> list[dict[str, Any]]:
    """Latent values spread over each site's support: uniform in [-2, 2] in unconstrained space, mapped back."""
    import jax
    from numpyro.distributions.transforms import biject_to

    latent = {
        name: site
        for name, site in trace.items()
        if site["type"] == "sample" and not site["is_observed"] and not site["fn"].support.is_discrete
    }
    points = []
    for index in range(POINTS):
        point = {}
        for position, (name, site) in enumerate(latent.items()):
            transform = biject_to(site["fn"].support)
            shape = transform.inverse_shape(np.shape(site["value"]))
            draw = jax.random.uniform(jax.random.fold_in(key, index * 1000 + position), shape, minval=-2, maxval=2)
            point[name] = transform(draw)
        points.append(point)
    return points


def _example(value: Any, ok: np.ndarray) -> str:
    values = np.asarray(value)
    if ok.shape != values.shape:
        return ""
    return f" (e.g. {values[~ok].ravel()[:3]})"


def _problem(name: str, site: dict) -> str | None:
    """A structural problem of one site at one point: an elementwise parameter or observed value off its support.

    Matrix constraints (positive-definite, Cholesky factors) are left out: at extreme but legal
    values they fail by round-off, which is not a modeling error.
    """
    fn = site["fn"]
    for parameter, constraint in getattr(fn, "arg_constraints", {}).items():
        value = getattr(fn, parameter, None)
        if value is None or getattr(constraint, "event_dim", 0) != 0 or type(constraint).__name__ == "_Real":
            continue  # a real parameter can only overflow (round-off, not a modeling error)
        try:
            ok = np.asarray(constraint(value)) | ~np.isfinite(np.asarray(value, dtype=float))
        except ValueError:  # a dependent constraint (its validity is not defined elementwise)
            continue
        if not ok.all():
            return (
                f"site {name!r}: the parameter `{parameter}` of its {type(fn).__name__} leaves its support "
                f"({constraint}) at values the other latent variables can take{_example(value, ok)}; give the "
                "variable it comes from a prior on that support (e.g. a HalfNormal or LogNormal for a scale, a Beta "
                "for a probability) or transform it (jnp.exp, jax.nn.softplus)."
            )
    if site["is_observed"] and getattr(fn.support, "event_dim", 0) == 0:
        inside = np.asarray(fn.support(site["value"]))
        if not inside.all():
            return (
                f"site {name!r}: observed values outside the support of its {type(fn).__name__} ({fn.support})"
                f"{_example(site['value'], inside)}; fix the data or choose a likelihood with that support."
            )
    return None


def _is_nan(site: dict) -> bool:
    return bool(np.isnan(np.asarray(site["fn"].log_prob(site["value"]))).any())


def check_model(model: Any, args: tuple, kwargs: dict, key: Any) -> None:
    """Raise :class:`ModelError` if the model has a discrete latent, a support violation or a NaN density.

    Parameters
    ----------
    model
        A NumPyro model function.
    args, kwargs
        Its arguments.
    key
        A JAX key for the points at which the model is traced.
    """
    import jax
    import jax.numpy as jnp
    import numpyro

    # as under NUTS, arrays arrive as JAX arrays (a model may index one with a traced loop counter)
    args, kwargs = jax.tree.map(
        lambda v: jnp.asarray(v) if isinstance(v, np.ndarray) else v,
        (tuple(args), dict(kwargs)),
        is_leaf=lambda x: x is None,
    )
    with numpyro.validation_enabled(False):  # bayeskit checks every site itself, to name it
        trace = _first_trace(model, args, kwargs)
        _refuse_discrete(trace)
        nan_everywhere: set[str] | None = None
        for point in _points(trace, key):
            nan_here = set()
            for name, site in _trace(model, args, kwargs, point, 0).items():
                if site["type"] == "sample":
                    problem = _problem(name, site)
                    if problem is not None:
                        raise ModelError(problem)
                    if _is_nan(site):
                        nan_here.add(name)
            nan_everywhere = nan_here if nan_everywhere is None else nan_everywhere & nan_here
    if nan_everywhere:
        name = sorted(nan_everywhere)[0]
        raise ModelError(
            f"site {name!r}: its log density is NaN wherever the model was tried ({POINTS} points spread over the "
            "latent variables' supports); check the parameters it uses and the data it scores."
        )
