"""Model comparison: LOO against exact leave-one-out, AIC/BIC against closed forms, Bayes factors, the table."""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest
from scipy import stats

from bayeskit.compare import bayes_factor, compare, information_criteria
from bayeskit.conjugate import NormalKnownVariance
from bayeskit.infer import laplace, nuts
from bayeskit.models import BayesianLinearRegression

rng = np.random.default_rng(1)
Y = jnp.asarray(rng.normal(1.0, 1.0, size=30))
X_LINE = jnp.asarray(np.linspace(-2, 2, 40))
Y_QUAD = X_LINE + 0.8 * X_LINE**2 + jnp.asarray(0.3 * rng.normal(size=40))


def normal_mean(y):
    mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
    with numpyro.plate("n", y.shape[0]):
        numpyro.sample("y", dist.Normal(mu, 1.0), obs=y)


def polynomial(x, degree, y=None):
    w = numpyro.sample("w", dist.Normal(0.0, 5.0).expand([degree + 1]).to_event(1))
    sigma = numpyro.sample("sigma", dist.HalfNormal(2.0))
    mean = sum(w[j] * x**j for j in range(degree + 1))
    with numpyro.plate("n", x.shape[0]):
        numpyro.sample("y", dist.Normal(mean, sigma), obs=y)


@pytest.fixture(scope="module")
def mean_fit():
    return nuts(normal_mean, Y, key=jax.random.key(0), num_warmup=500, num_samples=1000)


def test_loo_matches_exact_leave_one_out(mean_fit):
    criteria = information_criteria(mean_fit)
    y = np.asarray(Y)
    exact = 0.0
    for i in range(y.size):
        rest = np.delete(y, i)
        posterior = NormalKnownVariance(0.0, 100.0, 1.0).update(rest)
        exact += stats.norm(float(posterior.mean()), np.sqrt(float(posterior.var()) + 1.0)).logpdf(y[i])
    assert criteria["elpd_loo"] == pytest.approx(exact, abs=0.05)  # Monte Carlo error of PSIS on 4000 draws
    full = NormalKnownVariance(0.0, 100.0, 1.0).update(y)
    lppd = stats.norm(float(full.mean()), np.sqrt(float(full.var()) + 1.0)).logpdf(y).sum()
    assert criteria["p_loo"] == pytest.approx(lppd - exact, abs=0.05)
    assert criteria["pareto_k_bad"] == 0 and criteria["warnings"] == ""
    assert criteria["elpd_waic"] == pytest.approx(criteria["elpd_loo"], abs=0.1)


def test_aic_and_bic_at_the_maximum_likelihood(mean_fit):
    criteria = information_criteria(mean_fit)
    y = np.asarray(Y)
    max_log_lik = stats.norm(y.mean(), 1.0).logpdf(y).sum()
    assert criteria["num_parameters"] == 1 and criteria["num_observations"] == 30
    assert criteria["max_log_likelihood"] <= max_log_lik + 1e-4
    assert criteria["aic"] == pytest.approx(-2 * max_log_lik + 2, abs=0.05)  # best of 4000 draws is near the MLE
    assert criteria["bic"] == pytest.approx(-2 * max_log_lik + np.log(30), abs=0.05)


def test_compare_ranks_the_true_model_first():
    # Laplace draws serve LOO as well as NUTS draws here (both posteriors are near-Gaussian) and compile faster.
    fits = {f"degree {d}": laplace(polynomial, X_LINE, d, y=Y_QUAD, key=jax.random.key(d)) for d in (1, 2)}
    table = compare(fits)
    assert table.index[0] == "degree 2"
    assert table.loc["degree 1", "elpd_diff"] < -4 * table.loc["degree 1", "se_diff"]
    assert table.loc["degree 2", "weight"] > 0.9
    assert table.loc["degree 2", "bic"] < table.loc["degree 1", "bic"]
    assert {"waic", "aic", "pareto_k_bad", "warnings"} <= set(table.columns)


def test_an_influential_point_gets_a_pareto_k_warning():
    y = np.asarray(Y).copy()
    y[0] = 25.0
    fit = nuts(normal_mean, jnp.asarray(y), key=jax.random.key(1), num_warmup=500, num_samples=1000)
    criteria = information_criteria(fit)
    assert criteria["pareto_k"][0] > 0.7 and criteria["pareto_k_bad"] >= 1
    assert "Pareto k > 0.7" in criteria["warnings"]


def test_bayes_factors_exact_and_laplace_agree_for_a_gaussian_model():
    exact = NormalKnownVariance(0.0, 100.0, 1.0).log_marginal_likelihood(np.asarray(Y))
    approximate = laplace(normal_mean, Y, key=jax.random.key(0))
    assert approximate.details["log_evidence"] == pytest.approx(float(exact), abs=1e-3)
    null = NormalKnownVariance(0.0, 1e-6, 1.0).log_marginal_likelihood(np.asarray(Y))  # mu = 0 exactly
    result = bayes_factor(approximate, float(null))
    assert result.favours == "model 1" and result.evidence == "very strong"
    assert result.log_bayes_factor == pytest.approx(float(exact - null), abs=1e-3)


def test_bayes_factor_from_estimators():
    x = np.asarray(X_LINE)[:, None]
    linear = BayesianLinearRegression().fit(x, np.asarray(Y_QUAD))
    quadratic = BayesianLinearRegression().fit(np.column_stack([x, x**2]), np.asarray(Y_QUAD))
    assert bayes_factor(quadratic, linear).favours == "model 1"


def test_bad_inputs():
    with pytest.raises(ValueError, match="at least two named fitted models"):
        compare({"one": None})
    with pytest.raises(ValueError, match="comparison needs posterior draws"):
        information_criteria(NormalKnownVariance(0.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="NUTS and ADVI draws do not give the evidence"):
        bayes_factor(object(), 1.0)
    with pytest.raises(ValueError, match="non-finite log evidence"):
        bayes_factor(float("nan"), 1.0)


def test_bayes_factor_takes_any_two_rungs_with_evidence():
    from bayeskit.conjugate import BetaBinomial
    from bayeskit.gp import RBF, GPRegressor, Linear

    x = np.linspace(-3, 3, 40)[:, None]
    y = np.sin(2 * x[:, 0]) + 0.1 * np.random.default_rng(0).normal(size=40)
    smooth, straight = GPRegressor(RBF(1.0)).fit(x, y), GPRegressor(Linear()).fit(x, y)
    result = bayes_factor(smooth, straight)  # two GPs: a wiggly function is far likelier under RBF
    assert result.favours == "model 1" and result.log_bayes_factor == pytest.approx(
        smooth.log_marginal_likelihood_ - straight.log_marginal_likelihood_
    )
    fair, vague = BetaBinomial(500, 500).update(70, 100), BetaBinomial(1, 1).update(70, 100)
    assert bayes_factor(vague, fair).log_bayes_factor == pytest.approx(
        float(
            BetaBinomial(1, 1).log_marginal_likelihood(70, 100)
            - BetaBinomial(500, 500).log_marginal_likelihood(70, 100)
        )
    )
    with pytest.raises(ValueError, match="holds a batch of 2 posteriors"):
        bayes_factor(BetaBinomial([1, 2], 1).update(3, 5), fair)
