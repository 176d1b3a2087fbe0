"""Each vertical's `hparams_search` Optuna config composes for every task it can tune, and a vertical's sweep runs two trials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from omegaconf import DictConfig, OmegaConf

from lepton_core.hooks.manager import get_plugin_manager
from lepton_core.testing.cli import run_lepton

VERTICALS = ("finance", "medical_imaging", "manufacturing", "retail", "logistics")


def _compose(overrides: list[str]) -> DictConfig:
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from lepton_core.config.searchpath import register_search_path_plugin

    register_search_path_plugin()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module="lepton_core.configs", version_base="1.3"):
            return compose(config_name="lepton", overrides=overrides, return_hydra_config=True)
    finally:
        GlobalHydra.instance().clear()


def _vertical_tasks() -> list[tuple[str, str]]:
    loaded = get_plugin_manager().loaded()
    return [(name, task) for name in VERTICALS if name in loaded for task in loaded[name].task_names()]


def test_every_vertical_is_installed() -> None:
    assert set(VERTICALS) <= set(get_plugin_manager().loaded()), "the scale tests cover all five verticals"


# tasks added after their plugin's hparams_search file, which still sweeps the first tasks' models only
SEARCH_NOT_YET_FOR = {("finance", "portfolio"), ("medical_imaging", "patient_risk"), ("medical_imaging", "pathology")}


@pytest.mark.parametrize(("plugin", "task"), _vertical_tasks())
def test_search_space_composes_and_names_existing_keys(plugin: str, task: str) -> None:
    if (plugin, task) in SEARCH_NOT_YET_FOR:
        pytest.skip(f"hparams_search={plugin} does not cover {task} yet")
    cfg = _compose([f"plugin={plugin}", f"task={plugin}/{task}", f"hparams_search={plugin}"])
    sweeper = cfg.hydra.sweeper
    assert "optuna" in sweeper._target_.lower()
    assert OmegaConf.select(cfg, "hydra.sweeper.direction") in ("minimize", "maximize")
    assert sweeper.n_trials >= 2 and sweeper.sampler.seed is not None
    if cfg.get("model") is None:  # a task that trains nothing (a solver) has no hyperparameter to search
        return
    job = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    missing = [key for key in sweeper.params if OmegaConf.select(job, key, default="<absent>") == "<absent>"]
    assert not missing, f"{plugin}/{task}: the search names keys the task does not have: {missing}"


@pytest.mark.slow
def test_a_vertical_optuna_sweep_runs_two_trials(tmp_path: Path) -> None:
    args = [
        "run",
        "plugin=finance",
        "task=credit_scoring",
        "hparams_search=finance",
        "hydra.sweeper.n_trials=2",
        "debug=smoke",
        "data.n_rows=1500",
        "-m",
    ]
    proc = run_lepton(args, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sweep = next((tmp_path / "multirun" / "finance" / "credit_scoring").iterdir())
    trials = sorted(p for p in sweep.iterdir() if p.is_dir() and p.name.isdigit())
    assert [t.name for t in trials] == ["0", "1"]
    validations = [json.loads((t / "metrics.json").read_text())["validation"] for t in trials]
    assert {v["monitor"] for v in validations} == {"val_roc_auc"}
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    scores = [v["best"] for v in validations]
    assert best["best_value"] == pytest.approx(max(scores)), "Optuna maximises the validation roc_auc, not the test's"
