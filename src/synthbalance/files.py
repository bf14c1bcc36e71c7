"""Atomic writes for local files: a failed or interrupted save never leaves a torn file.

A save writes a temporary file in the target's own folder and renames it over the target
(``os.replace``, atomic on one filesystem) only once every byte is on disk; on any failure
(a full disk, an exception in the writer, Ctrl-C) the temporary file is removed and the
previous file, if any, is untouched. Remote filesystems (``s3://`` ...) are written as the
dataset writes them: their object stores replace an object whole on upload anyway.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def replace_on_close(path: str | os.PathLike[str], mode: str = "wb", **kwargs: Any) -> Iterator[IO]:
    """Open ``path`` for writing through a temporary sibling that replaces it on success.

    ``mode`` is a write mode (``"wb"``, ``"w"``); ``kwargs`` go to :func:`open`
    (``encoding``...). Missing folders are created. On an exception the temporary file is
    removed and the exception re-raised; ``path`` then still holds its previous content.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                         suffix=".tmp")
    try:
        with open(handle, mode, **kwargs) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it 0600; match open()'s
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    # os.umask can only be read by setting it; set it straight back
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _AtomicLocalFS:
    """An fsspec filesystem whose ``open`` for writing goes through :func:`replace_on_close`."""

    def __init__(self, fs: Any):
        self._fs = fs

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if "w" not in mode:
            return self._fs.open(path, mode, **kwargs)
        return replace_on_close(path, mode, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fs, name)


class AtomicLocalSave:
    """Mixin for a kedro dataset with ``_fs`` and ``_protocol``: local saves are atomic.

    Put it before the dataset class (``class X(AtomicLocalSave, ParquetDataset)``); the
    dataset's own ``save`` runs unchanged, with its ``fs.open(path, "wb")`` writing a
    temporary file that replaces ``path`` only when the save completes.
    """

    def save(self, data: Any) -> None:
        if getattr(self, "_protocol", None) != "file":
            super().save(data)  # type: ignore[misc]
            return
        fs = self._fs  # type: ignore[has-type]
        self._fs = _AtomicLocalFS(fs)
        try:
            super().save(data)  # type: ignore[misc]
        finally:
            self._fs = fs
