"""Independent calls of one function over many items, on any executor, with the serial loop's results.

``fan_out(fn, items, executor="process")`` returns ``[fn(item) for item in items]``, in that
order, computed by worker processes or Ray tasks: SBC replicates, one model per group,
ensemble members. Nothing about the result depends on where an item ran, so a fixed key
per item gives the same answer on every executor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bayeskit.parallel.executors import Executor, ExecutorError, check_loadable, get_executor, worker_lost
from bayeskit.parallel.tasks import guarded_call

__all__ = ["fan_out"]


def fan_out(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    *,
    executor: str | Executor | None = None,
    workers: int | None = None,
    address: str | None = None,
    max_retries: int = 3,
    progress: bool = False,
    label: str = "tasks",
) -> list[Any]:
    """``[fn(item) for item in items]``, with the calls spread over an executor's workers.

    Parameters
    ----------
    fn
        Takes one item. Sent to the workers by pickle, so it must be importable there (a
        top-level ``def``, or an instance of a top-level class, in a module the workers
        can import); that is checked once before any item is sent.
    items
        The inputs, each sent to a worker by pickle (NumPy arrays travel best).
    executor, workers, address
        As for :func:`bayeskit.parallel.get_executor`: ``"serial"`` (the default for one
        worker), ``"process"`` (the default for ``workers > 1``), ``"ray"`` (or an
        ``address``), or an :class:`~bayeskit.parallel.Executor`, which is left running.
    max_retries
        Times an item is resubmitted when the worker running it dies (killed, out of
        memory) before the run fails. An exception raised by ``fn`` itself is not retried:
        it is raised here, naming the item, once the other calls in flight are stopped.
    progress
        A progress bar over items on stderr.
    label
        The progress bar's label.

    Returns
    -------
    list
        ``fn(item)`` per item, in the order of ``items``.

    Raises
    ------
    bayeskit.parallel.ExecutorError
        The executor cannot start, its workers cannot load ``fn``, or a worker died on the
        same item more than ``max_retries`` times; nothing is returned.

    Examples
    --------
    >>> from bayeskit.parallel import fan_out
    >>> fan_out(abs, [-2, 3, -5])
    [2, 3, 5]
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    from bayeskit._progress import progress_bar

    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"`max_retries` must be an int >= 0; got {max_retries!r}.")
    items = list(items)
    owned = not isinstance(executor, Executor)
    pool = get_executor(executor, workers, address)
    results: list[Any] = [None] * len(items)
    try:
        check_loadable(pool, fn, "the function to fan out")
        pending = list(range(len(items)))[::-1]  # popped from the end: items go out in order
        attempts = [0] * len(items)
        in_flight: dict[Any, int] = {}
        with progress_bar(label, len(items), progress) as advance:
            while pending or in_flight:
                # at most one call per worker in flight, so that a worker's death costs only the calls it broke
                while pending and len(in_flight) < pool.workers:
                    index = pending.pop()
                    in_flight[pool.submit(guarded_call, fn, items[index])] = index
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    index = in_flight.pop(future)
                    try:
                        ok, value = future.result()
                    except Exception as lost:
                        if not worker_lost(lost):  # the call ran, but its result could not come back
                            raise ExecutorError(
                                f"the result of item {index} could not come back from its worker: "
                                f"{type(lost).__name__}: {lost}. Return plain data (NumPy arrays, numbers, dicts "
                                "of them), not objects that hold functions."
                            ) from None
                        attempts[index] += 1  # the worker died: the same item again
                        if attempts[index] > max_retries:
                            raise ExecutorError(
                                f"item {index} was lost {attempts[index]} times (the last: {type(lost).__name__}: "
                                f"{lost}). A worker that dies on the same item again and again usually runs out of "
                                "memory: use fewer workers, or raise max_retries if the losses were chance."
                            ) from None
                        pending.append(index)
                        continue
                    if not ok:
                        value.add_note(f"raised by {getattr(fn, '__qualname__', fn)!s} on item {index}")
                        raise value
                    results[index] = value
                    advance(1)
    except BaseException:  # Ctrl-C, an item's error: stop the calls still running
        if owned:
            pool.shutdown(cancel=True)
        raise
    if owned:
        pool.shutdown()
    return results
