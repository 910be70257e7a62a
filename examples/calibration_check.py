"""Check an overconfident classifier, then fix it with temperature scaling on a separate split.

Run: .venv/bin/python examples/calibration_check.py
"""

import numpy as np

from bayeskit.datasets import load_dataset
from bayeskit.evaluate import expected_calibration_error, fit_temperature

data = load_dataset("calibration_classification")
probs, labels = data[["p_0", "p_1", "p_2"]].to_numpy(), data["label"].to_numpy()
fit, held = np.arange(1000), np.arange(1000, 2000)
scaler = fit_temperature(np.log(probs[fit]), labels[fit], ids=fit)
fixed = scaler.transform(np.log(probs[held]), ids=held)
print(f"temperature {scaler.temperature:.2f}")
print(
    f"ECE on held-out rows: raw {expected_calibration_error(probs[held], labels[held]):.3f}, "
    f"recalibrated {expected_calibration_error(fixed, labels[held]):.3f}"
)
