import numpy as np
import pytest

from bayeskit.decide import ab_test_binary, ab_test_continuous, ab_test_count
from bayeskit.decide.ab import DECISIONS


@pytest.fixture(scope="module")
def three_arms():
    return ab_test_binary(["A", "B", "C"], visitors=[10_000, 10_000, 9_000], conversions=[500, 560, 520])


def test_two_arm_headline_numbers():
    result = ab_test_binary(["A", "B"], visitors=[10_000, 10_000], conversions=[500, 560])
    a, b = result.arm("A"), result.arm("B")
    assert a.prob_best + b.prob_best == pytest.approx(1.0, abs=1e-12)
    assert b.prob_beats_control == pytest.approx(b.prob_best, abs=1e-12)
    assert b.mean == pytest.approx(561 / 10_002)
    # expected losses: E[max] - mean, and their difference equals the difference of means
    assert a.expected_loss - b.expected_loss == pytest.approx(b.mean - a.mean, abs=1e-12)
    assert result.decision == "ship" and result.decision_arm == "B"
    assert result.numerical_error < 1e-7


def test_lift_interval_and_rope_contain_the_truth_of_their_definitions(three_arms):
    b = three_arms.arm("B")
    low, high = b.lift_interval
    assert low < b.lift_median < high
    assert b.lift_median == pytest.approx(0.1197, abs=5e-3)
    assert 0 < b.prob_in_rope < 0.1


def test_control_can_be_any_arm(three_arms):
    other = ab_test_binary(["A", "B", "C"], visitors=[10_000, 10_000, 9_000], conversions=[500, 560, 520], control="C")
    assert other.control == "C" and other.arm("C").lift_interval is None
    np.testing.assert_allclose([a.prob_best for a in other.arms], [a.prob_best for a in three_arms.arms], atol=1e-12)


def test_identical_arms_give_no_meaningful_difference():
    result = ab_test_binary(["A", "B"], visitors=[1e9, 1e9], conversions=[5e7, 5e7])
    assert result.arm("B").prob_best == pytest.approx(0.5, abs=1e-9)
    assert result.arm("A").expected_loss == pytest.approx(result.arm("B").expected_loss, rel=1e-6)
    assert result.decision == "no meaningful difference"


def test_zero_and_all_conversions():
    result = ab_test_binary(["A", "B"], visitors=[500, 500], conversions=[0, 500])
    assert result.arm("B").prob_best == pytest.approx(1.0, abs=1e-12)
    assert result.arm("B").expected_loss == pytest.approx(0.0, abs=1e-12)
    assert np.isfinite(result.arm("B").lift_interval[1])


def test_prior_sensitivity_is_flagged_when_the_decision_changes():
    result = ab_test_binary(["A", "B"], visitors=[200, 200], conversions=[20, 14], threshold=0.02)
    assert result.conclusion_depends_on_prior
    assert any(row.changes_conclusion for row in result.sensitivity)
    steady = ab_test_binary(["A", "B"], visitors=[50_000, 50_000], conversions=[2_500, 2_900])
    assert not steady.conclusion_depends_on_prior


def test_count_metric():
    result = ab_test_count(["A", "B"], counts=[120, 150], exposure=[1000.0, 1000.0])
    assert result.arm("B").mean == pytest.approx(150.5 / 1000, rel=1e-6)
    assert result.arm("B").prob_best > 0.9


def test_continuous_metric_exact_and_lognormal():
    rng = np.random.default_rng(0)
    a, b = rng.lognormal(2.0, 1.0, 800), rng.lognormal(2.3, 1.0, 800)
    exact = ab_test_continuous(["A", "B"], [a, b])
    assert exact.arm("A").mean == pytest.approx(a.mean(), rel=1e-3)
    assert exact.arm("B").prob_best > 0.99
    draws = ab_test_continuous(["A", "B"], [a, b], lognormal=True, num_draws=50_000)
    assert "Monte Carlo" in draws.method
    assert draws.arm("B").prob_best > 0.99
    assert draws.arm("A").mean == pytest.approx(np.exp(np.log(a).mean() + np.log(a).var() / 2), rel=0.05)


def test_to_dict_has_the_documented_schema(three_arms):
    payload = three_arms.to_dict()
    assert payload["decision"] in DECISIONS
    for arm in payload["arms"]:
        assert {"name", "mean", "interval", "prob_best", "expected_loss"} <= set(arm)
        assert isinstance(arm["interval"], list) and len(arm["interval"]) == 2


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ab_test_binary(["A"], [10], [1]), ValueError, r"at least 2 arms; got 1"),
        (lambda: ab_test_binary(["A", "A"], [10, 10], [1, 1]), ValueError, r"arm names must be unique; 'A'"),
        (
            lambda: ab_test_binary(["A", "B"], [10, 10], [1, 11]),
            ValueError,
            r"`conversions` must be <= `visitors` in every arm; arm 'B' has 11 > 10",
        ),
        (
            lambda: ab_test_binary(["A", "B"], [10, 10], [-1, 1]),
            ValueError,
            r"`conversions` must be >= 0",
        ),
        (lambda: ab_test_binary(["A", "B"], [10, 10.5], [1, 1]), ValueError, r"`visitors` must hold whole numbers"),
        (lambda: ab_test_binary(["A", "B"], [10, np.nan], [1, 1]), ValueError, r"`visitors` must be finite"),
        (lambda: ab_test_binary(["A", "B", "C"], [10, 10], [1, 1]), ValueError, r"3 arm names but 2 rows"),
        (
            lambda: ab_test_binary(["A", "B"], [10, 10], [1, 1], control="Z"),
            ValueError,
            r"unknown control 'Z'; choose one of 'A', 'B'",
        ),
        (
            lambda: ab_test_binary(["A", "B"], [10, 10], [1, 1], prior="flat"),
            ValueError,
            r"unknown binary prior 'flat'",
        ),
        (
            lambda: ab_test_binary(["A", "B"], [10, 10], [1, 1], threshold=-1),
            ValueError,
            r"`threshold` must be a finite number >= 0",
        ),
        (
            lambda: ab_test_binary([str(i) for i in range(21)], [10] * 21, [1] * 21),
            ValueError,
            r"at most 20 arms",
        ),
        (lambda: ab_test_count(["A", "B"], [1, 2], [0.0, 1.0]), ValueError, r"`exposure` must be > 0"),
        (
            lambda: ab_test_continuous(["A", "B"], [[1.0], [1.0, 2.0]]),
            ValueError,
            r"arm 'A' needs at least 2 observations",
        ),
        (
            lambda: ab_test_continuous(["A", "B"], [[0.0, 1.0], [1.0, 2.0]], lognormal=True),
            ValueError,
            r"lognormal=True needs values > 0",
        ),
    ],
)
def test_bad_input_messages(call, error, message):
    with pytest.raises(error, match=message):
        call()
