"""Launchers: submitit_local runs a two-job `-m` sweep, the SLURM preset composes (Optuna: test_scale_hparams.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lepton_core.bundle import load_bundle
from lepton_core.testing.cli import run_lepton

SMOKE = ["debug=smoke"]


def _sweep_dir(output_dir: Path) -> Path:
    sweeps = sorted((output_dir / "multirun" / "example" / "classify").glob("*"))
    assert len(sweeps) == 1, sweeps
    return sweeps[0]


@pytest.mark.slow
def test_submitit_local_launcher_runs_each_job_in_its_own_process(tmp_path: Path) -> None:
    proc = run_lepton(
        ["run", "plugin=example", *SMOKE, "model.hidden=8,16", "hydra/launcher=submitit_local", "-m"],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    sweep = _sweep_dir(tmp_path)
    assert "Submitit 'local' sweep output dir" in proc.stdout + proc.stderr
    assert len(list((sweep / ".submitit").glob("*/*_result.pkl"))) == 2, "two submitit jobs"
    for job, hidden in (("0", 8), ("1", 16)):
        bundle = load_bundle(sweep / job / "bundle")
        assert bundle.cfg.model.hidden == hidden
        assert json.loads((sweep / job / "metrics.json").read_text())["metrics"]["model"]["roc_auc"] > 0.5


def test_slurm_launcher_preset_follows_the_trainer(tmp_path: Path) -> None:
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from lepton_core.config.searchpath import register_search_path_plugin

    register_search_path_plugin()
    GlobalHydra.instance().clear()
    overrides = [
        "plugin=example",
        "task=example/classify",
        "trainer=ddp",
        "trainer.devices=4",
        "trainer.num_nodes=2",
        "hydra/launcher=slurm",
        "hydra.launcher.partition=gpu",
    ]
    try:
        with initialize_config_module(config_module="lepton_core.configs", version_base="1.3"):
            cfg = compose(config_name="lepton", overrides=overrides, return_hydra_config=True)
    finally:
        GlobalHydra.instance().clear()
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.nodes, launcher.tasks_per_node, launcher.partition) == (2, 4, "gpu")
