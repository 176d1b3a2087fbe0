"""Shared fixtures of the core tests: one finished run of the example plugin, reused read-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from lepton_core.testing.cli import latest_run, run_lepton


@pytest.fixture(scope="session")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run directory of `lepton run plugin=example` (full default run, a few seconds)."""
    out = tmp_path_factory.mktemp("example_run")
    proc = run_lepton(["run", "plugin=example"], out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return latest_run(out, "example", "classify")
