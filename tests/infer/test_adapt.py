"""The warmup's estimators: the Fisher diagonal and low-rank mass matrices, NumPyro's conventions, stuck chains."""

import numpy as np
import pytest

from bayeskit.infer.adapt import WarmupState, fisher_diagonal, low_rank, mass_matrix_parts, schedule, stuck_chains
from bayeskit.infer.diagnostics import chain_findings, precision_findings


def _state(x, g, u, moves=None):
    """Window statistics as the compiled program accumulates them (chains, draws, d) -> WarmupState."""
    n = np.full(x.shape[0], float(x.shape[1]))
    zeros = np.zeros(x.shape[0])
    return WarmupState(
        da=(zeros,) * 5,
        n=n,
        moves=n if moves is None else moves,
        mean_x=x.mean(1),
        m2_x=((x - x.mean(1, keepdims=True)) ** 2).sum(1),
        mean_g=g.mean(1),
        m2_g=((g - g.mean(1, keepdims=True)) ** 2).sum(1),
        mean_u=u.mean(1),
        m2_u=((u - u.mean(1, keepdims=True)) ** 2).sum(1),
        kept=n,
        buffer_x=x,
        buffer_g=g,
        restarts=zeros.astype(int),
        restarted_at=zeros.astype(int) - 1,
        key=np.zeros((x.shape[0], 2), np.uint32),
        gradients=zeros.astype(int),
    )


def test_the_fisher_diagonal_of_a_gaussian_is_its_variance_from_any_window():
    # For N(0, diag(s^2)) the gradient is -x / s^2, so sqrt(var x / var g) = s^2 exactly, even from 30 draws.
    rng = np.random.default_rng(0)
    scales = np.array([0.01, 1.0, 300.0])
    x = rng.normal(size=(2, 30, 3)) * scales
    state = _state(x, -x / scales**2, np.zeros((2, 30)))
    np.testing.assert_allclose(fisher_diagonal(state), np.broadcast_to(scales**2, (2, 3)), rtol=1e-10)


def _whitened(matrix, cov):
    root = np.linalg.cholesky(cov)
    return np.linalg.eigvalsh(np.linalg.solve(root, np.linalg.solve(root, matrix).T))


def test_the_low_rank_matrix_recovers_a_correlated_covariance_where_the_sample_covariance_cannot():
    # 25 draws in 20 dimensions: the gradients pin the covariance down; the draws alone do not.
    rng = np.random.default_rng(0)
    d, n = 20, 25
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    cov = (q * np.logspace(-1, 1, d) ** 2) @ q.T
    x = rng.multivariate_normal(np.zeros(d), cov, size=n)
    g = -np.linalg.solve(cov, x.T).T
    diagonal = fisher_diagonal(_state(x[None], g[None], np.zeros((1, n))))[0]
    ours = _whitened(low_rank(x, g, diagonal), cov)
    assert 0.5 <= ours.min() and ours.max() <= 2.0  # the truth, up to the cutoff, in every direction
    sample = _whitened(np.cov(x.T), cov)
    assert sample.max() / sample.min() > 20 * ours.max() / ours.min()
    diagonal_only = _whitened(np.diag(diagonal), cov)
    assert diagonal_only.max() / diagonal_only.min() > 20 * ours.max() / ours.min()


@pytest.mark.parametrize("dense", [False, True])
def test_mass_matrix_parts_follow_numpyros_conventions(dense):
    from numpyro.infer.hmc_util import _initialize_mass_matrix

    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 4))
    inverse = a @ a.T + 4 * np.eye(4) if dense else rng.uniform(0.1, 3, 4)
    expected = _initialize_mass_matrix(np.zeros(4), inverse, dense)
    for got, want in zip(mass_matrix_parts(inverse), expected, strict=True):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-6)


def test_a_frozen_chain_and_a_chain_far_below_the_others_are_stuck_healthy_ones_are_not():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 50, 3))
    u = 0.5 * (x**2).sum(2)
    assert not stuck_chains(_state(x, -x, u)).any()
    x[1] = 0.3  # never moves
    u[1] = 0.5 * 0.27
    u[3] += 60.0  # 60 nats above the others
    stuck = stuck_chains(_state(x, -x, u, moves=np.array([50.0, 0.0, 50.0, 50.0])))
    np.testing.assert_array_equal(stuck, [False, True, False, True])


def test_the_schedule_follows_stans_windows():
    plan = schedule(1000)
    assert list(np.flatnonzero(plan.check)) == [74, 99, 149, 249, 449, 949]
    assert list(np.flatnonzero(plan.update)) == [99, 149, 249, 449, 949]
    assert plan.longest == 500 and not schedule(10).check.any()


def test_the_stuck_chain_finding_names_the_chain_that_never_moved():
    rng = np.random.default_rng(4)
    draws = {"a": rng.normal(size=(4, 200)), "b": rng.normal(size=(4, 200, 2))}
    lp = rng.normal(size=(4, 200))
    assert chain_findings(draws, lp) == ()
    draws["a"][2] = 1.5
    draws["b"][2] = -0.2
    (finding,) = chain_findings(draws, lp, restarts=np.array([0, 0, 2, 0]))
    assert finding.check == "stuck chain" and finding.where == "chain 2"
    assert "restarted 2 time(s)" in finding.advice


def test_float32_round_off_is_reported_only_where_the_log_density_is_too_large():
    assert precision_findings(np.full((2, 5), -3e3), "float32") == ()
    (finding,) = precision_findings(np.full((2, 5), -2e6), "float32")
    assert "precision='float64'" in finding.advice
    assert precision_findings(np.full((2, 5), -2e6), "float64") == ()


def test_a_constant_deterministic_site_does_not_make_every_chain_look_stuck():
    rng = np.random.default_rng(5)
    draws = {"a": rng.normal(size=(4, 200)), "fixed": np.ones((4, 200, 5))}
    assert chain_findings(draws, rng.normal(size=(4, 200))) == ()
