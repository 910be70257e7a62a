"""Run GrowthBook's gbstats on A/B inputs read as JSON from stdin (executed in its own venv).

gbstats pins NumPy < 2 and pandas < 2, so it cannot share bayeskit's environment; `make bench`
creates benchmarks/.cache/gbstats-venv for it. Prints JSON: chance to win per test and seconds.
"""

import json
import sys
import time

from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
from gbstats.models.statistics import ProportionStatistic


def main() -> None:
    tests = json.load(sys.stdin)
    start = time.perf_counter()
    chance = []
    for visitors_a, conversions_a, visitors_b, conversions_b in tests:
        result = EffectBayesianABTest(
            ProportionStatistic(n=int(visitors_a), sum=float(conversions_a)),
            ProportionStatistic(n=int(visitors_b), sum=float(conversions_b)),
            EffectBayesianConfig(difference_type="relative"),
        ).compute_result()
        chance.append(result.chance_to_win)
    print(json.dumps({"seconds": time.perf_counter() - start, "chance_to_win": chance}))


if __name__ == "__main__":
    main()
