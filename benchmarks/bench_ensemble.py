"""Deep ensemble training: M members in one ``vmap`` vs M sequential trainings, same data and epochs.

Two measurements, both after warm-up calls that compile the programs:

- ``epoch``: bayeskit's compiled training epoch (``bayeskit.nn._train.make_epoch``) on
  50,000 rows, for 1 and for M members; the sequential cost is M times the
  one-member epoch. This isolates the training step from Python bookkeeping.
- ``fit``: ``DeepEnsemble(members=M).fit`` against M fits of ``members=1`` with M
  seeds, fixed epochs (no early stopping).

Usage::

    .venv/bin/python benchmarks/bench_ensemble.py [--json out.json]

On the GPU machine it runs from the source tree: ``PYTHONPATH=src python3 benchmarks/bench_ensemble.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

CONFIGS = [
    # name, rows, features, hidden, batch, epochs
    ("UCI-sized (n=1,000, 1x50)", 1_000, 8, (50,), 32, 40),
    ("larger (n=50,000, 2x200)", 50_000, 8, (200, 200), 256, 5),
]


def _data(rows: int, features: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, features))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] + 0.2 * rng.normal(size=rows)
    return x, y


def _fit(members: int, seed: int, hidden, batch: int, epochs: int, x, y) -> float:
    import jax

    from bayeskit.nn import DeepEnsemble

    start = time.perf_counter()
    model = DeepEnsemble(
        members=members, hidden=hidden, batch_size=batch, epochs=epochs, validation_fraction=0.0, key=seed
    ).fit(x, y)
    jax.block_until_ready(model.params_)
    return time.perf_counter() - start


def epoch_rows(members: int = 10, rows: int = 50_000, features: int = 8) -> list[dict]:
    """Steady-state milliseconds per epoch for 1 and ``members`` members, per (hidden, batch) setting."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    from bayeskit.nn._train import make_epoch, make_members, make_optimizer

    x, y = (jnp.asarray(a, jnp.float32) for a in _data(rows, features))
    out = []
    for hidden, batch in (((200, 200), 256), ((50,), 32)):
        per_epoch = {}
        for count in (1, members):
            networks = make_members(
                features, hidden, 0.0, "heteroscedastic", jax.random.split(jax.random.PRNGKey(0), count)
            )
            params, static = eqx.partition(networks, eqx.is_array)
            spec = ("adamw", 1e-3, 1e-4)
            state = jax.vmap(make_optimizer(spec).init)(params)
            epoch = make_epoch(static, spec, batch, rows)
            best_loss = jnp.zeros(count, dtype=jnp.float32)

            def step(p, s, k, epoch=epoch, best_loss=best_loss, count=count):
                return epoch(p, s, p, best_loss, x, y, x[:0], y[:0], jax.random.split(k, count))

            result = step(params, state, jax.random.PRNGKey(0))
            for i in range(2):  # warm-up
                result = step(result[0], result[1], jax.random.PRNGKey(i + 1))
            jax.block_until_ready(result)
            start = time.perf_counter()
            for i in range(5):
                result = step(result[0], result[1], jax.random.PRNGKey(i + 10))
            jax.block_until_ready(result)
            per_epoch[count] = (time.perf_counter() - start) / 5
        row = {
            "config": f"epoch, n={rows:,}, hidden={hidden}, batch={batch}",
            "members": members,
            "device": jax.devices()[0].device_kind,
            "one_member_ms": 1000 * per_epoch[1],
            "vmap_ms": 1000 * per_epoch[members],
            "sequential_ms": 1000 * members * per_epoch[1],
            "speedup": members * per_epoch[1] / per_epoch[members],
        }
        print(json.dumps(row), file=sys.stderr, flush=True)
        out.append(row)
    return out


def fit_rows(members: int = 10) -> list[dict]:
    import jax

    rows = []
    for name, num_rows, features, hidden, batch, epochs in CONFIGS:
        x, y = _data(num_rows, features)
        _fit(members, 0, hidden, batch, 2, x, y)  # compile both programs
        _fit(1, 0, hidden, batch, 2, x, y)
        together = _fit(members, 0, hidden, batch, epochs, x, y)
        one_by_one = sum(_fit(1, seed, hidden, batch, epochs, x, y) for seed in range(members))
        row = {
            "config": f"fit, {name}",
            "members": members,
            "epochs": epochs,
            "device": jax.devices()[0].device_kind,
            "vmap_s": together,
            "sequential_s": one_by_one,
            "speedup": one_by_one / together,
        }
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="write the rows here")
    parser.add_argument("--mode", choices=("epoch", "fit", "both"), default="both")
    args = parser.parse_args()
    rows = (epoch_rows() if args.mode in ("epoch", "both") else []) + (
        fit_rows() if args.mode in ("fit", "both") else []
    )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
