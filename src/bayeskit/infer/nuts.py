"""NUTS over a NumPyro model: NumPyro's kernel samples; bayeskit adds reuse, chunks, checkpoints and diagnostics."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from bayeskit._progress import progress_bar, status
from bayeskit._rng import raw_key
from bayeskit._validate import check_choice
from bayeskit.infer._footprint import nuts_estimate, sampled_bytes
from bayeskit.infer._precision import PRECISIONS, with_precision
from bayeskit.infer._program import Program, get_program, is_cached, split_arguments
from bayeskit.infer.adapt import MASS_MATRICES, window_end
from bayeskit.infer.checkpoint import CheckpointError, fingerprint, read_checkpoint, write_checkpoint
from bayeskit.infer.diagnostics import chain_findings, check_inference_data, precision_findings
from bayeskit.infer.draws import DrawsPosterior
from bayeskit.infer.model_check import check_model
from bayeskit.parallel.devices import check_divisible, device_count
from bayeskit.resources import admit

__all__ = ["AUTO_CHAINS_PER_ACCELERATOR", "CHAIN_METHODS", "INITS", "MASS_MATRICES", "PRECISIONS", "nuts"]

CHAIN_METHODS = ("auto", "sequential", "vectorized", "sharded")
INITS = ("auto", "uniform", "prior", "pathfinder")
_STATS = ("diverging", "num_steps", "energy", "potential_energy", "accept_prob", "step_size")


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}; got {value!r}.")
    return int(value)


CHUNK_BYTES = 64 * 2**20  # the most one chunk's draws may hold on the device (without a checkpoint)


def _chunk_size(
    num_warmup: int, num_samples: int, progress: bool, checkpoint_every: int | None, draw_bytes: int = 0
) -> int:
    """Transitions per compiled chunk: the checkpoint interval, a tenth of the run with progress, else the run.

    Without a checkpoint the chunk is also capped so that its buffer of draws (``draw_bytes`` per
    transition, all chains) stays under ``CHUNK_BYTES``: a run in one chunk held every draw on the
    device besides the host's copy (1.3 GiB for 64 chains x 50,000 draws x 100 numbers).
    """
    if checkpoint_every is not None:
        return checkpoint_every
    longest = max(num_warmup, num_samples)
    chunk = max(1, -(-longest // 10)) if progress else longest
    if draw_bytes > 0:
        chunk = min(chunk, max(10, CHUNK_BYTES // draw_bytes))
    return max(1, chunk)


_DRAW_NUMBERS: dict[Any, int] = {}  # (model, argument structure, shapes) -> unconstrained numbers per draw


def _draw_numbers(model: Any, args: tuple, kwargs: dict) -> int:
    """The numbers in one unconstrained draw of ``model`` (an abstract trace, remembered per argument shapes)."""
    import jax

    from bayeskit.infer._program import _signature, model_generators

    dynamic, spec = split_arguments(args, kwargs)
    try:
        key = (model, spec, tuple(_signature(value) for value in dynamic))
        hash(key)
    except TypeError:
        key = None
    if key is not None and key in _DRAW_NUMBERS:
        return _DRAW_NUMBERS[key]
    import warnings

    try:
        with warnings.catch_warnings():  # NumPyro's warnings about the model come once, from check_model's own trace
            warnings.simplefilter("ignore")
            shapes = model_generators(model, spec, dynamic)["z_shape"]
    except Exception:  # a model check_model will refuse (discrete sites, bad data): no cap, its error comes next
        return 0
    numbers = sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(shapes))
    if key is not None:
        _DRAW_NUMBERS[key] = numbers
    return numbers


@with_precision
def nuts(
    model: Any,
    *args: Any,
    key: Any,
    num_chains: int | str = 4,
    num_warmup: int = 1000,
    num_samples: int = 1000,
    target_accept: float = 0.9,
    max_tree_depth: int = 10,
    chain_method: str = "auto",
    progress: bool = False,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 100,
    mass_matrix: str = "numpyro",
    init: str | dict[str, Any] = "auto",
    max_restarts: int = 2,
    precision: str = "float32",
    **kwargs: Any,
) -> DrawsPosterior:
    """Sample a NumPyro model with NUTS and return draws with their convergence diagnostics.

    Parameters
    ----------
    model
        A NumPyro model function.
    *args, **kwargs
        Passed to ``model`` (data, observed values). Arrays and numbers are traced,
        so a second call with new data of the same shapes reuses the compiled program
        (``timings["compile_s"]`` is then 0); other values (strings, None, bools) are
        static, and so are numbers when the model needs one as a Python value (a plate
        size), which is found out on the first call.
    key
        A JAX PRNG key (required: randomness is never defaulted).
    num_chains, num_warmup, num_samples
        Chains and draws per chain; four chains make R-hat meaningful. ``num_chains="auto"``:
        4 on a CPU (rounded up to a multiple of the devices when the chains are sharded) and
        ``AUTO_CHAINS_PER_ACCELERATOR`` (64) per device on GPUs and TPUs, where many chains
        cost little more than a few (that number is a choice, not yet a measurement: see the
        NUTS rows of benchmarks/RESULTS.md).
    target_accept, max_tree_depth
        NUTS step-size adaptation target and the trajectory depth limit. The default
        0.9 (NumPyro's and Stan's is 0.8) is chosen for hierarchical models: at 0.8
        the non-centered eight-schools model still shows 1-2 divergences on some
        seeds, at 0.9 none, for slightly smaller steps.
    chain_method
        How the chains share one compiled program. ``"sequential"``: each transition
        steps the chains one after the other (``lax.map``), so no chain waits for the
        deepest tree of the others and the program compiles in about half the time.
        ``"vectorized"``: the chains as one batch (``vmap``); large array operations
        then run for all chains at once, and on a GPU hundreds of chains cost little
        more than four. ``"auto"`` (default): vectorized on an accelerator, and on a CPU
        sequential unless the data hold ``VECTORIZE_FROM`` (100,000) numbers or more.
        Measured on a 2-core CPU (the NUTS table of benchmarks/RESULTS.md runs the default):
        sequential sampling is 1.4x-4.6x faster on eight schools, a 1,000 x 10 logistic regression
        and a 2,000-row hierarchical regression; vectorized is 2.1x faster on a
        10,000 x 20 logistic regression. ``"sharded"``: the chains split over every local
        device (``jax.shard_map`` over a mesh of ``jax.local_devices()``), each device
        vectorizing its own; the number of devices must divide ``num_chains``. On a CPU, run
        with ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` (set before JAX is
        imported) to make N devices of one process. ``"auto"`` picks it whenever there is
        more than one local device and they divide the chains. All three run the same
        transitions from the same keys: the chains agree until float round-off, amplified
        by the dynamics, separates them.
    progress
        A progress bar on stderr (warmup, then sampling).
    checkpoint, checkpoint_every
        A file to hold completed draws and the sampler state, rewritten atomically
        every ``checkpoint_every`` transitions. If the file exists and belongs to
        this run (same model, settings, data and key) the run resumes from it: no
        completed draw is lost or repeated, and the draws equal those of an
        uninterrupted run. A corrupt checkpoint raises :class:`CheckpointError`.
    mass_matrix
        The warmup. ``"numpyro"`` (default): NumPyro's own adaptation and start, exactly
        as ``numpyro.infer.MCMC`` runs them (``init`` and ``max_restarts`` do not apply; a
        stuck chain is still named by a finding after sampling). The others are bayeskit's
        warmup, which restarts stuck chains (``max_restarts``) and takes ``init``:
        ``"variance"`` (the regularized variance of each window's draws, Stan's and
        NumPyro's estimator) and, from draws *and* gradients (the Fisher-divergence
        estimators of :mod:`bayeskit.infer.adapt`), ``"diag"``, ``"lowrank"`` (the diagonal
        corrected along the directions where it is off by more than a factor 2, held
        dense) and ``"auto"`` (low-rank up to 1,000 unconstrained dimensions, diagonal
        above). On the 12 posteriors of the NUTS suite (benchmarks/RESULTS.md, 20 seeds)
        low-rank from Pathfinder starts gives a median 1.52x NumPyro's ESS per gradient
        (18.7x on a 100-d correlated Gaussian, worst 0.94x) and no stuck chain; on a
        funnel-shaped hierarchical regression at target_accept 0.9 it still diverges where
        NumPyro's adaptation does not, so it is not the default yet.
    init
        Where chains start: ``"auto"`` (default: ``"pathfinder"`` with bayeskit's warmups,
        ``"uniform"`` with NumPyro's; measured on the 12-posterior suite of benchmarks/RESULTS.md,
        low-rank warmup from Pathfinder starts had no stuck chain in 240 runs and a median 1.52x
        NumPyro's ESS per gradient, worst 0.94x, against 1.46x and worst 0.88x from uniform
        starts), ``"uniform"`` (uniform in [-2, 2] in unconstrained space, each
        chain its own point, retried until the density and gradient are finite),
        ``"prior"`` (a draw from the prior), ``"pathfinder"`` (Pathfinder from each chain's
        uniform start, :mod:`bayeskit.infer.pathfinder`: a draw from the best Gaussian along an
        L-BFGS path, whose covariance is also the first inverse mass matrix; a chain whose path
        fails keeps its uniform start; the path's density evaluations count in
        ``details["gradients"]``), or a dict of site -> constrained value (the
        site's shape, or ``(num_chains, *shape)`` for one value per chain; other sites
        start uniformly).
    max_restarts
        How often a chain stuck in warmup (it does not move, or it sits far below the
        others' density) may be restarted; 0 never restarts. Restarts are reported in
        ``details["restarts"]`` and in the notes of ``summary()``.
    precision
        ``"float32"`` (default, fast) or ``"float64"``: the run (compile included) happens
        inside ``jax.enable_x64``, leaving JAX's global setting alone. float32 resolves a
        log density of magnitude L only to about L * 1e-7, so long time series, large data
        sets (|log density| above ~1e5) and ill-conditioned posteriors are at risk; a
        finding says when the run's log density was too large for float32.

    Returns
    -------
    DrawsPosterior
        ``timings`` holds ``compile_s``, ``warmup_s`` and ``sampling_s`` (the last two
        exclude compilation) and ``postprocess_s`` (constraining the draws, ArviZ data
        and the diagnostics); ``details["resumed_from"]`` the transitions loaded from
        a checkpoint, ``details["restarts"]`` the restarts per chain,
        ``details["restarted_at"]`` the warmup transition of each chain's last restart (-1: none),
        ``details["gradients"]`` the gradient evaluations of the whole run, warmup included,
        ``details["chain_method"]`` the chain method used (what ``"auto"`` chose),
        ``details["devices"]`` the devices the chains were split over (1 unless sharded).

    Raises
    ------
    ModelError
        Before sampling, when the model has a discrete latent site, a distribution
        parameter that leaves its support at values the model can reach, observed values
        outside their support or a NaN density (:func:`bayeskit.infer.check_model`).
    ResourceError
        Before the chains start, when the draws and the compiled sampler need more memory than
        is free (:mod:`bayeskit.resources`); the message names the ``num_samples`` that fits.
        ``bayeskit.resources.estimate(nuts, model, ..., key=key)`` reports memory and time
        without running.

    References
    ----------
    Hoffman & Gelman (2014). The No-U-Turn sampler. JMLR 15, 1593-1623.
    Phan, Pradhan & Jankowiak (2019). Composable effects for flexible and accelerated
    probabilistic programming in NumPyro.
    Seyboldt, Carlson & Carpenter (2026). Preconditioning Hamiltonian Monte Carlo by
    minimizing Fisher divergence (the nutpie adaptation).
    """
    import jax

    check_choice(chain_method, "chain_method", CHAIN_METHODS)
    if isinstance(num_chains, str):
        if num_chains != "auto":
            raise ValueError(f"`num_chains` must be an int >= 1 or 'auto'; got {num_chains!r}.")
        num_chains = _auto_num_chains(chain_method)
    num_chains = _check_int("num_chains", num_chains, 1)
    if chain_method == "auto":
        chain_method = _auto_chain_method(args, kwargs, num_chains)
    if chain_method == "sharded":
        check_divisible(num_chains, "num_chains", "chain_method='sharded'")
    check_choice(mass_matrix, "mass_matrix", MASS_MATRICES)
    if not (0.0 < target_accept < 1.0):
        raise ValueError(f"`target_accept` must be in (0, 1), e.g. 0.8 or 0.95; got {target_accept}.")
    num_warmup = _check_int("num_warmup", num_warmup, 0)
    num_samples = _check_int("num_samples", num_samples, 1)
    max_tree_depth = _check_int("max_tree_depth", max_tree_depth, 1)
    max_restarts = _check_int("max_restarts", max_restarts, 0)
    if isinstance(init, str) and init == "auto":
        init = "uniform" if mass_matrix == "numpyro" else "pathfinder"
    init_kind, init_values = _init_values(init, num_chains)
    if mass_matrix == "numpyro" and init_kind != "uniform":
        raise ValueError(
            f"`init` needs bayeskit's warmup (NumPyro's starts uniformly); got init={init!r} with "
            "mass_matrix='numpyro'. Pass mass_matrix='variance' (the same estimator) or 'auto'."
        )
    every = _check_int("checkpoint_every", checkpoint_every, 1) if checkpoint is not None else None
    key_data = raw_key(key)
    draw_bytes = 0
    if every is None:  # the chunk's buffer of draws is capped (checkpointed runs keep their interval)
        itemsize = 8 if precision == "float64" else 4
        draw_bytes = num_chains * sampled_bytes(_draw_numbers(model, args, kwargs), itemsize)
    chunk = _chunk_size(num_warmup, num_samples, progress, every, draw_bytes)
    settings = (
        num_chains,
        num_warmup,
        float(target_accept),
        max_tree_depth,
        chunk,
        mass_matrix,
        max_restarts,
        init_kind,
        precision,
        chain_method,
    )
    stamp, saved = None, None
    if checkpoint is not None:  # validated before compiling: a wrong or corrupt file fails in a second
        named = {
            "num_chains": num_chains,
            "num_warmup": num_warmup,
            "num_samples": num_samples,
            "target_accept": float(target_accept),
            "max_tree_depth": max_tree_depth,
            "checkpoint_every": every,
            "mass_matrix": mass_matrix,
            "max_restarts": max_restarts,
            "init": repr(init_kind),
            "precision": precision,
            "chain_method": chain_method,
        }
        canonical, canonical_spec = split_arguments(args, kwargs, numbers=True)
        starts = [init_values[name] for name in sorted(init_values)]
        stamp = fingerprint(model, named, [*canonical, *starts], canonical_spec[2], key_data)
        if Path(checkpoint).exists():
            saved = read_checkpoint(checkpoint)
            if saved[0].get("fingerprint") != stamp:
                raise CheckpointError(
                    f"checkpoint {checkpoint} belongs to a different run (model, settings, data or key differ); "
                    "pass another checkpoint path, or delete it to start over."
                )
    _checked_model(model, args, kwargs, jax.random.fold_in(key_data, 7))
    traced, traced_spec = split_arguments(args, kwargs, numbers=model not in _STATIC_NUMBERS)
    ready = is_cached("nuts", model, traced_spec, traced, settings)  # then nothing is compiled: no message
    with status("compiling the model (once per model, settings and data shapes)", progress and not ready):
        program, cached, dynamic = _program(model, args, kwargs, settings)
    run = _Run(program, dynamic, num_warmup, num_samples, 0.0 if cached else program.compile_s, max_restarts)
    devices = device_count() if chain_method == "sharded" else 1
    planned = {
        "num_chains": num_chains,
        "num_warmup": num_warmup,
        "num_samples": num_samples,
        "done": int(saved[0].get("done", 0)) if saved is not None else 0,
        "chain_method": chain_method,
        "devices": devices,
        "max_tree_depth": max_tree_depth,
    }

    def start() -> tuple[Any, list]:
        return program.init(jax.random.split(key_data, num_chains), dynamic, init_values), dynamic

    def finish(state: Any, pieces: list[dict[str, Any]]) -> None:
        trial = _Run(program, dynamic, 0, sum(len(piece["num_steps"]) for piece in pieces), 0.0)
        trial.pieces = pieces
        trial.posterior(model, args, kwargs, max_tree_depth, 0, state, precision)

    admit(lambda calibrate: nuts_estimate(program, planned, start, calibrate, finish))  # refuses, or stops a dry run
    state = start()[0]
    resumed = 0
    if saved is not None:
        state = run.restore(checkpoint, saved, state)
        resumed = run.done
    with progress_bar("warmup", num_warmup + num_samples, progress, done=run.done) as advance:
        while run.done < run.total:
            state = run.step(state, advance)
            if checkpoint is not None and (run.done - run.saved >= every or run.done == run.total):
                run.save(checkpoint, stamp, state)
    posterior = run.posterior(model, args, kwargs, max_tree_depth, resumed, state, precision)
    posterior.details["chain_method"] = chain_method  # what "auto" chose
    posterior.details["devices"] = devices
    posterior.details["init"] = init if isinstance(init, str) else "values"
    return posterior


VECTORIZE_FROM = 100_000  # data numbers from which a CPU run vectorizes its chains (see ``chain_method``)


AUTO_CHAINS_PER_ACCELERATOR = 64  # num_chains="auto" per GPU or TPU device (a choice awaiting a GPU measurement)


def _auto_num_chains(chain_method: str) -> int:
    """4 on a CPU (a multiple of the devices when sharded), many per device on an accelerator."""
    import jax

    devices = device_count()
    if jax.default_backend() != "cpu":
        return AUTO_CHAINS_PER_ACCELERATOR * (devices if chain_method in ("auto", "sharded") else 1)
    if chain_method == "sharded" or (chain_method == "auto" and devices > 1):
        return -(-4 // devices) * devices
    return 4


def _auto_chain_method(args: tuple, kwargs: dict, num_chains: int) -> str:
    """Sharded over several devices; vectorized on one accelerator or for large data; else one chain after another."""
    import jax

    devices = device_count()
    if devices > 1 and num_chains % devices == 0:
        return "sharded"
    if jax.default_backend() != "cpu":
        return "vectorized"
    leaves = jax.tree.leaves((args, kwargs))
    size = sum(int(np.size(leaf)) for leaf in leaves if isinstance(leaf, (np.ndarray, jax.Array)))
    return "vectorized" if size >= VECTORIZE_FROM else "sequential"


def _init_values(init: Any, num_chains: int) -> tuple[Any, dict[str, np.ndarray]]:
    """The static description of the start (part of the program's key) and the per-chain values."""
    if isinstance(init, str):
        check_choice(init, "init", INITS)
        return init, {}
    if not isinstance(init, dict) or not init or not all(isinstance(name, str) for name in init):
        raise ValueError(f"`init` must be one of {INITS} or a dict of site name -> starting value; got {init!r}.")
    values, kind = {}, []
    for name in sorted(init):
        value = np.asarray(init[name], dtype=np.result_type(float, np.asarray(init[name]).dtype))
        value = value.astype(np.float32) if value.dtype == np.float64 and not _x64() else value
        values[name] = (
            value if value.ndim and value.shape[0] == num_chains else np.broadcast_to(value, (num_chains, *value.shape))
        )
        kind.append((name, values[name].shape[1:], str(values[name].dtype)))
    return tuple(kind), values


def _x64() -> bool:
    import jax

    return bool(jax.config.jax_enable_x64)


_CHECKED: dict[Any, str] = {}  # model -> fingerprint of the data it last passed check_model with


def _checked_model(model: Any, args: tuple, kwargs: dict, key: Any) -> None:
    """:func:`check_model`, skipped when this model passed it with the very same data (SBC, reruns)."""
    from bayeskit.infer.checkpoint import fingerprint

    dynamic, spec = split_arguments(args, kwargs, numbers=True)
    try:
        stamp = fingerprint(model, {}, dynamic, spec[2], np.zeros(1))
    except TypeError:
        stamp = None
    if stamp is not None and _CHECKED.get(model) == stamp:
        return
    check_model(model, args, kwargs, key)
    if stamp is not None:
        _CHECKED[model] = stamp


def _program(model: Any, args: tuple, kwargs: dict, settings: tuple) -> tuple[Program, bool, list]:
    """The compiled program, whether it came from the cache, and the traced arguments.

    Numbers are traced like arrays (new values reuse the program) unless the model needs one
    as a Python value (a plate size, a loop count); then numbers stay static, part of the cache key.
    """
    import jax

    dynamic, spec = split_arguments(args, kwargs, numbers=True)
    static_dynamic, static_spec = split_arguments(args, kwargs)
    if len(static_dynamic) == len(dynamic) or model in _STATIC_NUMBERS:
        return (*get_program(model, static_spec, static_dynamic, settings), static_dynamic)
    try:
        program, cached = get_program(model, spec, dynamic, settings)
    except (jax.errors.ConcretizationTypeError, jax.errors.TracerIntegerConversionError, TypeError):
        _STATIC_NUMBERS.add(model)  # the next call skips the failed attempt
        return (*get_program(model, static_spec, static_dynamic, settings), static_dynamic)
    return program, cached, dynamic


_STATIC_NUMBERS: set[Any] = set()  # models that use a number argument as a Python value


class _Run:
    """The mutable bookkeeping of one run (the state itself stays a JAX pytree)."""

    def __init__(
        self,
        program: Program,
        dynamic: list[Any],
        num_warmup: int,
        num_samples: int,
        compile_s: float,
        max_restarts: int = 0,
    ):
        self.program, self.dynamic, self.max_restarts = program, dynamic, max_restarts
        self.num_warmup, self.total = num_warmup, num_warmup + num_samples
        self.done = self.saved = 0
        self.pieces: list[dict[str, Any]] = []
        self.timings = {"compile_s": compile_s, "warmup_s": 0.0, "sampling_s": 0.0}

    def step(self, state: Any, advance) -> Any:
        """One chunk: at most ``chunk`` transitions, ending at the next warmup window end, if any, and past it."""
        in_warmup = self.done < self.num_warmup
        limit = self.num_warmup if in_warmup else self.total
        if in_warmup:
            ends = np.flatnonzero(self.program.plan.check[self.done : self.num_warmup])
            if ends.size:
                limit = self.done + int(ends[0]) + 1
        num = min(self.program.chunk, limit - self.done)
        start = time.perf_counter()
        state, produced = self.program.run_chunk(state, num, self.dynamic)
        last = self.done + num - 1
        if in_warmup and self.program.plan.check[last]:
            state = window_end(self.program, state, self.dynamic, last, self.max_restarts)
        self.timings["warmup_s" if in_warmup else "sampling_s"] += time.perf_counter() - start
        if not in_warmup:
            self.pieces.append(produced)
        self.done += num
        advance(num, description="warmup" if self.done < self.num_warmup else "sampling")
        return state

    def _collected(self) -> dict[str, np.ndarray]:
        if not self.pieces:
            return {}
        out = {f"z/{n}": np.concatenate([p["z"][n] for p in self.pieces]) for n in self.pieces[0]["z"]}
        out.update({f"s/{n}": np.concatenate([p[n] for p in self.pieces]) for n in _STATS})
        return out

    def save(self, path: Any, stamp: str, state: Any) -> None:
        import jax

        leaves = jax.tree.leaves(state)
        arrays = {f"state/{i}": np.asarray(leaf) for i, leaf in enumerate(leaves)}
        arrays.update(self._collected())
        meta = {"fingerprint": stamp, "done": self.done, "leaves": len(leaves)}
        meta.update(num_warmup=self.num_warmup, total=self.total)  # for monitors (bayeskit serve --checkpoint)
        write_checkpoint(path, meta, arrays)
        self.saved = self.done

    def restore(self, path: Any, saved: tuple[dict, dict], template: Any) -> Any:
        """The sampler state (and the draws so far) from a checkpoint already read and matched to this run."""
        import jax
        import jax.numpy as jnp

        meta, arrays = saved
        leaves, treedef = jax.tree.flatten(template)
        loaded = [arrays.get(f"state/{i}") for i in range(len(leaves))]
        if meta.get("leaves") != len(leaves) or any(
            a is None or a.shape != np.shape(b) or a.dtype != np.asarray(b).dtype
            for a, b in zip(loaded, leaves, strict=True)
        ):
            raise CheckpointError(f"checkpoint {path} does not hold a sampler state for this run; delete it.")
        done = int(meta["done"])
        if not 0 <= done <= self.total:
            raise CheckpointError(f"checkpoint {path} claims {done} transitions of {self.total}; delete it.")
        self.done = self.saved = done
        kept = done - self.num_warmup
        if kept > 0:
            z = {name[2:]: value for name, value in arrays.items() if name.startswith("z/")}
            stats = {name: arrays.get(f"s/{name}", np.empty(0)) for name in _STATS}
            if not z or any(value.shape[0] != kept for value in (*z.values(), *stats.values())):
                raise CheckpointError(f"checkpoint {path} holds a different number of draws than it claims; delete it.")
            self.pieces = [{"z": z, **stats}]
        return jax.tree.unflatten(treedef, [jnp.asarray(a) for a in loaded])

    def posterior(
        self, model, args, kwargs, max_tree_depth: int, resumed: int, state: Any, precision: str
    ) -> DrawsPosterior:
        import jax

        from bayeskit._arviz import from_dict

        start = time.perf_counter()
        collected = self._collected()
        z = {name[2:]: value for name, value in collected.items() if name.startswith("z/")}
        draws_per_chain, num_chains = next(iter(z.values())).shape[:2]
        flat = jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), z)
        constrained = self.program.constrain(flat, self.dynamic)
        draws = {
            name: np.swapaxes(np.asarray(value).reshape(draws_per_chain, num_chains, *np.shape(value)[1:]), 0, 1)
            for name, value in constrained.items()
        }
        stats = {name: np.swapaxes(collected[f"s/{name}"], 0, 1) for name in _STATS}
        sample_stats = {
            "diverging": stats["diverging"].astype(bool),
            "energy": stats["energy"],
            "lp": -stats["potential_energy"],
            "n_steps": stats["num_steps"],
            "tree_depth": np.log2(np.maximum(stats["num_steps"], 1)).astype(int) + 1,
            "acceptance_rate": stats["accept_prob"],
            "step_size": stats["step_size"],
        }
        idata = from_dict({"posterior": draws, "sample_stats": sample_stats})
        restarts = np.asarray(state[1].restarts)
        restarted_at = np.asarray(state[1].restarted_at)
        findings = (
            *check_inference_data(idata, max_tree_depth),
            *chain_findings(draws, sample_stats["lp"], restarts),
            *precision_findings(sample_stats["lp"], precision),
        )
        notes = tuple(
            f"chain {chain} was stuck in warmup and restarted {int(count)} time(s), last at transition "
            f"{int(restarted_at[chain])}"
            for chain, count in enumerate(restarts)
            if count
        )
        self.timings["postprocess_s"] = time.perf_counter() - start
        return DrawsPosterior(
            draws=draws,
            idata=idata,
            findings=findings,
            method="nuts",
            timings=self.timings,
            details={
                "resumed_from": resumed,
                "restarts": restarts,
                "restarted_at": restarted_at,
                "gradients": int(np.asarray(state[1].gradients).sum() + stats["num_steps"].sum()),
            },
            notes=notes,
            model=model,
            model_args=tuple(args),
            model_kwargs=dict(kwargs),
        )
