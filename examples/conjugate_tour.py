"""A first look at exact Bayesian inference: update, intervals, predictive, Bayes factor.

Run: .venv/bin/python examples/conjugate_tour.py
"""

import numpy as np

from bayeskit.conjugate import BetaBinomial, NormalInverseGamma
from bayeskit.datasets import load_dataset

flips = load_dataset("coin_flips")["heads"].to_numpy()
posterior = BetaBinomial(alpha=1, beta=1).update(successes=flips.sum(), trials=flips.size)
print(posterior)
print(posterior.summary(kind="hdi").round(4))
print("P(next 10 flips give >= 7 heads) =", round(float(1 - posterior.predictive(10).cdf(6)), 4))

fair = BetaBinomial(50, 50).log_marginal_likelihood(flips.sum(), flips.size)
vague = BetaBinomial(1, 1).log_marginal_likelihood(flips.sum(), flips.size)
print("Bayes factor near-fair vs vague:", round(float(np.exp(fair - vague)), 3))

grams = load_dataset("measurements")["grams"].to_numpy()
mass = NormalInverseGamma(mean=100, kappa=0.01, alpha=1, beta=1).update(grams)
print(mass.summary().round(3))
