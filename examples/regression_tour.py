"""A tour of bayeskit's ready regressions on the bundled Grunfeld panel (11 firms, 20 years each).

Run: ``.venv/bin/python examples/regression_tour.py`` (about a minute on 2 cores, most of it JAX compiling).
"""

import warnings

from bayeskit.compare import bayes_factor, compare
from bayeskit.datasets import load_dataset
from bayeskit.infer import DiagnosticsWarning
from bayeskit.models import BayesianLinearRegression, HierarchicalRegression

data = load_dataset("grunfeld")
features = data[["log_value", "log_capital"]]
target = data["log_invest"]

# 1. One regression for all firms, exact: no sampling, no error bars on the error bars.
pooled = BayesianLinearRegression().fit(features, target)
print("Exact pooled regression (Normal-Inverse-Gamma posterior):")
print(pooled.summary().round(3), "\n")

# 2. Firm intercepts with partial pooling (non-centered, NUTS), next to complete pooling.
partial = HierarchicalRegression(group="firm").fit(data[["log_value", "log_capital", "firm"]], target)
# Complete pooling has no hierarchy, so the Laplace approximation is valid there (and fast).
complete = HierarchicalRegression(group="firm", pooling="complete", method="laplace").fit(
    data[["log_value", "log_capital", "firm"]], target
)
with warnings.catch_warnings():
    warnings.simplefilter("error", DiagnosticsWarning)  # this script stops if a fit is not trustworthy
    print("Hierarchical regression (NUTS; diagnostics passed):")
    print(partial.summary().loc[["log_value", "log_capital", "tau", "sigma"], ["mean", "sd", "r_hat", "ess_bulk"]])

# 3. Which predicts new years better? PSIS-LOO says, with its standard error.
print("\nModel comparison by PSIS-LOO:")
print(compare({"firm intercepts": partial, "one intercept": complete})[["elpd_loo", "elpd_diff", "se_diff", "weight"]])

# 4. A Bayes factor between two exact models: does capital matter once value is in?
value_only = BayesianLinearRegression().fit(data[["log_value"]], target)
result = bayes_factor(pooled, value_only)
print(f"\nBayes factor, with vs without log_capital: log BF = {result.log_bayes_factor:.1f} ({result.evidence})")

# 5. Predictive intervals for a known firm and for a firm the model has never seen.
rows = data[["log_value", "log_capital", "firm"]].iloc[[0]].copy()
new = rows.assign(firm="A new firm")
for label, frame in (("General Motors", rows), ("a new firm", new)):
    low, high = partial.predict_interval(frame)
    print(f"95% interval for log investment, {label}: [{low[0]:.2f}, {high[0]:.2f}] (observed {target.iloc[0]:.2f})")
tau = float(partial.posterior_.mean()["tau"])
print(f"(the new firm's interval is wider by the between-firm spread, tau = {tau:.2f})")
