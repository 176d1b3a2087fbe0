"""Shared fixtures of the core tests: one finished run of the example plugin, reused read-only; generated monthly series."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lepton_core.testing.cli import latest_run, run_lepton


@pytest.fixture(scope="session")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run directory of `lepton run plugin=example` (full default run, a few seconds)."""
    out = tmp_path_factory.mktemp("example_run")
    proc = run_lepton(["run", "plugin=example"], out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return latest_run(out, "example", "classify")


def _monthly_frame(n_series: int = 2, length: int = 72, seed: int = 0) -> pd.DataFrame:
    """Trending series with a yearly season and noise (monthly, positive)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_series):
        t = np.arange(length)
        y = 50 + 5 * s + 0.4 * t + 6 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, length)
        rows.append(pd.DataFrame({"unique_id": f"s{s}", "ds": pd.date_range("2015-01-01", periods=length, freq="MS"), "y": y}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture
def monthly_frame() -> Callable[..., pd.DataFrame]:
    """``monthly_frame(n_series=2, length=72, seed=0)``: a long-format frame of generated monthly series."""
    return _monthly_frame
