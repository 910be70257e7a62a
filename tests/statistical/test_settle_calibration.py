"""The probability that a decision changes by the planned size is calibrated (data drawn from the analysis prior)."""

import numpy as np
import pandas as pd
import pytest

from bayeskit.decide.settle import decision_stability, simulate_completions
from bayeskit.decide.table import analyze_statistics

pytestmark = pytest.mark.statistical


def _decisions(visitors, conversions):
    num_tests = visitors.shape[0]
    stats = pd.DataFrame(
        {
            "test": np.repeat(np.arange(num_tests), 2),
            "variant": np.tile(["arm0", "arm1"], num_tests),
            "n": visitors.ravel(),
            "total": conversions.ravel(),
        }
    )
    first = analyze_statistics(stats, by=["test"], control="arm0").query("is_control")
    return np.array(
        [f"{d} {a}" if isinstance(a, str) else d for d, a in zip(first["decision"], first["decision_arm"], strict=True)]
    )


def test_the_predicted_probability_of_a_change_matches_the_frequency_of_changes():
    rng = np.random.default_rng(21)
    num_tests, interim, planned = 400, 100, 1_000
    rates = rng.beta(1.0, 1.0, (num_tests, 2))  # the truth drawn from the analysis prior, Beta(1, 1) per arm
    visitors = np.full((num_tests, 2), interim)
    conversions = rng.binomial(visitors, rates)
    today = _decisions(visitors, conversions)
    # predicted: posterior-predictive completions of every test at once
    decisions, arms, _ = simulate_completions(visitors, conversions, np.full((num_tests, 2), planned), rng, 300)
    finals = np.where(pd.isna(arms), decisions, decisions + " " + arms.astype(str))
    predicted = (finals != today[:, None]).mean(axis=1)
    # observed: each test completed from its true rates
    completed = conversions + rng.binomial(planned - visitors, rates)
    observed = _decisions(np.full((num_tests, 2), planned), completed) != today
    # calibrated by construction under the prior: the mean prediction is the frequency of changes, and the
    # tests predicted most likely to change do change more often
    se = np.sqrt(observed.var() / num_tests)
    assert 0.05 < observed.mean() < 0.95  # changes happen: the check has power
    assert abs(predicted.mean() - observed.mean()) < 4 * se, (predicted.mean(), observed.mean(), se)
    high, low = predicted > np.median(predicted), predicted <= np.median(predicted)
    assert observed[high].mean() > observed[low].mean() + 0.1


def test_decision_stability_reports_its_error_and_refuses_a_plan_below_the_data():
    settled = decision_stability(["A", "B"], [2_000, 2_000], [100, 125], planned_visitors=10_000, rng=0)
    assert 0.0 < settled.prob_change < 1.0 and settled.mcse < 0.02
    assert sum(settled.final_decisions.values()) == pytest.approx(1.0)
    assert "changes with probability" in settled.message
    done = decision_stability(["A", "B"], [2_000, 2_000], [100, 125], planned_visitors=2_000, rng=0)
    assert done.prob_change == 0.0  # nothing left to come: the decision cannot change
    with pytest.raises(ValueError, match="arm 'B' has 2,000 visitors against a plan of 1,000"):
        decision_stability(["A", "B"], [2_000, 2_000], [100, 125], planned_visitors=[3_000, 1_000], rng=0)
