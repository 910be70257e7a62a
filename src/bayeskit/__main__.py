"""``python -m bayeskit`` runs the command line."""

from bayeskit.cli.main import run

if __name__ == "__main__":
    run()
