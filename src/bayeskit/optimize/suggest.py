"""Where a study's next point comes from: Sobol points first, then an acquisition over a GP of the trials.

:class:`Suggester` holds the settings and the last GP fit (the next fit warm-starts from
it); :meth:`Suggester.suggest` turns the trials so far into the next parameters. It reads
and writes no storage: :class:`bayeskit.optimize.Study` passes it the rows.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from bayeskit.optimize.acquisition import (
    expected_improvement,
    log_expected_improvement,
    lower_confidence_bound,
    probability_of_improvement,
)
from bayeskit.optimize.space import SearchSpace

__all__ = ["Suggester"]


class Suggester:
    """The suggestion algorithm of a study (see :class:`bayeskit.optimize.Study` for the parameters)."""

    def __init__(
        self,
        space: SearchSpace,
        direction: str,
        acquisition: str,
        num_initial: int,
        noisy: bool,
        num_candidates: int,
        seed: int,
    ):
        self.space, self.direction, self.acquisition = space, direction, acquisition
        self.num_initial, self.noisy, self.num_candidates, self.seed = num_initial, noisy, num_candidates, seed
        self._warm: tuple | None = None  # the last fit's kernel and noise: the next fit starts there

    def suggest(self, rows: list[tuple]) -> dict[str, Any]:
        """The next parameters, from every trial row ``(number, params JSON, value, state, error)`` so far."""
        complete = [row for row in rows if row[3] == "complete"]
        params = [json.loads(row[1]) for row in complete]
        values = np.array([row[2] for row in complete], dtype=float)
        pending = [json.loads(row[1]) for row in rows if row[3] == "running"]
        if len(params) < max(self.num_initial, 2) or len(rows) < self.num_initial:
            return self._sobol_point(len(rows))
        return self._model_point(params, values, pending, len(rows))

    def _sobol_point(self, index: int) -> dict[str, Any]:
        from scipy.stats import qmc

        sampler = qmc.Sobol(self.space.dimension, scramble=True, seed=self.seed)
        points = sampler.random(2 ** max(5, int(np.ceil(np.log2(index + 64)))))
        for offset in range(points.shape[0]):
            candidate = self.space.decode(points[(index + offset) % points.shape[0]])
            if self.space.feasible(candidate):
                return candidate
        raise ValueError("no point of the search space satisfies the constraints; check them.")

    def _model_point(self, params: list[dict], values: np.ndarray, pending: list[dict], count: int) -> dict[str, Any]:
        from scipy.stats import qmc

        from bayeskit.gp import GPRegressor, Matern52

        x = np.stack([self.space.encode(p) for p in params])
        y = values if self.direction == "minimize" else -values
        pad = 32 * int(np.ceil((x.shape[0] + len(pending)) / 32))
        # Warm start from the previous fit (one L-BFGS-B run from there converges in a few steps); a fresh
        # start with a random restart every 5th trial keeps it from settling in a poor optimum.
        fresh = self._warm is None or len(params) % 5 == 0
        kernel, noise = (Matern52(np.full(x.shape[1], 0.5)), 1e-2 if self.noisy else 1e-4) if fresh else self._warm
        model = GPRegressor(
            kernel,
            noise_variance=noise,
            restarts=1 if fresh else 0,
            min_noise_variance=1e-4 if self.noisy else 1e-6,
            key=np.random.default_rng([self.seed, len(params)]),  # a SeedSequence stream per fit
            pad_to=pad,
        ).fit(x, y)
        self._warm = (model.kernel_, max(float(model.state_.noise_variance), 1e-6))
        if pending:  # kriging believer: pending trials count as if they came out at the posterior mean
            from bayeskit.gp import condition

            x_pending = np.stack([self.space.encode(p) for p in pending])
            believed = np.concatenate([y, model.predict(x_pending)])
            model.state_ = condition(
                model.kernel_,
                model.state_.noise_variance,
                0.0,
                np.vstack([x, x_pending]),
                (believed - model.y_mean_) / model.y_std_,
                pad_to=pad,
            )
            x = np.vstack([x, x_pending])
        generator = np.random.default_rng([self.seed, len(params), len(pending), 1])
        half = 2 ** int(np.ceil(np.log2(max(self.num_candidates // 2, 2))))
        sobol = qmc.Sobol(self.space.dimension, scramble=True, seed=generator).random(half)
        order = np.argsort(y)[:5]
        local = x[order][generator.integers(0, order.size, half)]
        local = np.clip(local + 0.05 * generator.standard_normal(local.shape), 0.0, 1.0)
        candidates = np.vstack([sobol, local])  # a fixed count, so the predictions reuse one compiled program
        if self.space.needs_snapping:
            candidates = np.stack([self.space.round_trip(c) for c in candidates])
        seen = {tuple(np.round(row, 9)) for row in x}
        allowed = np.array([tuple(np.round(c, 9)) not in seen for c in candidates])
        if self.space.constraints:
            allowed &= np.array([self.space.feasible(self.space.decode(c)) for c in candidates])
        if not allowed.any():
            return self._sobol_point(count)
        scores = np.where(allowed, self._score(model, candidates, y, generator), -np.inf)
        return self.space.decode(candidates[int(np.argmax(scores))])

    def _score(self, model: Any, candidates: np.ndarray, y: np.ndarray, generator: np.random.Generator):
        import jax

        if self.acquisition == "thompson":
            draw = model.sample_functions(candidates, jax.random.PRNGKey(int(generator.integers(2**31))), 1)[0]
            return -draw
        mean, std = model.predict(candidates, return_std=True)
        best = float(np.min(model.predict(np.asarray(model.state_.x[: y.size])))) if self.noisy else float(np.min(y))
        if self.acquisition == "logei":
            return log_expected_improvement(mean, std, best)
        if self.acquisition == "ei":
            return expected_improvement(mean, std, best)
        if self.acquisition == "pi":
            return probability_of_improvement(mean, std, best)
        return lower_confidence_bound(mean, std, beta=2.0)
