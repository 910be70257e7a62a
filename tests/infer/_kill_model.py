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
