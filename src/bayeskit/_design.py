"""Validating what estimators are given: DataFrames or arrays in, float64 copies out, errors naming the column."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Design", "design_matrix", "group_index", "target_vector"]


class Design:
    """A validated feature matrix with its column names (a copy: the caller's data are never touched)."""

    def __init__(self, values: np.ndarray, names: list[str]):
        self.values = values
        self.names = names


def design_matrix(x: Any, name: str = "X", expected: list[str] | None = None, owner: str = "the model") -> Design:
    """``(n, d)`` float64 features from a DataFrame (names kept) or array-like, with every bad cell named.

    ``owner`` names the estimator in the message when the number of columns differs from training.
    """
    import pandas as pd
    from scipy import sparse

    if sparse.issparse(x):
        raise TypeError(f"`{name}` is a sparse matrix; bayeskit estimators need dense input: pass {name}.toarray().")

    if isinstance(x, pd.Series):
        x = x.to_frame()
    if isinstance(x, pd.DataFrame):
        names = [str(c) for c in x.columns]
        if expected is not None and names != expected:
            missing = [c for c in expected if c not in names]
            raise ValueError(
                f"`{name}` must have the columns the model was fitted with, {expected}; "
                + (f"missing {missing}." if missing else f"got {names} (same names, other order or extras).")
            )
        columns = []
        for column in x.columns:
            values = pd.to_numeric(x[column], errors="coerce").to_numpy(dtype=float)
            bad = np.isnan(values) & x[column].notna().to_numpy()
            if bad.any():
                row = int(np.argmax(bad))
                raise ValueError(
                    f"`{name}` column {column!r} must be numeric; row {row} has {x[column].iloc[row]!r}. "
                    "Encode categories as numbers (e.g. pandas.get_dummies) first."
                )
            columns.append(values)
        values = np.column_stack(columns) if columns else np.empty((len(x), 0))
    else:
        try:
            if np.iscomplexobj(np.asarray(x)):
                raise ValueError(f"Complex data not supported: `{name}` must be real numbers.")
            values = np.array(x, dtype=float, copy=True)
        except ValueError as error:
            if str(error).startswith("Complex data"):
                raise
            raise ValueError(
                f"`{name}` must be numeric (a 2-D array or a DataFrame); got non-numeric values."
            ) from None
        except TypeError:
            raise ValueError(
                f"`{name}` must be numeric (a 2-D array or a DataFrame); got non-numeric values."
            ) from None
        if values.ndim == 1:
            raise ValueError(
                f"`{name}` must be 2-D (n_samples, n_features); got shape {values.shape}. Reshape your data: "
                f"{name}[:, None] for one feature, {name}[None, :] for one sample."
            )
        names = [f"x{j}" for j in range(values.shape[1])] if values.ndim == 2 else []
        if expected is not None and values.ndim == 2 and values.shape[1] != len(expected):
            raise ValueError(
                f"X has {values.shape[1]} features, but {owner} is expecting {len(expected)} features as input: "
                f"`{name}` must have the training data's {len(expected)} columns."
            )
        if expected is not None:
            names = list(expected)
    if values.ndim != 2:
        raise ValueError(f"`{name}` must be 2-D (n_samples, n_features); got shape {values.shape}.")
    if values.shape[0] == 0:
        raise ValueError(f"`{name}` is empty; it needs at least one row.")
    if values.shape[1] == 0:
        raise ValueError(
            f"`{name}` has 0 feature(s) (shape={values.shape}) while a minimum of 1 is required; pass a column."
        )
    bad = ~np.isfinite(values)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        kind = "missing (NaN)" if np.isnan(values[row, column]) else "infinite"
        raise ValueError(f"`{name}` column {names[column]!r} has a {kind} value at row {row}; drop or impute it.")
    return Design(values, names)


def target_vector(y: Any, num_rows: int, family: str) -> np.ndarray:
    """``(n,)`` float64 target, checked for the family (0/1 for bernoulli, counts for poisson)."""
    import pandas as pd

    if y is None:
        raise ValueError("`y` is None: this estimator requires y to be passed, but the target y is None.")
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(f"`y` must be one column; got a DataFrame with {y.shape[1]} columns.")
        y = y.iloc[:, 0]
    if not isinstance(y, pd.Series):
        y = np.asarray(y)
    if np.ndim(y) == 2 and np.shape(y)[1] == 1:  # a column vector: one target, as scikit-learn accepts it
        import warnings

        from sklearn.exceptions import DataConversionWarning

        warnings.warn(
            "A column-vector y was passed when a 1d array was expected: `y` of shape (n, 1) was flattened to (n,); "
            "pass y.ravel() to silence this.",
            DataConversionWarning,
            stacklevel=3,
        )
        y = np.ravel(y)
    try:
        if np.iscomplexobj(y):
            raise TypeError
        values = np.array(y, dtype=float, copy=True).reshape(-1) if np.ndim(y) <= 1 else None
    except (TypeError, ValueError):
        raise ValueError("`y` must be numeric; got non-numeric values.") from None
    if values is None:
        raise ValueError(f"`y` must be 1-D; got shape {np.shape(y)}.")
    if values.shape[0] != num_rows:
        raise ValueError(f"`y` must have one value per row of X ({num_rows}); got {values.shape[0]}.")
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"`y` has a missing or infinite value at row {int(np.argmax(bad))}; drop or impute it.")
    if family == "bernoulli" and not np.all((values == 0) | (values == 1)):
        row = int(np.argmax((values != 0) & (values != 1)))
        raise ValueError(f"`y` must be 0/1 for a logistic model; row {row} has {values[row]:g}.")
    if family == "poisson" and not np.all((values >= 0) & (values == np.round(values))):
        row = int(np.argmax((values < 0) | (values != np.round(values))))
        raise ValueError(f"`y` must be non-negative integer counts for a Poisson model; row {row} has {values[row]:g}.")
    return values


def group_index(groups: Any, num_rows: int, levels: list | None = None) -> tuple[np.ndarray, list]:
    """Integer codes for group labels (levels sorted); with ``levels`` given, unseen labels get code -1."""
    import pandas as pd

    labels = pd.Series(np.asarray(groups).reshape(-1) if not isinstance(groups, pd.Series) else groups.to_numpy())
    if len(labels) != num_rows:
        raise ValueError(f"`groups` must have one label per row of X ({num_rows}); got {len(labels)}.")
    if labels.isna().any():
        raise ValueError(f"`groups` has a missing label at row {int(np.argmax(labels.isna().to_numpy()))}.")
    if levels is None:
        levels = sorted(labels.unique().tolist(), key=str)
    lookup = {level: code for code, level in enumerate(levels)}
    codes = np.array([lookup.get(label, -1) for label in labels], dtype=np.int32)
    return codes, levels
