"""Standardization carried with the model, and the checks a table gets before a network sees it."""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

from bayeskit.models._data import design_matrix, target_vector

__all__ = ["Scaler", "fit_scalers", "regression_data"]


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


def fit_scalers(x: np.ndarray, y: np.ndarray, names: list[str]) -> tuple[Scaler, Scaler]:
    """Scalers for features and target from the training rows; warns on constant features."""
    std = x.std(axis=0)
    constant = [names[j] for j in np.flatnonzero(std == 0)]
    if constant:
        warnings.warn(
            f"feature column(s) {constant} are constant in the training rows; they carry no information "
            "(kept with std 1, as in the UCI protocol). Drop them to silence this.",
            UserWarning,
            stacklevel=3,
        )
    y_std = float(y.std())
    if y_std == 0:
        raise ValueError("`y` is constant in the training rows; there is nothing to learn. Check the target column.")
    return Scaler(x.mean(axis=0), np.where(std > 0, std, 1.0)), Scaler(np.asarray(y.mean()), np.asarray(y_std))


def regression_data(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Validated float64 copies of a regression table (DataFrame or arrays), with column names."""
    design = design_matrix(x)
    return design.values, target_vector(y, design.values.shape[0], "gaussian"), design.names
