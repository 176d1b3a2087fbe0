"""The server's live monitor: logs each micro-batch, takes labels, and computes the windowed figures.

It keeps the monitored values of the last ``capacity`` predictions in memory (built from the raw inputs
at the next snapshot, on a thread; at once for images, so big inputs are not held), with their labels, so /metrics and /dashboard show the same windowed figures as `lepton monitor` without
reading the log; the first full window is kept for good as the baseline of the predictions, image
statistics and residuals. With a log directory every answered prediction and every label is also
appended to the crash-safe logs of :mod:`lepton_core.monitoring.log`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lepton_core.monitoring.log import LABELS, PREDICTIONS, LogSettings, SegmentLog, json_line
from lepton_core.monitoring.profile import MonitorProfile
from lepton_core.monitoring.windows import WindowSpec, analyze, finite, label_error

__all__ = ["LiveMonitor", "MonitorOptions"]

MAX_UNKNOWN_SHOWN = 100
SNAPSHOT_TTL_S = 2.0
Key = tuple[str, int]


@dataclass(frozen=True)
class MonitorOptions:
    """Monitoring of `lepton serve`: on or off (``--no-log``), the log directory (None: memory only), windows."""

    enabled: bool = True
    log: LogSettings | None = None
    window: WindowSpec = field(default_factory=WindowSpec)


def _bounded(inputs: Any, max_bytes: int) -> Any:
    """The inputs as logged: top-level strings longer than ``max_bytes`` become {"truncated_bytes": n}."""
    if not isinstance(inputs, Mapping):
        return inputs
    return {
        k: {"truncated_bytes": len(v)} if isinstance(v, str) and len(v) > max_bytes else v for k, v in inputs.items()
    }


def _logged_line(record: dict[str, Any], max_field_bytes: int) -> bytes:
    """The JSON line of a prediction record, its inputs ``_bounded`` (only a line over the cap can need it)."""
    line = json_line(record)
    if len(line) <= max_field_bytes:  # no string in it is longer than the line
        return line
    return json_line({**record, "inputs": _bounded(record["inputs"], max_field_bytes)})


class LiveMonitor:
    """Group-committed prediction log, labels by request id, and cached windowed figures.

    Per answered request the request path only writes its log lines (one write per batch) and keeps one
    entry ``[sequence number of its first item, items, request id, time, latency, raw inputs, outputs,
    monitored rows]``; per-item metadata and rows are built at the next snapshot, on a thread.
    """

    def __init__(
        self, profile: MonitorProfile, spec: WindowSpec, log: LogSettings | None = None, capacity_windows: int = 50
    ) -> None:
        self.profile, self.spec, self.log_settings = profile, spec, log
        self.predictions = SegmentLog(log, PREDICTIONS) if log else None
        self.labels_log = SegmentLog(log, LABELS) if log else None
        self.max_field_bytes = log.max_field_bytes if log else 256 << 10
        self.capacity = capacity_windows * spec.size
        self._recent: deque[list[Any]] = deque()  # the requests holding the last ``capacity`` items
        self._held = 0  # items in _recent
        self._by_id: dict[str, list[Any]] = {}  # the latest request in _recent with each id
        self._first: list[list[Any]] = []  # the requests of the first ``spec.size`` items, kept for good
        self._first_by_id: dict[str, list[Any]] = {}
        self._labels: dict[Key, Any] = {}
        self._seq = 0
        self.labels_total = 0
        self._lock = threading.Lock()
        self._cache: tuple[float, dict[str, Any]] | None = None

    def record(self, answered: Sequence[tuple[str, float, Sequence[Any], Sequence[Any]]]) -> None:
        """Log (request id, start on the perf counter, raw inputs, outputs) of one batch in one write."""
        now, clock = time.time(), time.perf_counter()
        if self.predictions is not None:
            version, cap = self.profile.model_version, self.max_field_bytes
            self.predictions.write(b"".join(  # before any of these responses is released
                _logged_line({"request_id": request_id, "item": item, "time": now, "latency_s": clock - started,
                              "model_version": version, "inputs": raw, "outputs": output}, cap)
                for request_id, started, inputs, outputs in answered
                for item, (raw, output) in enumerate(zip(inputs, outputs, strict=False))
            ))
        images = bool(self.profile.image_fields)
        with self._lock:
            for request_id, started, inputs, outputs in answered:
                count = min(len(inputs), len(outputs))
                entry = [self._seq, count, request_id, now, clock - started, inputs, outputs, None]
                if images:  # decode now: big inputs are not held
                    entry[5:] = [None, None, [self.profile.row(r, o) for r, o in zip(inputs, outputs, strict=False)]]
                if self._seq < self.spec.size:
                    self._first.append(entry)
                    self._first_by_id[request_id] = entry
                self._seq += count
                self._recent.append(entry)
                self._by_id[request_id] = entry
                self._held += count
                while self._held - self._recent[0][1] >= self.capacity:  # keep the last ``capacity`` items
                    self._evict()

    def _evict(self) -> None:
        """Forget the oldest request in memory, with its labels unless the first window holds it."""
        old = self._recent.popleft()
        self._held -= old[1]
        if self._by_id.get(old[2]) is old:
            del self._by_id[old[2]]
        if self._labels and old[2] not in self._first_by_id:
            for item in range(old[1]):
                self._labels.pop((old[2], item), None)

    def _knows(self, request_id: str, item: int) -> bool:
        """Whether the prediction (request id, item) is in memory: recent, or in the first window."""
        recent, first = self._by_id.get(request_id), self._first_by_id.get(request_id)
        return (recent is not None and 0 <= item < recent[1] and recent[0] + item >= self._seq - self.capacity) or (
            first is not None and 0 <= item < first[1] and first[0] + item < self.spec.size
        )

    def feedback(self, items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Store labels by (request id, item): matched ones feed the live metrics, all go to the labels log."""
        now = time.time()
        stored, unknown, rejected, accepted = [], [], [], 0
        with self._lock:
            for index, item in enumerate(items):
                key = (item["request_id"], item.get("item", 0))
                reason = label_error(self.profile.kind, item["label"])
                if reason is not None:
                    rejected.append({"index": index, "request_id": key[0], "reason": reason})
                    continue
                if self._knows(*key):
                    self._labels[key] = item["label"]
                    accepted += 1
                else:
                    unknown.append(key[0])
                    if self.labels_log is None:
                        continue
                stored.append({"request_id": key[0], "item": key[1], "label": item["label"], "time": now})
            self.labels_total += accepted
            self._cache = None
        if self.labels_log is not None:
            self.labels_log.append(stored)
        return {
            "accepted": accepted,
            "stored": len(stored) if self.labels_log is not None else 0,
            "unknown_count": len(unknown),
            "unknown": unknown[:MAX_UNKNOWN_SHOWN],
            "rejected": rejected[:MAX_UNKNOWN_SHOWN],
        }

    def _items(self, requests: Sequence[list[Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(metadata, monitored row) of each item of these requests; rows are built once and kept."""
        metas, rows = [], []
        for entry in requests:
            _, count, request_id, when, latency, inputs, outputs, built = entry
            if built is None:
                built = [self.profile.row(r, o) for r, o in zip(inputs, outputs, strict=False)]
                entry[5:] = [None, None, built]
            metas += [{"request_id": request_id, "item": i, "time": when, "latency_s": latency} for i in range(count)]
            rows += built
        return metas, rows

    def snapshot(self) -> dict[str, Any]:
        """The windowed figures (cached for a couple of seconds): tumbling windows and the current sliding one."""
        with self._lock:
            cached = self._cache
            if cached is not None and time.monotonic() - cached[0] < SNAPSHOT_TTL_S:
                return cached[1]
            recent, first, labels, seq = list(self._recent), list(self._first), dict(self._labels), self._seq
        size = self.spec.size
        first_metas, first_rows = self._items(first)
        first_metas, first_rows = first_metas[:size], first_rows[:size]
        metas, rows = self._items(recent)
        metas, rows = metas[-self.capacity :], rows[-self.capacity :]
        start_seq = seq - len(metas)
        skip = -start_seq % size  # tumbling windows start at a multiple of the window size
        first_result = analyze(first_metas, labels, self.profile, self.spec, rows=first_rows)
        baseline = first_result["baseline"] if len(first_metas) >= size else {}
        tumbling = analyze(metas[skip:], labels, self.profile, self.spec, rows=rows[skip:], baseline=baseline or None)
        for window in tumbling["windows"]:
            window["index"] += (start_seq + skip) // size
        current = analyze(metas[-size:], labels, self.profile, self.spec, rows=rows[-size:],
                          baseline=baseline or None)["windows"]
        snapshot = finite({
            "plugin": self.profile.plugin,
            "task": self.profile.task,
            "model_version": self.profile.model_version,
            "kind": self.profile.kind,
            "window": {"size": size, "min_samples": self.spec.min_samples},
            "predictions_total": seq,
            "labels_total": self.labels_total,
            "logged_total": self.predictions.records if self.predictions else None,
            "log_dir": str(self.log_settings.directory) if self.log_settings else None,
            "features": self.profile.features,
            "live_metrics": list(self.profile.live_metrics),
            "test_metrics": {m: self.profile.test_metric(m) for m in self.profile.live_metrics},
            "current": current[0] if current else None,
            "windows": tumbling["windows"],
        })
        with self._lock:
            self._cache = (time.monotonic(), snapshot)
        return snapshot

    def close(self) -> None:
        """Seal the logs (at server shutdown)."""
        for log in (self.predictions, self.labels_log):
            if log is not None:
                log.close()
