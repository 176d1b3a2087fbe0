"""Resume: a run stopped early continues from its last checkpoint in the same run directory."""

from __future__ import annotations

import csv
from pathlib import Path

from lepton_core.testing.cli import latest_run, run_lepton


def _epochs(run_dir: Path) -> list[int]:
    with (run_dir / "logs" / "metrics.csv").open() as handle:
        return sorted({int(row["epoch"]) for row in csv.DictReader(handle) if row.get("val_loss")})


def test_resume_continues_the_latest_run(tmp_path: Path) -> None:
    first = run_lepton(["run", "plugin=example", "trainer.max_epochs=2", "callbacks.progress_bar=null"], tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    run_dir = latest_run(tmp_path, "example", "classify")
    assert _epochs(run_dir) == [0, 1]
    resumed = run_lepton(
        ["run", "plugin=example", "resume=true", "trainer.max_epochs=4", "callbacks.progress_bar=null"], tmp_path
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert latest_run(tmp_path, "example", "classify") == run_dir  # same directory, no new run
    assert _epochs(run_dir) == [2, 3]  # the resumed fit starts at epoch 2: nothing is trained twice
    assert (run_dir / "bundle" / "lepton.json").is_file()


def test_resume_without_a_previous_run_is_a_clear_error(tmp_path: Path) -> None:
    proc = run_lepton(["run", "plugin=example", "resume=true"], tmp_path)
    assert proc.returncode == 2
    assert "no run of example/classify with a checkpoint" in proc.stderr
