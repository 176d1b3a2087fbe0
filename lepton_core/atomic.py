"""Atomic file and directory writes: a crash never leaves a half-written file that looks valid.

Temporary files and directories are created with the ordinary modes (0666 / 0777 less the umask, so
0644 / 0755 under the usual umask 022), not the owner-only modes of ``tempfile``: a bundle written by one
user can be served by another, or by a container user.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lepton_core.errors import ConfigError, DataError, LeptonError

FILE_MODE = 0o666  # less the umask
DIR_MODE = 0o777  # less the umask


def current_umask() -> int:
    """The process umask (read from /proc where it can be, so that it is never changed, even briefly)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply_default_mode(path: Path) -> None:
    """Give a file written by a library with owner-only permissions the ordinary mode (0666 less the umask)."""
    os.chmod(path, FILE_MODE & ~current_umask())


def _sibling_name(path: Path) -> Path:
    return path.parent / f".{path.name}.{secrets.token_hex(6)}.partial"


def _create_temp_file(path: Path) -> tuple[int, Path]:
    """An exclusive, new temporary sibling of ``path`` opened for writing (mode 0666 less the umask)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = _sibling_name(path)
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), tmp
        except FileExistsError:
            continue


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
    fd, tmp = _create_temp_file(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def staging_dir(target: Path) -> Path:
    """A fresh temporary directory beside ``target`` (0777 less the umask), to be published with ``publish_dir``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        staged = _sibling_name(target)
        try:
            staged.mkdir(mode=DIR_MODE)
            return staged
        except FileExistsError:
            continue


def publish_dir(staged: Path, target: Path) -> Path:
    """Move a completed staging directory to ``target``, replacing what was there."""
    if target.exists():
        shutil.rmtree(target)
    os.replace(staged, target)
    return target


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write to; it replaces ``path`` only if the block succeeds."""
    fd, tmp = _create_temp_file(path)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
