"""Topic models: bayeskit's ``TopicModel`` beside scikit-learn's ``LatentDirichletAllocation`` (the same algorithm).

Corpus: the docstrings of this Python's standard library (``bayeskit.datasets.python_docstrings``: about
2,700 texts on CPython 3.12, no download), one ``CountVectorizer`` vocabulary (English stop words out, words
of three letters or more, ``min_df=2``, ``max_df=0.95``), 80% of the texts for training and 20% held out, by a
fixed permutation. Both fit batch variational Bayes, 10 passes, priors 1 / K, ``tol=1e-3``, at most 100
E-step iterations per document, from seeds 0-9 (means +- their standard errors). Held-out perplexity by document completion: each
held-out token is observed or scored with probability 1/2 (one split for both libraries); the observed half
sets each document's topics (each library's own ``transform``), the other half is scored under the posterior
means (lower is better). Time: the fit's wall time; bayeskit's first fit in the process (compilation
included) is reported apart, its later fits reuse the compiled programs.

Usage::

    .venv/bin/python benchmarks/bench_topics.py
"""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse

SEEDS = tuple(range(10))
TOPICS = (10, 20, 50)


def main() -> None:
    from sklearn.decomposition import LatentDirichletAllocation
    from sklearn.feature_extraction.text import CountVectorizer

    from bayeskit.datasets import python_docstrings
    from bayeskit.models.topics import TOKEN_PATTERN, TopicModel, completion_perplexity, split_tokens

    texts = python_docstrings()
    order = np.random.default_rng(0).permutation(len(texts))
    cut = int(0.8 * len(texts))
    vectorizer = CountVectorizer(stop_words="english", token_pattern=TOKEN_PATTERN, min_df=2, max_df=0.95)
    train = sparse.csr_matrix(vectorizer.fit_transform([texts[i] for i in order[:cut]]), dtype=np.float64)
    test = sparse.csr_matrix(vectorizer.transform([texts[i] for i in order[cut:]]), dtype=np.float64)
    train = train[np.asarray(train.sum(axis=1)).ravel() > 0]
    test = test[np.asarray(test.sum(axis=1)).ravel() > 0]
    observed, held_out = split_tokens(test, key=0)
    seen = np.asarray(observed.sum(axis=1)).ravel() > 0
    print(
        f"{train.shape[0]} training and {test.shape[0]} held-out documents, {train.shape[1]} words, "
        f"{int(train.sum())} training tokens"
    )

    def score(theta_of, beta, topics):
        theta = np.full((test.shape[0], topics), 1.0 / topics)
        theta[seen] = theta_of(observed[seen])
        return completion_perplexity(held_out, theta, beta)

    print(
        "| topics | bayeskit perplexity | scikit-learn perplexity | bayeskit fit (s) | scikit-learn fit (s) "
        "| speed-up | bayeskit first fit (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for topics in TOPICS:
        rows = {"ours": [], "theirs": [], "ours_s": [], "theirs_s": []}
        began = time.perf_counter()
        TopicModel(num_topics=topics, max_iter=10, key=99).fit(train)
        first = time.perf_counter() - began
        for seed in SEEDS:
            began = time.perf_counter()
            ours = TopicModel(num_topics=topics, max_iter=10, key=seed).fit(train)
            rows["ours_s"].append(time.perf_counter() - began)
            began = time.perf_counter()
            theirs = LatentDirichletAllocation(topics, max_iter=10, random_state=seed).fit(train)
            rows["theirs_s"].append(time.perf_counter() - began)
            rows["ours"].append(score(ours.transform, ours.topic_word_posterior().mean(), topics))
            beta = theirs.components_ / theirs.components_.sum(axis=1, keepdims=True)
            rows["theirs"].append(score(theirs.transform, beta, topics))
        mean = {name: float(np.mean(values)) for name, values in rows.items()}
        spread = {name: float(np.std(rows[name], ddof=1) / np.sqrt(len(SEEDS))) for name in ("ours", "theirs")}
        print(
            f"| {topics} | {mean['ours']:.1f} +- {spread['ours']:.1f} | {mean['theirs']:.1f} +- {spread['theirs']:.1f} "
            f"| {mean['ours_s']:.2f} | {mean['theirs_s']:.2f} | {mean['theirs_s'] / mean['ours_s']:.2f}x | {first:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
