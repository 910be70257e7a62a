"""The JSON API of ``bayeskit serve``: every answer equals bayeskit's own; every bad input is a 400 naming its field."""

import numpy as np
import pytest
from starlette.testclient import TestClient

from bayeskit.conjugate import BayesianLinearRegression, BetaBinomial, NormalKnownVariance
from bayeskit.decide import ab_test_binary, ab_test_count
from bayeskit.serve import create_app


@pytest.fixture(scope="module")
def client():
    # A loaded test machine can take over 1 s for a first answer (imports); the limit itself has its own test.
    with TestClient(create_app(warm=False, time_limit=30.0), base_url="http://127.0.0.1") as client:
        yield client


def get(client, path, **params):
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def refused(client, url, status=400, **params):
    response = client.get(url, params=params)
    assert response.status_code == status, response.text
    return response.json()


def test_beta_binomial_equals_the_conjugate_posterior(client):
    out = get(client, "/api/beta-binomial", alpha=2, beta=3, successes=7, trials=20, prob=0.9)
    posterior = BetaBinomial(2, 3).update(successes=7, trials=20)
    assert out["mean"] == pytest.approx(float(posterior.mean()), rel=1e-12)
    assert out["map"] == pytest.approx(float(posterior.mode()), rel=1e-12)
    assert out["mle"] == 7 / 20
    assert out["eti"] == pytest.approx(list(map(float, posterior.interval(0.9, kind="eti"))), rel=1e-12)
    assert out["hdi"] == pytest.approx(list(map(float, posterior.interval(0.9, kind="hdi"))), rel=1e-12)
    assert out["hdi"][1] - out["hdi"][0] <= out["eti"][1] - out["eti"][0]
    x = np.array(out["curves"]["x"])
    density = np.array(out["curves"]["posterior"], dtype=float)
    assert np.trapezoid(density, x) == pytest.approx(1.0, abs=1e-3)
    assert np.trapezoid(np.array(out["curves"]["likelihood"], dtype=float), x) == pytest.approx(1.0, abs=1e-3)


def test_beta_binomial_says_what_does_not_exist(client):
    empty = get(client, "/api/beta-binomial", alpha=2, beta=2, successes=0, trials=0)
    assert empty["mle"] is None and "no data" in empty["mle_note"]
    u_shaped = get(client, "/api/beta-binomial", alpha=0.5, beta=0.5, successes=0, trials=0)
    assert u_shaped["map"] is None and "U-shaped" in u_shaped["map_note"]


def test_flipping_one_at_a_time_ends_where_one_update_does(client):
    state = {"alpha": 2.0, "beta": 2.0, "successes": 0, "trials": 0}
    flips = []
    for step in range(6):
        out = get(client, "/api/beta-binomial/flip", **state, p_true=0.6, seed=3, step=step)
        assert out["step"] == step + 1 and out["trials"] == 1 and out["successes"] == out["flip"]
        flips.append(out["flip"])
        state = {"alpha": out["prior"]["alpha"], "beta": out["prior"]["beta"], "successes": out["flip"], "trials": 1}
    batch = BetaBinomial(2, 2).update(successes=sum(flips), trials=len(flips))
    assert out["posterior"] == {"alpha": pytest.approx(float(batch.alpha)), "beta": pytest.approx(float(batch.beta))}
    again = get(client, "/api/beta-binomial/flip", alpha=2, beta=2, successes=0, trials=0, p_true=0.6, seed=3, step=0)
    assert again["flip"] == flips[0]  # the same (seed, step) replays


def test_normal_mean_is_the_closed_form_and_the_prior_washes_out(client):
    prior_mean, prior_var, xbar, noise, n = 1.0, 0.5, 3.0, 2.0, 8
    out = get(
        client, "/api/normal-mean", prior_mean=prior_mean, prior_variance=prior_var, data_mean=xbar,
        noise_variance=noise, num_obs=n,
    )  # fmt: skip
    precision = 1 / prior_var + n / noise
    assert out["posterior_variance"] == pytest.approx(1 / precision, rel=1e-12)
    assert out["posterior_mean"] == pytest.approx((prior_mean / prior_var + n * xbar / noise) / precision, rel=1e-12)
    posterior = NormalKnownVariance(prior_mean, prior_var, noise).update_from_statistics(n, n * xbar)
    assert out["eti"] == pytest.approx(list(map(float, posterior.interval(0.95))), rel=1e-12)
    weights = [
        get(client, "/api/normal-mean", prior_variance=prior_var, num_obs=k)["data_weight"] for k in (0, 1, 10, 10_000)
    ]
    assert weights[0] == 0 and weights == sorted(weights) and weights[-1] > 0.999
    strong = get(client, "/api/normal-mean", prior_variance=0.01, num_obs=5)["data_weight"]
    assert strong < 0.1  # a strong prior resists


def test_gaussian_bands_are_the_68_95_99_7_rule(client):
    out = get(client, "/api/gaussian", mu=3, sigma=2)
    assert [b["mass"] for b in out["bands"]] == pytest.approx([0.682689492, 0.954499736, 0.997300204], abs=1e-9)
    assert out["bands"][1]["low"] == -1 and out["bands"][1]["high"] == 7
    assert out["peak"] == pytest.approx(1 / (2 * np.sqrt(2 * np.pi)))


def test_covariance_axes_rebuild_the_matrix(client):
    out = get(client, "/api/covariance", sigma_x=2, sigma_y=0.5, rho=-0.7, num_samples=2000, seed=1)
    axes = np.array([[a["x"], a["y"]] for a in out["axes"]])  # rows: eigenvector x sqrt(eigenvalue)
    np.testing.assert_allclose(axes.T @ axes, out["covariance"], atol=1e-12)
    assert out["covariance"][0][1] == pytest.approx(-0.7 * 2 * 0.5)
    assert out["determinant"] == pytest.approx(np.prod(out["eigenvalues"]))
    np.testing.assert_allclose(out["sample_covariance"], out["covariance"], atol=0.15)
    ring = out["contours"][0]
    point = np.array([ring["x"][7], ring["y"][7]])
    assert point @ np.linalg.solve(out["covariance"], point) == pytest.approx(1.0)  # Mahalanobis radius 1


def test_mle_map_and_mean_follow_the_conjugate_posterior(client):
    out = get(client, "/api/mle-map", prior_strength=8, prior_mean=0.25, num_flips=40, seed=2)
    posterior = BetaBinomial(2.0, 6.0).update(successes=out["heads"], trials=40)
    assert out["mle"] == out["heads"] / 40
    assert out["map"] == pytest.approx(float(posterior.mode()))
    assert out["mean"] == pytest.approx(float(posterior.mean()))
    assert out["curves"]["mle"][0] is None and out["curves"]["mean"][0] == pytest.approx(0.25)


def test_regularization_is_ridge_and_lasso(client):
    from bayeskit.serve.explore import _regression_data

    x, y, _ = _regression_data()
    out = get(client, "/api/regularization", log10_penalty=1)
    ridge = np.linalg.solve(x.T @ x + 10 * np.eye(8), x.T @ y)
    np.testing.assert_allclose(out["ridge"], ridge, rtol=1e-10)
    conjugate = BayesianLinearRegression(mean=np.zeros(8), precision=10.0).update(x, y)
    np.testing.assert_allclose(out["ridge"], conjugate.mode()["weights"], rtol=1e-12)
    lasso = np.array(out["lasso"])
    gradient = x.T @ (y - x @ lasso)  # the lasso's optimality: |X^T r| = lambda where w != 0, <= lambda where w = 0
    np.testing.assert_allclose(np.abs(gradient[lasso != 0]), 10.0, rtol=1e-5)
    assert np.all(np.abs(gradient[lasso == 0]) <= 10.0 + 1e-6)
    zeros = [get(client, "/api/regularization", log10_penalty=p)["lasso_zeros"] for p in (-3, 1, 2.5)]
    assert zeros == sorted(zeros) and zeros[-1] > zeros[0]


def test_ab_equals_the_decide_engine_and_downloads(client):
    out = get(client, "/api/ab", names="A,B,C", visitors="5000,5000,5000", conversions="500,560,480")
    direct = ab_test_binary(["A", "B", "C"], [5000, 5000, 5000], [500, 560, 480]).to_dict()
    for served, engine in zip(out["arms"], direct["arms"], strict=True):
        assert served["prob_best"] == pytest.approx(engine["prob_best"], abs=1e-15)
        assert served["lift_interval"] == engine["lift_interval"]
    assert out["decision"] == direct["decision"] and set(out["densities"]["arms"]) == {"A", "B", "C"}
    counts = get(client, "/api/ab", metric="count", names="x,y", visitors="100,100", conversions="30,45")
    assert counts["arms"][1]["prob_best"] == pytest.approx(
        ab_test_count(["x", "y"], [30, 45], [100, 100]).arms[1].prob_best
    )
    download = client.get("/api/ab", params={"download": 1})
    assert "attachment" in download.headers["content-disposition"] and download.json()["metric"] == "binary"
    report = client.get("/api/ab/report", params={"names": "A,B", "visitors": "100,100", "conversions": "10,20"})
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    assert "<html" in report.text.lower() and "10/100" in report.text


@pytest.mark.parametrize(
    ("path", "params", "field", "words"),
    [
        ("/api/beta-binomial", {"successes": 11, "trials": 10}, "successes", "<= trials (10)"),
        ("/api/beta-binomial", {"successes": -1}, "successes", "whole number >= 0"),
        ("/api/beta-binomial", {"alpha": "nan"}, "alpha", "finite number > 0"),
        ("/api/beta-binomial", {"alpha": "0"}, "alpha", "> 0"),
        ("/api/beta-binomial", {"trials": "2.5"}, "trials", "whole number"),
        ("/api/beta-binomial", {"trials": "1e300"}, "trials", "<= 1e+09"),
        ("/api/beta-binomial", {"alpha": "__import__('os')"}, "alpha", "finite number"),
        ("/api/beta-binomial", {"path": "/etc/passwd"}, "path", "this endpoint takes only"),
        ("/api/aleatoric-epistemic", {"num_obs": 10_000}, "num_obs", "<= 500"),
        ("/api/covariance", {"rho": 1}, "rho", "<= 0.99"),
        ("/api/topics", {"alpha": 0}, "alpha", "> 0"),
        ("/api/topics", {"num_topics": 50}, "num_topics", "<= 20"),
        ("/api/continual", {"num_tasks": 9}, "num_tasks", "<= 5"),
        ("/api/continual", {"log10_strength": 7}, "log10_strength", "<= 3"),
        ("/api/ab", {"visitors": "10,10", "conversions": "11,5"}, "conversions", "<= visitors in every arm"),
        ("/api/ab", {"visitors": "10,10,10"}, "visitors", "one value per arm"),
        ("/api/ab", {"visitors": "10,-5"}, "visitors", "Value 2"),
        ("/api/ab", {"names": "A,A"}, "names", "distinct"),
        ("/api/ab", {"control": "Z"}, "control", "one of the arms"),
        ("/api/ab", {"metric": "revenue"}, "metric", "one of binary, count"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_the_range_and_what_came(client, path, params, field, words):
    body = refused(client, path, **params)
    assert body["field"] == field and words in body["error"] and words in body["expected"] + body["error"]
    assert body["received"] is not None or field == "names"


def test_ten_thousand_arms_are_refused_before_any_work(client):
    response = client.get("/api/ab?names=" + ",".join(f"a{i}" for i in range(10_000)))
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "names" and "2 to 6 distinct" in body["error"] and len(body["received"]) <= 2_000


def test_download_takes_0_or_1(client):
    body = refused(client, "/api/gaussian", download="yes")
    assert body["field"] == "download" and "0 or 1" in body["error"]
    assert "content-disposition" not in client.get("/api/gaussian", params={"download": 0}).headers


def test_a_repeated_field_is_refused(client):
    response = client.get("/api/gaussian?mu=1&mu=2")
    assert response.status_code == 400 and response.json()["field"] == "mu" and "once" in response.json()["error"]


def test_slow_work_is_refused_then_answered_from_the_cache():
    params = {"names": "A,B,C", "visitors": "7000,7000,7000", "conversions": "700,760,690"}
    with TestClient(create_app(warm=False, time_limit=1e-4), base_url="http://127.0.0.1") as client:
        first = client.get("/api/ab", params=params)
        assert first.status_code == 503 and "takes longer than 0.0001 s" in first.json()["error"]
        assert "retry in a moment" in first.json()["error"] and first.json()["expected"] == "answered within 0.0001 s"
        for _ in range(200):  # the work went on in the background: a retry gets its answer
            again = client.get("/api/ab", params=params)
            if again.status_code == 200:
                break
            client.app.state.worker._running and __import__("time").sleep(0.05)
        assert again.status_code == 200 and again.json()["arms"][1]["name"] == "B"
    with TestClient(create_app(warm=False, max_pending=0), base_url="http://127.0.0.1") as client:
        busy = client.get("/api/gaussian")
        assert busy.status_code == 503 and "the server is busy" in busy.json()["error"]


def test_hosts_files_and_headers_are_guarded(client):
    assert client.get("/api/gaussian", headers={"host": "attacker.example"}).status_code == 400
    assert client.get("/static/../../pyproject.toml").status_code == 404
    assert client.get("/static/vendor/../../app.py").status_code == 404
    missing = refused(client, "/api/studies/0", status=404)
    assert missing["field"] == "index" and "--study FILE" in missing["error"]
    assert client.get("/api/nothing").json()["see"] == "/api"
    page = client.get("/explore/gaussian")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert '<script src="/static/vendor/plot.umd.min.js">' in page.text  # shipped, no CDN
    assert "http" not in "".join(line for line in page.text.split('"') if line.startswith("http"))


def test_every_page_and_script_is_served(client):
    from bayeskit.serve.pages import PAGES

    for page in PAGES.values():
        response = client.get(page.path)
        assert response.status_code == 200 and page.title.split(":")[0] in response.text
        assert client.get(f"/static/pages/{page.slug}.js").status_code == 200
    for name in ("bayeskit.js", "bayeskit.css", "vendor/d3.min.js", "vendor/plot.umd.min.js"):
        assert client.get(f"/static/{name}").status_code == 200
    listed = {e["path"] for e in get(client, "/api")["endpoints"]}
    assert {"/api/beta-binomial", "/api/ab", "/api/ab/report", "/api/studies/{index}"} <= listed


def test_a_stronger_prior_forgets_less_and_learns_the_new_task_worse(client):
    weak, strong = (get(client, "/api/continual", log10_strength=s, num_tasks=2) for s in (-3, 3))
    assert weak["num_tasks"] == 2 and len(weak["laplace"]["accuracy"]) == 2
    # the stability-plasticity trade-off, between fine-tuning (forgets) and joint training (the ceiling)
    assert strong["first_task_forgetting"] < weak["first_task_forgetting"]
    assert strong["last_task_accuracy"] < weak["last_task_accuracy"]
    assert weak["finetune"]["first_task_forgetting"] > 0.2 > weak["joint"]["first_task_forgetting"]


def test_topics_mix_more_under_a_larger_prior(client):
    few = get(client, "/api/topics", alpha=0.05)
    many = get(client, "/api/topics", alpha=2.0)
    assert few["documents"] == 600 and len(few["topics"]) == 6
    # exp(entropy) lies in [1, 6] whatever the prior; a small alpha puts documents in few topics, a large one mixes
    assert few["topics_per_document"] < 2.5 and many["topics_per_document"] > 4
    shares = [topic["share"] for topic in few["topics"]]
    assert shares == sorted(shares, reverse=True) and sum(shares) == pytest.approx(1.0)
    assert all(len(topic["words"].split()) == 6 for topic in few["topics"])
