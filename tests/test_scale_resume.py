"""Resume after SIGKILL: `resume=true` continues the killed run and ends with the metrics of an uninterrupted run."""

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


    class RecordSteps(L.Callback):
        def __init__(self, path: str) -> None:
            self.path = Path(path)

        def on_train_start(self, trainer, pl_module) -> None:
            self.start = trainer.global_step

        def on_train_end(self, trainer, pl_module) -> None:
            self.path.write_text(f"{self.start} {trainer.global_step}")
    '''
)

RUN_ARGS = ["run", "plugin=example", "trainer.max_epochs=4", "callbacks.progress_bar=null", "seed=7"]


def _trained_epochs(run_dir: Path) -> list[int]:
    with (run_dir / "logs" / "metrics.csv").open() as handle:
        return sorted({int(row["epoch"]) for row in csv.DictReader(handle) if row.get("val_loss")})


def _model_metrics(run_dir: Path) -> dict[str, float]:
    return json.loads((run_dir / "metrics.json").read_text())["metrics"]


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


@pytest.mark.slow
def test_run_killed_mid_training_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    (tmp_path / "pause_callback.py").write_text(PAUSE_CALLBACK)
    marker, reference_steps, resumed_steps = (
        tmp_path / "paused",
        tmp_path / "reference_steps",
        tmp_path / "steps",
    )
    pause = [
        "+callbacks.pause._target_=pause_callback.PauseAtEpoch",
        "+callbacks.pause.epoch=2",
        f"+callbacks.pause.marker={marker}",
    ]
    record = "+callbacks.record._target_=pause_callback.RecordSteps"
    # the uninterrupted reference runs meanwhile, with the same seed and settings
    reference = _start(
        [*RUN_ARGS, record, f"+callbacks.record.path={reference_steps}"], tmp_path / "ref", tmp_path
    )
    killed = _start([*RUN_ARGS, *pause], tmp_path / "killed", tmp_path)
    try:
        _wait_for(marker, killed, timeout=240)
        os.killpg(killed.pid, signal.SIGKILL)  # paused at the start of epoch 2 of 4: mid-training
        killed.wait(timeout=30)
        reference.wait(timeout=300)
    finally:
        _kill(killed)
        _kill(reference)
    assert killed.returncode == -signal.SIGKILL
    assert reference.returncode == 0, reference.stderr.read()[-3000:]
    run_dir = latest_run(tmp_path / "killed", "example", "classify")
    assert _trained_epochs(run_dir) == [0, 1]
    assert not (run_dir / "metrics.json").exists() and not (run_dir / "bundle").exists()
    saved_step = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["global_step"]
    assert saved_step > 0

    resumed = run_lepton(
        [*RUN_ARGS, "resume=true", record, f"+callbacks.record.path={resumed_steps}"],
        tmp_path / "killed",
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert latest_run(tmp_path / "killed", "example", "classify") == run_dir, (
        "resume continues in the same directory"
    )
    start_step, end_step = map(int, resumed_steps.read_text().split())
    assert start_step == saved_step, "the resumed fit starts from the saved step: nothing is trained twice"
    assert end_step == int(reference_steps.read_text().split()[1]), "both trained the same number of steps"
    expected = _model_metrics(latest_run(tmp_path / "ref", "example", "classify"))
    got = _model_metrics(run_dir)
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name] == pytest.approx(expected[name], rel=1e-5, abs=1e-7), name
    assert (run_dir / "bundle" / "lepton.json").is_file()
