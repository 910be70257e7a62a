"""Split large elementwise NumPy/SciPy work across CPU cores (ufuncs release the GIL)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["elementwise", "thread_map"]

_MIN_CHUNK = 100_000
_CORES = os.cpu_count() or 1


def elementwise(fn: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """Apply an elementwise ``fn`` to broadcast ``arrays``, in threads when the arrays are large.

    ``fn`` returns one value per element, or a fixed number ``k`` of values per element
    stacked on a new last axis (the result then has shape ``(*shape, k)``).
    """
    if math.prod(np.size(a) for a in arrays) < 2 * _MIN_CHUNK:  # the broadcast size is at most this product
        return np.asarray(fn(*arrays))  # small work: no threads, and no shape arithmetic (~10 us a call)
    shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    size = int(np.prod(shape))
    num_workers = min(_CORES, max(1, size // _MIN_CHUNK))
    if num_workers == 1:
        return np.asarray(fn(*arrays))
    broadcast = np.broadcast_arrays(*arrays)
    flat = [np.ravel(a) for a in broadcast]
    bounds = np.linspace(0, size, num_workers + 1).astype(int)
    with ThreadPoolExecutor(num_workers) as pool:
        parts = pool.map(lambda i: fn(*(a[bounds[i] : bounds[i + 1]] for a in flat)), range(num_workers))
        result = np.concatenate(list(parts))
        return result.reshape(shape + result.shape[1:])


def thread_map(fn: Callable, items: list) -> list:
    """``[fn(item) for item in items]`` on one thread per core, in order (for NumPy work that releases the GIL)."""
    num_workers = min(_CORES, len(items))
    if num_workers <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(num_workers) as pool:
        return list(pool.map(fn, items))
