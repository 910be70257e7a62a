"""One conformance test over every rung: the Posterior protocol's behaviour, not only its method names.

Each case builds a small result of one rung (exact families and their predictives, NUTS,
Laplace, ADVI and their predictives, exact and sparse GPs, every network method and head, the
continual learner's predictives and weight posteriors, the ready regressions, the Kalman and
particle estimates) and runs the same checks on it.
"""

from __future__ import annotations

import jax
import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd
import pytest
import xarray as xr

from bayeskit.posterior import Decomposition, Interval, Posterior, Predictive

RNG = np.random.default_rng(0)
X1 = np.linspace(-2, 2, 40)[:, None]
Y1 = np.sin(2 * X1[:, 0]) + 0.1 * RNG.normal(size=40)
X_NEW = np.array([[-1.0], [0.0], [3.0]])
LABELS = (X1[:, 0] > 0).astype(int)


def _coin(trials, successes=None):
    p = numpyro.sample("p", dist.Beta(2.0, 2.0))
    numpyro.sample("k", dist.Binomial(trials, probs=p), obs=successes)


def _exact():
    from bayeskit import conjugate as c

    x = RNG.normal(size=(30, 2))
    y = x @ np.array([1.0, -1.0]) + 0.3 * RNG.normal(size=30)
    return {
        "beta-binomial": c.BetaBinomial(2, 2).update(3, 10),
        "beta-binomial batch": c.BetaBinomial(1, 1).update(np.array([3, 40]), np.array([10, 100])),
        "gamma-poisson": c.GammaPoisson(2, 1).update(7, 3.0),
        "normal known variance": c.NormalKnownVariance(0, 4, noise_variance=1.0).update([0.5, 1.2, 0.9]),
        "normal-inverse-gamma": c.NormalInverseGamma(0, 1, 2, 2).update([4.9, 5.3, 5.1, 4.7]),
        "dirichlet": c.DirichletMultinomial([1.0, 1.0, 1.0]).update([5, 2, 9]),
        "linear regression": c.BayesianLinearRegression(np.zeros(2), 1.0).update(x, y),
    }


def _exact_predictives():
    exact = _exact()
    return {
        "beta-binomial predictive": exact["beta-binomial"].predictive(12),
        "negative-binomial predictive": exact["gamma-poisson"].predictive(2.0),
        "normal predictive": exact["normal known variance"].predictive(),
        "student-t predictive": exact["normal-inverse-gamma"].predictive(),
        "dirichlet-multinomial predictive": exact["dirichlet"].predictive(10),
        "regression predictive": exact["linear regression"].predictive(RNG.normal(size=(4, 2))),
    }


def _engines():
    from bayeskit.infer import advi, laplace, nuts

    key = jax.random.key(0)
    return {
        "nuts": nuts(_coin, 50, successes=18, key=key, num_warmup=300, num_samples=300),
        "laplace": laplace(_coin, 50, successes=18, key=key),
        "advi": advi(_coin, 50, successes=18, key=key, num_steps=2000),
    }


def _draws_predictives():
    engines = _BUILT.setdefault("engine", _engines())
    return {
        "nuts predictive": engines["nuts"].predictive(0),
        "laplace predictive": engines["laplace"].predictive(jax.random.key(1), num_samples=500),
    }


def _gps():
    from bayeskit.gp import GPRegressor, Matern52, SparseGPRegressor

    return {
        "gp exact": GPRegressor(Matern52(1.0)).fit(X1, Y1).predictive(X_NEW),
        "gp sparse": SparseGPRegressor(num_inducing=8, epochs=20).fit(X1, Y1).predictive(X_NEW),
    }


def _networks():
    from bayeskit.nn import SWAG, BayesByBackprop, DeepEnsemble, LastLayerLaplace, MCDropout

    small = {"epochs": 5, "hidden": (8,)}
    return {
        "ensemble heteroscedastic": DeepEnsemble(members=2, **small).fit(X1, Y1).predictive(X_NEW),
        "ensemble mixture head": DeepEnsemble(members=2, head="mixture", components=2, **small)
        .fit(X1, Y1)
        .predictive(X_NEW),
        "ensemble categorical": DeepEnsemble(members=4, head="categorical", **small).fit(X1, LABELS).predictive(X_NEW),
        "mc dropout": MCDropout(passes=10, **small).fit(X1, Y1).predictive(X_NEW),
        "swag": SWAG(swag_epochs=3, num_draws=5, **small).fit(X1, Y1).predictive(X_NEW),
        "bayes by backprop": BayesByBackprop(passes=5, **small).fit(X1, Y1).predictive(X_NEW),
        "last-layer laplace": LastLayerLaplace(**small).fit(X1, Y1).predictive(X_NEW),
        **{f"continual {name}": model.predictive(X_NEW) for name, model in _continual().items()},
    }


def _continual():
    from bayeskit.nn import Continual

    if "continual" not in _BUILT:
        shifted = (X1 + 1.0, LABELS)
        _BUILT["continual"] = {
            method: Continual(method, hidden=(8,), epochs=5, num_samples=20).fit_task(X1, LABELS).fit_task(*shifted)
            for method in ("online-laplace", "vcl")
        }
    return _BUILT["continual"]


def _weights():
    return {f"{name} weights": model.posterior_ for name, model in _continual().items()}


def _models():
    from bayeskit.models import BayesianLinearRegression, BayesianLogisticRegression

    x = RNG.normal(size=(40, 2))
    y = x @ np.array([0.5, -1.0]) + 0.2 * RNG.normal(size=40)
    return {
        "ready linear regression": BayesianLinearRegression().fit(x, y).predictive(x[:3]),
        "ready logistic regression": BayesianLogisticRegression().fit(x, (y > 0).astype(int)).predictive(x[:3]),
    }


def _states():
    from bayeskit.sequential import LinearGaussianSSM, NonlinearSSM

    model = LinearGaussianSSM(
        transition=np.array([[0.9, 0.2], [-0.1, 0.8]]),
        transition_cov=np.array([[0.3, 0.1], [0.1, 0.2]]),
        observation=np.array([[1.0, 0.5]]),
        observation_cov=0.4,
        initial_mean=np.zeros(2),
        initial_cov=np.eye(2),
    )
    _, y = model.sample(jax.random.key(0), 15)
    return {
        "kalman filter": model.filter(y),
        "kalman smoother": model.smooth(y),
        "particle filter": NonlinearSSM.from_linear(model).particle_filter(jax.random.key(1), y, 300),
    }


BUILDERS = {
    "exact": _exact,
    "exact predictive": _exact_predictives,
    "engine": _engines,
    "draws predictive": _draws_predictives,
    "gp": _gps,
    "network": _networks,
    "model": _models,
    "state": _states,
    "weights": _weights,
}
CASES = [
    ("exact", n)
    for n in (
        "beta-binomial",
        "beta-binomial batch",
        "gamma-poisson",
        "normal known variance",
        "normal-inverse-gamma",
        "dirichlet",
        "linear regression",
    )
]
CASES += [
    ("exact predictive", n)
    for n in (
        "beta-binomial predictive",
        "negative-binomial predictive",
        "normal predictive",
        "student-t predictive",
        "dirichlet-multinomial predictive",
        "regression predictive",
    )
]
CASES += [("engine", n) for n in ("nuts", "laplace", "advi")]
CASES += [("draws predictive", n) for n in ("nuts predictive", "laplace predictive")]
CASES += [("gp", n) for n in ("gp exact", "gp sparse")]
CASES += [
    ("network", n)
    for n in (
        "ensemble heteroscedastic",
        "ensemble mixture head",
        "ensemble categorical",
        "mc dropout",
        "swag",
        "bayes by backprop",
        "last-layer laplace",
        "continual online-laplace",
        "continual vcl",
    )
]
CASES += [("model", n) for n in ("ready linear regression", "ready logistic regression")]
CASES += [("state", n) for n in ("kalman filter", "kalman smoother", "particle filter")]
CASES += [("weights", n) for n in ("online-laplace weights", "vcl weights")]
PREDICTIVE_GROUPS = {"exact predictive", "draws predictive", "gp", "network", "model"}
_BUILT: dict[str, dict] = {}


@pytest.fixture(params=CASES, ids=[name for _, name in CASES])
def case(request):
    group, name = request.param
    if group not in _BUILT:
        _BUILT[group] = BUILDERS[group]()
    return group, name, _BUILT[group][name]


PREDICTIVE_CASES = [c for c in CASES if c[0] in PREDICTIVE_GROUPS]


@pytest.fixture(params=PREDICTIVE_CASES, ids=[name for _, name in PREDICTIVE_CASES])
def predictive_case(request):
    group, name = request.param
    if group not in _BUILT:
        _BUILT[group] = BUILDERS[group]()
    return _BUILT[group][name]


def _leaves(value):
    """Arrays of a result, whatever its container (array or dict of arrays by name)."""
    return [np.asarray(v, dtype=float) for v in (value.values() if isinstance(value, dict) else [value])]


def test_satisfies_the_protocol(case):
    group, _, obj = case
    assert isinstance(obj, Posterior)
    assert isinstance(obj, Predictive) == (group in PREDICTIVE_GROUPS)


def test_moments_agree(case):
    _, _, obj = case
    for mean, var, std in zip(_leaves(obj.mean()), _leaves(obj.var()), _leaves(obj.std()), strict=True):
        assert mean.shape == var.shape == std.shape
        np.testing.assert_allclose(std**2, var, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("kind", ["eti", "hdi"])
def test_intervals_are_nested_and_ordered(case, kind):
    _, _, obj = case
    narrow, wide = obj.interval(0.5, kind), obj.interval(0.9, kind)
    assert isinstance(narrow, Interval) and isinstance(wide, Interval)
    for low, high, outer_low, outer_high in zip(
        _leaves(narrow.low), _leaves(narrow.high), _leaves(wide.low), _leaves(wide.high), strict=True
    ):
        assert np.all(low <= high)
        assert np.all(outer_low <= low + 1e-9) and np.all(high <= outer_high + 1e-9)
        assert np.any(outer_high - outer_low > high - low)


@pytest.mark.parametrize("kind", ["eti", "hdi"])
def test_summary_schema(case, kind):
    group, _, obj = case
    table = obj.summary(prob=0.9, kind=kind)
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns[:4]) == ["mean", "sd", f"{kind}_5%", f"{kind}_95%"]
    assert np.all(table[f"{kind}_5%"] <= table[f"{kind}_95%"])
    if group == "engine":
        assert {"mcse_mean", "ess_bulk", "ess_tail", "r_hat"} <= set(table.columns)


def test_bad_interval_arguments_are_named(case):
    _, _, obj = case
    with pytest.raises(ValueError, match="interval kind"):
        obj.interval(0.9, "hpd")
    with pytest.raises(ValueError, match="prob"):
        obj.interval(1.5)


def test_sample_shapes_and_reproducibility_by_key(case):
    _, _, obj = case
    for key_a, key_b in ((3, 3), (np.random.default_rng(3), np.random.default_rng(3)), (jax.random.key(3),) * 2):
        first, second = _leaves(obj.sample(key_a, 7)), _leaves(obj.sample(key_b, 7))
        for a, b, mean in zip(first, second, _leaves(obj.mean()), strict=True):
            assert a.shape[0] == 7 and a.shape[1:] == mean.shape[: a.ndim - 1]
            np.testing.assert_array_equal(a, b)
    other = _leaves(obj.sample(4, 7))
    assert any(not np.array_equal(a, b) for a, b in zip(_leaves(obj.sample(3, 7)), other, strict=True))
    with pytest.raises(TypeError, match="key"):
        obj.sample(None, 7)


def test_to_arviz_round_trip(case):
    group, _, obj = case
    if group not in ("engine", "draws predictive"):  # those hold draws already
        with pytest.raises(TypeError, match="needs `key`"):
            obj.to_arviz()
    tree = obj.to_arviz(key=0, num_draws=400)
    assert isinstance(tree, xr.DataTree)
    node = "posterior" if group in ("exact", "engine", "state", "weights") else "posterior_predictive"
    data = tree[node].to_dataset()
    assert tuple(data.sizes)[:2] == ("chain", "draw")
    if group == "engine":  # the sampler's own draws, unchanged
        for name, values in obj.draws.items():
            np.testing.assert_array_equal(data[name].values, values)
    elif group == "draws predictive":
        np.testing.assert_array_equal(data[obj.site].values[0], obj[obj.site])
    elif group in ("exact", "state", "weights"):
        names = list(obj.mean()) if isinstance(obj.mean(), dict) else list(data.data_vars)
        for name, mean in zip(names, _leaves(obj.mean()), strict=True):
            values = data[name].values.reshape(-1, *np.shape(mean))
            spread = values.std(axis=0) / np.sqrt(values.shape[0])
            assert np.all(np.abs(values.mean(axis=0) - mean) <= 5 * spread + 1e-9)


def test_decompose_sums_to_the_total(predictive_case):
    parts = predictive_case.decompose()
    assert isinstance(parts, Decomposition)
    np.testing.assert_allclose(parts.aleatoric + parts.epistemic, parts.total, rtol=1e-9, atol=1e-12)
    assert np.all(parts.aleatoric >= -1e-12) and np.all(parts.epistemic >= -1e-12)


def test_check_returns_findings(case):
    _, _, obj = case
    findings = obj.check()
    assert isinstance(findings, tuple)
    assert all(hasattr(f, "advice") for f in findings)
