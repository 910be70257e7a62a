"""The Starlette app behind ``bayeskit serve``: pages, the JSON API, the monitors and the static files.

Work per request is bounded: sizes are capped by the fields, and a computation still
running after ``time_limit`` seconds is answered ``503`` with a message (it finishes in
the background and lands in the cache, so the page's retry is answered at once). At most
``max_pending`` computations run or wait at a time; more are refused the same way.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import math
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bayeskit.serve._params import BadRequest, parse
from bayeskit.serve.abtest import FIELDS as AB_FIELDS
from bayeskit.serve.abtest import ab_report_html
from bayeskit.serve.api import ENDPOINTS, Endpoint
from bayeskit.serve.monitor import RunFile, StudyFile
from bayeskit.serve.pages import PAGES, render_index, render_page

__all__ = ["create_app"]

STATIC = Path(__file__).parent / "static"
_SECURITY_HEADERS = {
    # Scripts only from this server; Observable Plot sets inline style attributes, hence 'unsafe-inline' for styles.
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # NumPy scalars
        return _clean(value.item())
    return value


class _JSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(_clean(content), allow_nan=False, separators=(",", ":")).encode()


class _Worker:
    """A bounded pool with a time limit per answer and a small cache of answers by request."""

    def __init__(self, time_limit: float, max_pending: int, cache_size: int):
        self.time_limit, self.max_pending, self.cache_size = time_limit, max_pending, cache_size
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bayeskit-serve")
        self._cache: collections.OrderedDict[tuple, Any] = collections.OrderedDict()
        self._running: dict[tuple, Any] = {}
        self._lock = threading.RLock()  # re-entrant: a future done already runs its callback in the submitting thread

    def _store(self, key: tuple, future: Any) -> None:
        with self._lock:
            self._running.pop(key, None)
            if future.exception() is None and self.cache_size:
                self._cache[key] = future.result()
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)

    async def answer(self, key: tuple, fn, *args: Any, time_limit: float | None = None) -> Any:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            future = self._running.get(key)
            if future is None:
                if len(self._running) >= self.max_pending:
                    raise BadRequest(
                        None, f"at most {self.max_pending} computations at once", len(self._running), status=503,
                        message=f"refused: the server is busy ({len(self._running)} computations running, at most "
                        f"{self.max_pending}); wait a moment and retry.",
                    )  # fmt: skip
                future = self._pool.submit(fn, *args)
                self._running[key] = future
                future.add_done_callback(lambda f: self._store(key, f))
        limit = self.time_limit if time_limit is None else time_limit
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), limit)
        except TimeoutError:
            raise BadRequest(
                None, f"answered within {limit:g} s", "a longer computation", status=503,
                message=f"refused: this computation takes longer than {limit:g} s, the limit per request. It goes on "
                "in the background: retry in a moment for its answer, or ask for less (fewer points or arms).",
            ) from None  # fmt: skip

    def close(self) -> None:
        """Drop queued work and wait for the running computations (never kill a thread inside XLA)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _query(request: Request) -> tuple[dict[str, str], list[str]]:
    items = request.query_params.multi_items()
    counts = collections.Counter(name for name, _ in items)
    return dict(items), [name for name, count in counts.items() if count > 1]


def create_app(
    studies: tuple[str | Path, ...] = (),
    checkpoints: tuple[str | Path, ...] = (),
    *,
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]"),
    time_limit: float = 1.0,
    max_pending: int = 8,
    cache_size: int = 512,
    warm: bool = True,
) -> Starlette:
    """The app: pages, ``/api/...``, the monitors of ``studies`` and ``checkpoints``, the vendored scripts.

    Parameters
    ----------
    studies, checkpoints
        The only files the browser can see, by their position (``/api/studies/0``); no request
        names a path.
    allowed_hosts
        Host headers accepted (a guard against DNS rebinding); ``("*",)`` accepts any.
    time_limit
        Seconds a request may compute before it is answered 503 (the work goes on and is cached).
    max_pending
        Computations running or waiting at once; more are answered 503.
    cache_size
        Answers kept by request (0: none).
    warm
        Compile the GP page's programs in the background at start, so its first request is fast.
    """
    worker = _Worker(time_limit, max_pending, cache_size)
    study_files = [StudyFile(p) for p in studies]
    run_files = [RunFile(p) for p in checkpoints]

    def endpoint_route(endpoint: Endpoint) -> Route:
        async def handler(request: Request) -> Response:
            query, repeated = _query(request)
            download = query.pop("download", None)
            if download not in (None, "0", "1"):
                raise BadRequest("download", "0 or 1 (1: answer as a file to save)", download)
            options = parse(query, endpoint.fields, repeated)
            key = (endpoint.path, repr(sorted(options.items())))
            payload = await worker.answer(key, lambda: endpoint.run(**options))
            headers = {}
            if download == "1":
                headers["content-disposition"] = (
                    f'attachment; filename="bayeskit-{endpoint.path.replace("/", "-")}.json"'
                )
            return _JSON(payload, headers=headers)

        return Route(f"/api/{endpoint.path}", handler, methods=["GET"])

    async def ab_report(request: Request) -> Response:
        query, repeated = _query(request)
        options = parse(query, AB_FIELDS, repeated)
        html = await worker.answer(
            ("ab-report", repr(sorted(options.items()))), lambda: ab_report_html(options), time_limit=10 * time_limit
        )  # a download with figures (matplotlib), not an interactive update: ten times the limit
        return HTMLResponse(html, headers={"content-disposition": 'attachment; filename="bayeskit-ab-report.html"'})

    async def api_index(request: Request) -> Response:
        return _JSON(
            {
                "endpoints": [
                    {
                        "path": f"/api/{e.path}",
                        "summary": e.summary,
                        "fields": {n: repr(f) for n, f in e.fields.items()},
                    }
                    for e in ENDPOINTS
                ]
                + [
                    {
                        "path": "/api/ab/report",
                        "summary": "The A/B result as the HTML report (same fields as /api/ab).",
                    },
                    {"path": "/api/studies", "summary": "The study files named on the command line."},
                    {"path": "/api/studies/{index}", "summary": "Trials, best-so-far curve and counts of study index."},
                    {
                        "path": "/api/studies/{index}/slices",
                        "summary": "GP slices of the study (computed in the background).",
                    },
                    {"path": "/api/runs", "summary": "The NUTS checkpoints named on the command line."},
                    {
                        "path": "/api/runs/{index}",
                        "summary": "Draws so far, R-hat, ESS and traces of checkpoint index.",
                    },
                ]
            }
        )

    def _pick(files: list, request: Request, what: str):
        index = request.path_params["index"]
        if not 0 <= index < len(files):
            raise BadRequest(
                "index", f"0 to {len(files) - 1} (the {what} named on the command line)" if files else
                f"absent: no {what} was named on the command line", index,
                f"Start bayeskit serve with --{'study' if what == 'studies' else 'checkpoint'} FILE.", status=404,
            )  # fmt: skip
        return files[index]

    async def list_studies(request: Request) -> Response:
        return _JSON({"studies": [{"index": i, "name": f.path.name} for i, f in enumerate(study_files)]})

    async def one_study(request: Request) -> Response:
        study = _pick(study_files, request, "studies")
        return _JSON(await asyncio.to_thread(study.read))

    async def study_slices(request: Request) -> Response:
        study = _pick(study_files, request, "studies")
        return _JSON(await asyncio.to_thread(study.slices))

    async def list_runs(request: Request) -> Response:
        return _JSON({"runs": [{"index": i, "name": f.path.name} for i, f in enumerate(run_files)]})

    async def one_run(request: Request) -> Response:
        run = _pick(run_files, request, "runs")
        return _JSON(await asyncio.to_thread(run.read))

    def page_route(slug: str) -> Route:
        async def handler(request: Request) -> Response:
            return HTMLResponse(render_page(slug))  # its script reads start values from the query string

        return Route(PAGES[slug].path, handler, methods=["GET"])

    async def index(request: Request) -> Response:
        return HTMLResponse(render_index(len(study_files), len(run_files)))

    async def bad_request(request: Request, error: BadRequest) -> Response:
        return _JSON(error.payload(), status_code=error.status)

    async def value_error(request: Request, error: ValueError) -> Response:
        return _JSON({"error": str(error), "field": None}, status_code=400)  # bayeskit's own message names the argument

    async def http_error(request: Request, error: HTTPException) -> Response:
        if request.url.path.startswith("/api"):
            return _JSON({"error": f"{error.detail}: {request.url.path}", "see": "/api"}, status_code=error.status_code)
        return HTMLResponse(f"<h1>{error.status_code}</h1><p><a href='/'>bayeskit serve</a></p>", error.status_code)

    async def server_error(request: Request, error: Exception) -> Response:
        traceback.print_exception(error, file=sys.stderr)
        return _JSON({"error": f"internal error: {type(error).__name__}: {error}"}, status_code=500)

    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(_SECURITY_HEADERS)
        if request.url.path.startswith("/api"):
            response.headers["cache-control"] = "no-store"
        return response

    routes = [
        Route("/", index),
        Route("/api", api_index),
        Route("/api/ab/report", ab_report),
        Route("/api/studies", list_studies),
        Route("/api/studies/{index:int}", one_study),
        Route("/api/studies/{index:int}/slices", study_slices),
        Route("/api/runs", list_runs),
        Route("/api/runs/{index:int}", one_run),
        *(endpoint_route(e) for e in ENDPOINTS),
        *(page_route(slug) for slug in PAGES),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]

    stopping = threading.Event()

    def warm_up() -> None:
        from bayeskit.serve import explore

        try:
            explore.regularization(0.0)  # the ridge and lasso paths, computed once
            explore.topics(6, 0.1, 0)  # reads the docstrings and compiles the 6-topic LDA programs
            explore.continual(0.0, 3)  # compiles the continual learner's programs (and caches the baselines)
            for size in (5, 100, 200, 400):  # one fit per padded size compiles its programs
                if stopping.is_set():
                    return
                explore.aleatoric_epistemic(size, 0.3, 0)
        except Exception:  # warming is an optimization; a failure shows on the page's own request
            traceback.print_exc(file=sys.stderr)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        warming = threading.Thread(target=warm_up, name="bayeskit-serve-warm")
        if warm:
            warming.start()
        yield
        stopping.set()
        await asyncio.to_thread(worker.close)
        for study in study_files:
            await asyncio.to_thread(study.close)
        if warm:
            await asyncio.to_thread(warming.join)

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)),
            Middleware(BaseHTTPMiddleware, dispatch=headers),
        ],
        exception_handlers={
            BadRequest: bad_request,
            ValueError: value_error,
            HTTPException: http_error,
            Exception: server_error,
        },
        lifespan=lifespan,
    )
    app.state.worker = worker
    return app
