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

from lepton_core.monitoring.log import LABELS, PREDICTIONS, LogSettings, SegmentLog
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


class LiveMonitor:
    """Group-committed prediction log, labels by request id, and cached windowed figures."""

    def __init__(
        self, profile: MonitorProfile, spec: WindowSpec, log: LogSettings | None = None, capacity_windows: int = 50
    ) -> None:
        self.profile, self.spec, self.log_settings = profile, spec, log
        self.predictions = SegmentLog(log, PREDICTIONS) if log else None
        self.labels_log = SegmentLog(log, LABELS) if log else None
        self.max_field_bytes = log.max_field_bytes if log else 256 << 10
        self._recent: deque[list[Any]] = deque(maxlen=capacity_windows * spec.size)
        self._first: list[list[Any]] = []  # [key, meta, monitored row or None, raw inputs, outputs]
        self._labels: dict[Key, Any] = {}
        self._known: set[Key] = set()
        self._seq = 0
        self.labels_total = 0
        self._lock = threading.Lock()
        self._cache: tuple[float, dict[str, Any]] | None = None

    def record(self, answered: Sequence[tuple[str, float, Sequence[Any], Sequence[Any]]]) -> None:
        """Log (request id, start on the perf counter, raw inputs, outputs) of one batch in one write."""
        now, clock = time.time(), time.perf_counter()
        logged, kept = [], []
        for request_id, started, inputs, outputs in answered:
            latency = clock - started
            for item, (raw, output) in enumerate(zip(inputs, outputs, strict=False)):
                meta = {"request_id": request_id, "item": item, "time": now, "latency_s": latency}
                if self.predictions is not None:
                    logged.append({**meta, "model_version": self.profile.model_version,
                                   "inputs": _bounded(raw, self.max_field_bytes), "outputs": output})
                row = self.profile.row(raw, output) if self.profile.image_fields else None  # images: decode now
                kept.append([(request_id, item), meta, row, raw, output])
        if self.predictions is not None:
            self.predictions.append(logged)  # before any of these responses is released
        with self._lock:
            for entry in kept:
                if len(self._recent) == self._recent.maxlen:
                    old = self._recent[0][0]
                    self._known.discard(old)
                    self._labels.pop(old, None)
                self._recent.append(entry)
                self._known.add(entry[0])
                if len(self._first) < self.spec.size:
                    self._first.append(entry)
            self._seq += len(kept)

    def feedback(self, items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Store labels by (request id, item): matched ones feed the live metrics, all go to the labels log."""
        now = time.time()
        stored, unknown, rejected, accepted = [], [], [], 0
        first_keys = {entry[0] for entry in self._first}
        with self._lock:
            for index, item in enumerate(items):
                key = (item["request_id"], item.get("item", 0))
                reason = label_error(self.profile.kind, item["label"])
                if reason is not None:
                    rejected.append({"index": index, "request_id": key[0], "reason": reason})
                    continue
                if key in self._known or key in first_keys:
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

    def snapshot(self) -> dict[str, Any]:
        """The windowed figures (cached for a couple of seconds): tumbling windows and the current sliding one."""
        with self._lock:
            cached = self._cache
            if cached is not None and time.monotonic() - cached[0] < SNAPSHOT_TTL_S:
                return cached[1]
            recent, first, labels, seq = list(self._recent), list(self._first), dict(self._labels), self._seq
        for entry in (*first, *recent):  # rows are built here, on a thread, not per prediction on the event loop
            if entry[2] is None:
                entry[2] = self.profile.row(entry[3], entry[4])
                entry[3] = entry[4] = None
        size = self.spec.size
        start_seq = seq - len(recent)
        skip = -start_seq % size  # tumbling windows start at a multiple of the window size
        aligned = recent[skip:]
        first_result = analyze([e[1] for e in first], labels, self.profile, self.spec, rows=[e[2] for e in first])
        baseline = first_result["baseline"] if len(first) >= size else {}
        tumbling = analyze([e[1] for e in aligned], labels, self.profile, self.spec,
                           rows=[e[2] for e in aligned], baseline=baseline or None)
        for window in tumbling["windows"]:
            window["index"] += (start_seq + skip) // size
        tail = recent[-size:]
        current = analyze([e[1] for e in tail], labels, self.profile, self.spec, rows=[e[2] for e in tail],
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
