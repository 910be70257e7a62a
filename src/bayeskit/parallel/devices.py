"""Many devices: batches of independent work (chains, ensemble members) split over all local devices.

A leading batch axis is laid out over a one-dimensional mesh of every local device with
``jax.sharding`` (``NamedSharding(mesh, P(axis))``); each device holds ``size / devices``
of the batch. NUTS runs its transitions under ``jax.shard_map`` (each device steps its own
chains, no communication between them); ensemble training lets XLA partition the
``vmap``-ed members by their sharding. On a CPU, ``XLA_FLAGS=--xla_force_host_platform_device_count=4``
makes four devices of one process (set before JAX is imported), which is how the tests run it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["batch_sharding", "check_divisible", "device_count", "local_mesh", "place"]


def device_count() -> int:
    """The number of local devices JAX sees (CPU devices count only when forced by ``XLA_FLAGS``)."""
    import jax

    return jax.local_device_count()


def local_mesh(axis: str) -> Any:
    """A one-dimensional mesh of every local device, its one axis named ``axis``."""
    import jax
    import numpy as np
    from jax.sharding import Mesh

    return Mesh(np.array(jax.local_devices()), (axis,))


def batch_sharding(mesh: Any, axis: str, leading: int = 0) -> Any:
    """The sharding that splits dimension ``leading`` of an array over ``mesh`` (the rest replicated)."""
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    return NamedSharding(mesh, P(*([None] * leading), axis))


def place(tree: Any, sharding: Any) -> Any:
    """Every array leaf of ``tree`` laid out with ``sharding`` (a no-op for leaves already there)."""
    import jax

    return jax.device_put(tree, sharding)


def check_divisible(count: int, name: str, method: str, devices: int | None = None) -> int:
    """``count`` if the local devices divide it, else a ValueError naming both numbers and the fix."""
    devices = device_count() if devices is None else devices
    if count % devices:
        below, above = (count // devices) * devices, -(-count // devices) * devices
        nearest = f"{above}" if below == 0 else f"{below} or {above}"
        raise ValueError(
            f"`{name}` must be a multiple of the {devices} local devices for {method}; got {name}={count}. "
            f"Pass {name}={nearest}, or run on one device ({method.split('=')[0]}='vectorized')."
        )
    return count
