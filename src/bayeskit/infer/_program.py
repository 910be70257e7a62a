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

NumPyro does the NUTS kernel and the transforms to constrained space. With
``mass_matrix="numpyro"`` (the default) it also does initialization and adaptation,
exactly as ``MCMC`` would. In the other modes bayeskit's warmup (:mod:`bayeskit.infer.adapt`)
adapts instead: the program accumulates each window's statistics and the host sets the
mass matrix, the step size and any restart between chunks.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayeskit.resources import compiled_bytes

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
    plan: Any = None  # the warmup windows (bayeskit.infer.adapt.Schedule)
    mass_matrix: str = "variance"  # the estimator used at window ends ("auto" resolved)
    evaluate: Any = None  # (flat points, data) -> potential, gradient, position: for restarts
    step_sizes: Any = None  # (HMC state, keys, data) -> a reasonable step size per chain: at window ends
    unconstrained_size: int = 0  # numbers per draw as sampled (the flat unconstrained position)
    constrained_size: int = 0  # numbers per draw in the posterior (constrained sites and deterministics)
    itemsize: int = 4  # bytes per number (float32 or float64)
    device_bytes: int = 0  # peak bytes of the compiled init or chunk program (per device when sharded)

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
    from jax.flatten_util import ravel_pytree
    from numpyro.infer.hmc import hmc, momentum_generator
    from numpyro.infer.hmc_util import (
        IntegratorState,
        dual_averaging,
        euclidean_kinetic_energy,
        find_reasonable_step_size,
    )
    from numpyro.infer.initialization import init_to_sample, init_to_uniform, init_to_value
    from numpyro.infer.util import initialize_model

    from bayeskit.infer import adapt
    from bayeskit.infer.pathfinder import pathfinder_start

    (num_chains, num_warmup, target_accept, max_tree_depth, chunk, mass_matrix, _max_restarts, init_kind, _, chains) = (
        settings
    )
    start = time.perf_counter()
    generators = model_generators(model, spec, dynamic)
    init_kernel, sample_kernel = hmc(potential_fn_gen=generators["potential"], algo="NUTS")
    postprocess_gen = generators["postprocess"]
    plan = adapt.schedule(num_warmup)
    if mass_matrix == "numpyro":  # NumPyro adapts inside its kernel: no bayeskit window ends
        plan = plan._replace(check=np.zeros_like(plan.check), update=np.zeros_like(plan.update))
    size = sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(generators["z_shape"]))
    if mass_matrix == "auto":
        mass_matrix = "lowrank" if size <= adapt.AUTO_LOW_RANK_LIMIT else "diag"
    dense = mass_matrix == "lowrank"

    da_init, da_update = dual_averaging()
    _, unravel = ravel_pytree(jax.tree.map(lambda x: jnp.zeros(x.shape, x.dtype), generators["z_shape"]))
    flat = jax.vmap(lambda z: ravel_pytree(z)[0])

    def potential_of(args, kwargs):
        return generators["potential"](*args, **kwargs)

    def reasonable(potential, state, key):
        """NumPyro's heuristic step size (the acceptance of one leapfrog step crosses 0.8) at one chain's start."""
        info = IntegratorState(z=state.z, r=None, potential_energy=state.potential_energy, z_grad=state.z_grad)
        step_size, inverse = state.adapt_state.step_size, state.adapt_state.inverse_mass_matrix
        return find_reasonable_step_size(
            potential, euclidean_kinetic_energy, momentum_generator, step_size, inverse, info, key
        )

    def numpyro_init(keys, dyn):
        """NumPyro's own start and warmup adapter, exactly as ``MCMC`` sets them up (``mass_matrix="numpyro"``)."""
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

    def init(keys, dyn, values):
        args, kwargs = merge(dyn, spec)
        if mass_matrix == "numpyro":
            state = numpyro_init(keys, dyn)
            return state, empty_warmup(state, keys)
        pairs = jax.vmap(lambda k: jax.random.split(k, 3))(keys)

        def start_at(key, given):
            strategy = init_to_value(values=given) if given else init_to_sample if init_kind == "prior" else None
            params, *_ = initialize_model(
                key,
                model,
                init_strategy=strategy or init_to_uniform,
                model_args=args,
                model_kwargs=kwargs,
                dynamic_args=True,
            )
            return params.z

        z = jax.vmap(start_at)(pairs[:, 0], values)
        gradient = jax.vmap(jax.grad(potential_of(args, kwargs)))(z)
        inverse = jnp.clip(1.0 / jnp.abs(flat(gradient)), 1.0 / adapt.INITIAL_CLIP, adapt.INITIAL_CLIP)
        if mass_matrix == "variance":  # as Stan and NumPyro start
            inverse = jnp.ones_like(inverse)
        inverse = jax.vmap(jnp.diag)(inverse) if dense else inverse
        spent = jnp.zeros(keys.shape[0], jnp.int32)
        if init_kind == "pathfinder":  # a draw from Pathfinder's best Gaussian, its covariance the metric
            potential = potential_of(args, kwargs)
            found = jax.vmap(lambda x0, key: pathfinder_start(lambda v: potential(unravel(v)), x0, key, dense))(
                flat(z), jax.vmap(lambda key: jax.random.fold_in(key, 1))(pairs[:, 0])
            )
            z = jax.vmap(unravel)(found.x)  # the uniform start where the path failed
            bound = adapt.INITIAL_CLIP
            found_inverse = found.inverse if dense else jnp.clip(found.inverse, 1.0 / bound, bound)
            ok = found.ok[:, None, None] if dense else found.ok[:, None]
            inverse = jnp.where(ok, found_inverse, inverse)
            spent = found.evaluations

        def one(z, inverse, key):
            return init_kernel(
                z,
                num_warmup=0,
                adapt_step_size=False,  # bayeskit adapts; NumPyro's adapter would close over these traced arguments
                adapt_mass_matrix=False,
                dense_mass=dense,
                inverse_mass_matrix=inverse,
                target_accept_prob=target_accept,
                max_tree_depth=max_tree_depth,
                model_args=args,
                model_kwargs=kwargs,
                rng_key=key,
            )

        state = jax.vmap(one)(z, inverse, pairs[:, 1])
        state = state._replace(
            adapt_state=state.adapt_state._replace(
                step_size=jax.vmap(lambda s, key: reasonable(potential_of(args, kwargs), s, key))(state, pairs[:, 2])
            )
        )
        return state, empty_warmup(state, pairs[:, 2], spent)

    def empty_warmup(state, keys, spent=None):
        x = flat(state.z)
        count, size = x.shape  # this device's chains when sharded
        zeros = jnp.zeros((count, size), x.dtype)
        scalars = jnp.zeros(count, x.dtype)
        rows = plan.longest if dense else 0
        return adapt.WarmupState(
            da=jax.vmap(da_init)(jnp.log(10.0 * state.adapt_state.step_size)),
            n=scalars,
            moves=scalars,
            mean_x=zeros,
            m2_x=zeros,
            mean_g=zeros,
            m2_g=zeros,
            mean_u=scalars,
            m2_u=scalars,
            kept=scalars,
            buffer_x=jnp.zeros((count, rows, size), x.dtype),
            buffer_g=jnp.zeros((count, rows, size), x.dtype),
            restarts=jnp.zeros(count, jnp.int32),
            restarted_at=jnp.full(count, -1, jnp.int32),
            key=keys,
            gradients=jnp.zeros(count, jnp.int32) if spent is None else spent,
        )

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

    def adapt_after(hmc_state, warm, before, args, kwargs):
        """The warmup bookkeeping after transition ``t``: window statistics and dual averaging of the step size."""
        t = hmc_state.i[0] - 1
        x, g, u = flat(hmc_state.z), flat(hmc_state.z_grad), hmc_state.potential_energy
        da = jax.vmap(da_update)(target_accept - hmc_state.accept_prob, warm.da)
        if dense:  # a ring buffer: the window's latest draws when it is longer than the buffer
            slot = warm.kept.astype(jnp.int32) % plan.longest
            put = jax.vmap(lambda buf, i, row: buf.at[i].set(row))
            warm = warm._replace(
                buffer_x=put(warm.buffer_x, slot, x), buffer_g=put(warm.buffer_g, slot, g), kept=warm.kept + 1
            )
        n = warm.n + 1
        d_x, d_g, d_u = x - warm.mean_x, g - warm.mean_g, u - warm.mean_u
        mean_x = warm.mean_x + d_x / n[:, None]
        mean_g = warm.mean_g + d_g / n[:, None]
        mean_u = warm.mean_u + d_u / n
        warm = warm._replace(
            da=da,
            n=n,
            moves=warm.moves + jnp.any(x != before, axis=1).astype(warm.moves.dtype),
            mean_x=mean_x,
            m2_x=warm.m2_x + d_x * (x - mean_x),
            mean_g=mean_g,
            m2_g=warm.m2_g + d_g * (g - mean_g),
            mean_u=mean_u,
            m2_u=warm.m2_u + d_u * (u - mean_u),
            gradients=warm.gradients + hmc_state.num_steps.astype(warm.gradients.dtype),
        )
        if mass_matrix != "numpyro":  # NumPyro's adapter sets its own step size
            last = t == num_warmup - 1
            step_size = jnp.exp(jnp.where(last, da[1], da[0]))
            hmc_state = hmc_state._replace(adapt_state=hmc_state.adapt_state._replace(step_size=step_size))
        return hmc_state, warm

    def advance(state, num, dyn):
        args, kwargs = merge(dyn, spec)
        if chains in ("vectorized", "sharded"):  # sharded: each device vectorizes its own chains
            step = jax.vmap(sample_kernel, in_axes=(0, None, None))
        else:  # one chain after the other: no chain waits for the deepest tree, and far less to trace

            def step(states, args, kwargs):
                return jax.lax.map(lambda one: sample_kernel(one, args, kwargs), states)

        buffer = jax.tree.map(lambda x: jnp.zeros((chunk, *x.shape), x.dtype), record(state[0]))

        def body(i, carry):
            (current, warm), collected = carry
            before = flat(current.z)
            current = step(current, args, kwargs)
            current, warm = jax.lax.cond(  # data as operands: closed-over tracers would break the AOT program
                current.i[0] <= num_warmup,
                lambda s, w, b, d: adapt_after(s, w, b, *merge(d, spec)),
                lambda s, w, b, d: (s, w),
                current,
                warm,
                before,
                dyn,
            )
            collected = jax.tree.map(lambda buf, value: buf.at[i].set(value), collected, record(current))
            return (current, warm), collected

        return jax.lax.fori_loop(0, num, body, (state, buffer))

    def constrain(z, dyn):
        args, kwargs = merge(dyn, spec)
        return jax.vmap(postprocess_gen(*args, **kwargs))(z)

    def heuristic_step_sizes(state, keys, dyn):
        """NumPyro's heuristic step size per chain for its mass matrix (at window ends; compiled on first use)."""
        args, kwargs = merge(dyn, spec)
        return jax.vmap(lambda s, key: reasonable(potential_of(args, kwargs), s, key))(state, keys)

    def evaluate(x, dyn):
        """Potential energy and its gradient at flat unconstrained points (for restarts; compiled on first use)."""
        args, kwargs = merge(dyn, spec)
        potential = potential_of(args, kwargs)
        u, g = jax.vmap(jax.value_and_grad(lambda v: potential(unravel(v))))(x)
        return u, jax.vmap(unravel)(g), jax.vmap(unravel)(x)

    keys = jax.random.split(jax.random.PRNGKey(0), num_chains)
    given = () if isinstance(init_kind, str) else init_kind
    values = {name: jnp.zeros((num_chains, *shape), dtype) for name, shape, dtype in given}
    if chains == "sharded":
        compiled_init, compiled_advance, device_bytes = _sharded(init, advance, keys, dynamic, values, chunk)
    else:
        compiled_init = jax.jit(init).lower(keys, dynamic, values).compile()
        state_shape = jax.eval_shape(init, keys, dynamic, values)
        compiled_advance = jax.jit(advance, donate_argnums=0).lower(state_shape, jnp.int32(chunk), dynamic).compile()
        device_bytes = max(compiled_bytes(compiled_init), compiled_bytes(compiled_advance))
    z_example = jax.tree.map(lambda x: jax.ShapeDtypeStruct((1, *x.shape), x.dtype), generators["z_shape"])
    constrained_shape = jax.eval_shape(constrain, z_example, dynamic)
    return Program(
        init=compiled_init,
        advance=compiled_advance,
        constrain=jax.jit(constrain),
        chunk=chunk,
        plan=plan,
        mass_matrix=mass_matrix,
        evaluate=jax.jit(evaluate),
        step_sizes=jax.jit(heuristic_step_sizes),
        compile_s=time.perf_counter() - start,
        unconstrained_size=size,
        constrained_size=sum(int(np.prod(leaf.shape[1:])) for leaf in jax.tree.leaves(constrained_shape)),
        itemsize=max((np.dtype(leaf.dtype).itemsize for leaf in jax.tree.leaves(generators["z_shape"])), default=4),
        device_bytes=device_bytes,
    )


def _sharded(init: Any, advance: Any, keys: Any, dynamic: list[Any], values: dict, chunk: int) -> tuple[Any, Any, int]:
    """``init`` and ``advance`` compiled under ``shard_map``: the chains split over every local device.

    Each device starts and steps its own chains (vectorized there); the data are replicated and
    nothing crosses devices inside a chunk. The returned callables lay their arguments out as
    the programs expect (a no-op for a state already there, so donation still reuses it); the
    number is the larger program's peak bytes on one device.
    """
    import jax
    import jax.numpy as jnp
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    from bayeskit.parallel.devices import batch_sharding, local_mesh, place

    mesh = local_mesh("chains")
    chains, replicated = batch_sharding(mesh, "chains"), NamedSharding(mesh, P())
    draws = batch_sharding(mesh, "chains", leading=1)  # the chunk's records: (transition, chain, ...)
    init_map = jax.shard_map(
        init, mesh=mesh, in_specs=(P("chains"), P(), P("chains")), out_specs=P("chains"), check_vma=False
    )
    advance_map = jax.shard_map(
        advance,
        mesh=mesh,
        in_specs=(P("chains"), P(), P()),
        out_specs=(P("chains"), P(None, "chains")),
        check_vma=False,
    )
    init_shardings = (chains, replicated, chains)
    compiled_init = (
        jax.jit(init_map, in_shardings=init_shardings, out_shardings=chains).lower(keys, dynamic, values).compile()
    )
    state_shape = jax.eval_shape(init_map, keys, dynamic, values)
    advance_shardings = (chains, replicated, replicated)
    compiled_advance = (
        jax.jit(advance_map, in_shardings=advance_shardings, out_shardings=(chains, draws), donate_argnums=0)
        .lower(state_shape, jnp.int32(chunk), dynamic)
        .compile()
    )

    def placed(compiled: Any, shardings: tuple) -> Any:
        return lambda *args: compiled(*(place(arg, where) for arg, where in zip(args, shardings, strict=True)))

    device_bytes = max(compiled_bytes(compiled_init), compiled_bytes(compiled_advance))
    return placed(compiled_init, init_shardings), placed(compiled_advance, advance_shardings), device_bytes


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
