"""Streaming conjugate updates: chunk by chunk == event by event == one batch update; bad events are named."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from bayeskit.conjugate import BetaBinomial, GammaPoisson, NormalInverseGamma, NormalKnownVariance
from bayeskit.decide.stream import update_stream

RNG = np.random.default_rng(7)
ARMS = RNG.integers(0, 3, 600)
CASES = {
    "beta": (BetaBinomial(np.ones(3), np.ones(3)), (RNG.random(600) < 0.3).astype(int)),
    "gamma": (GammaPoisson(np.ones(3), np.ones(3)), RNG.poisson(2.0, 600)),
    "normal": (NormalKnownVariance(np.zeros(3), 4.0 * np.ones(3), 2.0), RNG.normal(1.0, 1.5, 600)),
    "nig": (NormalInverseGamma(np.zeros(3), np.ones(3), np.ones(3), np.ones(3)), RNG.normal(50.0, 3.0, 600)),
}


def batch_update(prior, arms, values):
    """Each arm's posterior from all its events at once, with the family's own update."""
    params = {}
    for arm in range(3):
        x = values[arms == arm]
        one = type(prior)._make(**{k: np.broadcast_to(v, (3,))[arm] for k, v in _fields(prior).items()})
        if isinstance(prior, BetaBinomial):
            one = one.update(successes=x.sum(), trials=len(x))
        elif isinstance(prior, GammaPoisson):
            one = one.update(counts=x.sum(), exposure=len(x))
        else:
            one = one.update(x)
        for k, v in _fields(one).items():
            params.setdefault(k, []).append(float(v))
    return params


def _fields(posterior):
    return {field.name: getattr(posterior, field.name) for field in dataclasses.fields(posterior)}


@pytest.mark.parametrize("family", list(CASES))
def test_chunked_equals_event_by_event_equals_batch(family):
    prior, values = CASES[family]
    chunked = update_stream(prior, (ARMS, values), chunk_size=64)
    one_by_one = prior
    for arm, value in zip(ARMS, values, strict=True):
        one_by_one = update_stream(one_by_one, (np.array([arm]), np.array([value])))
    expected = batch_update(prior, ARMS, values)
    for name, value in expected.items():
        np.testing.assert_allclose(getattr(chunked, name), value, rtol=1e-10)
        np.testing.assert_allclose(getattr(one_by_one, name), value, rtol=1e-9)


def test_a_million_events_from_dataframe_chunks():
    rng = np.random.default_rng(0)
    arms = rng.integers(0, 2, 1_000_000)
    clicks = (rng.random(1_000_000) < np.array([0.05, 0.06])[arms]).astype(int)
    frames = (
        pd.DataFrame({"arm": arms[i : i + 250_000], "value": clicks[i : i + 250_000]}) for i in range(0, 10**6, 250_000)
    )
    posterior = update_stream(BetaBinomial([1.0, 1.0], [1.0, 1.0]), frames)
    np.testing.assert_array_equal(posterior.alpha, 1 + np.bincount(arms, weights=clicks))
    np.testing.assert_array_equal(posterior.alpha + posterior.beta, 2 + np.bincount(arms))


def test_scalar_posterior_takes_plain_values():
    posterior = update_stream(BetaBinomial(2.0, 2.0), [1, 0, 1, 1])
    assert (float(posterior.alpha), float(posterior.beta)) == (5.0, 3.0)


@pytest.mark.parametrize(
    ("posterior", "events", "message"),
    [
        (BetaBinomial(1.0, 1.0), [1, 0, 2], "event 2 has value 2.0; expected 0 or 1"),
        (GammaPoisson(1.0, 1.0), [1, -1], "event 1 has value -1.0; expected a non-negative whole count"),
        (NormalKnownVariance(0.0, 1.0, 1.0), [0.0, np.nan], "event 1 has value nan"),
        (BetaBinomial([1.0, 1.0], [1.0, 1.0]), [1, 0], "the posterior has 2 arms; give \\(arms, values\\)"),
        (BetaBinomial([1.0, 1.0], [1.0, 1.0]), ([0, 2], [1, 0]), "event 1 names arm 2"),
        (BetaBinomial(1.0, 1.0), np.array(["1", "0"]), "event values must be numbers"),
        (BetaBinomial(1.0, 1.0), pd.DataFrame({"clicks": [1]}), "needs a `value` column"),
        ("beta", [1], "`posterior` must be one of"),
    ],
)
def test_bad_events_are_named(posterior, events, message):
    with pytest.raises((ValueError, TypeError), match=message):
        update_stream(posterior, events)
