"""Exit codes and error reporting shared by every command: 0 ok, 1 failed, 2 bad input."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

_saved_on_interrupt = ["nothing was saved; rerun the command."]


def on_interrupt(message: str) -> None:
    """Say what an interrupt (Ctrl-C) leaves behind, e.g. the checkpoint that a rerun resumes from."""
    _saved_on_interrupt[0] = message


def interrupted(signum: int = 0, frame: Any = None) -> None:
    """SIGINT handler of the ``bayeskit`` command: say what was kept and end now, with exit code 130.

    Python's own handler raises KeyboardInterrupt wherever the main thread happens to be, and
    there it can be swallowed (inside a garbage-collection callback of XLA, a ``__del__``), so
    that a run went on after Ctrl-C. Ending at once loses nothing: checkpoints and reports are
    replaced atomically and every finished trial is a committed SQLite transaction.
    """
    try:
        executors = sys.modules.get("bayeskit.parallel.executors")
        if executors is not None:  # worker processes would outlive os._exit (and hold the terminal's pipes)
            executors.stop_all()
        print(f"\ninterrupted: {_saved_on_interrupt[0]}", file=sys.stderr, flush=True)
        sys.stdout.flush()
    finally:
        os._exit(EXIT_INTERRUPTED)


class BadInput(Exception):
    """User input the command cannot use; reported in one line, exit code 2."""


class Failed(Exception):
    """The command ran but produced no trustworthy result (every trial failed, a strict check failed); exit 1."""


@contextlib.contextmanager
def bad_input_on_value_errors(context: str = "") -> Iterator[None]:
    """Turn ValueError/TypeError raised while reading or validating user input into BadInput."""
    try:
        yield
    except (ValueError, TypeError) as error:
        prefix = f"{context}: " if context else ""
        raise BadInput(f"{prefix}{error}") from error


def check_output(path: Any, option: str, folder: bool = False) -> None:
    """Refuse, before any work, an output path that cannot be written as asked (exit 2).

    A file option must not name a folder; the folder it goes into (for ``folder=True``, the
    folder's parent) must exist: bayeskit writes only where it is told and creates no folders
    but the one ``--out`` names.
    """
    if path is None:
        return
    from pathlib import Path

    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        raise BadInput(f"`{option}` must be a folder; {str(path)!r} is a file. Pick another path.")
    if not folder and path.is_dir():
        raise BadInput(f"`{option}` must be a file path; {str(path)!r} is a folder.")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise BadInput(
            f"`{option}` {str(path)!r}: the folder {str(path.parent)!r} does not exist; create it first, or "
            "pick a path in an existing folder."
        )


def report_and_exit(error: BaseException) -> None:
    """Print an error to stderr (traceback only with BAYESKIT_DEBUG=1) and exit with its code."""
    if isinstance(error, BadInput):
        print(f"error: {error}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    if type(error).__name__ == "ResourceError":  # refused before allocating: the options are the fix
        print(f"error: {error}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    if isinstance(error, Failed):
        print(f"error: {error}", file=sys.stderr)
        sys.exit(EXIT_FAILED)
    if os.environ.get("BAYESKIT_DEBUG"):
        traceback.print_exception(error)
    print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
    if not os.environ.get("BAYESKIT_DEBUG"):
        print("(set BAYESKIT_DEBUG=1 to see the traceback)", file=sys.stderr)
    sys.exit(EXIT_FAILED)


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a command so that BadInput exits 2 and any other failure exits 1, without a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        on_interrupt("nothing was saved; rerun the command.")
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            print(f"\ninterrupted: {_saved_on_interrupt[0]}", file=sys.stderr, flush=True)
            sys.exit(EXIT_INTERRUPTED)
        except SystemExit:
            raise
        except Exception as error:
            if type(error).__name__ == "Exit" and hasattr(error, "exit_code"):  # typer.Exit
                raise
            report_and_exit(error)

    return wrapper
