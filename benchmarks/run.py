"""Run every benchmark and write benchmarks/RESULTS.md.

Reproduce: ``make bench`` (or ``.venv/bin/python benchmarks/run.py``).
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
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
