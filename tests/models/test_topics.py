"""TopicModel (LDA by variational Bayes): identities of the updates, scikit-learn's bound, recovery, bad input."""

import itertools

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import NotFittedError

from bayeskit.conjugate import DirichletMultinomial
from bayeskit.models.topics import TopicModel, npmi, split_tokens
from bayeskit.posterior import Posterior

TOPICS, WORDS = 3, 30


def planted(num_docs=300, length=60, alpha=0.1, seed=0):
    """Documents drawn from LDA with three topics on disjoint thirds of the vocabulary (plus a little noise)."""
    rng = np.random.default_rng(seed)
    beta = np.full((TOPICS, WORDS), 0.002)
    for k in range(TOPICS):
        beta[k, k * 10 : (k + 1) * 10] = rng.dirichlet(np.full(10, 5.0))
    beta /= beta.sum(axis=1, keepdims=True)
    theta = rng.dirichlet(np.full(TOPICS, alpha), num_docs)
    counts = np.stack([rng.multinomial(length, t @ beta) for t in theta])
    return counts.astype(float), beta


@pytest.fixture(scope="module")
def fitted():
    counts, beta = planted()
    return TopicModel(num_topics=TOPICS, max_iter=30, key=0).fit(counts), counts, beta


def best_match(estimated, truth):
    """The smallest total L1 distance between topics over the topics' permutations."""
    return min(
        sum(np.abs(estimated[p[k]] - truth[k]).sum() for k in range(TOPICS))
        for p in itertools.permutations(range(TOPICS))
    )


def test_the_updates_keep_their_identities(fitted):
    model, counts, _ = fitted
    # every document's gamma sums to K alpha + its length; the topics' concentrations to K V eta + all words
    gamma = model._gamma(counts)
    np.testing.assert_allclose(gamma.sum(axis=1), TOPICS * model.alpha_[0] + counts.sum(axis=1), rtol=1e-4)
    np.testing.assert_allclose(model.components_.sum(), TOPICS * WORDS * model.eta_ + counts.sum(), rtol=1e-4)


def test_the_bound_is_scikit_learns_for_the_same_parameters(fitted):
    from sklearn.decomposition import LatentDirichletAllocation

    _, counts, _ = fitted
    reference = LatentDirichletAllocation(TOPICS, max_iter=20, random_state=0).fit(counts)
    ours = TopicModel(num_topics=TOPICS, max_iter=1).fit(counts)
    ours.components_ = reference.components_.copy()  # the bound at scikit-learn's topics, our E-step
    assert ours.perplexity(counts) == pytest.approx(reference.perplexity(counts), rel=2e-3)


def test_planted_topics_are_recovered_and_the_bound_rises(fitted):
    model, _, beta = fitted
    estimated = model.topic_word_posterior().mean()
    assert best_match(estimated, beta) < 0.3 * TOPICS  # truth: each topic's mass on its own ten words
    assert np.all(np.diff(model.elbo_) > -1e-3 * np.abs(model.elbo_[1:]))  # batch VB never goes down
    assert model.elbo_[-1] > model.elbo_[0]


def test_online_reaches_the_batch_fit(fitted):
    model, counts, beta = fitted
    online = TopicModel(num_topics=TOPICS, method="online", batch_size=50, max_iter=20, key=0).fit(counts)
    assert best_match(online.topic_word_posterior().mean(), beta) < 0.3 * TOPICS
    assert online.completion_perplexity(counts) < 1.1 * model.completion_perplexity(counts)


def test_both_sides_are_dirichlet_posteriors_with_intervals(fitted):
    model, counts, _ = fitted
    topics = model.topic_word_posterior()
    documents = model.document_topic_posterior()
    assert isinstance(topics, DirichletMultinomial) and isinstance(topics, Posterior)
    assert topics.batch_shape == (TOPICS,) and documents.batch_shape == (counts.shape[0],)
    low, high = topics.interval(0.9)
    mean = topics.mean()
    assert np.all((low <= mean) & (mean <= high))
    np.testing.assert_allclose(model.transform(counts[:5]).sum(axis=1), 1.0, rtol=1e-5)


def test_held_out_words_and_coherence(fitted):
    model, counts, _ = fitted
    observed, held_out = split_tokens(sparse.csr_matrix(counts), key=1)
    assert (observed + held_out - sparse.csr_matrix(counts)).nnz == 0  # every token on exactly one side
    untrained = TopicModel(num_topics=TOPICS, max_iter=1, max_doc_iter=1).fit(counts)
    assert model.completion_perplexity(counts) < untrained.completion_perplexity(counts) < WORDS
    coherence = model.coherence(k=5)
    assert coherence.shape == (TOPICS,) and np.all((-1 <= coherence) & (coherence <= 1))
    together = sparse.csc_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 1.0]]))
    assert npmi(together, np.array([0, 1])) == pytest.approx(1.0)  # always together
    assert npmi(together, np.array([0, 2])) == -1.0  # never together


def test_empirical_bayes_moves_alpha_toward_the_truth():
    counts, _ = planted(num_docs=400, alpha=0.1, seed=2)
    model = TopicModel(num_topics=TOPICS, max_iter=30, empirical_bayes=True, key=0).fit(counts)
    assert model.alpha_.shape == (TOPICS,)
    assert abs(np.log(model.alpha_.mean() / 0.1)) < abs(np.log((1 / TOPICS) / 0.1))
    assert 0 < model.eta_ < 1


def test_texts_sparse_and_dense_give_one_fit():
    texts = ["cats purr and cats sleep", "dogs bark and dogs run", "cats and dogs play"] * 10
    model = TopicModel(num_topics=2, min_df=1, max_iter=20).fit(texts)
    assert sorted(words[0] for words in model.top_words(1)) == ["cats", "dogs"]
    counts, _ = planted(num_docs=60)
    dense = TopicModel(num_topics=TOPICS, max_iter=5).fit(counts)
    sparse_fit = TopicModel(num_topics=TOPICS, max_iter=5).fit(sparse.csr_matrix(counts))
    np.testing.assert_allclose(dense.components_, sparse_fit.components_, rtol=1e-6)


@pytest.mark.parametrize(
    "make, x, message",
    [
        (lambda: TopicModel(2), np.array([[1.0, 2.0], [0.0, 0.0], [3.0, 1.0]]), r"document\(s\) \[1\] of `X` have no"),
        (lambda: TopicModel(2), np.array([[1.0, -2.0], [1.0, 1.0]]), r"non-negative whole numbers; found -2\.0"),
        (lambda: TopicModel(2), np.array([[1.5, 2.0], [1.0, 1.0]]), "Pass raw counts, not frequencies"),
        (lambda: TopicModel(2), np.array([[3.0], [1.0]]), "the vocabulary has 1 word"),
        (lambda: TopicModel(5), np.ones((3, 4)), r"`num_topics` \(5\) is more than the 3 documents"),
        (lambda: TopicModel(1), np.ones((3, 4)), "`num_topics` must be at least 2"),
        (lambda: TopicModel(2, method="gibbs"), np.ones((3, 4)), "unknown method 'gibbs'; choose one of 'batch'"),
        (lambda: TopicModel(2, alpha=-1.0), np.ones((3, 4)), "`alpha` must be a number > 0"),
        (lambda: TopicModel(2), "one text", "got one string. Wrap it"),
        (lambda: TopicModel(2), ["a text here", "  "], r"empty text\(s\) at position\(s\) \[1\]"),
        (lambda: TopicModel(2, min_df=5), ["cats purr", "dogs bark"], "no vocabulary left from the texts"),
    ],
)
def test_bad_input_is_named(make, x, message):
    with pytest.raises(ValueError, match=message):
        make().fit(x)


def test_use_before_fit_and_mismatched_inputs():
    with pytest.raises(NotFittedError, match="call fit"):
        TopicModel(2).transform(np.ones((2, 3)))
    model = TopicModel(2, max_iter=2).fit(planted(num_docs=20)[0])
    with pytest.raises(ValueError, match=f"`X` has 4 words \\(columns\\); this model was fitted on {WORDS}"):
        model.transform(np.ones((2, 4)))
    with pytest.raises(ValueError, match="fitted on a count matrix"):
        model.transform(["some text"])


def test_the_e_steps_digamma_is_as_accurate_as_jaxs_in_float32():
    import jax.numpy as jnp
    from jax.scipy.special import digamma
    from scipy import special

    from bayeskit.models._lda import digamma_positive

    x = np.concatenate([np.geomspace(1e-4, 1e6, 4000), np.linspace(0.5, 20, 1000)]).astype(np.float32)
    exact = special.digamma(x.astype(np.float64))
    ours = np.asarray(digamma_positive(jnp.asarray(x)), np.float64)
    theirs = np.asarray(digamma(jnp.asarray(x)), np.float64)
    scale = np.maximum(np.abs(exact), 1.0)
    assert np.max(np.abs(ours - exact) / scale) <= max(2 * np.max(np.abs(theirs - exact) / scale), 1e-6)
