"""Resume: a run stopped early continues from its last checkpoint in the same run directory."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

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


@pytest.mark.slow
def test_resume_refuses_an_older_run_when_the_latest_has_no_checkpoint(tmp_path: Path) -> None:
    finished = run_lepton(["run", "plugin=example", "debug=smoke"], tmp_path)
    assert finished.returncode == 0, finished.stderr[-2000:]
    older = latest_run(tmp_path, "example", "classify")
    # a later run killed before its first epoch ended (a run that fails cleanly that early is removed)
    latest = older.with_name("9999-12-31_23-59-59-000000")
    shutil.copytree(older / ".hydra", latest / ".hydra")
    assert latest_run(tmp_path, "example", "classify") == latest
    assert latest != older and not (latest / "checkpoints").exists()
    proc = run_lepton(["run", "plugin=example", "debug=smoke", "resume=true"], tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(latest) in errors[0] and f"resume={older}" in errors[0], proc.stderr[-2000:]


BREAKER = '''
"""Test-only callback: the bundle stage fails after metrics.json and report.html were written."""
import lightning as L


class BreakBundle(L.Callback):
    def __init__(self) -> None:
        import lepton_core.bundle.writer as writer

        def refuse(*args, **kwargs):
            raise RuntimeError("disk on fire")

        writer._stage = refuse
'''


def _snapshot(run_dir: Path) -> dict[str, bytes]:
    """Every file of a run directory but its checkpoints (a resume may go on training), by relative path."""
    return {
        str(p.relative_to(run_dir)): p.read_bytes()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and p.parts[len(run_dir.parts)] != "checkpoints" and p.suffix != ".log"
        and p.name != "example_events.jsonl"
    }


@pytest.mark.slow
def test_a_failed_resume_changes_nothing_in_the_run_directory(tmp_path: Path) -> None:
    first = run_lepton(["run", "plugin=example", "debug=smoke"], tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    run_dir = latest_run(tmp_path, "example", "classify")
    before = _snapshot(run_dir)
    assert {".hydra/config.yaml", "metrics.json", "report.html", "bundle/lepton.json"} <= before.keys()

    mismatch = run_lepton(["run", "plugin=example", "debug=smoke", f"resume={run_dir}", "model.hidden=64"], tmp_path)
    assert mismatch.returncode == 2, mismatch.stderr[-2000:]
    assert "does not fit the model" in mismatch.stderr
    assert _snapshot(run_dir) == before, "the failed resume rewrote part of the run directory"

    (tmp_path / "breaker.py").write_text(BREAKER)
    late = run_lepton(
        ["run", "plugin=example", "debug=smoke", "resume=true", "+callbacks.breaker._target_=breaker.BreakBundle",
         "trainer.max_epochs=2"],
        tmp_path,
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert late.returncode == 1 and "disk on fire" in late.stderr, late.stderr[-2000:]
    assert f"resuming run {run_dir.resolve()}" in late.stderr
    assert _snapshot(run_dir) == before, "metrics, report, config, bundle, figures or logs changed by a failed resume"
    assert not list(run_dir.glob(".*.partial")), "the failed resume left staging behind"
