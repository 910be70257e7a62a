"""The pages: a title, one paragraph on what to notice, the controls, the numbers and the figures.

Each page is plain HTML made here (every text escaped); its script
(``static/pages/<slug>.js``) sends the controls' values to its API endpoint and draws the
answer with Observable Plot. Every displayed number is an element ``data-out="<name>"``
whose ``data-value`` holds the API's full-precision value.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

__all__ = ["PAGES", "Page", "Slider", "render_index", "render_page"]


@dataclass(frozen=True)
class Slider:
    """A range input mirrored by a number box; ``name`` is the API field it sets."""

    name: str
    label: str
    low: float
    high: float
    step: float
    value: float

    def html(self) -> str:
        """The control's markup."""
        attrs = f'min="{self.low:g}" max="{self.high:g}" step="{self.step:g}" value="{self.value:g}"'
        label = html.escape(self.label)
        return (
            f'<label class="control"><span>{label}</span>'
            f'<input type="range" id="{self.name}" data-param="{self.name}" {attrs} aria-label="{label}">'
            f'<input type="number" data-mirror="{self.name}" {attrs} aria-label="{label} (number)"></label>'
        )


def _out(name: str, label: str, note: str = "") -> str:
    hint = f' title="{html.escape(note)}"' if note else ""
    return (
        f'<div class="stat"{hint}><span class="label">{html.escape(label)}</span>'
        f'<output data-out="{name}">…</output></div>'
    )


@dataclass(frozen=True)
class Page:
    """One page of the playground."""

    slug: str
    path: str
    title: str
    nav: str
    explanation: str
    controls: tuple[Slider, ...] = ()
    outputs: str = ""
    figures: tuple[str, ...] = ("figure",)
    extra: str = ""
    scripts: tuple[str, ...] = field(default=())


PAGES: dict[str, Page] = {
    page.slug: page
    for page in (
        Page(
            "prior-posterior",
            "/explore/prior-posterior",
            "Prior, likelihood, posterior: the Beta-Binomial",
            "Prior → posterior",
            "A Beta(α, β) prior on a coin's probability of heads meets binomial data. The posterior is again a Beta, "
            "Beta(α + heads, β + tails), so the curves are exact. Notice how the posterior sits between the prior and "
            "the (scaled) likelihood, closer to whichever is more concentrated; how MAP, MLE and mean differ with little "
            "data and agree with much; and that the HDI is shorter than the equal-tailed interval when the posterior is "
            "skewed. “Flip one more” makes the posterior the prior and adds one flip: updating one flip at a time ends "
            "where one update with all the flips does.",
            (
                Slider("alpha", "prior α", 0.1, 50, 0.1, 2),
                Slider("beta", "prior β", 0.1, 50, 0.1, 2),
                Slider("successes", "heads", 0, 100, 1, 3),
                Slider("trials", "flips", 0, 100, 1, 10),
            ),
            _out("mean", "posterior mean")
            + _out("map", "MAP (posterior mode)")
            + _out("mle", "MLE (heads / flips)")
            + _out("eti", "95% equal-tailed interval")
            + _out("hdi", "95% highest-density interval")
            + _out("posterior", "posterior"),
            extra=(
                '<div class="row"><label class="control"><span>true P(heads) for new flips</span>'
                '<input type="range" id="p_true" min="0" max="1" step="0.01" value="0.7" aria-label="true P(heads)">'
                '<input type="number" data-mirror="p_true" min="0" max="1" step="0.01" value="0.7"></label>'
                '<button id="flip" type="button">Flip one more</button> <span id="flip-log" aria-live="polite"></span></div>'
            ),
        ),
        Page(
            "normal-mean",
            "/explore/normal-mean",
            "The mean of a Gaussian, noise variance known",
            "Normal mean",
            "A Normal prior on an unknown mean and N observations with known noise variance give a Normal posterior "
            "whose precision is the prior's plus N over the noise variance. Raise N and the prior washes out: the "
            "posterior follows the data and narrows like 1/√N. Make the prior variance small (a strong prior) and it "
            "resists: the posterior stays near the prior mean until the data outweigh it. “weight on the data” is the "
            "share of the posterior mean that comes from the sample mean.",
            (
                Slider("prior_mean", "prior mean", -5, 5, 0.1, 0),
                Slider("prior_variance", "prior variance", 0.01, 10, 0.01, 1),
                Slider("data_mean", "sample mean", -5, 5, 0.1, 2),
                Slider("noise_variance", "noise variance", 0.1, 10, 0.1, 1),
                Slider("num_obs", "N", 0, 50, 1, 5),
            ),
            _out("posterior_mean", "posterior mean")
            + _out("posterior_variance", "posterior variance")
            + _out("data_weight", "weight on the data")
            + _out("eti", "95% interval"),
        ),
        Page(
            "aleatoric-epistemic",
            "/explore/aleatoric-epistemic",
            "Aleatoric and epistemic uncertainty",
            "Aleatoric vs epistemic",
            "N noisy points are drawn from a fixed function on [−3, 1]; a Gaussian process fitted by bayeskit (its "
            "noise and kernel learned by marginal likelihood) predicts on [−4, 4]. Its predictive variance splits "
            "exactly into aleatoric (the learned noise: the data's own scatter, which no amount of data removes) and "
            "epistemic (uncertainty about the function, which more data removes). Raise N: the epistemic band shrinks "
            "where the data are and stays wide to the right, away from them; the aleatoric band tracks σ whatever N is.",
            (
                Slider("num_obs", "N", 5, 500, 1, 30),
                Slider("noise_sd", "noise σ", 0, 2, 0.05, 0.3),
            ),
            _out("learned_noise_sd", "learned noise sd")
            + _out("inside.aleatoric_sd", "aleatoric sd at x = −1 (data)")
            + _out("inside.epistemic_sd", "epistemic sd at x = −1 (data)")
            + _out("away.aleatoric_sd", "aleatoric sd at x = 3.5 (no data)")
            + _out("away.epistemic_sd", "epistemic sd at x = 3.5 (no data)"),
            figures=("figure", "figure-parts"),
        ),
        Page(
            "gaussian",
            "/explore/gaussian",
            "The Gaussian and the 68–95–99.7 rule",
            "Gaussian",
            "The Normal density with mean μ and standard deviation σ. Whatever μ and σ, the mass within 1, 2 and 3 sds "
            "of the mean is the same: 68.27%, 95.45% and 99.73%. Moving μ slides the curve; raising σ spreads it and "
            "lowers its peak (1/(σ√2π)), since the area stays 1.",
            (Slider("mu", "μ", -5, 5, 0.1, 0), Slider("sigma", "σ", 0.1, 5, 0.1, 1)),
            _out("peak", "peak density")
            + _out("bands.0.mass", "within 1 sd")
            + _out("bands.1.mass", "within 2 sd")
            + _out("bands.2.mass", "within 3 sd"),
        ),
        Page(
            "covariance",
            "/explore/covariance",
            "Two correlated Gaussians: covariance, axes and contours",
            "Covariance",
            "A 2-D Gaussian with sds σx, σy and correlation ρ. Its density contours are ellipses whose axes are the "
            "eigenvectors of the covariance, scaled by the square roots of the eigenvalues (drawn as the two arrows). "
            "At ρ = 0 the axes are the x and y axes; as |ρ| grows the ellipse tilts and thins, and the determinant "
            "shrinks with it (the ellipse at radius r has area π r² √det). The samples' own covariance is shown beside the true one.",
            (
                Slider("sigma_x", "σx", 0.1, 3, 0.05, 1),
                Slider("sigma_y", "σy", 0.1, 3, 0.05, 1),
                Slider("rho", "ρ", -0.99, 0.99, 0.01, 0.6),
            ),
            _out("eigenvalues", "eigenvalues")
            + _out("determinant", "determinant")
            + _out("covariance", "covariance")
            + _out("sample_covariance", "sample covariance (300 draws)"),
        ),
        Page(
            "mle-map",
            "/explore/mle-map",
            "MLE vs MAP vs posterior mean, and MAP as regularization",
            "MLE vs MAP",
            "Coin flips arrive one at a time (true P(heads) 0.7). The MLE jumps to 0 or 1 after the first flips; the MAP "
            "and the posterior mean start at the prior and move towards the data, the stronger the prior the slower. "
            "With many flips all three agree: the prior washes out. Below, a small regression: the MAP under a Gaussian "
            "prior is ridge regression, under a Laplace prior the lasso, and the prior's strength λ is the penalty. "
            "The lasso sets weights exactly to zero; ridge only shrinks them.",
            (
                Slider("prior_strength", "prior strength α + β", 0.1, 100, 0.1, 10),
                Slider("prior_mean", "prior mean", 0.01, 0.99, 0.01, 0.5),
                Slider("num_flips", "flips", 0, 500, 1, 20),
                Slider("log10_penalty", "log₁₀ λ (regression)", -3, 3, 0.05, 0),
            ),
            _out("mle", "MLE")
            + _out("map", "MAP")
            + _out("mean", "posterior mean")
            + _out("heads", "heads")
            + _out("ridge", "ridge weights (Gaussian prior)")
            + _out("lasso", "lasso weights (Laplace prior)")
            + _out("lasso_zeros", "lasso weights at zero"),
            figures=("figure", "figure-ridge", "figure-lasso"),
        ),
        Page(
            "topics",
            "/explore/topics",
            "Topics: a Dirichlet prior on what each document mixes",
            "Topics",
            "Latent Dirichlet allocation on 600 docstrings of Python's standard library: each topic is a Dirichlet "
            "posterior over words, each document a Dirichlet posterior over topics. The prior α on the documents' "
            "mixtures decides how many topics a document draws on: with a small α most documents sit in one topic "
            "(“topics per document” near 1, the curve of main-topic shares near 1), with a large α they mix several "
            "and the topics blur into the corpus's common words. More topics split the large ones.",
            (
                Slider("num_topics", "topics", 2, 20, 1, 6),
                Slider("alpha", "prior α on documents' topics", 0.01, 3, 0.01, 0.1),
            ),
            _out("topics_per_document", "topics per document (exp entropy)")
            + _out("largest_share", "share of the largest topic")
            + _out("documents", "documents"),
            figures=("figure", "figure-mixing"),
        ),
        Page(
            "continual",
            "/explore/continual",
            "Continual learning: the last task's posterior as the next task's prior",
            "Continual",
            "One network learns the bundled digits, then the same digits with their pixels shuffled in a new fixed "
            "order, then another order. Trained plainly (fine-tuning) it forgets each task as it learns the next. The "
            "online Laplace keeps the posterior of the tasks so far as a Gaussian prior whose precision is the "
            "curvature (Fisher) of their likelihood, times the strength: weights the old tasks need are held, the "
            "others stay free. Too weak and it forgets like fine-tuning; too strong and it cannot learn the new task "
            "(the stability-plasticity trade-off). Joint training on every task so far is the ceiling.",
            (
                Slider("log10_strength", "log10 strength", -3, 3, 0.5, 0),
                Slider("num_tasks", "tasks", 2, 5, 1, 3),
            ),
            _out("average_accuracy", "average accuracy after the last task")
            + _out("first_task_forgetting", "forgetting of the first task")
            + _out("last_task_accuracy", "accuracy on the last task"),
            figures=("figure", "figure-matrix"),
        ),
        Page(
            "ab",
            "/ab",
            "A/B/n test explorer",
            "A/B test",
            "Type each arm's visitors and conversions (or, for counts, exposure and events). bayeskit computes the "
            "posterior of each arm exactly (Beta or Gamma), the probability each is best, the expected loss of shipping "
            "it (what you lose if it is not the best, in % of the control), the lift over the control, the decision and "
            "whether another reasonable prior would change it. Notice how P(best) can be high while the lift interval "
            "still includes zero, and how the decision waits until the expected loss is below the threshold.",
            extra="",
            outputs=_out("decision", "decision") + _out("reason", "why") + _out("method", "method"),
            figures=("figure", "figure-lift"),
        ),
        Page(
            "studies",
            "/studies",
            "Optimization studies, live",
            "Studies",
            "The study files named with --study, read as they grow (never locked or written). The table lists every "
            "trial; the curve shows each value and the best so far; the slices show the GP surrogate along each "
            "parameter with the others held at the best trial. The page refreshes every two seconds.",
            figures=(),
        ),
        Page(
            "runs",
            "/runs",
            "NUTS runs, live",
            "Runs",
            "The checkpoints named with --checkpoint, read each time the sampler replaces them. R-hat near 1 (below "
            "1.01) and bulk and tail ESS of at least 400 say the chains agree and the draws suffice; a chain whose "
            "trace stays flat while the others move is stuck. The page refreshes every two seconds.",
            figures=(),
        ),
    )
}

_NAV_ORDER = (
    "prior-posterior",
    "normal-mean",
    "aleatoric-epistemic",
    "gaussian",
    "covariance",
    "mle-map",
    "topics",
    "continual",
    "ab",
)


def _shell(title: str, body: str, scripts: tuple[str, ...], current: str = "") -> str:
    links = "".join(
        f'<a href="{PAGES[s].path}"{" aria-current=page" if s == current else ""}>{html.escape(PAGES[s].nav)}</a>'
        for s in (*_NAV_ORDER, "studies", "runs")
    )
    tags = "".join(f'<script src="/static/{s}"></script>' for s in scripts)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · bayeskit</title>"
        '<link rel=stylesheet href="/static/bayeskit.css"><link rel=icon href="data:,"></head>'
        f'<body data-state="loading"><header><a class=brand href="/">bayeskit</a><nav>{links}</nav></header>'
        f"<main>{body}</main>{tags}</body></html>"
    )


def render_page(slug: str) -> str:
    """The HTML of page ``slug``."""
    page = PAGES[slug]
    controls = "".join(c.html() for c in page.controls)
    figures = "".join(f'<figure id="{f}" class="figure"></figure>' for f in page.figures)
    body = (
        f'<h1>{html.escape(page.title)}</h1><p class="explain">{page.explanation}</p>'
        f'<section class="controls" id="controls">{controls}</section>{page.extra}'
        f'<p id="status" class="status" role="status"></p>'
        f'<section class="stats" id="stats">{page.outputs}</section>'
        f'<section class="figures">{figures}</section>'
        f'<section id="detail"></section>'
    )
    scripts = ("vendor/d3.min.js", "vendor/plot.umd.min.js", "bayeskit.js", f"pages/{slug}.js")
    return _shell(page.title, body, scripts, slug)


def render_index(num_studies: int, num_runs: int) -> str:
    """The start page: every exploration, and the monitors with how many files each watches."""
    items = "".join(f'<li><a href="{PAGES[s].path}">{html.escape(PAGES[s].title)}</a></li>' for s in _NAV_ORDER)
    body = (
        "<h1>bayeskit playground</h1><p class=explain>Every number on these pages is computed by bayeskit as you move "
        "the controls; the JSON API behind them is at <a href='/api'>/api</a>.</p>"
        f"<h2>Explorations</h2><ul>{items}</ul><h2>Live monitors</h2><ul>"
        f"<li><a href='/studies'>Optimization studies</a> ({num_studies} named with --study)</li>"
        f"<li><a href='/runs'>NUTS runs</a> ({num_runs} named with --checkpoint)</li></ul>"
    )
    return _shell("bayeskit playground", body, ())
