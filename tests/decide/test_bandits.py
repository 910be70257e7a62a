"""Bandit simulations: Thompson sampling's regret grows like log t and beats epsilon-greedy; feedback delays work."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bayeskit.decide import BanditProblem, simulate


def bernoulli_kl(p: float, q: float) -> float:
    return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))


@pytest.fixture(scope="module")
def two_arms():
    problem = BanditProblem.bernoulli([0.3, 0.5])
    return simulate(jax.random.key(0), problem, 20_000, ("thompson", "epsilon-greedy"), num_seeds=48)


@pytest.mark.statistical
def test_thompson_regret_grows_logarithmically_at_the_lai_robbins_rate(two_arms):
    curves, steps = two_arms.regret["thompson"], two_arms.steps
    mean = curves.mean(axis=0)
    at = {t: mean[np.searchsorted(steps, t)] for t in (2_000, 20_000)}
    assert at[20_000] / at[2_000] < 2.0  # linear growth would give 10
    # Slope against log t over the last decade, vs the asymptotic optimum gap / KL (Lai & Robbins).
    window = steps >= 2_000
    slope = np.polyfit(np.log(steps[window]), mean[window], 1)[0]
    optimum = 0.2 / bernoulli_kl(0.3, 0.5)
    assert 0.5 * optimum < slope < 2.0 * optimum, (slope, optimum)


@pytest.mark.statistical
def test_thompson_beats_epsilon_greedy(two_arms):
    thompson, greedy = two_arms.regret["thompson"][:, -1], two_arms.regret["epsilon-greedy"][:, -1]
    difference = greedy - thompson  # same seeds, so paired
    assert difference.mean() > 4 * difference.std(ddof=1) / math.sqrt(len(difference))
    # epsilon-greedy keeps exploring: about epsilon / K * gap * t regret, linear in t
    assert greedy.mean() > 0.5 * 0.1 / 2 * 0.2 * 20_000


@pytest.mark.statistical
def test_linear_thompson_learns_the_context_and_beats_epsilon_greedy():
    weights = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.5]])
    result = simulate(jax.random.key(1), BanditProblem.linear(weights, 0.5), 4_000, num_seeds=16)
    table = result.summary()
    assert table.loc["thompson", "regret"] + 4 * table.loc["thompson", "se"] < table.loc["epsilon-greedy", "regret"]
    assert table.loc["ucb", "regret"] < table.loc["epsilon-greedy", "regret"]
    mean = result.regret["thompson"].mean(axis=0)
    late = mean[-1] - mean[np.searchsorted(result.steps, 2_000)]
    early = mean[np.searchsorted(result.steps, 2_000)]
    assert late < 0.25 * early  # the second half costs far less than the first


def test_feedback_that_never_arrives_leaves_thompson_at_the_prior():
    problem = BanditProblem.bernoulli([0.2, 0.8])
    late = simulate(jax.random.key(2), problem, 400, ("thompson",), num_seeds=20, batch_size=4, delay=100)
    share = late.pulls["thompson"][:, 1].sum() / late.pulls["thompson"].sum()
    assert abs(share - 0.5) < 4 * math.sqrt(0.25 / (20 * 400))
    np.testing.assert_allclose(late.regret["thompson"].mean(axis=0)[-1], 0.5 * 0.6 * 400, rtol=0.05)
    prompt = simulate(jax.random.key(2), problem, 400, ("thompson",), num_seeds=20, batch_size=4, delay=1)
    assert prompt.pulls["thompson"][:, 1].sum() / prompt.pulls["thompson"].sum() > 0.85


def test_same_key_same_result_and_shapes():
    problem = BanditProblem.gaussian([0.0, 0.5, 1.0])
    first = simulate(jax.random.key(3), problem, 300, ("thompson",), num_seeds=4)
    again = simulate(jax.random.key(3), problem, 300, ("thompson",), num_seeds=4)
    np.testing.assert_array_equal(first.regret["thompson"], again.regret["thompson"])
    assert first.regret["thompson"].shape == (4, len(first.steps)) and first.steps[-1] == 300
    assert first.pulls["thompson"].sum() == 4 * 300
    assert np.all(np.diff(first.regret["thompson"], axis=1) >= 0)  # pseudo-regret never decreases
    record = first.to_dict()
    assert record["horizon"] == 300 and set(record["mean_regret"]) == {"thompson"}


def test_poisson_thompson_finds_the_best_rate():
    result = simulate(jax.random.key(4), BanditProblem.poisson([1.0, 2.0]), 1_000, ("thompson",), num_seeds=8)
    assert result.summary().loc["thompson", "best arm share"] > 0.9


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: BanditProblem.bernoulli([0.5, 1.2]), r"Bernoulli arms are probabilities in \[0, 1\]"),
        (lambda: BanditProblem.bernoulli([0.5]), "K >= 2 arms"),
        (lambda: BanditProblem.poisson([1.0, -1.0]), "non-negative rates"),
        (lambda: BanditProblem.gaussian([0.0, 1.0], noise_sd=0.0), "`noise_sd` must be a positive number"),
        (lambda: BanditProblem.linear([1.0, 2.0]), r"\(K, d\) weights"),
        (lambda: BanditProblem("beta", [0.1, 0.2]), "unknown reward 'beta'; choose one of"),
        (lambda: BanditProblem.bernoulli(["a", "b"]), "`arms`"),
    ],
)
def test_bad_problems_are_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, "`horizon` must be a whole number >= 1"),
        ({"policies": ("greedy",)}, "unknown policy 'greedy'; choose one of"),
        ({"policies": ()}, "`policies` is empty"),
        ({"delay": -1}, "`delay` must be a whole number >= 0"),
        ({"batch_size": 2.5}, "`batch_size` must be a whole number"),
        ({"epsilon": 1.5}, r"`epsilon` must be a probability in \[0, 1\]"),
        ({"key": None}, "`key` must be a JAX key, a numpy.random.Generator or an int seed"),
        ({"key": "0"}, "`key` must be a JAX key, a numpy.random.Generator or an int seed; got str"),
        ({"problem": [0.1, 0.2]}, "`problem` must be a BanditProblem"),
    ],
)
def test_bad_simulation_settings_are_named(kwargs, message):
    settings = {"key": jax.random.key(0), "problem": BanditProblem.bernoulli([0.1, 0.2]), "horizon": 10}
    with pytest.raises((ValueError, TypeError), match=message):
        simulate(**{**settings, **kwargs})


def test_policies_are_pure_init_choose_update_functions():
    from bayeskit.decide.bandits import policy_for

    policy = policy_for("thompson", "bernoulli")
    stats = policy.update(policy.init(3, 0), (jnp.full(3, 40.0), jnp.array([4.0, 20.0, 36.0]), jnp.zeros(3)))
    args = (jax.random.key(0), stats, 120.0, jnp.zeros(0), 0.1)
    scores = jax.jit(policy.choose)(*args)
    np.testing.assert_allclose(scores, policy.choose(*args), rtol=1e-6)  # jit == eager, nothing stored
    picks = jax.vmap(lambda k: jnp.argmax(policy.choose(k, stats, 120.0, jnp.zeros(0), 0.1)))(
        jax.random.split(jax.random.key(1), 2000)
    )
    assert np.mean(np.asarray(picks) == 2) > 0.99  # Beta(37, 5) beats Beta(21, 21) and Beta(5, 37)
    with pytest.raises(ValueError, match="unknown policy 'greedy'"):
        policy_for("greedy", "bernoulli")
    with pytest.raises(ValueError, match="unknown reward 'binary'"):
        policy_for("ucb", "binary")


def test_the_numpy_engine_matches_the_jax_engine_in_distribution(two_arms):
    """The NumPy engine (conjugate context-free arms) against the JAX simulation of the fixture: same policies."""
    numpy_run = simulate(0, two_arms.problem, 20_000, ("thompson", "epsilon-greedy"), num_seeds=48, engine="numpy")
    for policy in ("thompson", "epsilon-greedy"):
        final = {"jax": two_arms.regret[policy][:, -1], "numpy": numpy_run.regret[policy][:, -1]}
        se = np.sqrt(sum(values.var(ddof=1) / values.size for values in final.values()))
        assert abs(final["jax"].mean() - final["numpy"].mean()) < 4 * se, policy
        assert np.all(numpy_run.pulls[policy].sum(axis=1) == 20_000)
    np.testing.assert_array_equal(numpy_run.steps, two_arms.steps)
    assert numpy_run.settings["engine"] == "numpy" and list(numpy_run.summary().index) == ["thompson", "epsilon-greedy"]
    # Poisson arms, every policy: all learn (far below uniform play's 3,000 x 0.3 = 900), Thompson beats epsilon
    poisson = simulate(1, BanditProblem.poisson([1.0, 1.3, 1.6]), 3_000, num_seeds=100, engine="numpy").summary()
    assert poisson.loc["thompson", "regret"] < poisson.loc["epsilon-greedy", "regret"]
    assert poisson["regret"].max() < 0.2 * 900


def test_the_numpy_engine_is_reproducible_by_seed_and_refuses_what_it_does_not_cover():
    problem = BanditProblem.bernoulli([0.4, 0.5])
    first = simulate(7, problem, 300, ("thompson", "ucb"), num_seeds=5, engine="numpy")
    again = simulate(7, problem, 300, ("thompson", "ucb"), num_seeds=5, engine="numpy")
    np.testing.assert_array_equal(first.regret["ucb"], again.regret["ucb"])
    with pytest.raises(ValueError, match="covers bernoulli, poisson arms; got 'linear'"):
        simulate(0, BanditProblem.linear([[1.0, 0.0], [0.0, 1.0]]), 100, engine="numpy")
    with pytest.raises(ValueError, match="one pull per round with immediate feedback"):
        simulate(0, problem, 100, batch_size=10, engine="numpy")
    with pytest.raises(ValueError, match="engine"):
        simulate(0, problem, 100, engine="torch")
