import numpy as np
import pytest
from scipy import optimize, stats

from bayeskit.conjugate import BetaBinomial, GammaPoisson, NormalKnownVariance
from bayeskit.estimate import gaussian_mle, point_estimates, student_t_mle


@pytest.fixture
def contaminated():
    rng = np.random.default_rng(11)
    clean = 100 + 0.5 * rng.standard_normal(60)
    return np.concatenate([clean, [106.0, 107.5, 105.2, 109.0, 104.0]]), clean


def test_gaussian_mle_biased_and_unbiased():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    assert gaussian_mle(x).variance == pytest.approx(np.var(x))
    assert gaussian_mle(x, unbiased=True).variance == pytest.approx(np.var(x, ddof=1))
    assert gaussian_mle(x).mean == pytest.approx(3.5)


def test_student_t_mle_with_fixed_df_matches_scipy_fit(contaminated):
    x, _ = contaminated
    fit = student_t_mle(x, df=4.0)
    _, loc, scale = stats.t.fit(x, f0=4.0)
    assert fit.converged
    assert fit.loc == pytest.approx(loc, abs=1e-5)
    assert fit.scale == pytest.approx(scale, rel=1e-4)
    assert fit.log_likelihood >= stats.t.logpdf(x, 4.0, loc, scale).sum() - 1e-8


def test_student_t_mle_with_free_df_matches_a_direct_optimizer(contaminated):
    x, _ = contaminated
    fit = student_t_mle(x, df=None)

    def negative_log_likelihood(theta):
        loc, log_scale, log_df = theta
        return -stats.t.logpdf(x, np.exp(log_df), loc, np.exp(log_scale)).sum()

    result = optimize.minimize(
        negative_log_likelihood,
        x0=[np.median(x), 0.0, 1.0],
        method="L-BFGS-B",
        bounds=[(None, None), (None, None), (0.0, np.log(1000))],
    )
    assert fit.log_likelihood >= -result.fun - 1e-6
    assert fit.loc == pytest.approx(result.x[0], abs=1e-3)
    assert fit.df == pytest.approx(np.exp(result.x[2]), rel=1e-2)


def test_student_t_resists_outliers_that_drag_the_gaussian(contaminated):
    x, clean = contaminated
    truth = clean.mean()
    assert abs(gaussian_mle(x).mean - truth) > 0.4
    assert abs(student_t_mle(x).loc - truth) < 0.1


def test_point_estimates_prior_washes_out():
    rng = np.random.default_rng(0)
    flips = (rng.uniform(size=2000) < 0.7).astype(float)
    table = point_estimates(BetaBinomial(30, 10), flips)
    gap = (table["mle"] - table["posterior_mean"]).abs()
    assert gap.iloc[10] > gap.iloc[100] > gap.iloc[2000]
    assert gap.iloc[2000] < 0.01
    assert np.isnan(table["mle"].iloc[0])
    assert table["posterior_mean"].iloc[0] == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("prior", "data"),
    [
        (BetaBinomial(2, 3), [1, 0, 1, 1]),
        (GammaPoisson(2, 1), [3, 0, 5]),
        (NormalKnownVariance(0, 4, 1), [0.3, 2.0, -1.0]),
    ],
)
def test_point_estimates_rows_equal_direct_updates(prior, data):
    table = point_estimates(prior, data)
    for n in range(len(data) + 1):
        if isinstance(prior, BetaBinomial):
            direct = prior.update(sum(data[:n]), n)
        elif isinstance(prior, GammaPoisson):
            direct = prior.update(sum(data[:n]), n)
        else:
            direct = prior.update(data[:n])
        assert table["posterior_mean"].iloc[n] == pytest.approx(float(direct.mean()))
        assert table["map"].iloc[n] == pytest.approx(float(direct.mode()))


def test_bad_input():
    with pytest.raises(ValueError, match=r"`x` needs at least 2 observations; got 1"):
        student_t_mle([1.0])
    with pytest.raises(ValueError, match=r"`x` must be finite"):
        gaussian_mle([1.0, np.nan])
    with pytest.raises(ValueError, match=r"`df` must be > 0"):
        student_t_mle([1.0, 2.0], df=-1)
    with pytest.raises(TypeError, match=r"`prior` must be a BetaBinomial, GammaPoisson or NormalKnownVariance"):
        point_estimates(object.__new__(type("Other", (), {"batch_shape": ()})), [1.0])
    with pytest.raises(ValueError, match=r"`observations` must be 1-D"):
        point_estimates(BetaBinomial(), np.ones((2, 2)))
