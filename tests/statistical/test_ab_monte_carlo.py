"""The exact A/B engine against a million Monte Carlo draws (fixed seeds, 4-MCSE tolerances)."""

import numpy as np
import pytest

from bayeskit.decide import ab_test_binary, ab_test_count

pytestmark = pytest.mark.statistical

NUM_DRAWS = 1_000_000


def draws_for(result, rng):
    return np.stack(
        [m for m in result.marginals.to_scipy().rvs(size=(NUM_DRAWS, len(result.arms)), random_state=rng).T], axis=1
    )


@pytest.mark.parametrize(
    "result",
    [
        ab_test_binary(["A", "B"], visitors=[4000, 4100], conversions=[200, 230], sensitivity=False),
        ab_test_binary(
            ["A", "B", "C", "D"],
            visitors=[3000, 3000, 2800, 3100],
            conversions=[150, 170, 160, 140],
            sensitivity=False,
        ),
        ab_test_count(["A", "B", "C"], counts=[40, 52, 47], exposure=[100.0, 110.0, 95.0], sensitivity=False),
    ],
    ids=["two-beta", "four-beta", "three-gamma"],
)
def test_exact_numbers_match_monte_carlo(result):
    draws = draws_for(result, np.random.default_rng(17))
    control = 0
    best = np.bincount(draws.argmax(axis=1), minlength=draws.shape[1]) / NUM_DRAWS
    regret = draws.max(axis=1, keepdims=True) - draws
    for i, arm in enumerate(result.arms):
        mcse_best = np.sqrt(best[i] * (1 - best[i]) / NUM_DRAWS) + 1e-12
        assert abs(arm.prob_best - best[i]) < 4 * mcse_best, arm.name
        mcse_loss = regret[:, i].std() / np.sqrt(NUM_DRAWS)
        assert abs(arm.expected_loss - regret[:, i].mean()) < 4 * mcse_loss + 1e-12, arm.name
        if i == control:
            continue
        lift = draws[:, i] / draws[:, control] - 1.0
        inside = np.mean(np.abs(lift) < result.rope)
        assert abs(arm.prob_in_rope - inside) < 4 * np.sqrt(inside * (1 - inside) / NUM_DRAWS) + 1e-12
        beats = np.mean(draws[:, i] > draws[:, control])
        assert abs(arm.prob_beats_control - beats) < 4 * np.sqrt(beats * (1 - beats) / NUM_DRAWS)
        # quantiles of the lift: the exact quantile's empirical CDF is within MC error of its level
        for level, value in zip(
            ((1 - result.prob) / 2, 0.5, (1 + result.prob) / 2),
            (arm.lift_interval[0], arm.lift_median, arm.lift_interval[1]),
            strict=True,
        ):
            empirical = np.mean(lift <= value)
            assert abs(empirical - level) < 4 * np.sqrt(level * (1 - level) / NUM_DRAWS), (arm.name, level)
