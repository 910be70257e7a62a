"""Calibration of the sequential engines: true states fall in their credible intervals as often as promised.

The simulation-based check for exact Gaussian posteriors: draw states and data from the
model, and the true state's z-score under each step's posterior marginal must be N(0, 1),
so a 90% interval holds it 90% of the time. The particle filter's Gaussian summary of its
cloud is held to the same standard on a linear model, and NUTS on the Kalman likelihood
agrees with quadrature of the same posterior on a dense grid.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from bayeskit.sequential import LinearGaussianSSM, NonlinearSSM, SSMParams, kalman_filter

pytestmark = pytest.mark.statistical


@pytest.fixture(scope="module")
def model():
    return LinearGaussianSSM(
        transition=np.array([[1.0, 1.0], [0.0, 1.0]]),
        transition_cov=np.array([[0.05, 0.02], [0.02, 0.05]]),
        observation=np.array([[1.0, 0.0]]),
        observation_cov=0.5,
        initial_mean=np.zeros(2),
        initial_cov=np.eye(2),
    )


@pytest.mark.parametrize("kind", ["filter", "smooth"])
def test_kalman_intervals_cover_the_true_states(model, kind):
    states, ys = model.sample(jax.random.key(10), 30, num_series=400)
    estimate = getattr(model, kind)(ys)
    z = (states - estimate.means) / estimate.std()  # (400, 30, 2)
    inside = np.abs(z) < stats.norm.ppf(0.95)
    # 24,000 z-scores, but correlated within a series: judge by series means (400 independent values).
    per_series = inside.mean(axis=(1, 2))
    assert abs(per_series.mean() - 0.90) < 4 * per_series.std(ddof=1) / np.sqrt(400)
    per_series_var = (z**2).mean(axis=(1, 2))
    assert abs(per_series_var.mean() - 1.0) < 4 * per_series_var.std(ddof=1) / np.sqrt(400)


def test_particle_filter_intervals_cover_the_true_states(model):
    states, ys = model.sample(jax.random.key(11), 25, num_series=60)
    particles = NonlinearSSM.from_linear(model)
    hits = []
    for i in range(60):
        estimate = particles.particle_filter(jax.random.key(100 + i), ys[i], num_particles=2000)
        low, high = estimate.interval(0.9)
        hits.append(np.mean((low <= states[i]) & (states[i] <= high)))
    hits = np.array(hits)
    assert abs(hits.mean() - 0.90) < 4 * hits.std(ddof=1) / np.sqrt(len(hits))


def test_nuts_on_the_kalman_likelihood_matches_quadrature_over_the_noise_levels():
    """NUTS over (process, measurement) noise with the Kalman likelihood == a dense grid posterior."""
    import numpyro
    import numpyro.distributions as dist

    from bayeskit.infer import nuts

    truth = LinearGaussianSSM(1.0, 0.2, 1.0, 1.0, initial_mean=0.0, initial_cov=1.0)
    _, y = truth.sample(jax.random.key(12), 100)
    base = {name: jnp.asarray(getattr(truth, name), jnp.float32) for name in SSMParams._fields}

    def log_likelihood(process, measurement, y):
        eye = jnp.eye(1, dtype=y.dtype)
        params = SSMParams(**{**base, "transition_cov": process * eye, "observation_cov": measurement * eye})
        params = jax.tree.map(lambda a: a.astype(y.dtype), params)
        return kalman_filter(params, y).log_likelihood

    def local_level(y):
        process = numpyro.sample("process", dist.LogNormal(0.0, 2.0))
        measurement = numpyro.sample("measurement", dist.LogNormal(0.0, 2.0))
        numpyro.factor("log_likelihood", log_likelihood(process, measurement, y))

    posterior = nuts(
        local_level, jnp.asarray(y, jnp.float32), key=jax.random.key(0), num_chains=4, num_warmup=300, num_samples=300
    )
    table = posterior.summary()
    assert table["r_hat"].max() < 1.05 and table["ess_bulk"].min() > 200

    # The reference: the posterior on a 160 x 160 grid of log noise levels, in float64.
    with jax.enable_x64(True):
        log_q, log_r = np.meshgrid(np.linspace(-6, 2, 160), np.linspace(-3, 1.5, 160), indexing="ij")
        y64 = jnp.asarray(y, jnp.float64)
        grid_ll = jax.jit(jax.vmap(lambda q, r: log_likelihood(jnp.exp(q), jnp.exp(r), y64)))(
            jnp.asarray(log_q.ravel()), jnp.asarray(log_r.ravel())
        )
    log_density = np.asarray(grid_ll) + stats.norm(0, 2).logpdf(log_q.ravel()) + stats.norm(0, 2).logpdf(log_r.ravel())
    weights = np.exp(log_density - log_density.max())
    weights /= weights.sum()
    assert weights.reshape(160, 160)[[0, -1], :].max() < 1e-6 and weights.reshape(160, 160)[:, [0, -1]].max() < 1e-6
    for name, values in (("process", np.exp(log_q.ravel())), ("measurement", np.exp(log_r.ravel()))):
        exact = float(weights @ values)
        estimate, mcse = table.loc[name, "mean"], table.loc[name, "mcse_mean"]
        assert abs(estimate - exact) < 4 * mcse + 1e-3 * exact, (name, estimate, exact, mcse)
