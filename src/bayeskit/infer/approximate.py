"""Laplace and ADVI over NumPyro models (NumPyro's autoguides and SVI do the work), as draws posteriors."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bayeskit._progress import status
from bayeskit._rng import raw_key
from bayeskit._validate import check_choice
from bayeskit.infer._precision import with_precision
from bayeskit.infer._program import cached, is_cached, merge, model_generators, split_arguments
from bayeskit.infer.diagnostics import Finding, independent_draws_findings
from bayeskit.infer.draws import DrawsPosterior

__all__ = ["ADVI_GUIDES", "LAPLACE_SPACES", "advi", "laplace"]

ADVI_GUIDES = ("meanfield", "fullrank")
LAPLACE_SPACES = ("unconstrained", "constrained")
_NEWTON_TOLERANCE = 0.01
_PSEUDO_CHAINS = 4


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < _PSEUDO_CHAINS:
        raise ValueError(f"`{name}` must be an int >= {_PSEUDO_CHAINS}; got {value!r}.")
    return value


def _as_posterior(
    draws: dict[str, Any], method: str, findings, timings, details, notes=(), model=None, args=(), kwargs=None
) -> DrawsPosterior:
    """Independent draws split into pseudo-chains (R-hat 1 and ESS their number by construction) with ArviZ data."""
    from bayeskit._arviz import from_dict

    num = next(iter(draws.values())).shape[0] // _PSEUDO_CHAINS * _PSEUDO_CHAINS
    shaped = {k: np.asarray(v)[:num].reshape(_PSEUDO_CHAINS, -1, *np.shape(v)[1:]) for k, v in draws.items()}
    idata = from_dict({"posterior": shaped})
    return DrawsPosterior(
        draws=shaped,
        idata=idata,
        findings=tuple(findings) + independent_draws_findings(shaped),
        method=method,
        timings=timings,
        details=details,
        notes=tuple(notes),
        model=model,
        model_args=tuple(args),
        model_kwargs=dict(kwargs or {}),
    )


def _build_laplace(model: Any, spec: tuple, dynamic: list[Any], settings: tuple) -> Any:
    """One compiled function ``(key, data) -> (optimum, Hessian, objective, converged, draws)``."""
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree
    from numpyro.infer.initialization import init_to_median
    from numpyro.infer.util import initialize_model, log_density

    num_draws, space, _ = settings
    generators = model_generators(model, spec, dynamic)
    potential_gen, postprocess_gen = generators["potential"], generators["postprocess"]
    latent = tuple(generators["z_shape"])

    def fit(key, dyn):
        args, kwargs = merge(dyn, spec)
        key_init, key_draws = jax.random.split(key)
        params, *_ = initialize_model(
            key_init, model, model_args=args, model_kwargs=kwargs, dynamic_args=True, init_strategy=init_to_median()
        )
        start, unravel_z = ravel_pytree(params.z)
        potential = potential_gen(*args, **kwargs)
        constrain = postprocess_gen(*args, **kwargs)

        def unconstrained_objective(v):
            return potential(unravel_z(v))

        def constrained_objective(v):  # -log p(theta, y) with no Jacobian, over theta = constrain(z)
            theta = {name: constrain(unravel_z(v))[name] for name in latent}
            return -log_density(model, args, kwargs, theta)[0]

        objective = unconstrained_objective if space == "unconstrained" else constrained_objective
        optimum = _newton_polish(objective, _lbfgs(objective, start))
        if space == "unconstrained":
            center, hessian = optimum, jax.hessian(unconstrained_objective)(optimum)
            value, gradient = jax.value_and_grad(unconstrained_objective)(center)
        else:
            theta_star = {name: constrain(unravel_z(optimum))[name] for name in latent}
            center, unravel_theta = ravel_pytree(theta_star)

            def over_theta(t):
                return -log_density(model, args, kwargs, unravel_theta(t))[0]

            hessian = jax.hessian(over_theta)(center)
            value, gradient = jax.value_and_grad(over_theta)(center)
        hessian = 0.5 * (hessian + hessian.T)
        covariance = jnp.linalg.inv(hessian)
        newton = jnp.sqrt(jnp.abs(gradient @ covariance @ gradient))  # distance to the optimum, in posterior sds
        noise = jax.random.normal(key_draws, (num_draws, center.shape[0]))
        samples = center + noise @ jnp.linalg.cholesky(covariance).T
        if space == "unconstrained":
            draws = jax.vmap(lambda v: constrain(unravel_z(v)))(samples)
        else:
            draws = jax.vmap(unravel_theta)(samples)
        return {
            "center": center,
            "hessian": hessian,
            "covariance": covariance,
            "value": value,
            "newton_decrement": newton,
            "draws": draws,
        }

    keys = jnp.zeros(2, jnp.uint32)
    return jax.jit(fit).lower(keys, dynamic).compile()


def _lbfgs(objective: Any, start: Any, max_steps: int = 1000, tolerance: float = 1e-6) -> Any:
    """Optax's L-BFGS (zoom line search) until the gradient is tiny or ``max_steps`` is reached."""
    import jax
    import jax.numpy as jnp
    import optax

    optimizer = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(objective)

    def step(carry):
        params, state, count = carry
        value, gradient = value_and_grad(params, state=state)
        updates, state = optimizer.update(gradient, state, params, value=value, grad=gradient, value_fn=objective)
        return optax.apply_updates(params, updates), state, count + 1

    def keep_going(carry):
        params, state, count = carry
        gradient = optax.tree_utils.tree_get(state, "grad")
        small = jnp.max(jnp.abs(gradient)) < tolerance * jnp.maximum(1.0, jnp.max(jnp.abs(params)))
        return (count == 0) | ((count < max_steps) & ~small)

    params, _, _ = jax.lax.while_loop(keep_going, step, (start, optimizer.init(start), 0))
    return params


def _newton_polish(objective: Any, start: Any, num_steps: int = 10) -> Any:
    """Damped Newton steps from L-BFGS's answer; a step is taken only where it lowers the objective.

    Quasi-Newton methods in float32 can stop early on a failed line search (e.g. an
    exp link far from the optimum); a few Newton steps on a smooth, locally quadratic
    objective finish the job.
    """
    import jax
    import jax.numpy as jnp

    fractions = jnp.array([1.0, 0.5, 0.25, 0.1, 0.0])

    def step(_, v):
        gradient, hessian = jax.grad(objective)(v), jax.hessian(objective)(v)
        direction = jnp.linalg.solve(hessian + 1e-8 * jnp.eye(v.shape[0]), gradient)
        direction = jnp.where(jnp.all(jnp.isfinite(direction)), direction, jnp.zeros_like(direction))
        candidates = v[None, :] - fractions[:, None] * direction[None, :]
        values = jax.vmap(objective)(candidates)
        values = jnp.where(jnp.isfinite(values), values, jnp.inf)
        return candidates[jnp.argmin(values)]

    return jax.lax.fori_loop(0, num_steps, step, start)


@with_precision
def laplace(
    model: Any,
    *args: Any,
    key: Any,
    num_draws: int = 4000,
    space: str = "unconstrained",
    progress: bool | str = False,
    precision: str = "float32",
    **kwargs: Any,
) -> DrawsPosterior:
    """Laplace approximation: a Gaussian at the MAP, covariance the inverse Hessian of the negative log posterior.

    The MAP is found from the prior median by L-BFGS (Optax) finished by damped
    Newton steps; the Newton decrement at the end is checked. The program is
    compiled once per model and data shape, so repeated fits (SBC, bootstraps)
    cost milliseconds.

    Parameters
    ----------
    model
        A NumPyro model function.
    *args, **kwargs
        Passed to ``model``.
    key
        A JAX PRNG key.
    num_draws
        Independent draws from the approximation.
    space
        ``"unconstrained"`` (default): the Gaussian lives where NumPyro samples
        (log of a scale, logit of a probability) and draws are mapped back, so
        positive parameters stay positive and the approximation is usually better.
        ``"constrained"``: the textbook Laplace on the parameters themselves (MAP
        without the Jacobian); draws can leave the support, which a finding reports.
        Deterministic sites are only given in the unconstrained space.
    progress
        Label each stage (compiling, optimizing, drawing) on stderr; a string names the run.
    precision
        ``"float32"`` (default) or ``"float64"``: the fit, compile included, runs inside
        ``jax.enable_x64`` without touching JAX's global setting (ill-conditioned
        posteriors and large data sets lose digits in float32).

    Returns
    -------
    DrawsPosterior
        ``details`` holds ``map`` (the flattened optimum in the chosen space),
        ``covariance``, ``log_evidence`` (the Laplace estimate of log p(y); in the
        unconstrained space, where the change of variables is exact) and
        ``newton_decrement``: how far the optimum found is from the true one, in
        posterior standard deviations (a finding above 0.01).

    Raises
    ------
    ValueError
        When the Hessian at the optimum is not positive-definite (not a maximum, or
        a flat direction): the Laplace approximation does not exist there.

    References
    ----------
    Tierney & Kadane (1986). Accurate approximations for posterior moments and marginal densities. JASA 81, 82-86.
    """
    import jax

    check_choice(space, "space", LAPLACE_SPACES)
    num_draws = _check_count("num_draws", num_draws)
    key_data = raw_key(key)
    dynamic, spec = split_arguments(args, kwargs)
    start = time.perf_counter()
    settings = (num_draws, space, precision)
    ready = is_cached("laplace", model, spec, dynamic, settings)
    with status("compiling the Laplace program (once per model and data shapes)", progress and not ready):
        program, was_cached = cached("laplace", model, spec, dynamic, settings, _build_laplace)
    compiled = time.perf_counter()
    with status(f"finding the posterior mode, its Hessian and {num_draws:,} draws", progress):
        out = jax.block_until_ready(program(key_data, dynamic))
    hessian = np.asarray(out["hessian"], dtype=float)
    eigenvalues = np.linalg.eigvalsh(hessian) if np.all(np.isfinite(hessian)) else np.array([np.nan])
    if not np.all(eigenvalues > 0):
        raise ValueError(
            "the Hessian at the optimum is not positive-definite, so the Laplace approximation does not exist: "
            "check for unidentified parameters or an improper posterior, or use nuts()."
        )
    dimension = hessian.shape[0]
    log_evidence = float(-out["value"] + 0.5 * dimension * np.log(2 * np.pi) - 0.5 * np.sum(np.log(eigenvalues)))
    findings = []
    newton = float(out["newton_decrement"])
    if not newton < _NEWTON_TOLERANCE:
        findings.append(
            Finding(
                "distance to the optimum",
                newton,
                _NEWTON_TOLERANCE,
                "(Newton decrement, in posterior standard deviations)",
                "the optimizer stopped short of the MAP: check the model's scaling or use nuts().",
            )
        )
    draws = {name: np.asarray(value) for name, value in out["draws"].items()}
    if space == "constrained":
        outside = _fraction_outside_support(model, args, kwargs, draws)
        if outside > 0:
            findings.append(
                Finding(
                    "draws outside the support",
                    outside,
                    0.0,
                    "(constrained-space Laplace)",
                    "the Gaussian puts mass where the parameter cannot be: use space='unconstrained'.",
                )
            )
    details = {
        "map": np.asarray(out["center"]),
        "covariance": np.asarray(out["covariance"]),
        "log_evidence": log_evidence if space == "unconstrained" else float("nan"),
        "newton_decrement": newton,
        "space": space,
    }
    timings = {"compile_s": 0.0 if was_cached else compiled - start, "fit_s": time.perf_counter() - compiled}
    with status("summarizing the draws and checking them", progress):
        return _as_posterior(draws, "laplace", findings, timings, details, (), model, args, kwargs)


def _fraction_outside_support(model: Any, args: tuple, kwargs: dict, draws: dict[str, np.ndarray]) -> float:
    from numpyro import handlers

    trace = handlers.trace(handlers.seed(model, 0)).get_trace(*args, **kwargs)
    outside = np.zeros(next(iter(draws.values())).shape[0], dtype=bool)
    for name, values in draws.items():
        site = trace.get(name)
        if site is None or site["type"] != "sample":
            continue
        inside = np.asarray(site["fn"].support(values) if callable(site["fn"].support) else True)
        inside = inside.reshape(inside.shape[0], -1).all(axis=1) if inside.ndim > 1 else inside
        outside |= ~inside.astype(bool)
    return float(outside.mean())


def _build_advi(model: Any, spec: tuple, dynamic: list[Any], settings: tuple) -> Any:
    """One compiled function ``(key, data) -> (losses, draws)``; the guide's prototype is set up once, eagerly."""
    import jax
    import jax.numpy as jnp
    import numpyro.optim
    from numpyro.infer import SVI, Trace_ELBO
    from numpyro.infer.autoguide import AutoMultivariateNormal, AutoNormal

    guide_name, num_steps, learning_rate, num_draws, _ = settings
    guide = AutoNormal(model) if guide_name == "meanfield" else AutoMultivariateNormal(model)
    svi = SVI(model, guide, numpyro.optim.Adam(learning_rate), Trace_ELBO())
    args, kwargs = merge(dynamic, spec)
    svi.init(jax.random.PRNGKey(0), *args, **kwargs)  # concrete prototype trace; later fits only reuse its shapes

    def fit(key, dyn):
        args, kwargs = merge(dyn, spec)
        key_init, key_draws = jax.random.split(key)
        state = svi.init(key_init, *args, **kwargs)

        def body(current, _):
            current, loss = svi.update(current, *args, **kwargs)
            return current, loss

        state, losses = jax.lax.scan(body, state, None, length=num_steps)
        params = svi.get_params(state)
        draws = guide.sample_posterior(key_draws, params, *args, sample_shape=(num_draws,), **kwargs)
        return losses, draws

    return jax.jit(fit).lower(jnp.zeros(2, jnp.uint32), dynamic).compile()


@with_precision
def advi(
    model: Any,
    *args: Any,
    key: Any,
    guide: str = "meanfield",
    num_steps: int = 10_000,
    learning_rate: float = 0.01,
    num_draws: int = 4000,
    progress: bool = False,
    precision: str = "float32",
    **kwargs: Any,
) -> DrawsPosterior:
    """Automatic differentiation variational inference, mean-field or full-rank Gaussian in unconstrained space.

    ``details["elbo"]`` is the ELBO trace. The ELBO counts as converged when the
    mean of its last 10% differs from that of the previous 10% by less than three
    standard errors (or by less than 1e-4 relative); otherwise a finding says so.
    Mean-field ADVI is known to under-state posterior variance when parameters are
    correlated: the result carries that note.
    The optimization is one compiled loop, reused for new data of the same shapes.

    Parameters
    ----------
    model
        A NumPyro model function.
    *args, **kwargs
        Passed to ``model``.
    key
        A JAX PRNG key.
    guide
        ``"meanfield"`` (independent Gaussians) or ``"fullrank"`` (one multivariate Gaussian).
    num_steps, learning_rate
        Adam steps and step size.
    num_draws
        Independent draws from the fitted approximation.
    progress
        Print a one-line start and end note on stderr (the loop is a single compiled call).
    precision
        ``"float32"`` (default) or ``"float64"``: the fit, compile included, runs inside
        ``jax.enable_x64`` without touching JAX's global setting (ill-conditioned
        posteriors and large data sets lose digits in float32).

    References
    ----------
    Kucukelbir, Tran, Ranganath, Gelman & Blei (2017). Automatic differentiation variational inference. JMLR 18(14).
    """
    check_choice(guide, "guide", ADVI_GUIDES)
    num_draws = _check_count("num_draws", num_draws)
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 20:
        raise ValueError(f"`num_steps` must be an int >= 20; got {num_steps!r}.")
    if not learning_rate > 0:
        raise ValueError(f"`learning_rate` must be > 0; got {learning_rate!r}.")
    key_data = raw_key(key)
    dynamic, spec = split_arguments(args, kwargs)
    start = time.perf_counter()
    settings = (guide, num_steps, float(learning_rate), num_draws, precision)
    ready = is_cached("advi", model, spec, dynamic, settings)
    with status(f"ADVI ({guide}): compiling (once per model and data shapes)", progress and not ready):
        program, was_cached = cached("advi", model, spec, dynamic, settings, _build_advi)
    compiled = time.perf_counter()
    with status(f"ADVI ({guide}): {num_steps} optimization steps", progress):
        losses, draws = program(key_data, dynamic)
        elbo = -np.asarray(losses, dtype=float)
    findings = _elbo_findings(elbo, num_steps)
    notes = ()
    if guide == "meanfield":
        notes = (
            "mean-field ADVI ignores posterior correlations and tends to under-state uncertainty; "
            "compare with guide='fullrank' or nuts().",
        )
    timings = {"compile_s": 0.0 if was_cached else compiled - start, "fit_s": time.perf_counter() - compiled}
    draws = {name: np.asarray(value) for name, value in draws.items()}
    return _as_posterior(draws, f"advi-{guide}", findings, timings, {"elbo": elbo}, notes, model, args, kwargs)


def _elbo_findings(elbo: np.ndarray, num_steps: int) -> list[Finding]:
    """Flag an ELBO still rising: the last 10% of steps beat the previous 10% by more than noise allows.

    "Noise" is three standard errors of the difference of the two window means
    (Monte Carlo ELBO estimates are noisy); a change below 1e-4 of the ELBO's
    magnitude counts as converged whatever the noise.
    """
    window = max(num_steps // 10, 1)
    last, previous = elbo[-window:], elbo[-2 * window : -window]
    if not np.all(np.isfinite(last)):
        return [Finding("ELBO", float("nan"), 0.0, "(non-finite)", "lower the learning rate.")]
    change = abs(last.mean() - previous.mean())
    if window < 20:
        return [
            Finding(
                "ELBO change",
                float(change),
                float("nan"),
                f"(only {num_steps} steps: too few to tell whether the ELBO has converged)",
                "run at least 200 steps.",
            )
        ]
    noise = 3.0 * np.sqrt((last.var() + previous.var()) / window)
    if change > noise and change > 1e-4 * abs(last.mean()):
        return [
            Finding(
                "ELBO change",
                float(change),
                float(noise),
                "over the last 10% of steps (threshold: 3 standard errors)",
                "the optimization has not converged: run more steps or lower the learning rate.",
            )
        ]
    return []
