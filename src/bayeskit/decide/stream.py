"""Streaming conjugate updates: events arrive in chunks, each chunk is reduced to sufficient statistics per arm.

Conjugate updates add up, so a stream processed chunk by chunk gives exactly the
posterior of one batch update on all events (and of event-by-event updates): the
tests check all three agree. A chunk is reduced with ``np.bincount`` (one vectorized
pass), so a million events take well under a second.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from bayeskit.conjugate import BetaBinomial, GammaPoisson, NormalInverseGamma, NormalKnownVariance

__all__ = ["update_stream"]

FAMILIES = (BetaBinomial, GammaPoisson, NormalKnownVariance, NormalInverseGamma)


def _chunks(events: Any, chunk_size: int) -> Iterable[tuple[Any, Any]]:
    """Yield ``(arms or None, values)`` pairs from an array, a pair of arrays, DataFrames, or an iterable of those."""
    import pandas as pd

    if isinstance(events, pd.DataFrame | np.ndarray | list) or (
        isinstance(events, tuple) and len(events) == 2 and not isinstance(events[0], tuple | pd.DataFrame)
    ):
        events = [events]
    for chunk in events:
        if isinstance(chunk, pd.DataFrame):
            if "value" not in chunk.columns:
                raise ValueError(
                    f"a DataFrame chunk needs a `value` column (and `arm` for several arms); got {list(chunk.columns)}."
                )
            arms = chunk["arm"].to_numpy() if "arm" in chunk.columns else None
            chunk = (arms, chunk["value"].to_numpy())
        elif not isinstance(chunk, tuple):
            chunk = (None, chunk)
        arms, values = chunk
        values = np.asarray(values)
        arms = None if arms is None else np.asarray(arms)
        for start in range(0, max(len(values), 1), chunk_size):
            piece = slice(start, start + chunk_size)
            yield (None if arms is None else arms[piece]), values[piece]


def _check(arms, values, num_arms, family, offset) -> tuple[np.ndarray, np.ndarray]:
    if values.dtype.kind not in "biuf":
        raise TypeError(
            f"event values must be numbers; the chunk starting at event {offset} has {values.dtype} values "
            "(convert text columns with pd.to_numeric first)."
        )
    values = values.astype(float).reshape(-1)
    bad = ~np.isfinite(values)
    if family is BetaBinomial:
        bad |= (values != 0) & (values != 1)
        expected = "0 or 1"
    elif family is GammaPoisson:
        bad |= (values < 0) | (values != np.round(values))
        expected = "a non-negative whole count"
    else:
        expected = "a finite number"
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(f"event {offset + row} has value {float(values[row])!r}; expected {expected}.")
    if arms is None:
        if num_arms != 1:
            raise ValueError(f"the posterior has {num_arms} arms; give (arms, values) so each event names its arm.")
        return np.zeros(len(values), dtype=int), values
    if arms.shape != values.shape:
        raise ValueError(f"`arms` and values must have one entry per event; got {arms.shape} and {values.shape}.")
    if arms.dtype.kind not in "iu" and not (arms.dtype.kind == "f" and np.all(arms == np.round(arms))):
        raise TypeError(
            f"arm labels must be whole numbers 0..{num_arms - 1}; got {arms.dtype} in the chunk at {offset}."
        )
    arms = arms.astype(int)
    outside = (arms < 0) | (arms >= num_arms)
    if outside.any():
        row = int(np.argmax(outside))
        raise ValueError(f"event {offset + row} names arm {arms[row]}; the posterior has arms 0..{num_arms - 1}.")
    return arms, values


def _update(posterior, arms, values, num_arms, shape):
    counts = np.bincount(arms, minlength=num_arms).astype(float).reshape(shape)
    totals = np.bincount(arms, weights=values, minlength=num_arms).reshape(shape)
    if isinstance(posterior, BetaBinomial):
        return posterior.update(successes=totals, trials=counts)
    if isinstance(posterior, GammaPoisson):
        return posterior.update(counts=totals, exposure=counts)
    if isinstance(posterior, NormalKnownVariance):
        return posterior.update_from_statistics(counts, totals)
    means = np.divide(totals, counts, out=np.zeros_like(totals), where=counts > 0)
    squares = np.bincount(arms, weights=(values - means.reshape(-1)[arms]) ** 2, minlength=num_arms).reshape(shape)
    return posterior.update_from_statistics(counts, means, squares)


def update_stream(posterior: Any, events: Any, chunk_size: int = 100_000, progress: bool = False) -> Any:
    """Condition a conjugate posterior on a stream of events, chunk by chunk.

    Parameters
    ----------
    posterior
        A :class:`~bayeskit.conjugate.BetaBinomial` (values 0/1),
        :class:`~bayeskit.conjugate.GammaPoisson` (counts per unit exposure),
        :class:`~bayeskit.conjugate.NormalKnownVariance` or
        :class:`~bayeskit.conjugate.NormalInverseGamma` (real values); scalar, or a
        batch of shape ``(K,)`` for ``K`` arms.
    events
        Values (1-D array), an ``(arms, values)`` pair, a DataFrame with ``value`` (and
        ``arm``) columns, or an iterable of any of these (e.g. ``pd.read_csv(..., chunksize=)``).
    chunk_size
        Events reduced at a time.
    progress
        A progress bar (events) on stderr.

    Returns
    -------
    The updated posterior (the input is not modified).

    Raises
    ------
    ValueError, TypeError
        Naming the first bad event's position in the stream.

    Examples
    --------
    >>> import numpy as np
    >>> from bayeskit.conjugate import BetaBinomial
    >>> from bayeskit.decide.stream import update_stream
    >>> rng = np.random.default_rng(0)
    >>> arms = rng.integers(0, 3, 1_000_000)
    >>> clicks = rng.random(1_000_000) < np.array([0.04, 0.05, 0.06])[arms]
    >>> posterior = update_stream(BetaBinomial(np.ones(3), np.ones(3)), (arms, clicks.astype(int)))
    >>> np.round(posterior.mean(), 3)
    array([0.04 , 0.05 , 0.061])

    """
    from bayeskit._progress import progress_bar

    if not isinstance(posterior, FAMILIES):
        names = ", ".join(f.__name__ for f in FAMILIES)
        raise TypeError(f"`posterior` must be one of {names}; got {type(posterior).__name__}.")
    if len(posterior.batch_shape) > 1:
        raise ValueError(
            f"`posterior` must be scalar or one row of arms (K,); got batch shape {posterior.batch_shape}."
        )
    if int(chunk_size) != chunk_size or chunk_size < 1:
        raise ValueError(f"`chunk_size` must be a whole number >= 1; got {chunk_size!r}.")
    shape = posterior.batch_shape
    num_arms = int(np.prod(shape)) if shape else 1
    family = type(posterior)
    offset = 0
    with progress_bar("events", None, progress) as advance:  # a stream's length is unknown
        for arms, values in _chunks(events, int(chunk_size)):
            arms, values = _check(arms, np.asarray(values), num_arms, family, offset)
            if len(values):
                posterior = _update(posterior, arms, values, num_arms, shape)
            offset += len(values)
            advance(len(values))
    return posterior
