"""Boundary checks shared by the evaluation metrics: probabilities, labels, targets and scales."""

from __future__ import annotations

from typing import Any

import numpy as np

from bayeskit._validate import as_float_array, check_finite, first_bad_index

__all__ = ["class_probabilities", "labels_for", "matching", "positive", "real"]


def real(value: Any, name: str, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """A finite float64 array, optionally of a given number of dimensions."""
    array = check_finite(as_float_array(value, name), name)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and array.ndim not in allowed:
        raise ValueError(f"`{name}` must have {' or '.join(map(str, allowed))} dimension(s); got shape {array.shape}.")
    if array.size == 0:
        raise ValueError(f"`{name}` is empty; metrics need at least one prediction.")
    return array


def positive(value: Any, name: str) -> np.ndarray:
    """Finite and strictly positive (standard deviations, variances)."""
    array = real(value, name)
    bad = array <= 0
    if bad.any():
        raise ValueError(f"`{name}` must be > 0; got {array[bad].ravel()[0]:g} at index {first_bad_index(bad)}.")
    return array


def class_probabilities(probs: Any, name: str = "probs") -> np.ndarray:
    """Probabilities as ``(n, K)``: a 1-D array is P(class 1) of a binary problem."""
    p = real(probs, name, (1, 2))
    if p.ndim == 1:
        p = np.stack([1.0 - p, p], axis=1)
    bad = (p < 0) | (p > 1)
    if bad.any():
        raise ValueError(f"`{name}` must lie in [0, 1]; got {p[bad][0]:g} at row {first_bad_index(bad.any(axis=1))}.")
    if p.shape[1] < 2:
        raise ValueError(f"`{name}` needs at least 2 classes (columns); got shape {p.shape}.")
    off = np.abs(p.sum(axis=1) - 1.0) > 1e-6
    if off.any():
        row = first_bad_index(off)
        raise ValueError(
            f"each row of `{name}` must sum to 1; row {row} sums to {p[row].sum():.6g}. Apply a softmax first."
        )
    return p


def labels_for(labels: Any, num: int, num_classes: int, name: str = "labels") -> np.ndarray:
    """Integer class labels in ``[0, num_classes)``, one per prediction."""
    y = real(labels, name, 1)
    if y.shape != (num,):
        raise ValueError(f"`{name}` must have shape ({num},) to match the predictions; got {y.shape}.")
    bad = (y != np.round(y)) | (y < 0) | (y >= num_classes)
    if bad.any():
        raise ValueError(
            f"`{name}` must be whole numbers in [0, {num_classes - 1}]; "
            f"got {y[bad][0]:g} at index {first_bad_index(bad)}."
        )
    return y.astype(np.int64)


def matching(reference: np.ndarray, value: Any, name: str, reference_name: str) -> np.ndarray:
    """A finite array with the same shape as ``reference``."""
    array = real(value, name)
    if array.shape != reference.shape:
        raise ValueError(f"`{name}` must have shape {reference.shape} to match `{reference_name}`; got {array.shape}.")
    return array
