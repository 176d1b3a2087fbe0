"""Runs are seeded: the same config gives the same test metrics."""

from __future__ import annotations

import json
from pathlib import Path

from lepton_core.testing.cli import latest_run, run_lepton


def test_same_seed_same_metrics(example_run: Path, tmp_path: Path) -> None:
    proc = run_lepton(["run", "plugin=example", "callbacks.progress_bar=null"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    again = json.loads((latest_run(tmp_path, "example", "classify") / "metrics.json").read_text())
    first = json.loads((example_run / "metrics.json").read_text())
    assert again["metrics"] == first["metrics"]
