"""Running the app: uvicorn on one host and port, loopback unless told otherwise."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path

__all__ = ["LOOPBACK", "is_loopback", "serve"]

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``localhost``, ``127.x``, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    host: str = LOOPBACK,
    port: int = 8765,
    studies: Sequence[str | Path] = (),
    checkpoints: Sequence[str | Path] = (),
    on_ready=None,
) -> None:
    """Serve until interrupted; ``on_ready(url)`` is called once the socket listens.

    Off loopback, any Host header is accepted (the caller warned the user); on loopback only
    this machine's names are, which keeps other web pages from reaching the API by DNS rebinding.
    """
    import uvicorn

    from bayeskit.serve.app import create_app

    hosts = ("127.0.0.1", "localhost", "[::1]") if is_loopback(host) else ("*",)
    app = create_app(tuple(studies), tuple(checkpoints), allowed_hosts=hosts)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    if on_ready is not None:
        original = server.startup

        async def startup(sockets=None):
            await original(sockets=sockets)
            if server.started:
                shown = f"[{host}]" if ":" in host else host
                on_ready(f"http://{shown}:{port}/")

        server.startup = startup
    server.run()
