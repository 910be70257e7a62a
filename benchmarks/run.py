"""Run every benchmark and write benchmarks/RESULTS.md.

Reproduce: ``make bench`` (or ``.venv/bin/python benchmarks/run.py``); the NUTS section alone:
``.venv/bin/python benchmarks/run.py --infer-only``.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bayeskit
import bench_ab
import bench_conjugate
import bench_evaluate
import bench_infer

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def main() -> None:
    sections: dict[str, list[dict]] = {}
    for title, module in (
        ("Exact conjugate engine", bench_conjugate),
        ("Bayesian A/B testing", bench_ab),
        ("Evaluation metrics", bench_evaluate),
    ):
        rows = sections.setdefault(title, [])
        for bench in module.BENCHMARKS:
            print(f"running {bench.__name__} ...", file=sys.stderr, flush=True)
            row = bench()
            if row is None:
                print("  skipped (its peer is not installed)", file=sys.stderr)
                continue
            rows.append(row)
            print(
                f"  bayeskit {row['bayeskit_s']:.3f} s, peer {row['peer_s']:.3f} s, x{row['speedup']:.1f}",
                file=sys.stderr,
            )
    import numpy
    import scipy
    import sklearn

    lines = [
        "# Benchmarks",
        "",
        "Reproduce with `make bench` (runs `benchmarks/run.py`, which rewrites this file).",
        "Each row times bayeskit and the peer a user would otherwise pick in the same run on the same data;",
        "the time is the best of 3 for bayeskit and one run for the (slow) peer.",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"bayeskit {bayeskit.__version__}, NumPy {numpy.__version__}, SciPy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}. Run {datetime.date.today().isoformat()}.",
    ]
    for title, rows in sections.items():
        lines += [
            "",
            f"## {title}",
            "",
            "| task | bayeskit | peer | peer time | speed-up | agreement |",
            "|---|---|---|---|---|---|",
        ]
        for row in rows:
            lines.append(
                f"| {row['task']} | {row['bayeskit_s']:.3f} s | {row['peer']} | {row['peer_s']:.2f} s ({row['peer_note']}) "
                f"| **{row['speedup']:.1f}x** | {row['agreement']} |"
            )
    lines += [
        "",
        "Notes:",
        "- The Beta-Binomial interval path calls SciPy's `betaincinv`/`betainccinv` on whole arrays, split across",
        "  the cores in threads (SciPy's ufuncs release the GIL); the issue's target is under 2 s on this 2-core machine.",
        "- BayesianRidge also estimates its noise and weight precisions by evidence maximization; bayeskit's",
        "  conjugate model integrates the noise variance out (Student-t predictive) under a fixed prior. With the",
        "  prior set to BayesianRidge's fitted precisions the predictive means agree to rounding.",
        "- The A/B engine's time includes lift quantiles, ROPE and the decision; NUTS's includes JAX compilation,",
        "  which a tutorial user pays on every fresh run. The exact value is the quadrature at tolerance 1e-12,",
        "  checked in tests against Evan Miller's closed form and 1e6 Monte Carlo draws.",
        "- GrowthBook's `gbstats` 0.8.0 pins NumPy < 2 and pandas < 2, so it cannot share an environment with",
        "  JAX 0.10; `make bench` installs it into `benchmarks/.cache/gbstats-venv` and feeds it the same inputs.",
        "  Its Bayesian engine approximates the relative lift by a Gaussian, hence the larger differences for",
        "  small arms.",
    ]
    lines += _infer_section()
    RESULTS.write_text("\n".join(lines) + "\n" + _kept_sections())
    print(f"wrote {RESULTS}", file=sys.stderr)


# Sections written by their own scripts (benchmarks/uci.py, bench_ensemble.py, bench_gp.py, bench_bo.py,
# bench_sequential.py; each section names its command): kept as they are when this script rewrites the file,
# since they take long or need a GPU to reproduce.
KEPT_HEADINGS = (
    "## UCI regression",
    "## Deep ensembles: members in one vmap",
    "## Gaussian processes: exact GP fit",
    "## Bayesian optimization:",
    "## Sequential inference:",
)


def _kept_sections() -> str:
    if not RESULTS.exists():
        return ""
    kept = []
    for block in ("\n" + RESULTS.read_text()).split("\n## ")[1:]:
        if ("## " + block).startswith(KEPT_HEADINGS):
            kept.append("\n## " + block.rstrip("\n") + "\n")
    return "".join(kept)


INFER_HEADING = "## NUTS: bayeskit vs raw NumPyro vs PyMC"


def _infer_section(rows: list[dict] | None = None) -> list[str]:
    """NUTS through bayeskit vs raw NumPyro vs PyMC: ESS per second, total and sampling-only, overhead per step."""
    import jax
    import numpyro

    if rows is None:
        print("running bench_infer.compare_all ...", file=sys.stderr, flush=True)
        rows = bench_infer.compare_all()
    pymc_version = next((row["pymc"]["version"] for row in rows if row["pymc"]), None)
    lines = [
        "",
        INFER_HEADING,
        "",
        f"Same models, priors, data and settings (4 chains, 1000 warmup + 1000 draws, target_accept 0.9); JAX "
        f"{jax.__version__}, NumPyro {numpyro.__version__}, PyMC {pymc_version or 'not installed'} (its own venv, "
        "`benchmarks/.cache/pymc-venv`, default sampler, chains in processes). ESS is the minimum bulk ESS over "
        "all scalar parameters. *Total* includes JAX/PyTensor compilation (what one fresh call costs); *sampling* "
        "excludes it (bayeskit: measured by its timings; NumPyro recompiles on every call, so its sampling time is "
        "a `run` phase's wall time minus the compile time JAX reports through `jax.monitoring`).",
        "",
        "| model | bayeskit total | NumPyro total | PyMC total | ESS/s total: bayeskit / NumPyro / PyMC "
        "| ESS/s sampling: bayeskit / NumPyro | bayeskit time per leapfrog step vs NumPyro |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ours, theirs, pymc = row["bayeskit"], row["numpyro"], row["pymc"]
        ours_sampling = ours["ess"] / ours["sample_only_s"]
        theirs_sampling = theirs["ess"] / (theirs["per_step_s"] * theirs["sampling_steps"])
        pymc_total = f"{pymc['total_s']:.1f} s" if pymc else "n/a"
        pymc_rate = f"{pymc['ess'] / pymc['total_s']:.0f}" if pymc else "n/a"
        lines.append(
            f"| {row['model']} | {ours['total_s']:.1f} s | {theirs['total_s']:.1f} s | {pymc_total} "
            f"| {ours['ess'] / ours['total_s']:.0f} / {theirs['ess'] / theirs['total_s']:.0f} / {pymc_rate} "
            f"| {ours_sampling:.0f} / {theirs_sampling:.0f} | {100 * row['overhead_per_step']:+.1f}% |"
        )
    lines += [
        "",
        "- bayeskit drives NumPyro's own NUTS kernel (`numpyro.infer.hmc.hmc`) through one compiled chunk program",
        "  shared by warmup and sampling, with the data as traced arguments; NumPyro's `MCMC.run` compiles a warmup",
        "  and a sampling loop on every call. The per-step column is the overhead the issue bounds at 5%.",
        "- bayeskit runs its default `chain_method='auto'`: on a CPU, chains one after the other (`lax.map`) unless",
        "  the data hold 100,000 numbers or more, then one `vmap` batch as NumPyro's `chain_method='vectorized'`",
        "  here. So for eight schools and the hierarchical model the per-step column measures the chain layout",
        "  as well as the overhead: a vmapped NUTS step runs every chain to the deepest tree of the four. The",
        "  logistic regression (200,000 numbers) runs vectorized in both.",
        "- Eight schools costs about 6 microseconds per leapfrog step, so its per-step figure is within the",
        "  timer's noise: two runs on this machine gave +29% and -11%. ESS differs between the samplers only",
        "  through their random streams.",
        "- The hierarchical benchmark has 40 rows per group, where the non-centered form mixes tau slowly (min",
        "  ESS about 230 of 4000 for all three samplers); the centered form would suit it better. Both libraries",
        "  get the same parameterization so that the comparison is of samplers, not of models.",
        "- No GPU was lent to this task, so ESS/s as chains grow from 4 to 1,024 on a GPU is not measured yet.",
        "- Reproduce this section alone: `.venv/bin/python benchmarks/run.py --infer-only` (or",
        "  `benchmarks/bench_infer.py` for the raw JSON).",
    ]
    return lines


def infer_only(rows_json: str | None = None) -> None:
    """Recompute (or load from a ``bench_infer.py`` JSON file) only the NUTS section of RESULTS.md."""
    import json

    rows = json.loads(Path(rows_json).read_text()) if rows_json else None
    text = RESULTS.read_text()
    head = text.split("\n" + INFER_HEADING)[0].rstrip("\n")
    RESULTS.write_text(head + "\n" + "\n".join(_infer_section(rows)) + "\n" + _kept_sections())
    print(f"rewrote the NUTS section of {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--infer-only":
        infer_only(sys.argv[2] if len(sys.argv) > 2 else None)
    else:
        main()
