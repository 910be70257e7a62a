"""Checkpoints for long NUTS runs: completed draws and the sampler state, written atomically and verified on read.

A checkpoint file is ``MAGIC + sha256(payload) + payload`` where the payload is an
uncompressed ``.npz`` (no pickles: ``allow_pickle=False`` on read). It holds the
NUTS state of every chain (position, adaptation, PRNG key), every completed
transition's draws and statistics, the number of transitions done, and a
fingerprint of the run (model, settings, data, key). It is written to a temporary
file in the same folder, flushed to disk and renamed over the old one, so a kill
at any moment leaves either the previous or the new checkpoint, never half of one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MAGIC", "CheckpointError", "fingerprint", "read_checkpoint", "write_checkpoint"]

MAGIC = b"BAYESKIT-NUTS-CHECKPOINT-1\n"
_DIGEST = 32


class CheckpointError(ValueError):
    """A checkpoint that is corrupt, truncated, or from a different run: never trusted."""


def fingerprint(model: Any, settings: dict[str, Any], dynamic: list[Any], static: tuple, key_data: np.ndarray) -> str:
    """A sha256 over what determines the run: the model's name and code, settings, data, static arguments, key.

    The model's module is left out (the same model imported or run as ``__main__``
    is the same model); its bytecode and constants are in, so an edited prior
    does not resume an old run.
    """
    digest = hashlib.sha256()
    digest.update(getattr(model, "__qualname__", type(model).__qualname__).encode())
    code = getattr(model, "__code__", None)
    if code is not None:
        digest.update(code.co_code)
        digest.update(repr(code.co_consts).encode())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for value in dynamic:
        array = np.ascontiguousarray(np.asarray(value))
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.tobytes())
    digest.update(repr(static).encode())
    digest.update(np.ascontiguousarray(key_data).tobytes())
    return digest.hexdigest()


def write_checkpoint(path: str | os.PathLike, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``meta`` (JSON) and ``arrays`` atomically: a temporary file, fsync, then rename over ``path``."""
    buffer = io.BytesIO()
    payload_arrays = {f"a/{name}": np.asarray(value) for name, value in arrays.items()}
    payload_arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    np.savez(buffer, **payload_arrays)
    payload = buffer.getvalue()
    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(MAGIC)
            file.write(hashlib.sha256(payload).digest())
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a checkpoint; raise :class:`CheckpointError` unless it is intact."""
    raw = Path(path).read_bytes()
    if not raw.startswith(MAGIC):
        raise CheckpointError(
            f"{path} is not a bayeskit NUTS checkpoint (wrong header): delete it or pass another checkpoint path."
        )
    digest, payload = raw[len(MAGIC) : len(MAGIC) + _DIGEST], raw[len(MAGIC) + _DIGEST :]
    if hashlib.sha256(payload).digest() != digest:
        raise CheckpointError(
            f"checkpoint {path} is corrupt (its checksum does not match its contents, e.g. a truncated copy); "
            "it was not used. Delete it to start the run over."
        )
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            meta = json.loads(bytes(archive["meta"]).decode())
            arrays = {name[2:]: archive[name] for name in archive.files if name.startswith("a/")}
    except (ValueError, KeyError, OSError) as error:
        raise CheckpointError(f"checkpoint {path} could not be decoded ({error}); delete it to start over.") from error
    return meta, arrays
