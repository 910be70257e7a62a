"""``bayeskit serve``: the interactive playground, the A/B explorer and live monitors, as a local web app.

Every number on the pages is computed here in Python by bayeskit and sent as JSON; the
pages only draw (Observable Plot, vendored in ``static/vendor``: no network at run time).
The API is usable by itself: ``GET /api`` lists the endpoints and their fields.

Examples
--------
>>> from starlette.testclient import TestClient
>>> from bayeskit.serve import create_app
>>> with TestClient(create_app(warm=False), base_url="http://127.0.0.1") as client:
...     answer = client.get("/api/beta-binomial", params={"alpha": 2, "beta": 2, "successes": 3, "trials": 10}).json()
>>> round(answer["mean"], 4), [round(v, 4) for v in answer["eti"]]
(0.3571, [0.1386, 0.6143])
"""

from __future__ import annotations

from bayeskit.serve.app import create_app
from bayeskit.serve.server import LOOPBACK, serve

__all__ = ["LOOPBACK", "create_app", "serve"]
