"""A run directory's published outputs: stale staging removed on resume, staged outputs published together,
and a run directory that cannot be written (read-only, full) reported as one line."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from lepton_core.atomic import ACCESS_ERRNOS, NO_SPACE_ERRNOS, os_error, staging_dir
from lepton_core.errors import ConfigError, LeptonError

__all__ = [
    "FAILED_MARKER",
    "STAGING_GLOB",
    "marked_on_failure",
    "output_errors",
    "publish_outputs",
    "remove_stale_staging",
    "restored_on_failure",
    "run_dir_error",
]

STAGING_GLOB = ".*.partial"  # what staging_dir and the atomic writers name their temporary files and folders
FAILED_MARKER = "FAILED"  # written into a run directory whose run failed after it produced something
# what Hydra writes into every run directory before the job starts: a run that failed with only these is removed
HYDRA_ONLY = {".hydra", "entry.log"}


def remove_stale_staging(run_dir: Path) -> list[Path]:
    """Delete staging files and folders a killed run left in ``run_dir`` (never published, never valid)."""
    stale = sorted(run_dir.glob(STAGING_GLOB))
    for path in stale:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    return stale


def publish_outputs(staged: Path, run_dir: Path) -> Path | None:
    """Move every file and folder of ``staged`` into ``run_dir`` (replacing what is there); the bundle's path.

    Each entry is one rename: a reader sees the old or the new metrics.json, report.html and bundle/, never a
    half-written one; a replaced folder is renamed aside first and deleted after the new one is in place.
    """
    has_bundle = (staged / "bundle").is_dir()
    for entry in sorted(staged.iterdir(), key=lambda p: p.name == "bundle"):  # the bundle last
        target = run_dir / entry.name
        if entry.is_dir() and target.exists():
            aside = Path(f"{staged}-{entry.name}.old.partial")
            os.replace(target, aside)
            os.replace(entry, target)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(entry, target)
    return run_dir / "bundle" if has_bundle else None


@contextmanager
def restored_on_failure(run_dir: Path, names: tuple[str, ...] = ("figures", "logs")) -> Iterator[None]:
    """Put the folders ``names`` of ``run_dir`` back as they were when the block raises (a failed resume
    changes nothing: the report's figures and the training log stay those of the published run)."""
    backup = staging_dir(run_dir / "resume-backup")
    for name in names:
        if (run_dir / name).is_dir():
            shutil.copytree(run_dir / name, backup / name, symlinks=True)
    try:
        yield
    except BaseException:
        for name in names:
            shutil.rmtree(run_dir / name, ignore_errors=True)
            if (backup / name).is_dir():
                os.replace(backup / name, run_dir / name)
        raise
    finally:
        shutil.rmtree(backup, ignore_errors=True)


@contextmanager
def marked_on_failure(run_dir: Path, resume: bool = False) -> Iterator[None]:
    """A failed run leaves no near-empty run directory: one holding only Hydra's files is removed, one with
    outputs (checkpoints, logs, figures) gets a FAILED file naming the error. A resumed run is left as it is."""
    try:
        yield
    except BaseException as exc:
        if not resume and run_dir.is_dir() and os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0")) == "0":
            if {entry.name for entry in run_dir.iterdir()} <= HYDRA_ONLY:
                shutil.rmtree(run_dir, ignore_errors=True)
                for parent in (run_dir.parent, run_dir.parent.parent):  # <task>/ and <plugin>/ when now empty
                    with suppress(OSError):
                        parent.rmdir()
            else:
                from lepton_core.atomic import atomic_write_text

                reason = str(exc) or type(exc).__name__
                if isinstance(exc, KeyboardInterrupt):
                    reason = "interrupted"
                elif isinstance(exc, SystemExit):
                    reason = f"exited with code {exc.code}"
                atomic_write_text(run_dir / FAILED_MARKER, f"{type(exc).__name__}: {reason}\n")
        raise
    (run_dir / FAILED_MARKER).unlink(missing_ok=True)  # a resumed run that now succeeded


def _inside(path: str | os.PathLike[str] | None, folder: Path) -> bool:
    """True when ``path`` is ``folder``, inside it, or one of its parents (creating it failed there)."""
    if path is None:
        return False
    resolved, target = Path(path).resolve(), folder.resolve()
    return resolved == target or target in resolved.parents or resolved in target.parents


@contextmanager
def output_errors(run_dir: Path) -> Iterator[None]:
    """Turn a failure to write ``run_dir`` (read-only, permission denied, disk full) into one ConfigError."""
    try:
        yield
    except OSError as exc:
        error = run_dir_error(exc, run_dir)
        if error is None:
            raise
        raise error from exc


def run_dir_error(exc: OSError, run_dir: Path) -> LeptonError | None:
    """The one-line error for ``exc`` when it is a failure to write the run directory; None otherwise."""
    if exc.errno in NO_SPACE_ERRNOS:
        return ConfigError(
            f"cannot write the run's outputs in {run_dir}: {exc.strerror or exc}",
            "free disk space, or set LEPTON_OUTPUT_DIR (or paths.output_dir) to a disk with room",
        )
    if exc.errno in ACCESS_ERRNOS and (_inside(exc.filename, run_dir) or _inside(exc.filename2, run_dir)):
        return ConfigError(
            f"cannot write the run's outputs in {run_dir}: {exc.strerror or exc} ({exc.filename})",
            "set LEPTON_OUTPUT_DIR (or paths.output_dir) to a writable directory",
        )
    return os_error(exc)
