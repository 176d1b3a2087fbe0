"""Sliding windows over grouped series."""

from __future__ import annotations

import numpy as np

from lepton_manufacturing.windows import group_bounds, last_windows, sliding_windows


def test_group_bounds_split_runs_of_equal_ids() -> None:
    assert group_bounds(np.array([1, 1, 2, 2, 2, 5])) == [(0, 2), (2, 5), (5, 6)]
    assert group_bounds(np.array([])) == []


def test_sliding_windows_stay_inside_each_group() -> None:
    values = np.arange(14, dtype=np.float32).reshape(7, 2)
    groups = np.array([1, 1, 1, 1, 2, 2, 2])
    windows, last_rows = sliding_windows(values, groups, length=3)
    assert windows.shape == (3, 3, 2)
    assert last_rows.tolist() == [2, 3, 6]
    np.testing.assert_array_equal(windows[2], values[4:7])


def test_sliding_windows_stride_and_short_groups() -> None:
    values = np.arange(10, dtype=np.float32)[:, None]
    groups = np.array([1] * 8 + [2] * 2)
    windows, last_rows = sliding_windows(values, groups, length=3, stride=2)
    assert last_rows.tolist() == [2, 4, 6]
    empty, rows = sliding_windows(values, groups, length=20)
    assert empty.shape == (0, 20, 1) and rows.size == 0


def test_last_windows_pad_short_groups_with_their_first_row() -> None:
    values = np.arange(6, dtype=np.float32)[:, None]
    windows, last_rows, padded = last_windows(values, np.array([1, 1, 1, 1, 2, 2]), length=3)
    assert last_rows.tolist() == [3, 5]
    assert padded.tolist() == [False, True]
    assert windows[1, :, 0].tolist() == [4.0, 4.0, 5.0]
