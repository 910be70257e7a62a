"""Every bad input gets a message naming the argument, what was expected and what came."""

import numpy as np
import pytest

from bayeskit.conjugate import (
    BayesianLinearRegression,
    BetaBinomial,
    DirichletMultinomial,
    GammaPoisson,
    NormalInverseGamma,
    NormalKnownVariance,
)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: BetaBinomial(alpha=0), ValueError, r"`alpha` must be > 0; got 0.0"),
        (lambda: BetaBinomial(alpha=[1, -2]), ValueError, r"`alpha` must be > 0; got -2.0 at index 1"),
        (lambda: BetaBinomial(beta=np.nan), ValueError, r"`beta` must be finite; got nan"),
        (lambda: BetaBinomial(alpha="two"), TypeError, r"`alpha` must be numeric; got the text 'two'"),
        (
            lambda: BetaBinomial(alpha=[1, 2]).update(successes=[1, 2, 3], trials=5),
            ValueError,
            r"batch shape \(2,\)",
        ),
        (
            lambda: BetaBinomial().update(successes=-1, trials=5),
            ValueError,
            r"`successes` must be >= 0; got -1.0",
        ),
        (
            lambda: BetaBinomial().update(successes=[3, 130], trials=[4, 120]),
            ValueError,
            r"`successes` must be <= `trials` everywhere; index 1 has 130 > 120",
        ),
        (
            lambda: BetaBinomial().update(successes=2.5, trials=5),
            ValueError,
            r"`successes` must hold whole numbers",
        ),
        (lambda: BetaBinomial().update(successes=["1", "x"], trials=5), TypeError, r"got 'x' at index 1"),
        (lambda: BetaBinomial().update(successes=None, trials=5), TypeError, r"`successes` must be a number"),
        (
            lambda: BetaBinomial().update(successes=1, trials=np.inf),
            ValueError,
            r"`trials` must be finite; got inf",
        ),
        (lambda: BetaBinomial().interval(prob=1.5), ValueError, r"`prob` must be in \(0, 1\)"),
        (
            lambda: BetaBinomial().interval(kind="hpd"),
            ValueError,
            r"unknown interval kind 'hpd'; choose one of 'eti', 'hdi'",
        ),
        (lambda: BetaBinomial().sample(None, 3), TypeError, r"`key` must be a JAX key, a numpy.random.Generator"),
        (lambda: BetaBinomial().sample(0, 0), ValueError, r"`num_samples` must be >= 1"),
        (lambda: GammaPoisson(rate=-1), ValueError, r"`rate` must be > 0"),
        (lambda: GammaPoisson().update(counts=-3, exposure=1), ValueError, r"`counts` must be >= 0"),
        (
            lambda: GammaPoisson().update(counts=3, exposure=0),
            ValueError,
            r"`counts` must be 0 where `exposure` is 0",
        ),
        (lambda: GammaPoisson().update(counts=3, exposure=-1), ValueError, r"`exposure` must be >= 0"),
        (lambda: NormalKnownVariance(variance=0), ValueError, r"`variance` must be > 0"),
        (
            lambda: NormalKnownVariance().update([1.0, np.nan]),
            ValueError,
            r"`x` must be finite; got nan at index 1",
        ),
        (
            lambda: NormalKnownVariance(mean=[0, 1]).update(np.ones((3, 4))),
            ValueError,
            r"`x` must have shape \(n_obs,\) or",
        ),
        (lambda: NormalInverseGamma(kappa=-1), ValueError, r"`kappa` must be > 0"),
        (lambda: DirichletMultinomial([1.0]), ValueError, r"at least 2 categories"),
        (
            lambda: DirichletMultinomial([1.0, 1.0]).update([1, 2, 3]),
            ValueError,
            r"`counts` must have 2 categories",
        ),
        (lambda: DirichletMultinomial([1.0, 1.0]).update([1, -2]), ValueError, r"`counts` must be >= 0"),
        (lambda: BayesianLinearRegression(), ValueError, r"could not tell the number of features"),
        (
            lambda: BayesianLinearRegression(mean=np.zeros(2), precision=-np.eye(2)),
            ValueError,
            r"positive-definite",
        ),
        (
            lambda: BayesianLinearRegression(mean=np.zeros(2)).update(np.ones((5, 3)), np.ones(5)),
            ValueError,
            r"`x` must have shape \(n_obs, 2\)",
        ),
        (
            lambda: BayesianLinearRegression(mean=np.zeros(2)).update(np.ones((5, 2)), np.ones(4)),
            ValueError,
            r"`y` must have shape \(5,\) to match `x`; got \(4,\)",
        ),
    ],
)
def test_bad_input_messages(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_empty_observations_leave_the_posterior_unchanged():
    prior = NormalInverseGamma(1.0, 2.0, 3.0, 4.0)
    same = prior.update(np.array([]))
    assert float(same.beta) == 4.0 and float(same.loc) == 1.0
    assert float(NormalKnownVariance(1.0, 2.0).update([]).loc) == 1.0
