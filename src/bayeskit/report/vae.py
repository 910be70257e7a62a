"""The VAE section of the demo: ELBO terms over training, reconstructions, samples and the latent space.

The model is trained by ``bayeskit.cli.demo``; this module only draws it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayeskit.report.html import Report

__all__ = ["add_vae_sections"]


def _training_figure(model: Any) -> Figure:
    figure = Figure(figsize=(8, 3.2), layout="constrained")
    left, right = figure.subplots(1, 2)
    epochs = np.arange(1, model.epochs_run_ + 1)
    left.plot(epochs, model.elbo_, label="training ELBO")
    if model.validation_elbo_.size:
        left.plot(epochs, model.validation_elbo_, label="held-out ELBO")
    left.set(xlabel="epoch", ylabel="nats per image", title="ELBO = reconstruction - KL")
    left.legend(fontsize=8)
    right.plot(epochs, -model.reconstruction_, label="-reconstruction (bits lost)")
    right.plot(epochs, model.kl_, label="KL(q(z|x) || p(z))")
    right.set(xlabel="epoch", ylabel="nats per image", title="the two terms")
    right.legend(fontsize=8)
    return figure


def _images_figure(original: np.ndarray, reconstructed: np.ndarray, samples: np.ndarray) -> Figure:
    figure = Figure(figsize=(8, 3.0), layout="constrained")
    axes = figure.subplots(3, 10)
    for row, (images, label) in enumerate(
        ((original, "held out"), (reconstructed, "reconstructed"), (samples, "sampled"))
    ):
        for column in range(10):
            axis = axes[row, column]
            axis.imshow(images[column].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
        axes[row, 0].set_ylabel(label, fontsize=8)
    return figure


def _latent_figure(mean: np.ndarray, digits: np.ndarray) -> Figure:
    figure = Figure(figsize=(5.5, 4.5), layout="constrained")
    axis = figure.subplots()
    points = axis.scatter(mean[:, 0], mean[:, 1], c=digits, cmap="tab10", s=8, vmin=-0.5, vmax=9.5)
    figure.colorbar(points, ax=axis, ticks=range(10), label="digit (not used in training)")
    axis.set(xlabel="z1", ylabel="z2", title="posterior means of held-out images")
    return figure


def add_vae_sections(report: Report, results: dict[str, Any]) -> Report:
    """Append the VAE sections to ``report``."""
    model, x, digits = results["_model"], results["_x"], results["_digits"]
    report.heading("Variational autoencoder: binarized handwritten digits")
    report.text(
        f"A VAE with a 2-D latent space, trained on {results['num_train']} bundled 8x8 digits "
        f"({results['epochs_run']} epochs, early stopping on the held-out ELBO of 10% of them) and judged on "
        f"{results['num_test']} unseen ones. The ELBO is a lower bound on log p(x); the importance-weighted "
        "estimate with 100 samples is tighter."
    )
    report.table(pd.DataFrame({"held-out, nats per image": results["held_out"]}))
    report.figure(_training_figure(model), "ELBO and its two terms over training.")
    report.figure(
        _images_figure(x[:10], model.reconstruct(x[:10]), model.sample(0, 10)),
        "Held-out images, their reconstructions through the 2-D bottleneck, and images decoded from prior draws.",
    )
    report.figure(_latent_figure(model.encode(x)[0], digits), "The latent space, coloured by the digit.")
    return report
