"""A model checked before it is sampled: discrete latents, support violations, non-finite densities, by site.

NumPyro samples a model whose scale can go negative (``Normal(0, s)`` with
``s ~ Normal(0, 1)``): its initialization retries until a start happens to be valid,
and the run reports only low ESS. :func:`check_model` traces the model eagerly at a
few points spread over the unconstrained space (uniform in [-2, 2], NumPyro's own
initialization range, mapped to each site's support) and checks, at each point and
for each site, that every distribution parameter satisfies its constraint, that every
observed value lies in its distribution's support and that its log density is not
NaN. A problem raises :class:`ModelError` naming the site, the parameter and the fix.
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


def _problem(name: str, site: dict) -> str | None:
    fn = site["fn"]
    for parameter, constraint in getattr(fn, "arg_constraints", {}).items():
        value = getattr(fn, parameter, None)
        if value is None:
            continue
        ok = np.asarray(constraint(value))
        if not ok.all():
            return (
                f"site {name!r}: the parameter `{parameter}` of its {type(fn).__name__} leaves its support "
                f"({constraint}) at some values the other latent variables can take "
                f"(e.g. {np.asarray(value).ravel()[~ok.ravel()][:1]}); give the variable it comes from a prior on "
                "that support (e.g. a HalfNormal or LogNormal for a scale, a Beta for a probability) or transform it "
                "(jnp.exp, jax.nn.softplus)."
            )
    if site["is_observed"]:
        inside = np.asarray(fn.support(site["value"]))
        if not inside.all():
            bad = np.asarray(site["value"]).ravel()[~np.broadcast_to(inside, np.shape(site["value"])).ravel()][:3]
            return (
                f"site {name!r}: observed values outside the support of its {type(fn).__name__} ({fn.support}), "
                f"e.g. {bad}; fix the data or choose a likelihood with that support."
            )
    log_density = np.asarray(fn.log_prob(site["value"]))
    if np.isnan(log_density).any():
        return f"site {name!r}: its log density is NaN at values its parents can take; check the parameters it uses."
    return None


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
    import numpyro

    with numpyro.validation_enabled(False):  # bayeskit checks every site itself, to name it
        trace = _first_trace(model, args, kwargs)
        _refuse_discrete(trace)
        for point in _points(trace, key):
            for name, site in _trace(model, args, kwargs, point, 0).items():
                if site["type"] == "sample":
                    problem = _problem(name, site)
                    if problem is not None:
                        raise ModelError(problem)
