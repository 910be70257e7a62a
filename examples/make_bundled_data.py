"""Regenerate the small datasets bundled in src/bayeskit/data (deterministic, fixed seeds).

Run: .venv/bin/python examples/make_bundled_data.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "src" / "bayeskit" / "data"


def coin_flips() -> pd.DataFrame:
    """100 flips of a bent coin (true heads probability 0.62), in the order they were made."""
    rng = np.random.default_rng(20261123)
    heads = (rng.uniform(size=100) < 0.62).astype(int)
    return pd.DataFrame({"flip": np.arange(1, 101), "heads": heads})


def measurements() -> pd.DataFrame:
    """40 weighings of a 100 g reference mass; 4 came from a scale that was mis-tared by about +6 g."""
    rng = np.random.default_rng(7)
    grams = 100.0 + 0.5 * rng.standard_normal(40)
    faulty = np.array([5, 17, 26, 33])
    grams[faulty] += rng.uniform(5.0, 7.0, size=faulty.size)
    return pd.DataFrame(
        {
            "weighing": np.arange(1, 41),
            "grams": grams.round(3),
            "faulty_scale": np.isin(np.arange(40), faulty).astype(int),
        }
    )


def ab_conversions() -> pd.DataFrame:
    """A three-arm checkout test, one row per arm per day for 14 days (true rates 5.0%, 5.6%, 5.1%)."""
    rng = np.random.default_rng(42)
    rows = []
    for day in range(1, 15):
        for variant, rate in (("control", 0.050), ("new_button", 0.056), ("new_copy", 0.051)):
            visitors = int(rng.integers(600, 800))
            rows.append(
                {"day": day, "variant": variant, "visitors": visitors, "conversions": int(rng.binomial(visitors, rate))}
            )
    return pd.DataFrame(rows)


def ab_revenue() -> pd.DataFrame:
    """Row-level revenue per user for two arms: most users spend nothing, spenders are log-normal."""
    rng = np.random.default_rng(3)
    rows = []
    for variant, buy_rate, log_mean in (("control", 0.08, 3.0), ("treatment", 0.085, 3.05)):
        spend = np.where(rng.uniform(size=2000) < buy_rate, rng.lognormal(log_mean, 0.8, size=2000), 0.0)
        rows += [{"variant": variant, "revenue": round(float(v), 2)} for v in spend]
    return pd.DataFrame(rows)


def calibration_classification() -> pd.DataFrame:
    """3-class predictions of an overconfident model: it reports softmax(2.5 z) where labels follow softmax(z)."""
    rng = np.random.default_rng(11)
    z = 1.5 * rng.standard_normal((2000, 3))
    true = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    labels = (true.cumsum(axis=1) < rng.uniform(size=(2000, 1))).sum(axis=1)
    reported = np.exp(2.5 * z) / np.exp(2.5 * z).sum(axis=1, keepdims=True)
    reported = np.round(reported, 9)
    reported[:, 0] = np.round(1.0 - reported[:, 1:].sum(axis=1), 9)
    return pd.DataFrame({"label": labels, "p_0": reported[:, 0], "p_1": reported[:, 1], "p_2": reported[:, 2]})


def calibration_regression() -> pd.DataFrame:
    """Gaussian predictions whose standard deviation is half the true noise (overconfident)."""
    rng = np.random.default_rng(12)
    x = rng.uniform(-3, 3, size=2000)
    noise = 0.3 * (1 + np.abs(x))
    y = np.sin(x) + noise * rng.standard_normal(2000)
    return pd.DataFrame({"x": x.round(4), "y": y.round(5), "mean": np.sin(x).round(5), "std": (0.5 * noise).round(5)})


def uq_regression() -> pd.DataFrame:
    """A 2-feature regression with noise that grows with |x1|, and a gap in x1 where no training data fall."""
    rng = np.random.default_rng(21)
    x1 = np.concatenate([rng.uniform(-4, -1, size=300), rng.uniform(1, 4, size=300)])  # nothing in (-1, 1)
    x2 = rng.normal(size=600)
    noise = 0.15 + 0.15 * np.abs(x1)
    y = np.sin(x1) + 0.5 * x2 + noise * rng.standard_normal(600)
    return pd.DataFrame({"x1": x1.round(4), "x2": x2.round(4), "y": y.round(5)})


def uq_classification() -> pd.DataFrame:
    """Three overlapping classes in 2-D (aleatoric: the overlaps), with empty space around them (epistemic)."""
    rng = np.random.default_rng(22)
    centres = {"amber": (-2.0, 0.0), "blue": (2.0, 0.0), "green": (0.0, 2.5)}
    rows = []
    for label, (a, b) in centres.items():
        x1 = a + rng.normal(scale=1.0, size=200)
        x2 = b + rng.normal(scale=1.0, size=200)
        rows.append(pd.DataFrame({"x1": x1.round(4), "x2": x2.round(4), "label": label}))
    return pd.concat(rows).sample(frac=1.0, random_state=22).reset_index(drop=True)


def digits() -> pd.DataFrame:
    """The UCI optical digits test set (CC BY 4.0) from scikit-learn's copy: p0..p63 and the digit."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    frame = pd.DataFrame(bunch.data.astype(int), columns=[f"p{i}" for i in range(64)])
    frame["digit"] = bunch.target
    return frame


def track() -> pd.DataFrame:
    """A vehicle's 2-D track over 240 s (1 Hz): radar positions with 4 m noise and 6% missed detections.

    The vehicle drives straight, turns left through a quarter circle, then speeds up;
    ``true_x``/``true_y`` are kept so that the tracker's 95% bands can be checked.
    """
    rng = np.random.default_rng(1123)
    steps = 240
    speed = np.where(np.arange(steps) < 170, 12.0, 12.0 + 0.1 * (np.arange(steps) - 170))
    heading = np.clip((np.arange(steps) - 80) / 60, 0.0, 1.0) * np.pi / 2
    velocity = np.c_[speed * np.cos(heading), speed * np.sin(heading)]
    truth = np.cumsum(velocity, axis=0) + np.array([100.0, -400.0])
    observed = truth + rng.normal(0.0, 4.0, truth.shape)
    missed = rng.random(steps) < 0.06
    observed[missed] = np.nan
    return pd.DataFrame(
        {
            "t": np.arange(steps, dtype=float),
            "x": observed[:, 0].round(2),
            "y": observed[:, 1].round(2),
            "true_x": truth[:, 0].round(3),
            "true_y": truth[:, 1].round(3),
        }
    )


if __name__ == "__main__":
    DATA.mkdir(parents=True, exist_ok=True)
    coin_flips().to_csv(DATA / "coin_flips.csv", index=False)
    measurements().to_csv(DATA / "measurements.csv", index=False)
    ab_conversions().to_csv(DATA / "ab_conversions.csv", index=False)
    ab_revenue().to_csv(DATA / "ab_revenue.csv", index=False)
    calibration_classification().to_csv(DATA / "calibration_classification.csv", index=False)
    calibration_regression().to_csv(DATA / "calibration_regression.csv", index=False)
    uq_regression().to_csv(DATA / "uq_regression.csv", index=False)
    uq_classification().to_csv(DATA / "uq_classification.csv", index=False)
    track().to_csv(DATA / "track.csv", index=False)
    digits().to_csv(DATA / "digits.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    print(f"wrote {DATA}/coin_flips.csv and measurements.csv")
