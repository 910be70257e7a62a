"""Live monitors: a study another process is writing and a NUTS checkpoint, read without locking or changing them."""

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest
from starlette.testclient import TestClient

from bayeskit.infer import nuts
from bayeskit.optimize import Categorical, Float, Integer, SearchSpace, Study
from bayeskit.serve import create_app
from bayeskit.serve.monitor import parse_space

SRC = Path(__file__).resolve().parents[2] / "src"
WRITER = """
import sys, time
sys.path.insert(0, {src!r})
from bayeskit.optimize import Float, SearchSpace, Study
study = Study(SearchSpace({{"x": Float(-2.0, 2.0)}}), storage={path!r}, seed=1, num_initial=40)
for _ in range({count}):
    trial = study.ask()
    time.sleep({pause})
    study.tell(trial, (trial.params["x"] - 0.3) ** 2)
"""


def writer(path, count, pause):
    """A separate process that adds ``count`` trials to the study at ``path``, one every ``pause`` seconds."""
    return subprocess.Popen(
        [sys.executable, "-c", WRITER.format(src=str(SRC), path=str(path), count=count, pause=pause)]
    )


def client_for(**files):
    return TestClient(create_app(warm=False, **files), base_url="http://127.0.0.1")


def test_the_space_is_parsed_never_evaluated():
    space = SearchSpace({"lr": Float(1e-4, 0.1, log=True), "layers": Integer(1, 4), "act": Categorical(("a", "b"))})
    signature = '{"act": "Categorical(choices=(\'a\', \'b\'))", "layers": "Integer(low=1, high=4, log=False)", '
    signature += '"lr": "Float(low=0.0001, high=0.1, log=True)"}'
    assert parse_space(signature).parameters == space.parameters
    with pytest.raises(ValueError, match="unknown kind"):
        parse_space("{\"x\": \"__import__('os').system('true')\"}")
    with pytest.raises(ValueError):
        parse_space('{"x": "Float(low=__import__(\'os\'), high=1)"}')


def test_a_study_being_written_is_read_live_and_left_untouched(tmp_path):
    path = tmp_path / "study.db"
    process = writer(path, count=12, pause=0.15)
    seen = []
    with client_for(studies=(path,)) as client:
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            answer = client.get("/api/studies/0")
            assert answer.status_code == 200
            body = answer.json()
            if "error" not in body:
                seen.append(body["counts"]["complete"])
            time.sleep(0.05)
        assert process.wait(timeout=60) == 0
        final = client.get("/api/studies/0").json()
        assert seen == sorted(seen) and len(set(seen)) > 2  # it watched the count grow
        assert final["counts"] == {"complete": 12, "running": 0, "failed": 0}
        values = [t["value"] for t in final["trials"]]
        assert [p["best"] for p in final["curve"]] == list(np.minimum.accumulate(values))
        assert final["best"]["value"] == min(values)
        before = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns
        for _ in range(5):
            client.get("/api/studies/0")
        assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before
        study = Study(SearchSpace({"x": Float(-2.0, 2.0)}), storage=path, seed=1, num_initial=40)
        assert len(study.trials()) == 12  # the writer's file still opens as a study
        study.close()
        for _ in range(600):  # the GP slices are computed in the background, then served
            slices = client.get("/api/studies/0/slices").json()
            if slices["status"] != "computing":
                break
            time.sleep(0.1)
        assert slices["status"] == "ready" and slices["complete"] == 12
        (one,) = slices["slices"]
        assert one["name"] == "x" and len(one["mean"]) == len(one["values"]) == len(one["std"])


def test_a_missing_or_foreign_file_is_a_message_not_a_crash(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("not a database")
    with client_for(studies=(tmp_path / "later.db", other), checkpoints=(other,)) as client:
        assert "does not exist" in client.get("/api/studies/0").json()["error"]
        assert "cannot read" in client.get("/api/studies/1").json()["error"]
        assert "not a bayeskit NUTS checkpoint" in client.get("/api/runs/0").json()["error"]
        assert client.get("/api/runs").json() == {"runs": [{"index": 0, "name": "notes.txt"}]}
    assert other.read_text() == "not a database"


def normal_mean(y=None):
    mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    numpyro.sample("y", dist.Normal(mu, 1.0), obs=y)


@pytest.mark.filterwarnings(
    "ignore::bayeskit.infer.draws.DiagnosticsWarning"
)  # few draws: the page shows what they are
def test_a_checkpoint_shows_draws_rhat_and_ess_as_the_posterior_has_them(tmp_path):
    path = tmp_path / "run.ckpt"
    y = np.random.default_rng(0).normal(1.0, 1.0, 30).astype(np.float32)
    settings = {"num_chains": 2, "num_warmup": 200, "num_samples": 400, "checkpoint_every": 100}
    posterior = nuts(normal_mean, y=y, key=jax.random.key(0), checkpoint=path, progress=False, **settings)
    with client_for(checkpoints=(path,)) as client:
        run = client.get("/api/runs/0").json()
    assert run["done"] == run["total"] == 600 and run["num_warmup"] == 200
    assert run["draws"] == 400 and run["chains"] == 2
    (mu,) = run["parameters"]
    table = posterior.summary()
    assert mu["name"] == "mu"
    assert mu["ess_bulk"] == pytest.approx(table.loc["mu", "ess_bulk"], rel=1e-6)
    assert mu["r_hat"] == pytest.approx(table.loc["mu", "r_hat"], rel=1e-6)
    assert mu["mean"] == pytest.approx(float(posterior.mean()["mu"]), rel=1e-5)
    assert {t["chain"] for t in run["trace"]} == {0, 1}
