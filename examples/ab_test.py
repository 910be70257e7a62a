"""An exact Bayesian A/B/n test on the bundled checkout experiment.

Run: .venv/bin/python examples/ab_test.py
"""

from bayeskit.datasets import load_dataset
from bayeskit.decide import ab_test_binary

daily = load_dataset("ab_conversions")
totals = daily.groupby("variant")[["visitors", "conversions"]].sum()
result = ab_test_binary(totals.index, totals["visitors"], totals["conversions"], control="control")
print(result.table()[["mean", "prob_best", "expected_loss", "lift_median", "prob_in_rope"]].round(4))
print("decision:", result.decision, result.decision_arm or "", "-", result.reason)
print("conclusion depends on the prior:", result.conclusion_depends_on_prior)
