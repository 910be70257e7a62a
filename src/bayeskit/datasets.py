"""Small datasets bundled with bayeskit, so every workflow runs with no arguments."""

from __future__ import annotations

import functools
from importlib import resources

import pandas as pd

__all__ = ["DATASETS", "dataset_path", "load_dataset", "permuted_digits", "python_docstrings", "split_digits"]

DATASETS = {
    "calibration_classification": "Predictions of an overconfident 3-class model: columns label, p_0, p_1, p_2.",
    "calibration_regression": "Gaussian predictions with half the true spread: columns x, y, mean, std.",
    "ab_conversions": "A 3-arm checkout test, one row per arm per day: columns day, variant, visitors, conversions.",
    "ab_revenue": "Revenue per user (mostly zero) in 2 arms, one row per user: columns variant, revenue.",
    "coin_flips": "100 flips of a bent coin in order: columns flip, heads (0/1).",
    "measurements": ("40 weighings of a 100 g mass, 4 from a mis-tared scale: columns weighing, grams, faulty_scale."),
    "uq_regression": (
        "600 rows, y = sin(x1) + 0.5 x2 + noise growing with |x1|, with no rows for x1 in (-1, 1): columns x1, x2, y."
    ),
    "uq_classification": (
        "600 rows of three overlapping classes in 2-D (amber, blue, green; 200 each): columns x1, x2, label."
    ),
    "track": (
        "A vehicle's 2-D track, 240 s at 1 Hz: radar positions with 4 m noise and 6% missed detections (empty), "
        "a left turn and an acceleration: columns t, x, y, and the true path true_x, true_y."
    ),
    "digits": (
        "1,797 handwritten digits as 8x8 images of pixel counts 0-16 (UCI Optical Recognition of Handwritten "
        "Digits, test set; Alpaydin & Kaynak 1998; CC BY 4.0, as shipped by scikit-learn): columns p0..p63 "
        "(row-major pixels) and digit."
    ),
    "grunfeld": (
        "Real panel data: yearly investment of 11 US firms, 1935-1954 (Grunfeld 1950, as recreated by Kleiber & "
        "Zeileis 2008; public domain, copied from statsmodels' datasets): columns firm, year, invest, value, "
        "capital and their natural logs log_invest, log_value, log_capital."
    ),
}


_COMPRESSED = {"digits"}


def dataset_path(name: str):
    """Path of a bundled CSV file.

    Examples
    --------
    >>> dataset_path("coin_flips").name
    'coin_flips.csv'

    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(map(repr, DATASETS))}.")
    return resources.files("bayeskit") / "data" / (f"{name}.csv.gz" if name in _COMPRESSED else f"{name}.csv")


def load_dataset(name: str) -> pd.DataFrame:
    """Load a bundled dataset as a DataFrame.

    Examples
    --------
    >>> load_dataset("coin_flips").shape
    (100, 2)

    """
    with resources.as_file(dataset_path(name)) as path:
        return pd.read_csv(path)


def python_docstrings(min_words: int = 20) -> list[str]:
    """The docstrings of the running Python's standard library: a real text corpus on every machine, no download.

    Module, class and function docstrings of every ``.py`` file under the standard library
    (tests, IDLE, tkinter, lib2to3 and site-packages left out), read with ``ast`` (nothing is
    imported), each with at least ``min_words`` words, in a fixed order (sorted paths, then source
    order). About 2,700 texts and 180,000 words on CPython 3.12; another Python version gives another corpus.
    Kept on disk after the first call (``~/.cache/bayeskit``, or ``$BAYESKIT_CACHE_DIR``).

    Examples
    --------
    >>> texts = python_docstrings()
    >>> len(texts) > 1000 and all(len(text.split()) >= 20 for text in texts)
    True
    """
    if isinstance(min_words, bool) or not isinstance(min_words, int) or min_words < 1:
        raise ValueError(f"`min_words` must be an int >= 1; got {min_words!r}.")
    return list(_docstrings(min_words))


@functools.cache
def _docstrings(min_words: int) -> tuple[str, ...]:
    """Read once per process, and kept on disk beside the compilation cache (parsing takes about 4 s).

    The file is named by the Python version and the standard library's path, so another Python
    reads its own; a missing, unreadable or corrupt file is parsed again and rewritten.
    """
    import hashlib
    import json
    import os
    import sys
    import sysconfig
    from pathlib import Path

    from bayeskit.compilation_cache import default_cache_dir

    root = sysconfig.get_paths()["stdlib"]
    stamp = hashlib.sha256(f"{sys.version}|{root}|{min_words}".encode()).hexdigest()[:16]
    path = default_cache_dir().parent / f"docstrings-{stamp}.json"
    try:
        return tuple(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        pass
    texts = _parse_docstrings(Path(root), min_words)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(texts), encoding="utf-8")
        os.replace(partial, path)
    except OSError:  # a read-only home: parse again next time
        pass
    return texts


def _parse_docstrings(root, min_words: int) -> tuple[str, ...]:
    import ast

    skipped = {"test", "tests", "idlelib", "tkinter", "lib2to3", "site-packages", "dist-packages", "turtledemo"}
    texts = []
    for path in sorted(root.rglob("*.py")):
        if skipped & set(path.relative_to(root).parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, OSError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                text = ast.get_docstring(node)
                if text and len(text.split()) >= min_words:
                    texts.append(text)
    return tuple(texts)


def _digits_split(seed: int, train_fraction: float):
    """The bundled digits (pixels / 16), their labels and a random split of the rows into training and test."""
    import numpy as np

    if not 0 < train_fraction < 1:
        raise ValueError(f"`train_fraction` must be in (0, 1); got {train_fraction!r}.")
    frame = load_dataset("digits")
    x, y = frame.drop(columns=["digit"]).to_numpy(float) / 16.0, frame["digit"].to_numpy()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    cut = int(train_fraction * len(x))
    return x, y, order[:cut], order[cut:], rng


def permuted_digits(num_tasks: int, seed: int = 0, train_fraction: float = 0.8) -> tuple[list, list]:
    """Permuted-pixel continual-learning tasks of the bundled digits: ``(train_tasks, test_tasks)`` of ``(X, y)``.

    Task 0 is the images as they are; every later task has its own fixed random order of the 64 pixels
    (the same ten classes throughout: ``Continual(heads="shared")``). Pixels are scaled to [0, 1].
    """
    import numpy as np

    if isinstance(num_tasks, bool) or not isinstance(num_tasks, int) or num_tasks < 1:
        raise ValueError(f"`num_tasks` must be a positive int; got {num_tasks!r}.")
    x, y, train, test, rng = _digits_split(seed, train_fraction)
    perms = [np.arange(x.shape[1])] + [rng.permutation(x.shape[1]) for _ in range(num_tasks - 1)]
    return [(x[train][:, p], y[train]) for p in perms], [(x[test][:, p], y[test]) for p in perms]


def split_digits(
    pairs: tuple[tuple[int, ...], ...] = ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9)),
    seed: int = 0,
    train_fraction: float = 0.8,
) -> tuple[list, list]:
    """Split-class continual-learning tasks of the bundled digits: task ``k`` holds the digits in ``pairs[k]``.

    Every task has the same number of classes and its own output layer (``Continual(heads="per-task")``).
    """
    import numpy as np

    x, y, train, test, _ = _digits_split(seed, train_fraction)

    def task(rows, digits):
        keep = rows[np.isin(y[rows], digits)]
        return x[keep], y[keep]

    return [task(train, p) for p in pairs], [task(test, p) for p in pairs]
