"""Verified, atomic checkpoints and atomic result files.

A checkpoint is a file that ``torch.load(path, weights_only=True)`` reads: a dict of plain types holding

- ``format``: ``"spectral_bias-checkpoint/1"``;
- ``sha256``: the hex SHA-256 of ``payload``'s bytes;
- ``payload``: a uint8 tensor, the bytes of ``torch.save(state)`` where ``state`` holds only tensors, numbers,
  strings, None, lists, tuples and dicts (model and optimiser state, RNG states as uint8/int64 tensors, the
  measurements as tensors).

Loading never runs code from the file (``weights_only=True``, for the envelope and the payload), checks the hash
and refuses a truncated, corrupted or edited checkpoint with a :class:`CheckpointError` naming the file. Writes go
to a temporary file in the same folder, are flushed to disk, then renamed over the target (``os.replace``): a
crash or a full disk leaves the old file or the new one, never a partial one, and the temporary file is removed.
Used by ``experiments/train.py`` (chapters 9 and 10 run it).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import zipfile
from pathlib import Path

import torch

__all__ = ["CheckpointError", "atomic_write", "load_checkpoint", "save_checkpoint"]

FORMAT = "spectral_bias-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be trusted: truncated, corrupted, edited, or not written by this package."""


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb"):
    """Open a temporary file next to ``path`` for writing; on success flush it to disk and rename it to ``path``
    (atomic on POSIX and Windows); on any exception remove it and re-raise. ``mode`` is ``"wb"`` or ``"w"``."""
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Save ``state`` (plain types and tensors only, so that it loads with ``weights_only=True``) atomically,
    with the SHA-256 of its serialised bytes. Raises TypeError if ``state`` is not a dict."""
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict, got {type(state).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save(state, buf)
    raw = buf.getvalue()
    envelope = dict(
        format=FORMAT,
        sha256=hashlib.sha256(raw).hexdigest(),
        payload=torch.frombuffer(bytearray(raw), dtype=torch.uint8),
    )
    with atomic_write(path) as f:
        torch.save(envelope, f)


def _load_plain(source, what: str, path: Path):
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"checkpoint {path} refused: its {what} holds more than plain data "
            f"(code or unknown objects; {str(err).splitlines()[0][:120]})"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, KeyError, OSError) as err:
        raise CheckpointError(
            f"checkpoint {path} is truncated or corrupted ({type(err).__name__}: "
            f"{str(err).splitlines()[0][:120] if str(err) else 'unreadable'})"
        ) from None


def load_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``; the hash is checked).

    Raises FileNotFoundError naming the path if it is missing, and :class:`CheckpointError` (a ValueError) if the
    file is truncated, corrupted, edited (hash mismatch), holds anything but plain data, or has another format."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    env = _load_plain(path, "file", path)
    if (
        not isinstance(env, dict)
        or env.get("format") != FORMAT
        or not isinstance(env.get("sha256"), str)
        or not isinstance(env.get("payload"), torch.Tensor)
        or env["payload"].dtype != torch.uint8
    ):
        raise CheckpointError(
            f"checkpoint {path} is not a {FORMAT} file (written by an older version or another "
            f"program); start afresh with --overwrite"
        )
    raw = env["payload"].numpy().tobytes()
    if hashlib.sha256(raw).hexdigest() != env["sha256"]:
        raise CheckpointError(
            f"checkpoint {path} is corrupted or was edited: its content does not match the SHA-256 recorded in it"
        )
    state = _load_plain(io.BytesIO(raw), "content", path)
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} does not hold a state dict")
    return state
