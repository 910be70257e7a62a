"""Objectives that worker processes and Ray tasks import by name (a test module's own functions would work too,
but these keep the spawn workers' imports small)."""

import os
import signal
import time
from pathlib import Path


def quadratic(params):
    time.sleep(0.02)
    return (params["x"] - 0.3) ** 2 + (params["y"] + 0.2) ** 2


def sleepy(params):
    time.sleep(float(os.environ.get("BAYESKIT_TEST_SLEEP", "0.2")))
    return (params["x"] - 0.3) ** 2 + (params["y"] + 0.2) ** 2


class KilledOnce:
    """The first call anywhere SIGKILLs its own worker mid-trial (after noting its parameters); later calls run."""

    def __init__(self, marker):
        self.marker = Path(marker)

    def __call__(self, params):
        try:
            with open(self.marker, "x") as handle:
                handle.write(f"{params['x']!r} {params['y']!r}")
        except FileExistsError:
            return quadratic(params)
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(60)  # not reached


def always_killed(params):
    os.kill(os.getpid(), signal.SIGKILL)
