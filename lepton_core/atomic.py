"""Atomic file and directory writes: a crash never leaves a half-written file that looks valid."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lepton_core.errors import ConfigError, DataError, LeptonError

NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
ACCESS_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


def os_error(exc: OSError, fix: str | None = None) -> LeptonError | None:
    """The one-line error for a file that cannot be written (no space, read-only, no permission); None otherwise.

    ``fix`` replaces the generic advice (e.g. which option moves the output). An existing file that cannot be
    opened is a DataError (an input); anything else is a ConfigError (the output location given).
    """
    where = exc.filename
    if exc.errno in NO_SPACE_ERRNOS:
        return ConfigError(
            f"cannot write {where or 'a file'}: {exc.strerror or exc}", fix or "free disk space or write to another disk"
        )
    if exc.errno in ACCESS_ERRNOS and where:
        if exc.errno != errno.EROFS and Path(where).is_file():
            return DataError(f"cannot read {where}: {exc.strerror}", "make the file readable")
        return ConfigError(f"cannot write {where}: {exc.strerror}", fix or "write to a directory you may write to")
    return None


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to a temporary sibling of ``path``, then rename it into place."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary sibling of ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def staging_dir(target: Path) -> Path:
    """A fresh temporary directory beside ``target``, to be published with ``publish_dir``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))


def publish_dir(staged: Path, target: Path) -> Path:
    """Move a completed staging directory to ``target``, replacing what was there."""
    if target.exists():
        shutil.rmtree(target)
    os.replace(staged, target)
    return target


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write to; it replaces ``path`` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
