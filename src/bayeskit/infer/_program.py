"""Compiled NUTS programs over a NumPyro model, reusable across data sets of the same shape.

NumPyro's ``MCMC`` compiles a fresh program for every call with new data and runs a
run in one piece. bayeskit drives NumPyro's own NUTS kernel (``numpyro.infer.hmc.hmc``)
instead, so that:

- the model's data are traced arguments: one compiled program serves every data set
  of the same shapes (SBC, cross-validation, the CLI re-running a fit);
- a run advances in chunks of at most ``chunk`` transitions (a dynamic trip count,
  so warmup, sampling and the last partial chunk share one program), which gives
  progress reporting and checkpoints between chunks at no extra compile;
- compile time is measured apart from sampling time (ahead-of-time ``lower().compile()``).

NumPyro still does all of NUTS: the kernel, the step-size and mass-matrix adaptation,
initialization and the transforms to constrained space.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Program", "cached", "get_program", "is_cached", "merge", "model_generators", "split_arguments"]

_CACHE: OrderedDict[Any, Program] = OrderedDict()
_CACHE_SIZE = 16


def _is_array(value: Any) -> bool:
    import jax

    return isinstance(value, np.ndarray | jax.Array)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def split_arguments(args: tuple, kwargs: dict, numbers: bool = False) -> tuple[list[Any], tuple]:
    """Arrays (traced, so new data reuse the program) apart from everything else (static, part of the cache key).

    With ``numbers``, Python and NumPy scalars (not bools) are traced too, as 0-d arrays, so
    ``nuts(model, 50, successes=18)`` and ``successes=19`` share one program.
    """
    import jax

    leaves, treedef = jax.tree.flatten((tuple(args), dict(kwargs)), is_leaf=lambda x: x is None)
    dynamic_index = tuple(i for i, leaf in enumerate(leaves) if _is_array(leaf) or (numbers and _is_number(leaf)))
    dynamic = [np.asarray(leaves[i]) if _is_number(leaves[i]) else leaves[i] for i in dynamic_index]
    static = tuple((i, leaf) for i, leaf in enumerate(leaves) if i not in dynamic_index)
    return dynamic, (treedef, dynamic_index, static, len(leaves))


def merge(dynamic: list[Any], spec: tuple) -> tuple[tuple, dict]:
    treedef, dynamic_index, static, size = spec
    leaves: list[Any] = [None] * size
    for i, value in zip(dynamic_index, dynamic, strict=True):
        leaves[i] = value
    for i, value in static:
        leaves[i] = value
    import jax

    args, kwargs = jax.tree.unflatten(treedef, leaves)
    return args, kwargs


@dataclass
class Program:
    """The compiled pieces of one NUTS configuration: ``init``, ``advance`` (one chunk) and ``constrain``."""

    init: Any
    advance: Any
    constrain: Any
    chunk: int
    compile_s: float

    def run_chunk(self, state: Any, num: int, dynamic: list[Any]) -> tuple[Any, dict[str, np.ndarray]]:
        """Advance every chain ``num`` (<= chunk) transitions; host copies of what they produced."""
        import jax.numpy as jnp

        state, collected = self.advance(state, jnp.int32(num), dynamic)
        host = {name: np.asarray(value)[:num] for name, value in collected.items() if name != "z"}
        host["z"] = {name: np.asarray(value)[:num] for name, value in collected["z"].items()}
        return state, host


def _build(model: Any, spec: tuple, dynamic: list[Any], settings: tuple) -> Program:
    import jax
    import jax.numpy as jnp
    from numpyro.infer.hmc import hmc
    from numpyro.infer.util import initialize_model

    num_chains, num_warmup, target_accept, max_tree_depth, chunk = settings
    start = time.perf_counter()
    generators = model_generators(model, spec, dynamic)
    init_kernel, sample_kernel = hmc(potential_fn_gen=generators["potential"], algo="NUTS")
    postprocess_gen = generators["postprocess"]

    def init(keys, dyn):
        args, kwargs = merge(dyn, spec)
        pairs = jax.vmap(jax.random.split)(keys)
        params, *_ = initialize_model(pairs[:, 0], model, model_args=args, model_kwargs=kwargs, dynamic_args=True)

        def one(z, key):
            return init_kernel(
                z,
                num_warmup=num_warmup,
                target_accept_prob=target_accept,
                max_tree_depth=max_tree_depth,
                model_args=args,
                model_kwargs=kwargs,
                rng_key=key,
            )

        return jax.vmap(one)(params.z, pairs[:, 1])

    def record(state):
        return {
            "z": state.z,
            "diverging": state.diverging,
            "num_steps": state.num_steps,
            "energy": state.energy,
            "potential_energy": state.potential_energy,
            "accept_prob": state.accept_prob,
            "step_size": state.adapt_state.step_size,
        }

    def advance(state, num, dyn):
        args, kwargs = merge(dyn, spec)
        step = jax.vmap(sample_kernel, in_axes=(0, None, None))
        buffer = jax.tree.map(lambda x: jnp.zeros((chunk, *x.shape), x.dtype), record(state))

        def body(i, carry):
            current, collected = carry
            current = step(current, args, kwargs)
            collected = jax.tree.map(lambda buf, value: buf.at[i].set(value), collected, record(current))
            return current, collected

        return jax.lax.fori_loop(0, num, body, (state, buffer))

    def constrain(z, dyn):
        args, kwargs = merge(dyn, spec)
        return jax.vmap(postprocess_gen(*args, **kwargs))(z)

    keys = jax.random.split(jax.random.PRNGKey(0), num_chains)
    compiled_init = jax.jit(init).lower(keys, dynamic).compile()
    state_shape = jax.eval_shape(init, keys, dynamic)
    compiled_advance = jax.jit(advance, donate_argnums=0).lower(state_shape, jnp.int32(chunk), dynamic).compile()
    return Program(
        init=compiled_init,
        advance=compiled_advance,
        constrain=jax.jit(constrain),
        chunk=chunk,
        compile_s=time.perf_counter() - start,
    )


def _signature(value: Any) -> tuple:
    return (tuple(np.shape(value)), str(np.asarray(value).dtype) if not hasattr(value, "dtype") else str(value.dtype))


def _cache_key(kind: str, model: Any, spec: tuple, dynamic: list[Any], settings: tuple) -> tuple:
    return (kind, model, spec, tuple(_signature(value) for value in dynamic), settings)


def is_cached(kind: str, model: Any, spec: tuple, dynamic: list[Any], settings: tuple) -> bool:
    """Whether :func:`cached` would return a compiled program without building one."""
    try:
        return _cache_key(kind, model, spec, dynamic, settings) in _CACHE
    except TypeError:
        return False


def cached(kind: str, model: Any, spec: tuple, dynamic: list[Any], settings: tuple, build: Any) -> tuple[Any, bool]:
    """``build(model, spec, dynamic, settings)``, cached by kind, model, argument structure, shapes and settings.

    Returns the program and whether it came from the cache (the last 16 are kept).
    """
    key = _cache_key(kind, model, spec, dynamic, settings)
    try:
        hash(key)
    except TypeError:
        return build(model, spec, dynamic, settings), False
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key], True
    program = build(model, spec, dynamic, settings)
    _CACHE[key] = program
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return program, False


def get_program(model: Any, spec: tuple, dynamic: list[Any], settings: tuple) -> tuple[Program, bool]:
    """The compiled NUTS program for this model, argument structure and settings (cached); and whether it was."""
    return cached("nuts", model, spec, dynamic, settings, _build)


def model_generators(model: Any, spec: tuple, dynamic: list[Any]) -> dict[str, Any]:
    """NumPyro's potential-energy and postprocess generators (functions of the data), found by abstract tracing."""
    import jax
    from numpyro.infer.util import initialize_model

    generators: dict[str, Any] = {}

    def find(dyn):
        args, kwargs = merge(dyn, spec)
        params, potential_gen, postprocess_gen, _ = initialize_model(
            jax.random.PRNGKey(0), model, model_args=args, model_kwargs=kwargs, dynamic_args=True
        )
        generators.update(potential=potential_gen, postprocess=postprocess_gen)
        return params.z

    generators["z_shape"] = jax.eval_shape(find, dynamic)
    return generators
