"""Twelve standard posteriors for the NUTS suite (``bench_nuts_suite.py``): models, data, exact references.

Each entry: ``model``, ``data`` (keyword arguments) and ``exact`` (site -> (mean, sd)
where a closed form exists, else None: the reference is then a long NumPyro run).
Data are simulated with fixed seeds, so every sampler sees the same posterior.
"""

from __future__ import annotations

import numpy as np


def _schools():
    return {
        "y": np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0], np.float32),
        "sigma": np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0], np.float32),
    }


def eight_schools_centered(y, sigma):
    import numpyro
    import numpyro.distributions as dist

    mu = numpyro.sample("mu", dist.Normal(0, 5))
    tau = numpyro.sample("tau", dist.HalfCauchy(5))
    with numpyro.plate("j", y.shape[0]):
        theta = numpyro.sample("theta", dist.Normal(mu, tau))
        numpyro.sample("y", dist.Normal(theta, sigma), obs=y)


def eight_schools_noncentered(y, sigma):
    import numpyro
    import numpyro.distributions as dist

    mu = numpyro.sample("mu", dist.Normal(0, 5))
    tau = numpyro.sample("tau", dist.HalfCauchy(5))
    with numpyro.plate("j", y.shape[0]):
        eta = numpyro.sample("eta", dist.Normal(0, 1))
        numpyro.sample("y", dist.Normal(mu + tau * eta, sigma), obs=y)


def _radon():
    rng = np.random.default_rng(1)
    sizes = np.r_[1, 1, 2, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100]
    group = np.repeat(np.arange(sizes.size), sizes)
    floor = rng.integers(0, 2, group.size).astype(np.float32)
    a = 1.5 + 0.4 * rng.normal(size=sizes.size)
    y = a[group] - 0.6 * floor + 0.7 * rng.normal(size=group.size)
    return {"group": group.astype(np.int32), "floor": floor, "y": y.astype(np.float32), "groups": int(sizes.size)}


def radon(group, floor, y, groups):
    import numpyro
    import numpyro.distributions as dist

    mu = numpyro.sample("mu", dist.Normal(0, 5))
    tau = numpyro.sample("tau", dist.HalfNormal(1))
    beta = numpyro.sample("beta", dist.Normal(0, 2))
    sigma = numpyro.sample("sigma", dist.HalfNormal(2))
    with numpyro.plate("g", groups):
        z = numpyro.sample("z", dist.Normal(0, 1))
    a = mu + tau * z
    numpyro.sample("y", dist.Normal(a[group] + beta * floor, sigma), obs=y)


def _logistic():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(400, 8)).astype(np.float32)
    w = rng.normal(size=8)
    y = (rng.random(400) < 1 / (1 + np.exp(-(x @ w - 0.5)))).astype(np.float32)
    return {"x": x, "y": y}


def logistic(x, y):
    import numpyro
    import numpyro.distributions as dist

    b = numpyro.sample("b", dist.Normal(0, 2))
    w = numpyro.sample("w", dist.Normal(0, 2).expand([x.shape[1]]).to_event(1))
    numpyro.sample("y", dist.Bernoulli(logits=x @ w + b), obs=y)


def _gp():
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(0, 10, 40)).astype(np.float32)
    y = (np.sin(x) + 0.3 * rng.normal(size=40)).astype(np.float32)
    return {"x": x, "y": y}


def gp(x, y):
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    length = numpyro.sample("length", dist.InverseGamma(5, 5))
    amplitude = numpyro.sample("amplitude", dist.HalfNormal(2))
    noise = numpyro.sample("noise", dist.HalfNormal(1))
    distance = (x[:, None] - x[None, :]) ** 2
    k = amplitude**2 * jnp.exp(-0.5 * distance / length**2) + (noise**2 + 1e-4) * jnp.eye(x.shape[0])
    numpyro.sample("y", dist.MultivariateNormal(jnp.zeros(x.shape[0]), covariance_matrix=k), obs=y)


_AR_PRIOR = 1.0


def _ar5():
    rng = np.random.default_rng(4)
    phi = np.array([0.4, -0.2, 0.15, 0.1, -0.05])
    y = np.zeros(300)
    for t in range(5, 300):
        y[t] = phi @ y[t - 5 : t][::-1] + rng.normal()
    lags = np.stack([y[5 - k : 300 - k] for k in range(1, 6)], axis=1)
    return {"lags": lags.astype(np.float32), "y": y[5:].astype(np.float32)}


def ar5(lags, y):
    import numpyro
    import numpyro.distributions as dist

    phi = numpyro.sample("phi", dist.Normal(0, _AR_PRIOR).expand([5]).to_event(1))
    numpyro.sample("y", dist.Normal(lags @ phi, 1.0), obs=y)  # known noise: a conjugate Gaussian posterior


def _ar5_exact(data):
    x, y = data["lags"].astype(float), data["y"].astype(float)
    precision = x.T @ x + np.eye(5) / _AR_PRIOR**2
    cov = np.linalg.inv(precision)
    return {"phi": (cov @ x.T @ y, np.sqrt(np.diag(cov)))}


def _arma():
    rng = np.random.default_rng(5)
    e = rng.normal(size=201)
    y = np.zeros(200)
    for t in range(1, 200):
        y[t] = 0.5 + 0.6 * y[t - 1] + e[t + 1] + 0.4 * e[t]
    return {"y": y.astype(np.float32)}


def arma(y):
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    y = jnp.asarray(y)  # NumPyro's MCMC passes NumPy data as they are: a traced index needs a JAX array
    mu = numpyro.sample("mu", dist.Normal(0, 10))
    phi = numpyro.sample("phi", dist.Normal(0, 2))
    theta = numpyro.sample("theta", dist.Normal(0, 2))
    sigma = numpyro.sample("sigma", dist.HalfCauchy(2.5))

    def step(error, t):
        nu = mu + phi * y[t - 1] + theta * error
        new = y[t] - nu
        return new, new

    first = y[0] - mu - phi * mu
    _, errors = jax.lax.scan(step, first, jnp.arange(1, y.shape[0]))
    numpyro.factor("y", dist.Normal(0, sigma).log_prob(jnp.concatenate([first[None], errors])).sum())


def _garch():
    rng = np.random.default_rng(6)
    y = np.zeros(300)
    variance = 0.2
    for t in range(1, 300):
        variance = 0.1 + 0.2 * y[t - 1] ** 2 + 0.6 * variance
        y[t] = 0.1 + np.sqrt(variance) * rng.normal()
    return {"y": y.astype(np.float32), "sigma1": np.float32(0.5)}


def garch(y, sigma1):
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    y = jnp.asarray(y)
    mu = numpyro.sample("mu", dist.Normal(0, 1))
    alpha0 = numpyro.sample("alpha0", dist.HalfNormal(1))
    alpha1 = numpyro.sample("alpha1", dist.Uniform(0, 1))
    beta1 = numpyro.sample("beta1", dist.Uniform(0, 1 - alpha1))

    def step(sigma, t):
        new = jnp.sqrt(alpha0 + alpha1 * (y[t - 1] - mu) ** 2 + beta1 * sigma**2)
        return new, new

    _, sigmas = jax.lax.scan(step, sigma1, jnp.arange(1, y.shape[0]))
    numpyro.sample("y", dist.Normal(mu, jnp.concatenate([jnp.asarray(sigma1)[None], sigmas])), obs=y)


def _mixture():
    rng = np.random.default_rng(7)
    y = np.where(rng.random(300) < 0.3, rng.normal(-1.5, 0.7, 300), rng.normal(2.0, 1.0, 300))
    return {"y": y.astype(np.float32)}


def mixture(y):
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import transforms

    mu = numpyro.sample(
        "mu", dist.TransformedDistribution(dist.Normal(0, 5).expand([2]).to_event(1), transforms.OrderedTransform())
    )
    sigma = numpyro.sample("sigma", dist.HalfNormal(2).expand([2]).to_event(1))
    weight = numpyro.sample("weight", dist.Beta(2, 2))
    mixing = dist.Categorical(probs=jnp.stack([weight, 1 - weight]))
    numpyro.sample("y", dist.MixtureSameFamily(mixing, dist.Normal(mu, sigma)), obs=y)


def _sv():
    rng = np.random.default_rng(8)
    h = np.zeros(100)
    h[0] = -1 + 0.3 * rng.normal() / np.sqrt(1 - 0.9**2)
    for t in range(1, 100):
        h[t] = -1 + 0.9 * (h[t - 1] + 1) + 0.3 * rng.normal()
    y = np.exp(h / 2) * rng.normal(size=100)
    return {"y": y.astype(np.float32)}


def stochastic_volatility(y):
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    mu = numpyro.sample("mu", dist.Normal(-1, 2))
    phi = numpyro.sample("phi", dist.Uniform(-1, 1))
    sigma = numpyro.sample("sigma", dist.HalfNormal(0.5))
    z = numpyro.sample("z", dist.Normal(0, 1).expand([y.shape[0]]).to_event(1))

    def step(previous, innovation):
        h = mu + phi * (previous - mu) + sigma * innovation
        return h, h

    first = mu + sigma * z[0] / jnp.sqrt(1 - phi**2)
    _, rest = jax.lax.scan(step, first, z[1:])
    h = jnp.concatenate([first[None], rest])
    numpyro.sample("y", dist.Normal(0, jnp.exp(h / 2)), obs=y)


def _correlated():
    rng = np.random.default_rng(9)
    d = 100
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    scales = np.logspace(-1, 1, d)
    cov = (q * scales**2) @ q.T
    return {"mean": np.zeros(d, np.float32), "cov": cov.astype(np.float32)}


def correlated_gaussian(mean, cov):
    import numpyro
    import numpyro.distributions as dist

    numpyro.sample("x", dist.MultivariateNormal(mean, covariance_matrix=cov))


def funnel(dimension):
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    v = numpyro.sample("v", dist.Normal(0, 3))
    numpyro.sample("x", dist.Normal(0, jnp.exp(v / 2)).expand([dimension]).to_event(1))


def posteriors() -> dict[str, dict]:
    """Name -> {model, data, exact}; ``exact`` maps sites to (mean, sd) arrays, or is None."""
    correlated = _correlated()
    ar = _ar5()
    return {
        "eight schools (centered)": {"model": eight_schools_centered, "data": _schools(), "exact": None},
        "eight schools (non-centered)": {"model": eight_schools_noncentered, "data": _schools(), "exact": None},
        "radon-style hierarchical": {"model": radon, "data": _radon(), "exact": None},
        "logistic regression": {"model": logistic, "data": _logistic(), "exact": None},
        "GP regression": {"model": gp, "data": _gp(), "exact": None},
        "AR(5)": {"model": ar5, "data": ar, "exact": _ar5_exact(ar)},
        "ARMA(1,1)": {"model": arma, "data": _arma(), "exact": None},
        "GARCH(1,1)": {"model": garch, "data": _garch(), "exact": None},
        "Gaussian mixture (2)": {"model": mixture, "data": _mixture(), "exact": None},
        "stochastic volatility": {"model": stochastic_volatility, "data": _sv(), "exact": None},
        "correlated Gaussian (100-d)": {
            "model": correlated_gaussian,
            "data": correlated,
            "exact": {"x": (np.zeros(100), np.sqrt(np.diag(correlated["cov"].astype(float))))},
        },
        "Neal's funnel (10-d)": {
            "model": funnel,
            "data": {"dimension": 9},
            "exact": {"v": (np.zeros(1), np.full(1, 3.0)), "x": (np.zeros(9), np.full(9, np.exp(2.25)))},
        },
    }
