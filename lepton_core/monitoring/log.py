"""The prediction and label logs: append-only JSON-lines segments, group-committed, sealed into Parquet.

Each micro-batch is one ``os.write`` to the active segment (``O_APPEND``, no Python buffer), made before
any of its responses is released: once a client has its answer, the record is in the OS page cache and a
SIGKILL of the server loses nothing (a power cut can still lose what the OS had not flushed; pass
``fsync=True`` for that, at a cost per batch). A segment is rotated when it passes ``max_bytes`` or
``max_age_s`` (checked at each write), then sealed on a background thread: its lines are written to a
Parquet file of the same name under a temporary name and renamed into place, and only then is the
JSON-lines file removed. Readers take the Parquet file when both exist and skip a torn last line.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from lepton_core.atomic import atomic_path
from lepton_core.errors import ConfigError, DataError

__all__ = ["LogSettings", "SegmentLog", "json_line", "read_log", "read_segments"]

PREDICTIONS = "predictions"
LABELS = "labels"
JSON_COLUMNS = {PREDICTIONS: ("inputs", "outputs"), LABELS: ("label",)}
SEGMENT = re.compile(r"^(?P<prefix>[a-z]+)-(?P<seq>\d{6})\.(?P<ext>jsonl|parquet)$")


@dataclass(frozen=True)
class LogSettings:
    """Where and how `lepton serve` logs: directory, rotation by size and age, the cap on one logged string."""

    directory: Path
    max_bytes: int = 64 << 20
    max_age_s: float = 3600.0
    max_field_bytes: int = 256 << 10
    fsync: bool = False

    def __post_init__(self) -> None:
        for name, option in (("max_bytes", "--log-max-mb"), ("max_age_s", "--log-max-age"), ("max_field_bytes", "max_field_bytes")):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{option} {getattr(self, name)} is not a positive number", f"pass {option} above 0")


def json_line(record: Mapping[str, Any]) -> bytes:
    """One record as a compact JSON line (orjson; NaN and infinity become null, as orjson writes them).

    The standard library writes what orjson refuses (an integer past 64 bits, a lone surrogate).
    """
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")


def _seq(path: Path) -> int:
    match = SEGMENT.match(path.name)
    return int(match["seq"]) if match else -1


class SegmentLog:
    """One append-only log (``predictions`` or ``labels``) in a directory, written by one process."""

    def __init__(self, settings: LogSettings, prefix: str) -> None:
        self.settings, self.prefix = settings, prefix
        directory = settings.directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(directory / f".{prefix}.lock", os.O_WRONLY | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(f"cannot write the log directory {directory} ({exc.strerror})", "pass a writable --log-dir") from None
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise ConfigError(f"another server is logging to {directory}", "give each server its own --log-dir") from None
        leftovers = sorted(directory.glob(f"{prefix}-*.jsonl"), key=_seq)
        self._seq = max((_seq(p) for p in directory.glob(f"{prefix}-*.*")), default=0)
        self._sealer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"lepton-seal-{prefix}")
        self._lock = threading.Lock()
        self._fd = -1
        self._size = 0
        self._opened = 0.0
        self.records = 0
        for path in leftovers:  # a crashed predecessor's active segments
            self._sealer.submit(seal_segment, path)
        self._open_next()

    def _open_next(self) -> None:
        self._seq += 1
        self.path = self.settings.directory / f"{self.prefix}-{self._seq:06d}.jsonl"
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o644)
        self._size, self._opened = 0, time.monotonic()

    def append(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Write records as JSON lines in one ``write`` (a group commit); rotate first when due."""
        self.write(b"".join(map(json_line, records)))

    def write(self, data: bytes) -> None:
        """Write whole JSON lines (``json_line``) in one ``write``; rotate first when due."""
        if not data:
            return
        with self._lock:
            if self._size and (
                self._size + len(data) > self.settings.max_bytes
                or time.monotonic() - self._opened > self.settings.max_age_s
            ):
                self._rotate()
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            if self.settings.fsync:
                os.fsync(self._fd)
            self._size += len(data)
            self.records += data.count(b"\n")

    def _rotate(self) -> None:
        os.close(self._fd)
        self._sealer.submit(seal_segment, self.path)
        self._open_next()

    def close(self) -> None:
        """Seal the active segment and wait for every seal to finish."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
                self._sealer.submit(seal_segment, self.path)
        self._sealer.shutdown(wait=True)
        os.close(self._lock_fd)


def _parse_line(line: bytes | str) -> Any:
    """One JSON line (orjson; the standard library for the NaN of segments written before orjson)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def _json_text(value: Any) -> str:
    """A value as JSON text for a Parquet string column."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(value)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines segment; a torn (partial) last line is skipped."""
    lines = path.read_bytes().split(b"\n")
    records = []
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = _parse_line(line)
        except (ValueError, UnicodeDecodeError):
            if number >= len(lines) - 2:  # the last line, cut by a crash mid-write
                continue
            raise DataError(f"{path} line {number + 1} is not a JSON record", "remove or repair that segment") from None
        if isinstance(record, dict):
            records.append(record)
    return records


def seal_segment(path: Path) -> Path | None:
    """Write a JSON-lines segment as Parquet beside it (atomically), then remove it; None when it was empty."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    match = SEGMENT.match(path.name)
    records = _read_jsonl(path) if path.exists() else []
    target = path.with_suffix(".parquet")
    if records and match:
        json_columns = JSON_COLUMNS.get(match["prefix"], ())
        names = dict.fromkeys(name for r in records for name in r)  # column by column: faster than from_pylist
        table = pa.table({
            name: [_json_text(r[name]) if name in r else None for r in records] if name in json_columns
            else [r.get(name) for r in records]
            for name in names
        })
        with atomic_path(target) as tmp:
            pq.write_table(table, tmp, compression="zstd")
    path.unlink(missing_ok=True)
    return target if records else None


def read_segments(directory: Path, prefix: str) -> list[dict[str, Any]]:
    """Every record of one log, oldest segment first (Parquet when sealed, else the JSON-lines file)."""
    import pyarrow.parquet as pq

    by_seq: dict[int, Path] = {}
    for path in directory.glob(f"{prefix}-*.*"):
        match = SEGMENT.match(path.name)
        if match and match["prefix"] == prefix and (int(match["seq"]) not in by_seq or match["ext"] == "parquet"):
            by_seq[int(match["seq"])] = path
    columns = JSON_COLUMNS.get(prefix, ())
    records: list[dict[str, Any]] = []
    for _, path in sorted(by_seq.items()):
        if path.suffix == ".jsonl":
            records += _read_jsonl(path)
            continue
        try:
            rows = pq.read_table(path).to_pylist()
        except Exception as exc:  # noqa: BLE001 - any unreadable Parquet file is a data error
            raise DataError(f"{path} is not a readable Parquet segment ({exc})", "remove or repair that segment") from None
        records += [{k: _parse_line(v) if k in columns and isinstance(v, str) else v for k, v in r.items()} for r in rows]
    return records


def read_log(directory: str | Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(predictions, labels) of a log directory written by `lepton serve --log-dir`."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"log directory {directory} not found", "pass the --log-dir that `lepton serve` wrote")
    predictions = read_segments(directory, PREDICTIONS)
    if not predictions:
        raise DataError(f"no logged prediction in {directory}", "serve with `lepton serve BUNDLE --log-dir DIR` first")
    return predictions, read_segments(directory, LABELS)
