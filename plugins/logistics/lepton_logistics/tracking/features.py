"""Prefix encoding: an order's events up to "now" -> the arrays the sequence model and the baselines read.

Times are seconds since the Unix epoch (naive clock). Per event: log hours since the previous event and since
creation, hour of day (sin/cos). Per "now": log hours in the current status and since creation, hour of day and
weekday (sin/cos), failed attempts and delays so far, log event count. Only the last ``max_events`` events are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lepton_logistics.tracking.events import STATUS_INDEX

SEQ_FEATURES = ("log_gap_h", "log_since_created_h", "hour_sin", "hour_cos")
NOW_FEATURES = ("log_in_status_h", "log_since_created_h", "hour_sin", "hour_cos", "weekday_sin", "weekday_cos",
                "failed_attempts", "delays", "log_events")
CLOCK_CARDINALITIES = (24, 7)  # hour of day and weekday at now, embedded by the network
HOUR, DAY = 3600.0, 86400.0
FAILED, DELAYED = STATUS_INDEX["failed_attempt"], STATUS_INDEX["delayed"]


def _clock(seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hour of day (0-24) and weekday (Monday 0) of epoch seconds."""
    hour = (seconds % DAY) / HOUR
    weekday = ((seconds // DAY) + 3) % 7  # 1970-01-01 was a Thursday
    return hour, weekday


def _circle(values: np.ndarray, period: float) -> tuple[np.ndarray, np.ndarray]:
    angle = 2 * np.pi * values / period
    return np.sin(angle), np.cos(angle)


@dataclass
class Prefixes:
    """Encoded prefixes: padded event sequences, "now" features, current/previous status and the order of each."""

    seq_status: np.ndarray  # (N, T) int64, 0 = padding
    seq_num: np.ndarray  # (N, T, len(SEQ_FEATURES)) float32
    length: np.ndarray  # (N,) int64
    now_num: np.ndarray  # (N, len(NOW_FEATURES)) float32
    current: np.ndarray  # (N,) int64 status code at now
    previous: np.ndarray  # (N,) int64 status code before it (0 for the first)
    clock: np.ndarray  # (N, 2) int64 hour of day (0-23) and weekday (Monday 0) at now
    order: np.ndarray  # (N,) int64 index of the order

    def flat(self) -> np.ndarray:
        """Prefix features for a tree model: now features, hour and weekday, current and previous status codes."""
        return np.column_stack([self.now_num, self.clock, self.current, self.previous]).astype(np.float64)


def encode_prefixes(codes: Sequence[np.ndarray], stamps: Sequence[np.ndarray], order: np.ndarray,
                    last: np.ndarray, now: np.ndarray, max_events: int) -> Prefixes:
    """Encode, for each example i, order ``order[i]``'s events ``0..last[i]`` seen at time ``now[i]`` (epoch seconds)."""
    n = len(order)
    seq_status = np.zeros((n, max_events), np.int64)
    seq_num = np.zeros((n, max_events, len(SEQ_FEATURES)), np.float32)
    length = np.zeros(n, np.int64)
    now_num = np.zeros((n, len(NOW_FEATURES)), np.float32)
    current, previous, clock = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros((n, 2), np.int64)
    for i in range(n):
        code, stamp = codes[order[i]][: last[i] + 1], stamps[order[i]][: last[i] + 1].astype(np.float64)
        gap = np.diff(stamp, prepend=stamp[0]) / HOUR
        since = (stamp - stamp[0]) / HOUR
        hour, _ = _clock(stamp)
        features = np.column_stack([np.log1p(gap), np.log1p(since), *_circle(hour, 24.0)])
        keep = min(len(code), max_events)
        seq_status[i, :keep], seq_num[i, :keep], length[i] = code[-keep:], features[-keep:], keep
        now_hour, weekday = _clock(np.asarray(now[i], np.float64))
        now_num[i] = (np.log1p((now[i] - stamp[-1]) / HOUR), np.log1p((now[i] - stamp[0]) / HOUR),
                      *_circle(now_hour, 24.0), *_circle(weekday, 7.0), (code == FAILED).sum(), (code == DELAYED).sum(),
                      np.log1p(len(code)))
        current[i], clock[i] = code[-1], (int(now_hour), int(weekday))
        previous[i] = code[-2] if len(code) > 1 else 0
    return Prefixes(seq_status, seq_num, length, now_num, current, previous, clock, np.asarray(order, np.int64))


def training_examples(codes: Sequence[np.ndarray], stamps: Sequence[np.ndarray], orders: np.ndarray,
                      seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(order, last event, now, hours to delivery) for each completed order's events before delivery: "now" at
    the event itself and at a random moment before the next event (a live order seen mid-status)."""
    rng = np.random.default_rng(seed)
    rows = []
    for o in orders:
        stamp = stamps[o].astype(np.float64)
        k = np.arange(len(stamp) - 1)
        within = stamp[k] + rng.random(len(k)) * (stamp[k + 1] - stamp[k])
        for now in (stamp[k], within):
            rows.append(np.column_stack([np.full(len(k), o), k, now, (stamp[-1] - now) / HOUR]))
    table = np.concatenate(rows) if rows else np.zeros((0, 4))
    return table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2], table[:, 3]
