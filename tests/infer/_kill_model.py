"""A model slow enough to be killed mid-run, shared by the checkpoint test and the child process it kills."""

import numpy as np
import numpyro
import numpyro.distributions as dist

RNG = np.random.default_rng(7)
X = RNG.normal(size=(3000, 4)).astype(np.float32)
Y = (RNG.random(3000) < 1 / (1 + np.exp(-X @ np.array([1.0, -0.5, 0.25, 0.0])))).astype(np.float32)
SETTINGS = {"num_chains": 2, "num_warmup": 100, "num_samples": 600, "checkpoint_every": 20}


def logistic(x, y=None):
    beta = numpyro.sample("beta", dist.Normal(0, 1).expand([x.shape[1]]).to_event(1))
    numpyro.sample("y", dist.Bernoulli(logits=x @ beta), obs=y)


def run(checkpoint):
    import jax

    from bayeskit.infer import nuts

    return nuts(logistic, X, y=Y, key=jax.random.key(3), checkpoint=checkpoint, **SETTINGS)


def run_until_killed(checkpoint, kill_after):
    """Run, and SIGKILL this very process shortly after the first checkpoint with ``done >= kill_after``.

    The kill comes from inside the child (a timer thread started by the checkpoint write),
    so it lands mid-run however slowly a loaded machine schedules the parent test.
    """
    import importlib
    import os
    import signal
    import threading

    nuts_module = importlib.import_module("bayeskit.infer.nuts")  # the module (the package re-exports the function)

    write = nuts_module.write_checkpoint

    def write_then_maybe_die(path, meta, arrays):
        write(path, meta, arrays)
        if meta["done"] >= kill_after:
            threading.Timer(0.01, os.kill, (os.getpid(), signal.SIGKILL)).start()

    nuts_module.write_checkpoint = write_then_maybe_die
    run(checkpoint)
