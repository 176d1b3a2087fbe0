"""Sliding windows over grouped multivariate time series (domain-free: rows sorted by group, then time)."""

from __future__ import annotations

import numpy as np

__all__ = ["group_bounds", "last_windows", "sliding_windows"]


def group_bounds(groups: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) row ranges of each run of equal values in ``groups`` (rows must be sorted by group)."""
    groups = np.asarray(groups)
    if len(groups) == 0:
        return []
    cuts = np.flatnonzero(groups[1:] != groups[:-1]) + 1
    starts = np.concatenate([[0], cuts])
    stops = np.concatenate([cuts, [len(groups)]])
    return list(zip(starts.tolist(), stops.tolist()))


def sliding_windows(
    values: np.ndarray, groups: np.ndarray, length: int, stride: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Every window of ``length`` consecutive rows inside one group, every ``stride`` rows.

    Returns ``(windows, last_rows)``: windows of shape (n, length, features) and the row index of each
    window's last row (to gather targets). Groups shorter than ``length`` give no window.
    """
    values = np.asarray(values)
    blocks: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    for start, stop in group_bounds(groups):
        if stop - start < length:
            continue
        view = np.lib.stride_tricks.sliding_window_view(values[start:stop], length, axis=0)
        picked = np.arange(0, view.shape[0], stride)
        blocks.append(np.moveaxis(view[picked], -1, 1))
        ends.append(start + picked + length - 1)
    if not blocks:
        return np.empty((0, length, values.shape[1]), values.dtype), np.empty(0, np.int64)
    return np.ascontiguousarray(np.concatenate(blocks)), np.concatenate(ends).astype(np.int64)


def last_windows(values: np.ndarray, groups: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The window ending at each group's last row; a group shorter than ``length`` repeats its first row.

    Returns ``(windows, last_rows, padded)`` where ``padded`` flags the groups that needed padding.
    """
    values = np.asarray(values)
    windows, last_rows, padded = [], [], []
    for start, stop in group_bounds(groups):
        block = values[max(start, stop - length) : stop]
        short = length - len(block)
        if short > 0:
            block = np.concatenate([np.repeat(block[:1], short, axis=0), block])
        windows.append(block)
        last_rows.append(stop - 1)
        padded.append(short > 0)
    if not windows:
        return np.empty((0, length, values.shape[1]), values.dtype), np.empty(0, np.int64), np.empty(0, bool)
    return np.stack(windows), np.asarray(last_rows, np.int64), np.asarray(padded, bool)
