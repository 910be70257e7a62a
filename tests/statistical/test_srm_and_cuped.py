"""Sample-ratio checks raise false alarms at their nominal rate; CUPED intervals narrow by sqrt(1 - rho^2) and cover."""

import numpy as np
import pytest

from bayeskit.decide import ab_test_continuous
from bayeskit.decide.srm import P_BROKEN, sample_ratio

pytestmark = pytest.mark.statistical


def test_the_sample_ratio_check_raises_false_alarms_at_its_nominal_rate():
    """200,000 correctly split experiments: about 0.1% are flagged at p < 0.001 (binomial, 4 sd)."""
    rng = np.random.default_rng(11)
    num_tests = 200_000
    total = rng.integers(1_000, 50_000, num_tests)
    first = rng.binomial(total, 0.5)
    p_value, _ = sample_ratio(np.stack([first, total - first], axis=1))
    alarms = int(np.sum(p_value < P_BROKEN))
    expected, sd = num_tests * P_BROKEN, np.sqrt(num_tests * P_BROKEN * (1 - P_BROKEN))
    assert abs(alarms - expected) < 4 * sd  # 200 +- 57
    # an uneven plan, checked against itself, is as quiet; a real 1-point shift is caught
    planned = np.array([0.6, 0.4])
    first = rng.binomial(total, planned[0])
    p_value, _ = sample_ratio(np.stack([first, total - first], axis=1), planned)
    assert abs(int(np.sum(p_value < P_BROKEN)) - expected) < 4 * sd
    first = rng.binomial(50_000, 0.51, 2_000)
    p_value, prob_off = sample_ratio(np.stack([first, 50_000 - first], axis=1))
    assert np.mean(p_value < P_BROKEN) > 0.8  # power at z = 4.5 sd: P(N(4.47, 1) > 3.29) = 0.88
    assert np.median(prob_off) > 0.4  # a shift of exactly 1 point is off by > 1 point about half the time


def test_cuped_narrows_the_interval_by_the_expected_factor_and_still_covers():
    """300 simulated experiments with a known effect and a covariate of correlation 0.8 (n = 400 per arm)."""
    rng = np.random.default_rng(5)
    rho, effect, size, num_sims = 0.8, 0.5, 400, 300
    covered_plain = covered_adjusted = 0
    ratios = []
    for _ in range(num_sims):
        x = rng.normal(0.0, 1.0, (2, size))
        y = 10.0 + rho * x + np.sqrt(1 - rho**2) * rng.normal(0.0, 1.0, (2, size))
        y[1] += effect
        intervals = []
        for covariate in (None, list(x)):
            result = ab_test_continuous(["A", "B"], list(y), covariate=covariate, sensitivity=False)
            scale = abs(result.arm("A").mean)  # the lift is (B - A) / |E[A]|
            low, high = (scale * bound for bound in result.arm("B").lift_interval)
            intervals.append((low, high))
        covered_plain += intervals[0][0] <= effect <= intervals[0][1]
        covered_adjusted += intervals[1][0] <= effect <= intervals[1][1]
        ratios.append((intervals[1][1] - intervals[1][0]) / (intervals[0][1] - intervals[0][0]))
    sd = np.sqrt(0.95 * 0.05 / num_sims)
    assert abs(covered_adjusted / num_sims - 0.95) < 4 * sd
    assert abs(covered_plain / num_sims - 0.95) < 4 * sd
    assert np.mean(ratios) == pytest.approx(np.sqrt(1 - rho**2), rel=0.03)
