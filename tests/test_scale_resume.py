"""Resume after SIGKILL: `resume=true` continues the killed run and ends with the metrics.json of an uninterrupted run
(dropout on: the checkpoints carry the random states), also when the kill hit while the bundle was being written."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from lepton_core.testing.cli import latest_run, run_lepton

PAUSE_CALLBACK = textwrap.dedent(
    '''
    """Test-only callbacks: pause at the start of an epoch (earlier checkpoints saved); note the first and last optimiser step."""
    import time
    from pathlib import Path

    import lightning as L


    class PauseAtEpoch(L.Callback):
        def __init__(self, epoch: int, marker: str, seconds: float = 120.0) -> None:
            self.epoch, self.marker, self.seconds = epoch, Path(marker), seconds

        def on_train_epoch_start(self, trainer, pl_module) -> None:
            if trainer.current_epoch == self.epoch:
                self.marker.write_text(str(trainer.current_epoch))
                time.sleep(self.seconds)


    class PauseInBundle(L.Callback):
        """Pause once the bundle's files are staged, before anything is published (a kill there leaves staging)."""

        def __init__(self, marker: str, seconds: float = 120.0) -> None:
            import lepton_core.bundle.writer as writer

            original = writer._stage

            def stage_then_pause(*args, **kwargs):
                original(*args, **kwargs)
                Path(marker).write_text("staged")
                time.sleep(seconds)

            writer._stage = stage_then_pause


    class RecordSteps(L.Callback):
        def __init__(self, path: str) -> None:
            self.path = Path(path)

        def on_train_start(self, trainer, pl_module) -> None:
            self.start = trainer.global_step

        def on_train_end(self, trainer, pl_module) -> None:
            self.path.write_text(f"{self.start} {trainer.global_step}")
    '''
)

RUN_ARGS = [
    "run", "plugin=example", "trainer.max_epochs=4", "callbacks.progress_bar=null", "seed=7", "model.dropout=0.3"
]


def _trained_epochs(run_dir: Path) -> list[int]:
    with (run_dir / "logs" / "metrics.csv").open() as handle:
        return sorted({int(row["epoch"]) for row in csv.DictReader(handle) if row.get("val_loss")})


def _metrics_document(run_dir: Path) -> dict:
    """metrics.json without the wall times (the only part that may differ between two runs)."""
    document = json.loads((run_dir / "metrics.json").read_text())
    document.pop("timings_s")
    return document


def _start(args: list[str], output_dir: Path, callbacks_dir: Path) -> subprocess.Popen[str]:
    """Start `lepton ARGS` in its own session (so SIGKILL reaches every process of it)."""
    output_dir.mkdir()
    env = {
        **os.environ,
        "LEPTON_OUTPUT_DIR": str(output_dir),
        "PYTHONPATH": str(callbacks_dir),
        "COLUMNS": "160",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "lepton_core.cli", *args],
        cwd=output_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(
                f"the run ended (code {proc.returncode}) before pausing: {proc.stderr.read()[-2000:]}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"no {path.name} after {timeout} s")
        time.sleep(0.2)


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The reference: the same run, never killed (its run directory and its last optimiser step)."""
    root = tmp_path_factory.mktemp("uninterrupted")
    (root / "pause_callback.py").write_text(PAUSE_CALLBACK)
    steps = root / "steps"
    proc = run_lepton(
        [*RUN_ARGS, "+callbacks.record._target_=pause_callback.RecordSteps", f"+callbacks.record.path={steps}"],
        root / "out",
        env={"PYTHONPATH": str(root)},
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return latest_run(root / "out", "example", "classify"), int(steps.read_text().split()[1])


def _kill_when(marker: Path, extra: list[str], tmp_path: Path) -> Path:
    """Start the run with ``extra`` callbacks, SIGKILL it once ``marker`` appears; its run directory."""
    killed = _start([*RUN_ARGS, *extra], tmp_path / "killed", tmp_path)
    try:
        _wait_for(marker, killed, timeout=300)
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
    finally:
        _kill(killed)
    assert killed.returncode == -signal.SIGKILL
    return latest_run(tmp_path / "killed", "example", "classify")


def _resume(tmp_path: Path, steps: Path) -> subprocess.CompletedProcess[str]:
    record = ["+callbacks.record._target_=pause_callback.RecordSteps", f"+callbacks.record.path={steps}"]
    return run_lepton([*RUN_ARGS, "resume=true", *record], tmp_path / "killed", env={"PYTHONPATH": str(tmp_path)})


@pytest.mark.slow
@pytest.mark.parametrize("kill_epoch", [1, 3])
def test_run_killed_mid_training_resumes_to_the_uninterrupted_result(
    tmp_path: Path, uninterrupted: tuple[Path, int], kill_epoch: int
) -> None:
    (tmp_path / "pause_callback.py").write_text(PAUSE_CALLBACK)
    marker, resumed_steps = tmp_path / "paused", tmp_path / "steps"
    pause = [
        "+callbacks.pause._target_=pause_callback.PauseAtEpoch",
        f"+callbacks.pause.epoch={kill_epoch}",
        f"+callbacks.pause.marker={marker}",
    ]
    run_dir = _kill_when(marker, pause, tmp_path)  # paused at the start of epoch kill_epoch: mid-training
    assert _trained_epochs(run_dir) == list(range(kill_epoch))
    assert not (run_dir / "metrics.json").exists() and not (run_dir / "bundle").exists()
    saved_step = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["global_step"]
    assert saved_step > 0

    resumed = _resume(tmp_path, resumed_steps)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming run {run_dir.resolve()}" in resumed.stderr, "the resumed run is named on the terminal"
    assert latest_run(tmp_path / "killed", "example", "classify") == run_dir, "resume continues in the same directory"
    start_step, end_step = map(int, resumed_steps.read_text().split())
    reference_dir, reference_end = uninterrupted
    assert start_step == saved_step, "the resumed fit starts from the saved step: nothing is trained twice"
    assert end_step == reference_end, "both trained the same number of steps"
    assert _metrics_document(run_dir) == _metrics_document(reference_dir), "metrics.json identical (dropout on)"
    assert (run_dir / "bundle" / "lepton.json").is_file()


@pytest.mark.slow
def test_run_killed_while_writing_its_bundle_resumes_and_cleans_the_staging(
    tmp_path: Path, uninterrupted: tuple[Path, int]
) -> None:
    (tmp_path / "pause_callback.py").write_text(PAUSE_CALLBACK)
    marker = tmp_path / "staged"
    pause = ["+callbacks.pause._target_=pause_callback.PauseInBundle", f"+callbacks.pause.marker={marker}"]
    run_dir = _kill_when(marker, pause, tmp_path)
    staging = list(run_dir.glob(".*.partial"))
    assert staging, "the kill hit while the outputs were staged"
    assert not (run_dir / "metrics.json").exists() and not (run_dir / "report.html").exists(), (
        "nothing is published before the bundle is complete"
    )
    assert not (run_dir / "bundle").exists()

    resumed = _resume(tmp_path, tmp_path / "steps")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert not list(run_dir.glob(".*.partial")), "the stale staging is removed"
    assert _metrics_document(run_dir) == _metrics_document(uninterrupted[0])
    assert (run_dir / "bundle" / "lepton.json").is_file()
