"""KL divergences and entropies against numerical integration and SciPy."""

import numpy as np
import pytest
from scipy import integrate, stats

from bayeskit import info


def _kl_by_quadrature(p, q, low, high):
    def integrand(x):
        px = p.pdf(x)
        return 0.0 if px == 0 else px * (p.logpdf(x) - q.logpdf(x))

    value, _ = integrate.quad(integrand, low, high, limit=400, epsabs=1e-12)
    return value


def test_kl_normal_matches_quadrature():
    expected = _kl_by_quadrature(stats.norm(0.3, 1.5), stats.norm(-1.0, 0.7), -np.inf, np.inf)
    assert float(info.kl_normal(0.3, 1.5**2, -1.0, 0.7**2)) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize(("a1", "b1", "a2", "b2"), [(2, 3, 4, 1.5), (0.7, 0.9, 3, 3), (30, 10, 25, 12)])
def test_kl_beta_matches_quadrature(a1, b1, a2, b2):
    expected = _kl_by_quadrature(stats.beta(a1, b1), stats.beta(a2, b2), 0, 1)
    assert float(info.kl_beta(a1, b1, a2, b2)) == pytest.approx(expected, rel=1e-6)


def test_kl_gamma_matches_quadrature():
    expected = _kl_by_quadrature(stats.gamma(2.5, scale=1 / 1.5), stats.gamma(4.0, scale=1 / 0.5), 0, np.inf)
    assert float(info.kl_gamma(2.5, 1.5, 4.0, 0.5)) == pytest.approx(expected, rel=1e-8)


def test_kl_dirichlet_with_two_categories_is_kl_beta():
    assert float(info.kl_dirichlet(np.array([2.0, 3.0]), np.array([4.0, 1.5]))) == pytest.approx(
        float(info.kl_beta(2.0, 3.0, 4.0, 1.5)), rel=1e-12
    )


def test_kl_dirichlet_matches_monte_carlo():
    a, b = np.array([2.0, 3.0, 0.8]), np.array([1.0, 1.0, 1.0])
    draws = stats.dirichlet(a).rvs(200_000, random_state=np.random.default_rng(3))
    log_ratio = stats.dirichlet(a).logpdf(draws.T) - stats.dirichlet(b).logpdf(draws.T)
    mcse = log_ratio.std() / np.sqrt(log_ratio.size)
    assert abs(log_ratio.mean() - float(info.kl_dirichlet(a, b))) < 4 * mcse


def test_kl_multivariate_normal_diagonal_is_sum_of_univariate():
    m1, m2 = np.array([0.1, -0.3, 2.0]), np.array([1.0, 0.0, 0.0])
    v1, v2 = np.array([1.0, 2.0, 0.5]), np.array([0.3, 1.0, 4.0])
    total = float(info.kl_multivariate_normal(m1, np.diag(v1), m2, np.diag(v2)))
    assert total == pytest.approx(float(np.sum(info.kl_normal(m1, v1, m2, v2))), rel=1e-12)


def test_kl_multivariate_normal_matches_monte_carlo_with_correlation():
    cov_p = np.array([[1.0, 0.8], [0.8, 1.0]])
    cov_q = np.array([[2.0, -0.3], [-0.3, 0.5]])
    p, q = stats.multivariate_normal([0.0, 1.0], cov_p), stats.multivariate_normal([0.5, 0.0], cov_q)
    draws = p.rvs(200_000, random_state=np.random.default_rng(5))
    log_ratio = p.logpdf(draws) - q.logpdf(draws)
    mcse = log_ratio.std() / np.sqrt(log_ratio.size)
    assert (
        abs(
            log_ratio.mean()
            - float(info.kl_multivariate_normal(np.array([0.0, 1.0]), cov_p, np.array([0.5, 0.0]), cov_q))
        )
        < 4 * mcse
    )


def test_kl_normal_standard_is_the_vae_term():
    mean, log_var = np.array([[0.5, -1.0]]), np.array([[0.2, -0.4]])
    expected = np.sum(info.kl_normal(mean, np.exp(log_var), 0.0, 1.0), axis=-1)
    np.testing.assert_allclose(info.kl_normal_standard(mean, log_var), expected, rtol=1e-12)


def test_jax_inputs_stay_in_jax_and_differentiate():
    import jax
    import jax.numpy as jnp

    value = jax.jit(info.kl_normal_standard)(jnp.array([0.5, -1.0]), jnp.array([0.2, -0.4]))
    assert isinstance(value, jax.Array)
    assert float(value) == pytest.approx(
        float(info.kl_normal_standard(np.array([0.5, -1.0]), np.array([0.2, -0.4]))), rel=1e-6
    )
    gradient = jax.grad(lambda m: info.kl_normal_standard(m, jnp.zeros(2)))(jnp.array([0.5, -1.0]))
    np.testing.assert_allclose(np.asarray(gradient), [0.5, -1.0], rtol=1e-6)


def test_kl_categorical_and_entropy():
    p, q = np.array([0.2, 0.5, 0.3]), np.array([0.1, 0.1, 0.8])
    assert float(info.kl_categorical(p, q)) == pytest.approx(stats.entropy(p, q), rel=1e-12)
    assert float(info.entropy_categorical(p)) == pytest.approx(stats.entropy(p), rel=1e-12)
    assert float(info.entropy_categorical([1.0, 0.0])) == 0.0
    assert float(info.kl_categorical([0.5, 0.5], [1.0, 0.0])) == np.inf


@pytest.mark.parametrize(
    ("ours", "reference"),
    [
        (lambda: info.entropy_normal(2.5), lambda: stats.norm(0, np.sqrt(2.5)).entropy()),
        (lambda: info.entropy_beta(2.0, 5.0), lambda: stats.beta(2, 5).entropy()),
        (lambda: info.entropy_gamma(3.0, 2.0), lambda: stats.gamma(3.0, scale=0.5).entropy()),
        (
            lambda: info.entropy_dirichlet(np.array([1.5, 2.0, 4.0])),
            lambda: stats.dirichlet([1.5, 2.0, 4.0]).entropy(),
        ),
        (
            lambda: info.entropy_multivariate_normal(np.array([[2.0, 0.3], [0.3, 1.0]])),
            lambda: stats.multivariate_normal([0, 0], [[2.0, 0.3], [0.3, 1.0]]).entropy(),
        ),
    ],
)
def test_entropies_match_scipy(ours, reference):
    assert float(ours()) == pytest.approx(float(reference()), rel=1e-10)


def test_bad_input():
    with pytest.raises(ValueError, match=r"`var_p` must be finite and > 0; got -1.0"):
        info.kl_normal(0.0, -1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="`p` must be non-negative probabilities summing to 1"):
        info.kl_categorical([0.5, 0.6], [0.5, 0.5])
