"""Entry point of the ``bayeskit`` command (Typer app; heavy imports happen inside commands)."""

from __future__ import annotations

from pathlib import Path

import typer

from bayeskit import __version__
from bayeskit.cli._errors import BadInput, handle_errors

app = typer.Typer(
    name="bayeskit",
    help="Bayesian machine learning that tells the truth about its own uncertainty.\n\n"
    "Exit codes: 0 ok, 1 failed, 2 bad input. Results go to stdout; progress and warnings to stderr.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"bayeskit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Bayesian machine learning that tells the truth about its own uncertainty."""


@app.command()
@handle_errors
def demo(
    out: Path = typer.Option(Path("out"), "--out", help="Folder for index.html (created if missing)."),
    json_output: bool = typer.Option(False, "--json", help="Print the results as JSON on stdout."),
) -> None:
    """Run every workflow on bundled data and write a self-contained HTML report (OUT/index.html)."""
    from bayeskit.cli._output import print_json, stderr_console, stdout_console
    from bayeskit.cli.demo import run_demo

    if out.exists() and not out.is_dir():
        raise BadInput(f"`--out` must be a folder; {str(out)!r} is a file. Pick another path.")
    messages = stderr_console()
    with messages.status("running the demo") as status:
        path, results = run_demo(out, progress=lambda name: status.update(f"demo: {name}"))
    if json_output:
        print_json({"report": str(path), **results})
    else:
        _print_conjugate(stdout_console(), results["conjugate"])
    messages.print(f"wrote {path}")


def _print_conjugate(console, results) -> None:
    from rich.table import Table

    table = Table(title="Conjugate walkthrough (bundled data)")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    posterior, robust, bf = results["posterior"], results["robust"], results["bayes_factor"]
    low, high = posterior["eti_95"]
    table.add_row(
        f"P(heads) after {results['num_flips']} flips",
        f"{posterior['mean']:.3f}  [{low:.3f}, {high:.3f}] 95%",
    )
    table.add_row("mass: Gaussian MLE (pulled by outliers)", f"{robust['gaussian_mle_mean']:.3f} g")
    table.add_row("mass: Student-t MLE (robust)", f"{robust['student_t_loc']:.3f} g")
    table.add_row(
        f"Bayes factor {bf['hypotheses'][0]} vs {bf['hypotheses'][1]}",
        f"{bf['bayes_factor']:.3g} ({bf['strength']})",
    )
    console.print(table)


def run() -> None:
    """Console-script entry point (usage errors exit 2 through Typer; see ``handle_errors``)."""
    app()
