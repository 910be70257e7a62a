"""The pages in a real headless Chromium: move a slider or type a value, and the numbers become bayeskit's.

Playwright drives Debian's ``chromium`` (``BAYESKIT_CHROMIUM`` names another). Without a
browser these tests are skipped with a message saying so (``tests/conftest.py`` repeats it
at the end of the run); under CI (``CI`` set) a missing browser fails them instead, since
``.ci/run`` installs it.
"""

import contextlib
import json
import os
import socket
import threading
import time
import warnings

import numpy as np
import pytest

from bayeskit.conjugate import BetaBinomial, NormalKnownVariance
from bayeskit.decide import ab_test_binary
from bayeskit.infer import DiagnosticsWarning
from bayeskit.serve import create_app, explore

from ._browser import CHROMIUM, MISSING
from .test_monitor import normal_mean, writer

if CHROMIUM is None and os.environ.get("CI"):
    pytest.fail(MISSING, pytrace=False)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=MISSING)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import jax

    from bayeskit.infer import nuts

    folder = tmp_path_factory.mktemp("served")
    checkpoint = folder / "run.ckpt"
    y = np.random.default_rng(1).normal(2.0, 1.0, 20).astype(np.float32)
    settings = {"num_chains": 2, "num_warmup": 100, "num_samples": 100, "checkpoint_every": 100}
    with warnings.catch_warnings():  # few draws: the run's own diagnostics may warn; the page shows the numbers
        warnings.simplefilter("ignore", DiagnosticsWarning)
        nuts(normal_mean, y=y, key=jax.random.key(1), checkpoint=checkpoint, progress=False, **settings)
    return {"study": folder / "live.db", "checkpoint": checkpoint}


@contextlib.contextmanager
def serving(app):
    """The app on a free loopback port, in a thread, for the length of the block; yields its address."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def base_url(files):
    app = create_app(studies=(files["study"],), checkpoints=(files["checkpoint"],), warm=False, time_limit=30.0)
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                "--disable-background-networking", "--disable-component-update",
            ],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.errors = errors  # a test that provokes an error on purpose removes it
    yield page
    page.close()
    assert errors == [], f"the page reported errors: {errors}"


def load(page, url):
    page.goto(url)
    page.wait_for_selector("body[data-state=ready]", timeout=60_000)


def value(page, name):
    return json.loads(page.get_attribute(f'[data-out="{name}"]', "data-value"))


def wait_for(page, name, expected, rel=1e-9, timeout=60.0):
    """Poll until output ``name`` shows ``expected`` (numbers to ``rel``); returns what it shows."""
    deadline = time.monotonic() + timeout
    while True:
        raw = page.get_attribute(f'[data-out="{name}"]', "data-value")
        shown = None if raw is None else json.loads(raw)
        if shown is not None and np.allclose(shown, expected, rtol=rel, atol=0):
            return shown
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} shows {shown}; bayeskit computes {expected}")
        time.sleep(0.05)


def slide(page, name, to):
    """Move the range input ``name`` to ``to``, as a drag would: its value changes and it fires ``input``."""
    page.locator(f"input[type=range]#{name}").fill(str(to))


def test_prior_posterior_follows_the_sliders_and_flips_sequentially(page, base_url):
    load(page, f"{base_url}/explore/prior-posterior")
    assert value(page, "mean") == pytest.approx(float(BetaBinomial(2, 2).update(3, 10).mean()), rel=1e-12)
    slide(page, "alpha", 5)
    posterior = BetaBinomial(5, 2).update(successes=3, trials=10)
    wait_for(page, "mean", float(posterior.mean()))
    wait_for(page, "hdi", list(map(float, posterior.interval(0.95, kind="hdi"))))
    assert page.input_value('[data-mirror="alpha"]') == "5"
    assert page.text_content('[data-out="mean"]') == "0.4706"  # 8/17, shown to 4 digits
    page.keyboard.press("Tab")  # the number box follows the slider
    page.click("#flip")
    page.wait_for_selector("#flip-log:has-text('flip 1')")
    assert page.input_value("#alpha") == "8" and page.input_value("#beta") == "9"  # the posterior is the prior
    expected = explore.beta_binomial_flip(5, 2, 3, 10, 0.7, 0, 0)
    wait_for(page, "mean", expected["mean"])
    assert value(page, "mle") == expected["flip"]


def test_normal_mean_closed_form_as_n_grows(page, base_url):
    load(page, f"{base_url}/explore/normal-mean")
    slide(page, "num_obs", 50)
    posterior = NormalKnownVariance(0.0, 1.0, 1.0).update_from_statistics(50, 50 * 2.0)
    wait_for(page, "posterior_mean", float(posterior.mean()))
    wait_for(page, "data_weight", 50 / 51)
    slide(page, "prior_variance", 0.01)
    wait_for(page, "data_weight", 50 / 150)  # a strong prior resists


def test_epistemic_shrinks_with_n_and_aleatoric_does_not(page, base_url):
    load(page, f"{base_url}/explore/aleatoric-epistemic")
    before = value(page, "inside.epistemic_sd"), value(page, "away.epistemic_sd")
    slide(page, "num_obs", 300)
    expected = explore.aleatoric_epistemic(300, 0.3, 0)
    wait_for(page, "inside.epistemic_sd", expected["inside"]["epistemic_sd"], rel=1e-6)
    after = value(page, "inside.epistemic_sd"), value(page, "away.epistemic_sd")
    assert after[0] < 0.6 * before[0]  # shrinks where the data are
    assert after[1] > 5 * after[0]  # stays wide away from them
    assert value(page, "inside.aleatoric_sd") == pytest.approx(0.3, rel=0.15)  # the noise, whatever N
    assert page.locator("#figure svg").count() >= 1 and page.locator("#figure-parts svg").count() >= 1


def test_gaussian_and_covariance_pages(page, base_url):
    load(page, f"{base_url}/explore/gaussian")
    slide(page, "sigma", 2)
    wait_for(page, "peak", 1 / (2 * np.sqrt(2 * np.pi)))
    assert value(page, "bands.1.mass") == pytest.approx(0.9544997361, abs=1e-9)
    load(page, f"{base_url}/explore/covariance")
    slide(page, "rho", -0.5)
    matrix = np.array([[1.0, -0.5], [-0.5, 1.0]])
    wait_for(page, "eigenvalues", sorted(np.linalg.eigvalsh(matrix), reverse=True))
    wait_for(page, "determinant", np.linalg.det(matrix))


def test_mle_map_and_regularization_pages(page, base_url):
    load(page, f"{base_url}/explore/mle-map")
    slide(page, "num_flips", 100)
    expected = explore.mle_map(10.0, 0.5, 100)
    wait_for(page, "mle", expected["mle"])
    wait_for(page, "map", expected["map"])
    slide(page, "log10_penalty", 2)
    wait_for(page, "lasso_zeros", explore.regularization(2.0)["lasso_zeros"])
    assert page.locator("#figure-lasso svg").count() == 1


def test_ab_explorer_updates_as_you_type_and_downloads(page, base_url):
    load(page, f"{base_url}/ab")
    row = page.locator("#arms tbody tr").nth(1)
    row.locator(".arm-count").fill("1250")
    direct = ab_test_binary(["A", "B"], [10_000, 10_000], [1_000, 1_250])
    cell = page.locator('#result-arms tr[data-arm="B"] .prob-best')
    deadline = time.monotonic() + 30
    while abs(float(cell.get_attribute("data-value")) - direct.arm("B").prob_best) > 1e-12:
        assert time.monotonic() < deadline, "P(best) did not update"
        time.sleep(0.05)
    assert value(page, "decision") == direct.decision
    page.click("#add-arm")
    page.wait_for_selector('#result-arms tr[data-arm="C"]')
    download = page.request.get(base_url + page.get_attribute("#download-json", "href"))
    assert download.ok and [a["name"] for a in download.json()["arms"]] == ["A", "B", "C"]
    report = page.request.get(base_url + page.get_attribute("#download-report", "href"))
    assert report.ok and "A/B test" in report.text()
    row.locator(".arm-count").fill("20000")  # more conversions than visitors: the server's message is shown
    page.wait_for_selector("#status.error")
    assert "conversions" in page.text_content("#status") and "<= visitors" in page.text_content("#status")
    page.errors.remove("Failed to load resource: the server responded with a status of 400 (Bad Request)")


def test_studies_page_shows_trials_as_another_process_writes_them(page, base_url, files):
    process = writer(files["study"], count=10, pause=0.3)
    try:
        page.goto(f"{base_url}/studies")
        page.wait_for_selector("#study-0 [data-out-study=complete]", timeout=60_000)
        counts = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            text = page.text_content("#study-0 [data-out-study=complete]")
            counts.append(int(text))
            if counts[-1] == 10:
                break
            time.sleep(0.2)
        assert counts[-1] == 10 and len(set(counts)) >= 2  # it grew on the page
        page.wait_for_selector("#study-0 .trials td:has-text('complete')")
        assert page.locator("#study-0 .trials tr").count() == 11  # header + 10 trials
    finally:
        assert process.wait(timeout=60) == 0


def test_runs_page_shows_the_checkpoint(page, base_url):
    page.goto(f"{base_url}/runs")
    page.wait_for_selector("#run-0 .diagnostics table", timeout=60_000)
    assert page.text_content("#run-0 .draws") == "100"
    assert page.text_content("#run-0 .done") == "200"
    assert "mu" in page.text_content("#run-0 .diagnostics")
    assert page.locator("#run-0 .trace svg").count() >= 1


def test_monitors_without_files_say_how_to_name_them(page):
    with serving(create_app(warm=False)) as url:
        for path, words in (("/studies", "bayeskit serve --study FILE"), ("/runs", "bayeskit serve --checkpoint FILE")):
            load(page, url + path)
            assert words in page.text_content("#detail .banner")


def test_continual_page_follows_the_strength(page, base_url):
    load(page, f"{base_url}/explore/continual")
    wait_for(page, "average_accuracy", explore.continual(0.0, 3)["average_accuracy"], rel=1e-6)
    slide(page, "log10_strength", 2)
    expected = explore.continual(2.0, 3)
    wait_for(page, "first_task_forgetting", expected["first_task_forgetting"], rel=1e-6)
    assert value(page, "last_task_accuracy") == pytest.approx(expected["last_task_accuracy"], rel=1e-6)
    assert page.locator("#figure svg").count() >= 1 and page.locator("#figure-matrix svg").count() >= 1


def test_topics_page_follows_the_prior(page, base_url):
    load(page, f"{base_url}/explore/topics")
    wait_for(page, "topics_per_document", explore.topics(6, 0.1, 0)["topics_per_document"], rel=1e-6)
    slide(page, "alpha", 2)
    expected = explore.topics(6, 2.0, 0)
    wait_for(page, "topics_per_document", expected["topics_per_document"], rel=1e-6)
    assert value(page, "largest_share") == pytest.approx(expected["largest_share"], rel=1e-6)
    assert page.locator("#figure svg").count() == 1 and page.locator("#figure-mixing svg").count() == 1
