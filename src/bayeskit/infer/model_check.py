"""A model checked before it is sampled: discrete latents, support violations, non-finite densities, by site.

NumPyro samples a model whose scale can go negative (``Normal(0, s)`` with
``s ~ Normal(0, 1)``): its initialization retries until a start happens to be valid,
and the run reports only low ESS. :func:`check_model` evaluates the model at a few
points spread over the unconstrained space (uniform in [-2, 2], NumPyro's own
initialization range, mapped to each site's support) and checks, at each point and
for each site, that every elementwise distribution parameter satisfies its constraint
and that every observed value lies in its distribution's support; a site whose log
density is NaN at every point is refused too. A problem raises :class:`ModelError`
naming the site, the parameter and the fix.

The points are evaluated by one compiled program per model and argument shapes (0.5 s
to compile on first use, reused for new data and keys); only when it finds a problem is
the model traced again eagerly, op by op, to name the site with the offending values.
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


def _uniform(seed: Any, stream: int, shape: tuple) -> Any:
    """Uniform values in [-2, 2] from a counter-based hash (murmur3's finalizer) of ``(seed, stream, index)``.

    Cheap to compile, unlike threefry (about 0.4 s of XLA compile per call site): the points only need to be
    spread, and the same seed gives the same points eagerly and compiled.
    """
    import jax.numpy as jnp

    x = jnp.arange(int(np.prod(shape)), dtype=jnp.uint32) * jnp.uint32(0x9E3779B9)
    x = x + (jnp.asarray(seed, jnp.uint32) ^ jnp.uint32((stream * 0x85EBCA6B) % 2**32))
    for shift, factor in ((16, 0x85EBCA6B), (13, 0xC2B2AE35)):
        x = (x ^ (x >> shift)) * jnp.uint32(factor)
    x = x ^ (x >> 16)
    return (4.0 * (x >> 8).astype(jnp.float32) / 2.0**24 - 2.0).reshape(shape)


def _points(trace: dict, seed: Any) -> list[dict[str, Any]]:
    """Latent values spread over each site's support: uniform in [-2, 2] in unconstrained space, mapped back."""
    import jax.numpy as jnp
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
            draw = _uniform(seed, index * 1000 + position, tuple(shape))
            point[name] = transform(draw.astype(jnp.asarray(site["value"]).dtype))
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


def _site_flags(name: str, site: dict) -> dict[tuple, Any]:
    """Traceable pass/fail flags of one site: each checked parameter, the observed support, a NaN density."""
    import jax.numpy as jnp

    fn, flags = site["fn"], {}
    for parameter, constraint in getattr(fn, "arg_constraints", {}).items():
        value = getattr(fn, parameter, None)
        if value is None or getattr(constraint, "event_dim", 0) != 0 or type(constraint).__name__ == "_Real":
            continue
        try:
            ok = constraint(value) | ~jnp.isfinite(jnp.asarray(value, dtype=float))
        except ValueError:
            continue
        flags[(name, parameter)] = jnp.all(ok)
    if site["is_observed"] and getattr(fn.support, "event_dim", 0) == 0:
        flags[(name, "support")] = jnp.all(fn.support(site["value"]))
    flags[(name, "nan")] = jnp.any(jnp.isnan(fn.log_prob(site["value"])))
    return flags


_CHECKERS: dict[Any, Any] = {}  # (model, argument structure, non-array arguments) -> the compiled check


def _compiled_flags(model: Any, args: tuple, kwargs: dict, seed: int) -> list[dict[tuple, bool]]:
    """Every point's flags from one compiled program: an eager trace compiles each operation apart (seconds).

    Arrays and the seed are the program's arguments, so new data of the same shapes (SBC, reruns) reuse it;
    everything else (numbers included: a plate size) stays a Python value.
    """
    import jax
    import jax.numpy as jnp

    leaves, structure = jax.tree.flatten((tuple(args), dict(kwargs)), is_leaf=lambda x: x is None)
    is_array = [isinstance(leaf, jax.Array) for leaf in leaves]

    def flags(arrays, seed):
        values = iter(arrays)
        a, k = jax.tree.unflatten(
            structure, [next(values) if x else leaf for leaf, x in zip(leaves, is_array, strict=True)]
        )
        trace = _trace(model, a, k, {}, 0)
        _refuse_discrete(trace)
        points = jax.tree.map(lambda *values: jnp.stack(values), *_points(trace, seed))

        def at(point):
            found = {}
            for name, site in _trace(model, a, k, point, 0).items():
                if site["type"] == "sample":
                    found.update(_site_flags(name, site))
            return found

        return jax.vmap(at)(points)  # one copy of the model, not one per point: a fraction of the compile time

    statics = tuple(None if x else leaf for leaf, x in zip(leaves, is_array, strict=True))
    try:
        cache_key = (model, structure, statics)
        compiled = _CHECKERS.get(cache_key)
    except TypeError:  # an unhashable argument: compile for this call only
        cache_key, compiled = None, None
    if compiled is None:
        compiled = jax.jit(flags)
        if cache_key is not None:
            if len(_CHECKERS) > 64:
                _CHECKERS.clear()
            _CHECKERS[cache_key] = compiled
    arrays = [leaf for leaf, x in zip(leaves, is_array, strict=True) if x]
    found = jax.device_get(compiled(arrays, np.uint32(seed)))
    return [{site: bool(value[index]) for site, value in found.items()} for index in range(POINTS)]


def check_model(model: Any, args: tuple, kwargs: dict, key: Any) -> None:
    """Raise :class:`ModelError` if the model has a discrete latent, a support violation or a NaN density.

    The points are checked in one compiled program; only when that finds a problem (or cannot
    trace the model) are they traced eagerly, to name the site with example values.

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
    with numpyro.validation_enabled(False):
        typed = jnp.issubdtype(jnp.asarray(key).dtype, jax.dtypes.prng_key)
        seed = int(np.asarray(jax.random.key_data(key) if typed else key).ravel()[-1])
        try:
            points = _compiled_flags(model, args, kwargs, seed)
        except Exception:  # the eager check below names whatever went wrong
            points = None
    if points is not None:
        fine = all(ok for found in points for (_, what), ok in found.items() if what != "nan")
        nan = set.intersection(
            *({name for (name, what), bad in found.items() if what == "nan" and bad} for found in points)
        )
        if fine and not nan:
            return
    _eager_check(model, args, kwargs, seed)


def _eager_check(model: Any, args: tuple, kwargs: dict, seed: int) -> None:
    """The check traced eagerly, op by op: slow, but it names the site and shows offending values."""
    import numpyro

    with numpyro.validation_enabled(False):  # bayeskit checks every site itself, to name it
        trace = _first_trace(model, args, kwargs)
        _refuse_discrete(trace)
        nan_everywhere: set[str] | None = None
        for point in _points(trace, seed):
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
