"""Progress bars on stderr (Rich), or nothing: long work reports itself only when asked."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

__all__ = ["progress_bar", "status"]


def _label(enabled: bool | str, description: str) -> str:
    return f"{enabled}: {description}" if isinstance(enabled, str) and enabled else description


@contextlib.contextmanager
def status(description: str, enabled: bool | str) -> Iterator[None]:
    """A labelled spinner on stderr while a stage without steps runs (one line when stderr is not a terminal).

    ``enabled`` may be a string: a label naming the run the stage belongs to.
    """
    if not enabled:
        yield
        return
    from rich.console import Console

    console = Console(file=sys.stderr, soft_wrap=True)
    text = _label(enabled, description)
    if not console.is_terminal:
        console.print(f"{text} ...")
        yield
        return
    with console.status(text):
        yield


@contextlib.contextmanager
def progress_bar(description: str, total: int, enabled: bool | str, done: int = 0) -> Iterator[Callable[..., None]]:
    """Yield ``advance(n, description=None)``; a Rich bar on stderr when ``enabled``, a no-op otherwise.

    ``enabled`` may be a string: a label put before every description (which run the bar is).
    """
    if not enabled:
        yield lambda n, description=None: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=sys.stderr), transient=False) as bar:
        task = bar.add_task(_label(enabled, description), total=total, completed=done)

        def advance(n: int, description: str | None = None) -> None:
            bar.update(task, advance=n, **({"description": _label(enabled, description)} if description else {}))

        yield advance
