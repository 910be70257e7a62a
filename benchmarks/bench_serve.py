"""``bayeskit serve``: request latency per API endpoint and time to first paint of each page; optional screenshots.

Reproduce: ``.venv/bin/python benchmarks/bench_serve.py [--requests 1000] [--screenshots docs/screenshots]``.
The server is the real ``bayeskit serve`` command in its own process; requests come from one
client on loopback, one at a time, each with parameters not asked before (so the answer
cache never serves them: this is the cost of computing). The GP endpoint fits a GP per
request, so it gets a tenth of the requests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PAGES = (
    "/explore/prior-posterior",
    "/explore/normal-mean",
    "/explore/aleatoric-epistemic",
    "/explore/gaussian",
    "/explore/covariance",
    "/explore/mle-map",
    "/explore/topics",
    "/explore/continual",
    "/ab",
    "/studies",
    "/runs",
)


def _endpoints(count: int):
    """(path, list of parameter dicts), each dict distinct."""
    rng = np.random.default_rng(0)
    yield "beta-binomial", [{"alpha": 1 + i / count, "beta": 2, "successes": 3, "trials": 10} for i in range(count)]
    yield "normal-mean", [{"prior_mean": i / count, "num_obs": 20} for i in range(count)]
    yield "gaussian", [{"mu": i / count, "sigma": 1.5} for i in range(count)]
    yield "covariance", [{"rho": -0.9 + 1.8 * i / count} for i in range(count)]
    yield "mle-map", [{"prior_strength": 1 + i / 10, "num_flips": 200} for i in range(count)]
    yield "regularization", [{"log10_penalty": -3 + 6 * i / count} for i in range(count)]
    yield (
        "ab",
        [
            {"visitors": "10000,10000", "conversions": f"1000,{1000 + i % 300}", "rope": 0.01 + i * 1e-6}
            for i in range(count)
        ],
    )
    yield (
        "aleatoric-epistemic",
        [{"num_obs": int(n), "noise_sd": 0.3} for n in rng.permutation(np.arange(5, 501))[: max(count // 10, 20)]],
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _files(folder: Path) -> tuple[Path, Path]:
    """A finished study (the bundled optimize example) and a NUTS checkpoint to monitor."""
    import jax
    import numpyro
    import numpyro.distributions as dist

    from bayeskit.infer import nuts

    study = folder / "study.db"
    subprocess.run([sys.executable, "-m", "bayeskit", "optimize", "--trials", "20", "--study", str(study)], check=True)

    def model(y=None):
        mu = numpyro.sample("mu", dist.Normal(0, 5))
        sigma = numpyro.sample("sigma", dist.HalfNormal(2))
        numpyro.sample("y", dist.Normal(mu, sigma), obs=y)

    checkpoint = folder / "run.ckpt"
    y = np.random.default_rng(0).normal(1.0, 2.0, 50).astype(np.float32)
    nuts(model, y=y, key=jax.random.key(0), checkpoint=checkpoint, num_chains=4, num_warmup=500, num_samples=500)
    return study, checkpoint


def latency(base: str, count: int) -> list[dict]:
    import httpx2

    rows = []
    with httpx2.Client(base_url=base, timeout=60) as client:
        for path, queries in _endpoints(count):
            for warm in (queries[0], *({"num_obs": n} for n in (5, 100, 200, 400) if path == "aleatoric-epistemic")):
                while client.get(f"/api/{path}", params=warm).status_code == 503:  # imports, compiled programs
                    time.sleep(0.5)
            times = []
            for params in queries[1:]:
                start = time.perf_counter()
                response = client.get(f"/api/{path}", params=params)
                times.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise RuntimeError(f"{path} {params}: {response.status_code} {response.text}")
            rows.append(
                {
                    "endpoint": f"/api/{path}",
                    "requests": len(times),
                    "median_ms": 1e3 * statistics.median(times),
                    "p99_ms": 1e3 * float(np.quantile(times, 0.99)),
                }
            )
            print(f"  {rows[-1]}", file=sys.stderr)
    return rows


def first_paint(base: str, screenshots: Path | None) -> list[dict]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("BAYESKIT_CHROMIUM") or shutil.which("chromium")
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        for path in PAGES:
            paint, ready = [], []
            for attempt in range(4):  # the first load warms the server's programs for this page: not counted
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                start = time.perf_counter()
                page.goto(base + path)
                page.wait_for_selector("body[data-state=ready]", timeout=120_000)
                elapsed = time.perf_counter() - start
                entries = page.evaluate("performance.getEntriesByName('first-contentful-paint').map(e => e.startTime)")
                if attempt:
                    paint.append(entries[0] if entries else float("nan"))
                    ready.append(1e3 * elapsed)
                if screenshots is not None and attempt == 3:
                    if path == "/studies":
                        page.wait_for_selector(".slices figure", timeout=120_000)  # the GP slices, once computed
                    time.sleep(0.3)
                    name = path.strip("/").replace("explore/", "") or "index"
                    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
                page.close()
            rows.append(
                {"page": path, "first_paint_ms": statistics.median(paint), "numbers_drawn_ms": statistics.median(ready)}
            )
            print(f"  {rows[-1]}", file=sys.stderr)
        browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--screenshots", type=Path, default=None, help="Folder for a PNG of every page.")
    args = parser.parse_args()
    if args.screenshots is not None:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        study, checkpoint = _files(Path(folder))
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "bayeskit", "serve", "--port", str(port), "--study", str(study),
             "--checkpoint", str(checkpoint)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            server.stdout.readline()
            base = f"http://127.0.0.1:{port}"
            print("latency ...", file=sys.stderr)
            requests = latency(base, args.requests)
            print("first paint ...", file=sys.stderr)
            pages = first_paint(base, args.screenshots)
        finally:
            server.terminate()
            server.wait(timeout=60)
    print("| endpoint | requests | median | p99 |\n|---|---|---|---|")
    for row in requests:
        print(f"| `{row['endpoint']}` | {row['requests']:,} | {row['median_ms']:.1f} ms | {row['p99_ms']:.1f} ms |")
    print("\n| page | first contentful paint | numbers drawn |\n|---|---|---|")
    for row in pages:
        print(f"| `{row['page']}` | {row['first_paint_ms']:.0f} ms | {row['numbers_drawn_ms']:.0f} ms |")


if __name__ == "__main__":
    main()
