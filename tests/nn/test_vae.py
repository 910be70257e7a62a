"""The VAE: a linear Gaussian VAE reaches factor analysis' likelihood; KL against bayeskit.info; bounds; bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.decomposition import FactorAnalysis

from bayeskit.datasets import load_dataset
from bayeskit.info import kl_normal_standard
from bayeskit.nn.vae import VAE, VAEModel


@pytest.fixture(scope="module")
def digits():
    return (load_dataset("digits").iloc[:, :64].to_numpy() >= 8).astype(float)


def test_linear_gaussian_vae_reaches_the_factor_analysis_likelihood():
    # With linear maps and a Gaussian likelihood the VAE is factor analysis, whose exact posterior can be rotated
    # to be diagonal: the ELBO's optimum is the maximum log-likelihood (scikit-learn's FactorAnalysis.score).
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2)) @ rng.normal(size=(5, 2)).T + 0.3 * rng.normal(size=(2000, 5))
    model = VAE(latent_dim=2, hidden=(), likelihood="gaussian", epochs=2000, patience=100, learning_rate=1e-2)
    model.set_params(validation_fraction=0.0).fit(x)
    standardized = (x - x.mean(axis=0)) / x.std(axis=0)
    reference = FactorAnalysis(n_components=2).fit(standardized).score(standardized)
    elbos = [model.elbo(x, key=s)["elbo"] for s in range(5)]
    weighted = model.log_likelihood(x, key=0, num_samples=200).mean()
    assert np.mean(elbos) == pytest.approx(reference, abs=0.03)
    assert weighted == pytest.approx(reference, abs=0.03)


def test_kl_term_is_bayeskit_infos_closed_form_and_matches_monte_carlo():
    model = VAEModel(6, 3, (8,), "bernoulli", jax.random.PRNGKey(0))
    x = jnp.asarray(np.random.default_rng(1).integers(0, 2, size=6), jnp.float32)
    mean, log_var = model.encode(x)
    _, kl = model.elbo_terms(x, jax.random.PRNGKey(2))
    mean64, log_var64 = np.asarray(mean, float), np.asarray(log_var, float)
    assert float(kl) == pytest.approx(float(kl_normal_standard(mean64, log_var64)), rel=1e-5)
    draws = mean64 + np.exp(0.5 * log_var64) * np.random.default_rng(3).standard_normal((200_000, 3))
    log_ratio = (-0.5 * ((draws - mean64) ** 2 / np.exp(log_var64) + log_var64) + 0.5 * draws**2).sum(axis=1)
    assert abs(log_ratio.mean() - float(kl)) < 4 * log_ratio.std() / np.sqrt(log_ratio.size)


def test_vae_on_binarized_digits_reports_its_elbo_terms(digits):
    x = digits
    model = VAE(latent_dim=2, hidden=(64,), epochs=60, patience=60).fit(x[:800])
    assert model.elbo_.shape == model.kl_.shape == model.reconstruction_.shape == (model.epochs_run_,)
    np.testing.assert_allclose(model.elbo_, model.reconstruction_ - model.kl_)
    assert model.elbo_[-5:].mean() > model.elbo_[:5].mean() + 5  # it learned
    held_out = model.elbo(x[1500:], key=0)
    assert held_out["elbo"] == pytest.approx(held_out["reconstruction"] - held_out["kl"])
    assert held_out["kl"] > 0 and held_out["elbo"] < 0
    # The importance-weighted estimate is a tighter bound: above the ELBO on average.
    assert model.log_likelihood(x[1500:], key=1, num_samples=100).mean() > held_out["elbo"]
    mean, std = model.encode(x[:5])
    assert mean.shape == std.shape == (5, 2) and np.all(std > 0)
    reconstruction, samples = model.reconstruct(x[:5]), model.sample(0, 7)
    assert reconstruction.shape == (5, 64) and samples.shape == (7, 64)
    assert np.all((samples >= 0) & (samples <= 1))


@pytest.mark.parametrize(
    ("make", "x", "message"),
    [
        (VAE, np.full((50, 3), 0.5), r"`X` must be 0/1 for likelihood='bernoulli'; column 'x0' has 0.5 at row 0"),
        (VAE, np.where(np.eye(50, 3) > 0, np.nan, 0.0), r"`X` column 'x0' has a missing \(NaN\) value at row 0"),
        (lambda: VAE(likelihood="poisson"), np.zeros((50, 3)), "unknown likelihood 'poisson'"),
        (lambda: VAE(latent_dim=0), np.zeros((50, 3)), "`latent_dim` must be a positive int"),
    ],
)
def test_bad_input(make, x, message):
    with pytest.raises(ValueError, match=message):
        make().fit(x)


def test_unfitted_vae_says_so():
    with pytest.raises(ValueError, match="not fitted yet"):
        VAE().encode(np.zeros((2, 3)))
