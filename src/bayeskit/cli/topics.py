"""``bayeskit topics``: the topics of a set of texts (one per line, or a CSV text column), by LDA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bayeskit.cli._errors import BadInput, bad_input_on_value_errors

__all__ = ["print_topics", "read_texts", "run_topics", "to_json"]

DEFAULT_SOURCE = "the standard library's docstrings (bayeskit.datasets.python_docstrings)"


def read_texts(path: Path | None, column: str | None) -> tuple[list[str], str]:
    """The texts of ``path`` (a CSV with ``column``, else one text per non-empty line) and a label for them."""
    if path is None:
        if column is not None:
            raise BadInput("`--column` needs a CSV file: pass DOCS as well.")
        from bayeskit.datasets import python_docstrings

        return python_docstrings(), DEFAULT_SOURCE
    if not path.is_file():
        raise BadInput(f"DOCS {str(path)!r} is not a file; pass a text file (one document per line) or a CSV.")
    if path.suffix.lower() == ".csv" or column is not None:
        import pandas as pd

        if column is None:
            raise BadInput(f"{str(path)!r} is a CSV: pass `--column NAME`, the column that holds the texts.")
        with bad_input_on_value_errors(f"reading {path}"):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if column not in frame.columns:
            raise BadInput(f"`--column` {column!r} is not in {path}; columns are: {', '.join(frame.columns)}.")
        texts = [text for text in frame[column].tolist() if text.strip()]
    else:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as error:
            raise BadInput(f"{str(path)!r} is not UTF-8 text ({error.reason}); save it as UTF-8.") from None
        texts = [line for line in lines if line.strip()]
    if len(texts) < 2:
        raise BadInput(f"{str(path)!r} holds {len(texts)} non-empty document(s); topics need at least 2.")
    return texts, str(path)


def run_topics(
    path: Path | None,
    column: str | None,
    topics: int,
    words: int,
    passes: int,
    method: str,
    seed: int,
    progress: bool = True,
) -> dict[str, Any]:
    """Fit the topic model and gather what the command prints (a progress bar over passes on stderr)."""
    from bayeskit.models.topics import TopicModel

    texts, source = read_texts(path, column)
    for name, value in (("--topics", topics), ("--words", words), ("--passes", passes)):
        if value < 1:
            raise BadInput(f"`{name}` must be >= 1; got {value}.")
    min_df = 2 if len(texts) >= 50 else 1  # a word in one document of many says nothing about topics
    model = TopicModel(num_topics=topics, max_iter=passes, method=method, key=seed, progress=progress, min_df=min_df)
    with bad_input_on_value_errors():
        model.fit(texts)
    shares = model.document_topic_ / model.document_topic_.sum(axis=1, keepdims=True)
    return {
        "source": source,
        "model": model,
        "texts": texts,
        "documents": len(texts),
        "vocabulary": len(model.vocabulary_),
        "top_words": model.top_words(words),
        "sizes": shares.mean(axis=0),
        "coherence": model.coherence(k=min(10, len(model.vocabulary_))),
        "shares": shares,
    }


def to_json(result: dict[str, Any]) -> dict[str, Any]:
    """The result as plain data: topics with their words, sizes and coherence, and the bound per pass."""
    model = result["model"]
    order = np.argsort(-result["sizes"])
    return {
        "source": result["source"],
        "documents": result["documents"],
        "vocabulary": result["vocabulary"],
        "topics": [
            {
                "topic": int(k),
                "size": float(result["sizes"][k]),
                "coherence": float(result["coherence"][k]),
                "top_words": result["top_words"][k],
            }
            for k in order
        ],
        "elbo": model.elbo_.tolist(),
        "alpha": model.alpha_.tolist(),
        "eta": model.eta_,
    }


def print_topics(console: Any, result: dict[str, Any]) -> None:
    """A Rich table: topics by size, their top words and coherence."""
    from rich.table import Table

    table = Table(
        title=f"{len(result['sizes'])} topics of {result['documents']:,} documents ({result['vocabulary']:,} words) "
        f"from {result['source']}"
    )
    for name in ("topic", "share", "NPMI", "top words"):
        table.add_column(name, justify="left" if name == "top words" else "right")
    for k in np.argsort(-result["sizes"]):
        table.add_row(
            str(k), f"{result['sizes'][k]:.1%}", f"{result['coherence'][k]:+.2f}", " ".join(result["top_words"][k])
        )
    console.print(table)
    console.print(
        "share: the mean of the documents' topic proportions; NPMI: the top words' co-occurrence in documents "
        "(-1 never together, 1 always)."
    )
