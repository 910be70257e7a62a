"""Standardization carried with the model, and the checks a table gets before a network sees it."""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

from bayeskit._design import design_matrix, target_vector

__all__ = ["Scaler", "classification_data", "fit_scalers", "regression_data"]


class Scaler(NamedTuple):
    """``(value - mean) / std`` per column; a constant column keeps std 1 (the UCI protocol)."""

    mean: np.ndarray
    std: np.ndarray

    def forward(self, value: np.ndarray) -> np.ndarray:
        """To standardized units."""
        return (value - self.mean) / self.std

    def inverse(self, value: np.ndarray) -> np.ndarray:
        """Back to original units."""
        return value * self.std + self.mean


def fit_scalers(x: np.ndarray, y: np.ndarray | None, names: list[str]) -> tuple[Scaler, Scaler | None]:
    """Scalers for features and target (``None`` for class labels) from the training rows.

    Warns on constant features; a constant regression target is an error.
    """
    std = x.std(axis=0)
    constant = [names[j] for j in np.flatnonzero(std == 0)]
    if constant:
        warnings.warn(
            f"feature column(s) {constant} are constant in the training rows; they carry no information "
            "(kept with std 1, as in the UCI protocol). Drop them to silence this.",
            UserWarning,
            stacklevel=3,
        )
    x_scaler = Scaler(x.mean(axis=0), np.where(std > 0, std, 1.0))
    if y is None:
        return x_scaler, None
    y_std = float(y.std())
    if y_std == 0:
        raise ValueError("`y` is constant in the training rows; there is nothing to learn. Check the target column.")
    return x_scaler, Scaler(np.asarray(y.mean()), np.asarray(y_std))


def regression_data(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Validated float64 copies of a regression table (DataFrame or arrays), with column names."""
    design = design_matrix(x)
    return design.values, target_vector(y, design.values.shape[0], "gaussian"), design.names


def classification_data(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Validated features, label indices, column names and the sorted classes (any labels: ints, text)."""
    import pandas as pd

    design = design_matrix(x)
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(f"`y` must be one column of class labels; got a DataFrame with {y.shape[1]} columns.")
        y = y.iloc[:, 0]
    labels = pd.Series(np.asarray(y, dtype=object) if not isinstance(y, pd.Series) else y.to_numpy(dtype=object))
    if labels.ndim != 1 or len(labels) != design.values.shape[0]:
        raise ValueError(f"`y` must hold one class label per row of X ({design.values.shape[0]}); got {len(labels)}.")
    missing = labels.isna().to_numpy()
    if missing.any():
        raise ValueError(f"`y` has a missing label at row {int(np.argmax(missing))}; drop or label that row.")
    codes, classes = pd.factorize(labels, sort=True)
    if classes.size < 2:
        raise ValueError(f"`y` has a single class ({classes[0]!r}); classification needs at least two.")
    return design.values, codes.astype(np.int64), design.names, np.asarray(classes)
