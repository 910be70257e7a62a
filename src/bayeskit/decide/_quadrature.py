"""Exact comparisons of independent univariate posteriors by 1-D quadrature in quantile space.

Every quantity a Bayesian A/B test reports is a 1-D integral over one arm's
posterior; integrating over the *narrower* arm keeps the integrand smooth however
different the sample sizes are. Two rules, both without Monte Carlo noise:

- **the fast rule** (tried first): the trapezoid rule in the arm's normalizing
  coordinate (logit for a Beta, log for a Gamma, the value itself for a t or normal),
  37 nodes over +-9 sd of it. The integrand is analytic there with near-Gaussian
  decay, where the trapezoid rule's error falls like ``exp(-c / h**2)``: halving the
  step raises the error to about its fourth power. The rule is accepted for a test
  when the step-1 and step-1/2 sums differ by at most 1e-3 (the asymptotic regime),
  and reports as its error the square of that difference (a bound with a wide
  margin: the true error is about its fourth power) or a bound on the mass
  outside the window, whichever is larger. No quantile function is evaluated.
  For Beta arms (log-concave in the logit, so the nodes that matter are one run) two
  more savings: nodes whose weight is below 1e-12 are not evaluated (their weight
  moves to the nearest evaluated node and the error bound gains it; every integrand
  lies in [0, 1]), so a near-Gaussian arm uses 29 of the 37; and the wider arm's
  survival function at those nodes is not one incomplete beta each but two in all,
  with the probability between consecutive nodes integrated from its logit density
  (:func:`_beta_survival_along`; the ROPE's scaled nodes likewise). A two-arm test
  then costs ~5 us instead of ~14 us, and no longer grows with the counts.
- **the graded rule** (the fallback, for tests the fast rule refuses: tiny counts,
  heavy t tails): substituting ``x = Q(u)`` maps the integral to ``[0, 1]``, where a
  graded composite Gauss-Legendre rule converges fast; the error is estimated by
  comparing two levels, which bounds the coarser level's error, so the finer level
  returned is far more accurate than the 1e-7 tolerance.

Both are checked against closed forms to ~1e-9 in the tests.

Inputs are :class:`~bayeskit.decide._marginal.Marginal` batches (or frozen
``scipy.stats`` distributions); parameters broadcast over a batch of tests and,
for ``prob_best``, over arms on the last axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

from bayeskit._parallel import thread_map
from bayeskit.decide._marginal import Marginal, as_marginal

__all__ = [
    "compare_two",
    "difference_cdf",
    "difference_cdf_of",
    "expected_max",
    "integrate_unit_interval",
    "narrow_first",
    "prob_best",
    "prob_greater",
    "ratio_cdf",
    "ratio_cdf_of",
    "trapezoid_nodes",
    "two_arm",
]

_GL16 = np.polynomial.legendre.leggauss(16)
_GL4 = np.polynomial.legendre.leggauss(4)


def _panel_rule(starts: np.ndarray, widths: np.ndarray, rule) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = 0.5 * (rule[0] + 1.0), 0.5 * rule[1]
    return (starts[:, None] + widths[:, None] * nodes).ravel(), (widths[:, None] * weights).ravel()


def graded_rule(level: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights on [0, 1]: 16-point Gauss-Legendre panels, graded towards both ends.

    Level ``k`` has ``4 * 2**k`` uniform panels; the two end panels are split
    again at ``h / 2, h / 4, ...`` (``10 + 4k`` times, 4 points each), so the
    algebraic endpoint behaviour of ``F(Q(u))`` (``u**p``, fractional ``p``) costs
    no accuracy.
    """
    num_panels, num_levels = 4 * 2**level, 10 + 4 * level
    width = 1.0 / num_panels
    graded = width * 2.0 ** -np.arange(num_levels, -1, -1)  # h/2^L ... h
    left_edges = np.concatenate([[0.0], graded])
    ends_start = np.concatenate([left_edges[:-1], 1.0 - left_edges[1:][::-1]])
    ends_width = np.concatenate([np.diff(left_edges), np.diff(left_edges)[::-1]])
    middle = np.arange(1, num_panels - 1) * width
    u_mid, w_mid = _panel_rule(middle, np.full(middle.size, width), _GL16)
    u_end, w_end = _panel_rule(ends_start, ends_width, _GL4)
    return np.concatenate([u_end, u_mid]), np.concatenate([w_end, w_mid])


_RULES = [graded_rule(level) for level in range(7)]

_STEP = 0.5
_Z = np.arange(-18, 19) * _STEP  # the fast rule's nodes in sd units of the coordinate; every other one: step 1
_CHUNK = 2048  # tests per piece of work: the fast rule's ~30 arrays of (37, 2048) stay in cache
_TRUSTED_DIFFERENCE = 1e-3  # the step-1 and step-1/2 sums must agree this well for the error model to apply
_SUBNODES, _SUBWEIGHTS = (
    0.5 * (np.polynomial.legendre.leggauss(5)[0] + 1.0),
    0.5 * np.polynomial.legendre.leggauss(5)[1],
)
_WIDEST_STEP = 0.6  # the wide arm's survival is integrated along the nodes while a step is <= 0.6 of its logit sd
_BATCHED_FROM = 96  # tests in a batch from which the Beta savings below pay for their ~40 extra NumPy calls
_FEWEST_COUNTS = 10.0  # both wide-arm parameters at least this for its survival to be integrated
_NEGLIGIBLE = 1e-12  # a Beta node with less weight is not evaluated: ~3e-13 of the mass in all, near-Gaussian


def trapezoid_nodes(marginal: Marginal) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fast rule's nodes ``x``, weights and truncation bound for a batch of marginals.

    ``E[g(X)] ~ sum_j w_j g(x_j)``; nodes and weights have shape ``(37, *batch)``. The
    weights are the step times the density of the normalizing coordinate, divided by their
    sum: the log density's normalizing constant (``betaln`` of large counts) carries an
    absolute error of ~1e-10 that would otherwise scale every result. The third array bounds
    the mass beyond the +-9 sd window (the end weights over the step; tails decay at least
    exponentially, at rate >= 1 per sd), and is infinite where the unnormalized weights do not
    sum to 1 within 1e-6 (a density the rule does not resolve).
    """
    coordinate = marginal.coordinate()
    scale = coordinate[1]
    z = _Z.reshape(-1, *(1,) * np.ndim(scale))
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        x, at_centre, change = marginal.at_coordinate(z, coordinate)
        relative = np.exp(change)
        total = relative.sum(axis=0)
        weights = relative / total
        tail = (weights[0] + weights[-1]) / _STEP
        mass = _STEP * scale * np.exp(at_centre) * total  # the unnormalized sum, ~1 where the rule resolves
    resolved = np.isfinite(mass) & (np.abs(mass - 1.0) <= 1e-6) & np.isfinite(tail)
    return x, weights, np.where(resolved, tail, np.inf)


def _fast_expectation(narrow: Marginal, values_at, tolerance: float, wide: Marginal | None = None):
    """``E_narrow[values_at(x, along)]`` by the fast rule for a flat batch: ``(result, error, accepted)``.

    ``values_at(x, along)`` maps nodes ``(n, B)`` to ``k`` arrays of values ``(n, B)``; ``along`` is None, or
    (given ``wide``, for Beta arms) ``along(c)`` gives ``wide``'s survival function at ``c`` times the nodes,
    integrated along them (:func:`_beta_survival_along`). ``result`` is ``(B, k)``, ``error`` ``(B, k)`` and
    ``accepted`` ``(B,)``: the tests whose error model holds and whose error is within ``tolerance``.
    """
    x, weights, tail = trapezoid_nodes(narrow)
    fine_weights, coarse_weights, unseen = weights, 2.0 * weights[::2], 0.0
    batched = weights.shape[1] >= _BATCHED_FROM  # below, the savings are smaller than the extra NumPy calls
    kept = _kept_nodes(narrow, weights) if batched else None
    along, errors = None, []
    if wide is not None and narrow.family == "beta" and batched:
        along, errors = _beta_survival_along(narrow, wide, x, kept)
    if kept is not None:  # a skipped node is evaluated at the support's end (~15 ns, not ~400); its weight moves on
        x = np.where(kept, x, 1.0)  # every integrand is finite there (no 0 / 0 for a ROPE of 1)
        fine_weights = _moved_to_nearest_kept(weights, kept)
        coarse_weights = _moved_to_nearest_kept(coarse_weights, kept[::2])
        unseen = unseen + np.where(kept, 0.0, weights).sum(axis=0)[:, None]
    with np.errstate(invalid="ignore", over="ignore"):
        values = np.stack(values_at(x, along))  # (k, n, B)
        fine = np.einsum("nb,knb->bk", fine_weights, values)
        coarse = np.einsum("nb,knb->bk", coarse_weights, values[:, ::2])
    if errors:  # the survival functions' own errors (every value is within their sum of its exact value)
        unseen = unseen + np.sum(errors, axis=0)[:, None]
    difference = np.abs(fine - coarse)
    error = np.maximum(difference**2, tail[:, None]) + unseen
    accepted = np.all(np.isfinite(fine) & (difference <= _TRUSTED_DIFFERENCE) & (error <= tolerance), axis=1)
    return fine, error, accepted


def _stirling_remainder(x: np.ndarray) -> np.ndarray:
    """``log Gamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2)``: its series from 20 on (error < 2e-15), else direct."""
    inverse = 1.0 / x
    square = inverse * inverse
    series = inverse * (1 / 12 - square * (1 / 360 - square * (1 / 1260 - square * (1 / 1680 - square / 1188))))
    small = np.minimum(x, 20.0)
    direct = special.gammaln(small) - ((small - 0.5) * np.log(small) - small + 0.5 * np.log(2.0 * np.pi))
    return np.where(x >= 20.0, series, direct)


def _beta_survival_along(
    narrow: Marginal, wide: Marginal, x: np.ndarray, kept: np.ndarray | None
) -> tuple[Callable[[float], np.ndarray], list[np.ndarray]]:
    """For Beta arms: ``along(c)``, the wide arm's survival function at ``c`` times the nodes, and its errors.

    ``along(c)`` is ``S_W(c x_j)`` ``(n, B)`` at the fast rule's nodes ``x_j`` of ``narrow``; each call appends
    a bound on its error ``(B,)`` to the returned list.

    One incomplete beta at the last node needed, then ``S_W(y_j) = S_W(y_{j+1}) + P(y_j < W <= y_{j+1})``
    down the points: each piece is 5-point Gauss-Legendre over the logit from one point to the next, where
    the wide arm's logit density is ``exp(k - s (log1p(p expm1(d)) - p d))`` (``s = a + b``, ``p = a / s``,
    ``d`` the logit minus ``logit p``; ``k`` by Stirling's series), so no ``betaln`` of large counts cancels.
    A second incomplete beta at the first point checks the sum; the error bound is twice that difference
    plus ``1e-12 + 5 eps sqrt(s)`` (the rounding of ``s D``). Per test that is 2 incomplete betas and 140
    densities (~35 ns each) instead of up to 37 incomplete betas (0.3-3 us each, growing with the counts).
    Tests where a piece spans more than 0.6 of the wide arm's logit sd, a point leaves (0, 1), or a wide-arm
    parameter is below 10 (a skewed density, where the check was seen to under-report), get ``betainc`` at
    every point and no added error.
    """
    count, size = x.shape
    centre, sd = narrow.coordinate()
    a, b = wide.params
    wide_sd = wide.coordinate()[1]
    columns = np.arange(size)
    first = np.zeros(size, dtype=int) if kept is None else np.argmax(kept, axis=0)
    last = np.full(size, count - 1) if kept is None else count - 1 - np.argmax(kept[::-1], axis=0)
    total, share = a + b, a / (a + b)
    scale = -0.5 * np.log(2.0 * np.pi * total / (a * b))
    scale = scale - _stirling_remainder(a) - _stirling_remainder(b) + _stirling_remainder(total)
    rounding = 1e-12 + 5.0 * np.finfo(float).eps * np.sqrt(total)
    smooth = np.minimum(a, b) >= _FEWEST_COUNTS  # below, the logit density is too skewed for the check to bound
    logit = centre + sd * _Z[:, None]  # the nodes' logit, exactly as the rule places them
    mode = np.log(a) - np.log(b)  # the logit of the wide arm's share a / s
    between = np.arange(count - 1)[:, None]
    inside = (between >= first) & (between < last)
    errors: list[np.ndarray] = []

    def along(factor: float) -> np.ndarray:
        points = x if factor == 1.0 else np.minimum(factor * x, 1.0)
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            t = logit if factor == 1.0 else np.log(points) - np.log1p(-points)
            width = np.diff(t, axis=0)  # (n - 1, B)
            d = (t[:-1] - mode)[:, None] + width[:, None] * _SUBNODES[:, None]  # (n - 1, 5, B)
            density = np.expm1(d)  # then in place: exp(scale - total * (log1p(share * expm1(d)) - share * d))
            density *= share
            np.log1p(density, out=density)
            d *= share
            density -= d
            density *= -total
            density += scale
            np.exp(density, out=density)
            pieces = width * np.einsum("k,jkb->jb", _SUBWEIGHTS, density)
            pieces = np.where(inside, pieces, 0.0)
            above = _sums_from_the_top(pieces)
            ends = wide.sf(np.stack([points[last, columns], points[first, columns]]))
            survival = ends[0] + above
            error = 2.0 * np.abs(survival[first, columns] - ends[1]) + rounding  # NaN where a point left (0, 1)
            widest = np.where(inside, width, 0.0).max(axis=0)
        direct = ~(np.isfinite(error) & (widest <= _WIDEST_STEP * wide_sd) & smooth)
        if direct.any():
            rows = np.flatnonzero(direct)
            survival[:, rows], error[rows] = wide.take(rows).sf(points[:, rows]), 0.0
        errors.append(error)
        return np.minimum(np.maximum(survival, 0.0), 1.0)

    return along, errors


def _sums_from_the_top(pieces: np.ndarray) -> np.ndarray:
    """``above[j] = sum(pieces[j:])`` ``(n + 1, B)`` for ``pieces`` ``(n, B)``, ``above[n] = 0``.

    A loop over the ~30 rows: NumPy's ``cumsum`` along the first axis is ~12x slower at ``(28, 2048)``.
    """
    above = np.zeros((pieces.shape[0] + 1, pieces.shape[1]))
    for row in range(pieces.shape[0] - 1, -1, -1):
        np.add(above[row + 1], pieces[row], out=above[row])
    return above


def _kept_nodes(narrow: Marginal, weights: np.ndarray) -> np.ndarray | None:
    """For a Beta batch, the nodes whose weight is at least :data:`_NEGLIGIBLE` ``(n, B)``; None to keep them all.

    They are one run (a Beta's density is log-concave in the logit), with at least one node of the coarse
    (every other) rule in it. A skipped node's weight goes to the nearest kept node, so its value is taken
    to be that node's; what this could change is at most the skipped weight, since every integrand here (a
    probability, a partial expectation of a variable in [0, 1]) lies in [0, 1]. Other families keep all.
    """
    if narrow.family != "beta":
        return None
    kept = weights >= _NEGLIGIBLE
    if kept.all() or not kept[::2].any(axis=0).all():
        return None
    return kept


def _moved_to_nearest_kept(weights: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """``weights`` ``(n, B)`` with the weight of the nodes outside each column's kept run added to its ends."""
    count, columns = kept.shape[0], np.arange(kept.shape[1])
    first, last = np.argmax(kept, axis=0), count - 1 - np.argmax(kept[::-1], axis=0)
    node = np.arange(count)[:, None]
    moved = np.where(kept, weights, 0.0)
    moved[first, columns] += np.where(node < first, weights, 0.0).sum(axis=0)
    moved[last, columns] += np.where(node > last, weights, 0.0).sum(axis=0)
    return moved


def _expectation(narrow: Marginal, wide: Marginal, values_at, tolerance: float):
    """``E_narrow[values_at(x, wide, rows)]`` for a flat batch: the fast rule, and the graded rule where it refuses.

    ``values_at(x, wide, rows, along)`` takes nodes ``(n, b)``, the matching rows of ``wide``, their indices
    ``rows`` into the batch and ``along`` (see :func:`_fast_expectation`; None: evaluate ``wide`` at the nodes), and
    returns ``k`` arrays ``(n, b)``. Returns the ``(B, k)`` results and error estimates.
    """
    size = narrow.params[0].shape[0]
    if size <= _CHUNK:
        everything = np.arange(size)
        result, error, accepted = _fast_expectation(
            narrow, lambda x, along: values_at(x, wide, everything, along), tolerance, wide
        )
    else:  # chunks that fit in cache, on every core (NumPy and SciPy release the GIL)
        chunks = [np.arange(start, min(start + _CHUNK, size)) for start in range(0, size, _CHUNK)]

        def one(index: np.ndarray):
            part = wide.take(index)
            return _fast_expectation(
                narrow.take(index), lambda x, along: values_at(x, part, index, along), tolerance, part
            )

        parts = list(thread_map(one, chunks))
        result, error, accepted = (np.concatenate([part[k] for part in parts]) for k in range(3))
    refused = np.flatnonzero(~accepted)
    if refused.size:
        narrow_rest, wide_rest = narrow.take(refused), wide.take(refused)

        def graded(u: np.ndarray, i: np.ndarray) -> np.ndarray:
            nodes = narrow_rest.take(i).ppf(u[:, None])
            return np.stack(values_at(nodes, wide_rest.take(i), refused[i], None), axis=-1)

        result[refused], error[refused] = integrate_unit_interval(graded, refused.size, tolerance)
    return result, error


def integrate_unit_interval(
    integrand, batch_size: int, tolerance: float = 1e-7, max_level: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    """Integrate over [0, 1] for a batch, refining each entry until two levels of the rule agree.

    ``integrand(u, index)`` takes nodes of shape ``(n_nodes,)`` and the flat batch
    indices still being refined, and returns values of shape
    ``(n_nodes, len(index), *trailing)``. Entries that have converged are not
    evaluated again. Returns the integrals and the absolute difference of the last
    two levels (an error estimate), each of shape ``(batch_size, *trailing)``.
    """
    active = np.arange(batch_size)
    nodes, weights = _RULES[0]
    previous = np.tensordot(weights, integrand(nodes, active), axes=1)
    result, error = previous.copy(), np.full(previous.shape, np.inf)
    for level in range(1, max_level + 1):
        nodes, weights = _RULES[level]
        current = np.tensordot(weights, integrand(nodes, active), axes=1)
        difference = np.abs(current - previous)
        result[active], error[active] = current, difference
        unfinished = (difference > tolerance).reshape(len(active), -1).any(axis=1)
        if not unfinished.any():
            break
        active, previous = active[unfinished], current[unfinished]
    return result, error


def _expand(u: np.ndarray, ndim: int) -> np.ndarray:
    return u.reshape(u.shape + (1,) * ndim)


def narrow_first(a: Any, b: Any) -> tuple[Marginal, Marginal, np.ndarray]:
    """Reorder two same-family marginals elementwise so that the narrower comes first.

    Returns ``(narrow, wide, swapped)``, ``swapped`` True where ``b`` was narrower.
    """
    a, b = as_marginal(a), as_marginal(b)
    if a.family != b.family:
        raise TypeError(f"both posteriors must be of one family to compare exactly; got {a.family!r} and {b.family!r}.")
    a_params, b_params = zip(*(np.broadcast_arrays(x, y) for x, y in zip(a.params, b.params, strict=True)), strict=True)
    a, b = Marginal(a.family, a_params), Marginal(b.family, b_params)
    swapped = b.spread() < a.spread()
    return b.select(swapped, a), a.select(swapped, b), swapped


def prob_greater(b: Any, a: Any, tolerance: float = 1e-7) -> tuple[np.ndarray, np.ndarray]:
    """``P(B > A)`` for independent ``B`` and ``A``, with a quadrature error estimate.

    Over the narrower arm ``N``: ``P(W > N) = E_N[S_W(N)]``.
    """
    narrow, wide, swapped = narrow_first(a, b)  # narrow is A unless swapped
    (narrow, shape), (wide, _) = narrow.flatten(), wide.flatten()
    wide_above, error = _expectation(
        narrow, wide, lambda x, w, _, along: [w.sf(x) if along is None else along(1.0)], tolerance
    )
    wide_above, error = wide_above[:, 0].reshape(shape), error[:, 0].reshape(shape)
    return np.where(swapped, 1.0 - wide_above, wide_above), error


def expected_max(a: Any, b: Any, tolerance: float = 1e-7) -> tuple[np.ndarray, np.ndarray]:
    """``E[max(A, B)] = E[N] + E_N[E[(W - N)^+ | N]]`` for independent ``A`` and ``B``."""
    narrow, wide, _ = narrow_first(a, b)
    (narrow, shape), (wide, _) = narrow.flatten(), wide.flatten()
    excess, error = _expectation(
        narrow,
        wide,
        lambda x, w, _, along: [w.upper_partial_expectation(x, None if along is None else along(1.0))],
        tolerance,
    )
    return (narrow.mean() + excess[:, 0]).reshape(shape), error[:, 0].reshape(shape)


def two_arm(
    a: Any, b: Any, tolerance: float = 1e-7, rope: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | tuple[np.ndarray, ...]:
    """``P(B > A)`` and both expected losses ``E[(B - A)^+]``, ``E[(A - B)^+]`` in one pass.

    All three are expectations over the narrower arm ``N`` of closed forms in the wider
    arm ``W`` (its survival function and partial expectations), evaluated at the same nodes;
    each loss is integrated directly, so a loss of 1e-15 is not the difference of two means.
    With ``rope``, also ``P(|lift of B over A| < rope)`` at the same nodes (two more CDF values per
    node): the lift is ``B / A - 1`` for positive families and ``(B - A) / |E[A]|`` for the t and normal.

    Returns
    -------
    prob_b_greater, loss_of_a, loss_of_b, error[, prob_in_rope]
        Arrays with the broadcast batch shape; ``loss_of_a = E[max(A, B) - A]``; ``error`` is
        the largest quadrature error estimate.

    """
    narrow, wide, swapped = narrow_first(a, b)  # narrow is A unless swapped
    (narrow, shape), (wide, _) = narrow.flatten(), wide.flatten()
    swapped = np.reshape(swapped, -1)
    positive = narrow.family in ("beta", "gamma")
    # the ROPE's edges on the scale of the comparison: ratios for positive arms, differences otherwise
    scale = np.abs(np.where(swapped, wide.mean(), narrow.mean())) if rope is not None else None

    def values_at(x, w: Marginal, flipped: bool, edge, along) -> list[np.ndarray]:
        survival = w.sf(x) if along is None else along(1.0)
        values = [survival, *w.partial_expectations(x, survival)]
        if rope is None:
            return values
        if along is not None and not flipped:  # N = A: P(B <= k A) = E_A[F_B(k a)] = E_A[S_B(k_- a) - S_B(k_+ a)]
            below = along(1.0 - rope) if rope < 1.0 else 1.0
            values.append(below - along(1.0 + rope))
        elif along is not None:  # N = B: E_B[S_A(b / k_+) - S_A(b / k_-)]
            values.append(along(1.0 / (1.0 + rope)) - (along(1.0 / (1.0 - rope)) if rope < 1.0 else 0.0))
        elif positive and not flipped:
            values.append(w.cdf(x * (1.0 + rope)) - w.cdf(x * max(1.0 - rope, 0.0)))
        elif positive:
            with np.errstate(divide="ignore"):
                values.append(w.sf(x / (1.0 + rope)) - w.sf(x / max(1.0 - rope, 0.0)))
        elif not flipped:  # N = A: P(|B - A| < e) = E_A[F_B(a + e) - F_B(a - e)]
            values.append(w.cdf(x + edge) - w.cdf(x - edge))
        else:  # N = B: E_B[S_A(b - e) - S_A(b + e)]
            values.append(w.sf(x - edge) - w.sf(x + edge))
        return values

    num_values = 3 if rope is None else 4
    result = np.empty((narrow.params[0].size, num_values))
    error = np.empty_like(result)
    for flipped in (False, True):
        rows = np.flatnonzero(swapped == flipped)
        if rows.size == 0:
            continue
        edges = None if rope is None or positive else rope * scale[rows]

        def at(x, w: Marginal, index: np.ndarray, along, flipped=flipped, edges=edges) -> list[np.ndarray]:
            return values_at(x, w, flipped, None if edges is None else edges[index][None, :], along)

        result[rows], error[rows] = _expectation(narrow.take(rows), wide.take(rows), at, tolerance)
    wide_above, wide_excess, narrow_excess = (result[:, k].reshape(shape) for k in range(3))
    # wide_excess = E[(W - N)^+] is the loss of choosing N; narrow_excess the loss of choosing W
    prob = np.where(swapped.reshape(shape), 1.0 - wide_above, wide_above)
    loss_a = np.where(swapped.reshape(shape), narrow_excess, wide_excess)
    loss_b = np.where(swapped.reshape(shape), wide_excess, narrow_excess)
    out = (prob, loss_a, loss_b, error.max(axis=-1).reshape(shape))
    return out if rope is None else (*out, np.clip(result[:, 3], 0.0, 1.0).reshape(shape))


def compare_two(a: Any, b: Any, tolerance: float = 1e-7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``P(B > A)`` and ``E[max(A, B)]`` in one pass (see :func:`two_arm`, which also gives both losses).

    Returns
    -------
    prob_b_greater, expected_maximum, error
        Arrays with the broadcast batch shape; ``error`` is the larger of the
        quadrature error estimates.

    """
    prob, loss_a, _, error = two_arm(a, b, tolerance)
    return prob, as_marginal(a).mean() + loss_a, error


def prob_best(arms: Any, tolerance: float = 1e-7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``P(arm k is the largest)`` and ``E[max]`` for independent arms on the last axis.

    ``P(best_k) = int prod_{j != k} F_j(Q_k(u)) du`` and
    ``E[max] = sum_k int Q_k(u) prod_{j != k} F_j(Q_k(u)) du``.

    Returns
    -------
    prob, expected_maximum, error
        Shapes ``(..., K)``, ``(...)`` and ``(..., K)`` (error estimate of ``prob``).

    """
    arms, shape = as_marginal(arms).flatten(event_ndim=1)  # parameters (B, K)
    num_arms = arms.params[0].shape[-1]
    off_diagonal = ~np.eye(num_arms, dtype=bool)

    def integrand(u: np.ndarray, index: np.ndarray) -> np.ndarray:
        subset = arms.take(index)
        quantiles = subset.ppf(u[:, None, None])  # (n, b, K)
        with np.errstate(divide="ignore"):
            # parameters (b, 1, K_j) against quantiles (n, b, K_k, 1)
            log_cdf = np.log(subset.expand(-2).cdf(quantiles[..., :, None]))
        others = np.exp(np.where(off_diagonal, log_cdf, 0.0).sum(axis=-1))
        contribution = np.where(others > 0, quantiles * others, 0.0)
        return np.concatenate([others, contribution], axis=-1)

    result, error = integrate_unit_interval(integrand, arms.params[0].shape[0], tolerance)
    prob = result[:, :num_arms].reshape(*shape, num_arms)
    return (
        prob,
        result[:, num_arms:].sum(axis=-1).reshape(shape),
        error[:, :num_arms].reshape(*shape, num_arms),
    )


def _either(condition: np.ndarray, if_true, if_false) -> np.ndarray:
    """``np.where(condition, if_true(), if_false())``, evaluating one branch only when one suffices."""
    if condition.all():
        value = if_true()
    elif not condition.any():
        value = if_false()
    else:
        return np.where(condition, if_true(), if_false())
    return np.broadcast_to(value, np.broadcast_shapes(value.shape, condition.shape))


def _cdf_of(arm: Any, control: Any, shift, unshift):
    """``t -> P(arm (op) control <= t)`` over the narrower arm, its nodes computed once.

    With the control narrower, ``E_c[F_arm(shift(c, t))]``; with the arm narrower,
    ``E_arm[S_c(unshift(arm, t))]`` (``shift``/``unshift``: ``c r``/``a / r`` for a ratio, ``c + d``/``a - d``
    for a difference). A root finder that evaluates the CDF many times pays for the nodes once. The fast
    rule's nodes serve the tests whose density it resolves; the others get the graded rule's quantiles.
    ``t`` broadcasts against the batch (its last axes), e.g. ``(3, *batch)`` for three targets per test.
    """
    narrow, wide, swapped = narrow_first(control, arm)  # narrow = control unless swapped
    (narrow, shape), (wide, _) = narrow.flatten(), wide.flatten()
    swapped = np.reshape(swapped, -1)
    size = narrow.params[0].size
    q, weights, tail = trapezoid_nodes(narrow)
    graded = np.flatnonzero(~(tail <= 1e-12))
    if graded.size:
        nodes, graded_weights = _RULES[2]
        graded_q = narrow.take(graded).ppf(nodes[:, None])
        graded_weights = np.broadcast_to(graded_weights[:, None], graded_q.shape)

    def expectation(nodes_x, node_weights, t, flip, other):
        extra = t.ndim - 1
        x = nodes_x.reshape(nodes_x.shape[:1] + (1,) * extra + nodes_x.shape[1:])
        w = node_weights.reshape(x.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = _either(flip, lambda: other.sf(unshift(x, t)), lambda: other.cdf(shift(x, t)))
        return np.sum(w * values, axis=0)

    def cdf(value: Any) -> np.ndarray:
        t = np.asarray(value, dtype=float)
        full = np.broadcast_shapes(t.shape, shape)
        extra = full[: len(full) - len(shape)]
        t = np.broadcast_to(t, full).reshape((*extra, size))
        out = expectation(q, weights, t, swapped, wide)
        if graded.size:
            out[..., graded] = expectation(graded_q, graded_weights, t[..., graded], swapped[graded], wide.take(graded))
        return out.reshape(out.shape[:-1] + shape)

    return cdf


def ratio_cdf_of(arm: Any, control: Any):
    """``r -> P(arm / control <= r)`` for positive independent arms (see :func:`ratio_cdf`)."""
    return _cdf_of(arm, control, np.multiply, np.divide)


def ratio_cdf(arm: Any, control: Any, ratio: Any) -> np.ndarray:
    """``P(arm / control <= r)`` for positive independent arms, integrating over the narrower one."""
    return ratio_cdf_of(arm, control)(ratio)


def difference_cdf_of(arm: Any, control: Any):
    """``d -> P(arm - control <= d)`` for independent arms (see :func:`difference_cdf`)."""
    return _cdf_of(arm, control, np.add, np.subtract)


def difference_cdf(arm: Any, control: Any, difference: Any) -> np.ndarray:
    """``P(arm - control <= d)`` for independent arms, integrating over the narrower one."""
    return difference_cdf_of(arm, control)(difference)
