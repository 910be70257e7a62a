"""``bayeskit demo``: every workflow on bundled data, gathered into one HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from bayeskit.datasets import load_dataset
from bayeskit.report import Report

__all__ = ["FULL", "QUICK", "DemoSize", "run_demo"]


class DemoSize(NamedTuple):
    """How much iterative work each section does: the full demo, or a quick tour of the same report."""

    draws: int  # NUTS warmup and draws per chain
    epochs: int  # network training epochs
    vae_epochs: int
    bandit_horizon: int
    bandit_seeds: int
    topic_passes: int  # LDA passes over the standard library's docstrings
    continual_tasks: int  # permuted-digit tasks learnt one after the other
    continual_epochs: int  # epochs per task


FULL = DemoSize(
    draws=1000,
    epochs=500,
    vae_epochs=300,
    bandit_horizon=20_000,
    bandit_seeds=50,
    topic_passes=20,
    continual_tasks=5,
    continual_epochs=40,
)
QUICK = FULL._replace(epochs=100, vae_epochs=40, topic_passes=3, continual_tasks=3, continual_epochs=3)


def _conjugate(report: Report, size: DemoSize) -> dict[str, Any]:
    from bayeskit.report.conjugate import add_conjugate_sections, conjugate_results

    heads = load_dataset("coin_flips")["heads"].to_numpy()
    weighings = load_dataset("measurements")
    grams, faulty = weighings["grams"].to_numpy(), weighings["faulty_scale"].to_numpy()
    results = conjugate_results(heads, grams, faulty)
    add_conjugate_sections(report, results, heads, grams)
    return results


def _ab_test(report: Report, size: DemoSize) -> dict[str, Any]:
    from bayeskit.cli.ab import load_and_run
    from bayeskit.report.ab import add_ab_sections

    source, _, result = load_and_run(None, None, None, None)
    add_ab_sections(report, result, source)
    return result.to_dict()


def _calibration(report: Report, size: DemoSize) -> dict[str, Any]:
    from bayeskit._table import read_table
    from bayeskit.cli.calibrate import detect_predictions, evaluate
    from bayeskit.datasets import dataset_path
    from bayeskit.report.calibration import add_classification_sections, add_regression_sections, side_by_side_note

    out = {}
    for kind, add in (("classification", add_classification_sections), ("regression", add_regression_sections)):
        predictions = detect_predictions(read_table(dataset_path(f"calibration_{kind}")))
        results = evaluate(predictions, recalibrate=True)
        add(report, results["models"], results["summaries"], note=side_by_side_note(kind))
        out[kind] = results["summaries"]
    return out


def _fit(report: Report, size: DemoSize) -> dict[str, Any]:
    from bayeskit.cli.fit import FitRequest, load_and_fit, to_json
    from bayeskit.report.fit import add_fit_sections

    request = FitRequest(
        data=None,
        target=None,
        features=None,
        family="gaussian",
        group=None,
        method=None,
        progress=False,
        warmup=size.draws,
        samples=size.draws,
    )
    request.pooling_comparison = True
    source, roles, model, training = load_and_fit(request)
    add_fit_sections(report, source, roles, model, training)
    return to_json(source, roles, model)


def _uq(report: Report, size: DemoSize) -> dict[str, Any]:
    from bayeskit.cli.uq import run_uq, to_json
    from bayeskit.report.uq import add_uq_sections

    result = run_uq(None, None, None, "ensemble", "regression", 0.2, size.epochs, 0, progress=False)
    add_uq_sections(report, result)
    classification = run_uq(None, None, None, "ensemble", "classification", 0.2, size.epochs, 0, progress=False)
    add_uq_sections(report, classification)
    return {"regression": to_json(result), "classification": to_json(classification)}


def _vae(report: Report, size: DemoSize) -> dict[str, Any]:
    from bayeskit.report.vae import add_vae_sections

    results = _vae_results(epochs=size.vae_epochs)
    add_vae_sections(report, results)
    return {key: value for key, value in results.items() if not key.startswith("_")}


def _track(report: Report, size: DemoSize) -> dict[str, Any]:
    from bayeskit.cli.track import run_track
    from bayeskit.report.sequential import add_track_sections

    result = run_track(None, None, None, None, None, None)
    add_track_sections(report, result)
    return {key: value for key, value in result.items() if not key.startswith("_")}


def _bandit(report: Report, size: DemoSize) -> dict[str, Any]:
    from bayeskit.cli.bandit import run_bandit
    from bayeskit.report.sequential import add_bandit_sections

    horizon, seeds = size.bandit_horizon, size.bandit_seeds
    result = run_bandit(
        "0.04,0.05,0.06", "bernoulli", horizon, seeds, 1, 0, 0.1, 1.0, 0, progress=False, engine="numpy"
    )  # the conjugate case: NumPy's samplers beat compiling three JAX simulations on a CPU
    add_bandit_sections(report, result)
    return result.summary().reset_index().to_dict(orient="records")


def _topics(report: Report, size: DemoSize) -> dict[str, Any]:
    from bayeskit.cli.topics import run_topics, to_json
    from bayeskit.report.topics import add_topic_sections

    result = run_topics(None, None, 10, 10, size.topic_passes, "batch", 0, progress=False)
    add_topic_sections(report, result)
    return to_json(result)


def _continual(report: Report, size: DemoSize) -> dict[str, Any]:
    from bayeskit.datasets import permuted_digits
    from bayeskit.nn import Continual, continual_metrics
    from bayeskit.report.continual import add_continual_sections

    train, test = permuted_digits(size.continual_tasks)
    settings = {"hidden": (100,), "epochs": size.continual_epochs, "learning_rate": 3e-3, "init_std": 0.1, "key": 0}
    strengths = {"ewc": 30.0, "online-laplace": 30.0}  # chosen on a validation seed in benchmarks/bench_continual.py
    matrices = {}
    for method in ("finetune", "ewc", "online-laplace", "vcl", "joint"):
        model = Continual(method, strength=strengths.get(method, 1.0), **settings)
        for task in train:
            model.fit_task(*task)
        matrices[method] = model.accuracy_matrix(test)
    add_continual_sections(report, {"matrices": matrices, "hidden": 100, "epochs": size.continual_epochs})
    return {method: continual_metrics(matrix) for method, matrix in matrices.items()}


# Each later workflow adds a (name, section builder) pair here; the demo runs them in order.
SECTIONS = [
    ("conjugate", _conjugate),
    ("ab_test", _ab_test),
    ("calibration", _calibration),
    ("fit", _fit),
    ("uq", _uq),
    ("vae", _vae),
    ("track", _track),
    ("bandit", _bandit),
    ("topics", _topics),
    ("continual", _continual),
]


def run_demo(out: Path | None, progress=None, size: DemoSize = FULL) -> tuple[Path | None, dict[str, Any]]:
    """Run every demo section, write ``out/index.html`` (unless ``out`` is None) and return its path and the results.

    ``size=QUICK`` draws fewer samples and trains fewer epochs: the same report, sooner.
    """
    report = Report("bayeskit demo: models that know what they don't know")
    report.text(
        "Every number below is computed from data bundled with bayeskit by `make demo` "
        "(or `bayeskit demo`); rerun it and you get the same report.",
        css_class="note",
    )
    results: dict[str, Any] = {}
    for name, build in SECTIONS:
        if progress is not None:
            progress(name)
        results[name] = build(report, size)
    return (None if out is None else report.save(Path(out) / "index.html")), results


def _vae_results(key: int = 0, epochs: int = 300) -> dict[str, Any]:
    """Train a 2-D-latent VAE on the bundled digits (binarized at 8 of 16); hold out the last 297 images."""
    from bayeskit.datasets import load_dataset
    from bayeskit.nn.vae import VAE

    frame = load_dataset("digits")
    x = (frame.iloc[:, :64].to_numpy() >= 8).astype(float)
    train, test = np.arange(1500), np.arange(1500, x.shape[0])
    model = VAE(latent_dim=2, hidden=(128,), epochs=epochs, key=key).fit(x[train])
    held_out = model.elbo(x[test], key=1)
    held_out["log_likelihood_iw100"] = float(model.log_likelihood(x[test], key=2, num_samples=100).mean())
    return {
        "num_train": int(train.size),
        "num_test": int(test.size),
        "epochs_run": int(model.epochs_run_),
        "held_out": held_out,
        "_model": model,
        "_x": x[test],
        "_digits": frame["digit"].to_numpy()[test],
    }
