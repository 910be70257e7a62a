"""The memory and time of a network's training (ensembles, MC dropout, SWAG, BBB, last-layer Laplace).

Memory: the members' weights, the best epoch's weights and AdamW's moments (their exact
shapes, from ``eval_shape``: nothing is allocated), held twice while an epoch runs (its
inputs and outputs are separate buffers); the training data; and one epoch's scratch, the
compiled epoch's own figure (XLA's ``memory_analysis``) in a dry run and otherwise the
activations of one minibatch per member, forward and backward.

Time: one epoch compiles and runs, then ``TIMED_EPOCHS`` more are timed; the estimate is
every epoch at that pace (early stopping often ends sooner, so it leans high).
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from bayeskit.resources import Need, ResourceEstimate, compiled_bytes, free_memory

__all__ = ["TIMED_EPOCHS", "network_estimate"]

TIMED_EPOCHS = 3


def _nbytes(tree: Any) -> int:
    import jax

    return sum(
        int(np.prod(leaf.shape)) * np.dtype(leaf.dtype).itemsize
        for leaf in jax.tree.leaves(tree)
        if hasattr(leaf, "shape")
    )


def _shapes(model: Any, data: dict[str, Any], count: int) -> tuple[Any, Any, Any]:
    """The stacked parameters, their static part and the optimizer state of ``count`` members, as shapes."""
    import equinox as eqx
    import jax

    from bayeskit.nn._train import make_members, make_optimizer

    def build(keys):
        return make_members(
            data["xs"].shape[1],
            tuple(model.hidden),
            model._dropout(),
            model.head,
            keys,
            num_outputs=model._num_outputs(),
            **model._network_options(),
        )

    networks = eqx.filter_eval_shape(build, jax.random.split(jax.random.key(0), count))
    params, static = eqx.partition(networks, lambda leaf: isinstance(leaf, jax.ShapeDtypeStruct))
    spec = ("adamw", float(model.learning_rate), float(model.weight_decay))
    opt_state = jax.eval_shape(jax.vmap(make_optimizer(spec).init), params)
    return params, static, opt_state


def network_estimate(model: Any, data: dict[str, Any], members: int, apart: bool, calibrate: bool) -> ResourceEstimate:
    """The estimate of ``model``'s training on ``data`` (its :meth:`_training_data`).

    ``apart``: the members train one per task (``executor`` / ``workers``), so one process holds one.
    """
    count = 1 if apart else members
    params, _, opt_state = _shapes(model, data, count)
    weights = _nbytes(params)
    state = 2 * weights + _nbytes(opt_state)
    batch = int(data["batch"])
    widths = data["xs"].shape[1] + 2 * sum(model.hidden) + 2 * model._num_outputs()
    scratch = 3 * count * batch * widths * 4  # activations and their gradients, float32
    layout = f"{count:,} member{'s' if count > 1 else ''} x {weights // count:,} B of weights"
    needs = [
        Need(
            "weights, best weights and AdamW moments",
            2 * state,
            "device",
            f"{layout}, x 4 (weights, best, two moments) x 2 while an epoch runs",
        ),
        Need("training data", _nbytes((data["xs"], data["ys"])), "device", "standardized inputs and targets"),
        Need("one epoch's scratch", scratch, "device", f"{count:,} x {batch} rows x {widths} activations x 4 B x 3"),
    ]
    free = free_memory()
    run = f"{model._method} training: {members:,} member{'s' if members > 1 else ''}"
    run += ", one per task" if apart else ""
    run += f", up to {model.epochs:,} epochs on {len(data['train']):,} rows"
    fix = (
        "Train fewer members at once (executor='process' or 'ray' trains one per task), narrower hidden layers, "
        "or a smaller batch_size."
    )
    result = ResourceEstimate(run, tuple(needs), free, fix=fix)
    if not calibrate:
        return result
    return _calibrated(result, model, data, members, apart)


def _calibrated(result: ResourceEstimate, model: Any, data: dict[str, Any], members: int, apart: bool) -> Any:
    from bayeskit.nn._train import make_epoch

    indices = np.arange(1 if apart else members)
    began = time.perf_counter()
    model._train(data, indices, False, epochs=1)
    first = time.perf_counter() - began
    began = time.perf_counter()
    model._train(data, indices, False, epochs=TIMED_EPOCHS)
    per_epoch = (time.perf_counter() - began) / TIMED_EPOCHS
    params, static, opt_state = _shapes(model, data, indices.size)
    train, valid = data["train"], data["valid"]
    optimizer = ("adamw", float(model.learning_rate), float(model.weight_decay))
    epoch = make_epoch(static, optimizer, data["batch"], train.size, model._loss(train.size))
    xs, ys = data["xs"], data["ys"]
    compiled = epoch.lower(
        params,
        opt_state,
        params,
        np.zeros(indices.size, np.float32),
        xs[train],
        ys[train],
        xs[valid],
        ys[valid],
        _keys(members)[indices],
    ).compile()
    needs = tuple(
        dataclasses.replace(
            need, bytes=compiled_bytes(compiled, scratch_only=True), how="XLA memory analysis of the compiled epoch"
        )
        if need.what == "one epoch's scratch"
        else need
        for need in result.needs
    )
    workers = getattr(model, "workers", None) or 1
    rounds = math.ceil(members / workers) if apart else 1
    text = f"1 epoch compiled and run, {TIMED_EPOCHS} timed: {per_epoch * 1000:.1f} ms per epoch"
    if apart:
        text += f", {rounds} round(s) of {workers} member(s) at once, one per worker"
    text += "; early stopping may end sooner"
    return dataclasses.replace(
        result,
        needs=needs,
        seconds=per_epoch * model.epochs * rounds,
        compile_seconds=max(0.0, first - per_epoch),
        calibration=text,
    )


def _keys(members: int) -> Any:
    import jax

    from bayeskit._rng import raw_key

    return jax.random.split(raw_key(0), members)
