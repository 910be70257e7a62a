"""``bayeskit serve``: check the options, then run the playground until Ctrl-C."""

from __future__ import annotations

import socket
from pathlib import Path

from bayeskit.cli._errors import BadInput


def check_files(paths: list[Path], option: str) -> list[str]:
    """Refuse a folder; a file that does not exist yet is allowed (the page waits for it) and noted."""
    notes = []
    for path in paths:
        if path.is_dir():
            raise BadInput(f"`{option}` must name a file; {str(path)!r} is a folder. Pass the file inside it.")
        if not path.exists():
            notes.append(f"{option} {str(path)!r} does not exist yet; its page will show it once it is written.")
    return notes


def check_address(host: str, port: int) -> None:
    """Refuse a port out of range or already taken, before the server starts (exit 2)."""
    if not 1 <= port <= 65535:
        raise BadInput(f"`--port` must be a whole number from 1 to 65535; got {port}. The default is 8765.")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host.strip("[]"), port))
    except OSError as error:
        raise BadInput(
            f"cannot listen on {host}:{port} ({error.strerror or error}); the port may be in use or the host not "
            "this machine's. Pass another --port (or --host)."
        ) from None
