"""Report sections of ``bayeskit topics``: each topic's top words, the topics' sizes and the documents' mixtures."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayeskit.report.html import Report

__all__ = ["add_topic_sections"]

MAP_DOCUMENTS = 80  # documents drawn in the document-topic map


def add_topic_sections(report: Report, result: dict[str, Any]) -> Report:
    """Append the topics (word bars with 90% intervals), their sizes and a document-topic map to ``report``."""
    model = result["model"]
    topics = len(result["sizes"])
    order = np.argsort(-result["sizes"])
    report.heading(f"{topics} topics of {result['documents']:,} documents")
    report.text(
        f"Latent Dirichlet allocation by variational Bayes on {result['source']}: {result['vocabulary']:,} words. "
        "Each topic is a Dirichlet posterior over the words; the bars are its mean word probabilities with 90% "
        "intervals. The share of a topic is the mean of the documents' topic proportions."
    )
    posterior = model.topic_word_posterior()
    mean = posterior.mean()
    low, high = posterior.interval(0.9)
    columns = min(4, topics)
    rows = math.ceil(topics / columns)
    figure = Figure(figsize=(3.2 * columns, 2.4 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    words = len(result["top_words"][0])
    for ax, k in zip(axes, order, strict=False):
        top = np.argsort(-mean[k])[:words][::-1]
        ax.barh(range(top.size), mean[k, top], color="#4c72b0")
        ax.errorbar(
            mean[k, top],
            range(top.size),
            xerr=[mean[k, top] - low[k, top], high[k, top] - mean[k, top]],
            fmt="none",
            ecolor="black",
            linewidth=0.8,
        )
        ax.set_yticks(range(top.size), [model.vocabulary_[i] for i in top], fontsize=8)
        ax.set_title(f"topic {k}: {result['sizes'][k]:.1%}", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    for ax in axes[topics:]:
        ax.set_visible(False)
    report.figure(figure, caption="Top words per topic (largest topics first), posterior means with 90% intervals.")
    report.table(
        pd.DataFrame(
            {
                "share": result["sizes"][order],
                "NPMI": result["coherence"][order],
                "top words": [" ".join(result["top_words"][k]) for k in order],
            },
            index=pd.Index([f"topic {k}" for k in order], name="topic"),
        )
    )
    shares = result["shares"]
    picked = np.linspace(0, shares.shape[0] - 1, min(MAP_DOCUMENTS, shares.shape[0])).round().astype(int)
    rank = np.empty(topics, dtype=int)
    rank[order] = np.arange(topics)  # the map's rows: largest topic first, as above
    picked = picked[np.lexsort((-shares[picked].max(axis=1), rank[shares[picked].argmax(axis=1)]))]
    figure = Figure(figsize=(10, 3.5), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(shares[picked][:, order].T, aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax.set_yticks(range(topics), [f"topic {k}" for k in order], fontsize=7)
    ax.set_xlabel(f"{picked.size} documents, grouped by their main topic")
    figure.colorbar(image, ax=ax, label="topic proportion")
    report.figure(figure, caption="Document-topic map: each column is one document's topic mixture.")
    figure = Figure(figsize=(6, 3), layout="constrained")
    ax = figure.subplots()
    ax.plot(np.arange(1, model.elbo_.size + 1), model.elbo_, marker="o")
    ax.set_xlabel("pass over the corpus")
    ax.set_ylabel("evidence lower bound")
    report.figure(figure, caption="The evidence lower bound after every pass (batch VB never goes down).")
    return report
