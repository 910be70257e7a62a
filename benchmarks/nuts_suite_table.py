"""The Markdown table of ``bench_nuts_suite.py``'s JSON lines: per posterior and sampler, over the seeds run.

Run: ``.venv/bin/python benchmarks/nuts_suite_table.py RUN.jsonl [MORE.jsonl ...]``
"""

from __future__ import annotations

import collections
import json
import sys

import numpy as np

SAMPLERS = ("bayeskit-diag", "bayeskit-lowrank", "bayeskit-lowrank-pathfinder", "numpyro", "blackjax")


def table(paths: list[str]) -> str:
    rows = [json.loads(line) for path in paths for line in open(path) if line.strip()]
    groups = collections.defaultdict(list)
    for row in rows:
        groups[(row["posterior"], row["sampler"])].append(row)
    lines = [
        "| posterior | sampler | seeds | runs with a stuck chain | runs with R-hat > 1.01 | median max R-hat "
        "| median ESS/gradient | vs NumPyro | median ESS/s | median error (sd) | restarts | failed |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    ratios = collections.defaultdict(list)
    for posterior in dict.fromkeys(row["posterior"] for row in rows):
        peer = [r["ess_per_gradient"] for r in groups[(posterior, "numpyro")] if "failed" not in r]
        base = float(np.median(peer)) if peer else float("nan")
        for sampler in SAMPLERS:
            runs = groups.get((posterior, sampler), [])
            ok = [r for r in runs if "failed" not in r]
            if not runs:
                continue
            if not ok:
                lines.append(f"| {posterior} | {sampler} | {len(runs)} | | | | | | | | | {len(runs)} |")
                continue
            per_gradient = float(np.median([r["ess_per_gradient"] for r in ok]))
            ratio = per_gradient / base
            ratios[sampler].append(ratio)
            lines.append(
                f"| {posterior} | {sampler} | {len(runs)} | {sum(r['stuck'] > 0 for r in ok)} "
                f"| {sum(r['r_hat'] > 1.01 for r in ok)} | {np.median([r['r_hat'] for r in ok]):.3f} "
                f"| {per_gradient:.4f} | {ratio:.2f}x | {np.median([r['ess_per_s'] for r in ok]):,.0f} "
                f"| {np.median([r['error_sd'] for r in ok]):.3f} | {sum(r.get('restarts', 0) for r in ok)} "
                f"| {len(runs) - len(ok)} |"
            )
    lines.append("")
    for sampler, values in ratios.items():
        lines.append(
            f"- {sampler}: median ESS per gradient {np.median(values):.2f}x NumPyro's over {len(values)} posteriors "
            f"(worst {min(values):.2f}x, best {max(values):.2f}x)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(sys.argv[1:]))
