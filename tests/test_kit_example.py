"""The contract kit passes the example plugin and names the problem when a plugin breaks the contract."""

from __future__ import annotations

import shutil
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from lepton_core import PluginInfo, TaskInfo, hookimpl
from lepton_core.hooks.manager import get_plugin_manager
from lepton_core.testing import (
    ContractError,
    check_bundle,
    check_config_package,
    check_describe,
    check_plugin,
    check_task_config,
    task_names,
)


@pytest.fixture(scope="module")
def example_report(tmp_path_factory: pytest.TempPathFactory):
    """One full kit run over every task of the example plugin."""
    return check_plugin("example", tmp_path_factory.mktemp("kit"))


def test_example_passes_every_check(example_report) -> None:
    assert set(example_report.tasks) == {"classify", "noisy"}
    classify = example_report.tasks["classify"]
    assert classify.primary_metric == "roc_auc"
    assert 0.5 < classify.metrics["model"]["roc_auc"] <= 1.0
    assert (classify.run_dir / "metrics.json").is_file()
    assert (classify.bundle_dir / "lepton.json").is_file()


def test_task_names_lists_declared_tasks() -> None:
    assert task_names("example") == ["classify", "noisy"]


def test_task_config_is_resolved_with_overrides() -> None:
    resolved = check_task_config("example", "noisy", ["data.n_samples=300"])
    assert resolved["task"]["name"] == "noisy"
    assert resolved["data"]["n_samples"] == 300
    assert resolved["data"]["noise"] == 0.35


def test_unknown_plugin_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="plugin 'nonexistent': is not installed"):
        check_describe("nonexistent")


def test_unknown_task_is_a_contract_error(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="has no task 'regress'"):
        check_plugin("example", tmp_path, task="regress")


def test_bad_override_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="config does not compose"):
        check_task_config("example", "classify", ["no_such_group=x"])


def test_tampered_bundle_is_refused(example_report, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(example_report.tasks["classify"].bundle_dir, bundle)
    with (bundle / "config.yaml").open("a") as handle:
        handle.write("# edited\n")
    with pytest.raises(ContractError, match="the bundle does not load"):
        check_bundle(bundle, "example", "classify")


def test_bundle_of_another_task_is_refused(example_report) -> None:
    with pytest.raises(ContractError, match="the bundle names task 'classify'"):
        check_bundle(example_report.tasks["classify"].bundle_dir, "example", "noisy")


# ---------------------------------------------------------------------------- a plugin that breaks rules


@pytest.fixture
def sloppy_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A plugin package 'sloppy' on sys.path (and PYTHONPATH), registered in code for the test's duration."""
    package = tmp_path / "lepton_sloppy"
    (package / "configs" / "plugin").mkdir(parents=True)
    (package / "configs" / "task" / "sloppy").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "configs" / "__init__.py").write_text("")
    (package / "configs" / "plugin" / "sloppy.yaml").write_text("name: sloppy\n")
    (package / "configs" / "task" / "sloppy" / "fit.yaml").write_text(
        textwrap.dedent(
            """\
            # @package _global_
            task:
              name: fit
            data:
              _target_: lepton_sloppy.missing.DataModule
            """
        )
    )
    (package / "plugin.py").write_text(
        textwrap.dedent(
            """\
            import torch  # heavy at module level: the kit must notice
            from lepton_core import PluginInfo, TaskInfo, hookimpl


            @hookimpl
            def lepton_describe():
                return PluginInfo("sloppy", "0.1", (TaskInfo("fit", "Fit."),), "lepton_sloppy.configs", "fit", "Sloppy.")
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))

    described = types.ModuleType("lepton_sloppy_described")
    described.lepton_describe = hookimpl(
        lambda: PluginInfo(
            "sloppy", "0.1", (TaskInfo("fit", "Fit."),), "lepton_sloppy.configs", "fit", "Sloppy."
        )
    )
    manager = get_plugin_manager()
    manager.register(described, "sloppy", target="lepton_sloppy.plugin")
    try:
        yield package
    finally:
        manager.unregister("sloppy")
        for module in [m for m in sys.modules if m.startswith("lepton_sloppy")]:
            del sys.modules[module]


def test_heavy_import_at_module_level_is_refused(sloppy_plugin: Path) -> None:
    with pytest.raises(ContractError, match="importing lepton_sloppy.plugin imports torch"):
        check_describe("sloppy")


def test_config_outside_the_namespace_is_refused(sloppy_plugin: Path) -> None:
    check_config_package("sloppy")
    (sloppy_plugin / "configs" / "trainer").mkdir()
    with pytest.raises(ContractError, match="has 'trainer' at its top level"):
        check_config_package("sloppy")


def test_task_config_of_another_plugin_name_is_refused(sloppy_plugin: Path) -> None:
    (sloppy_plugin / "configs" / "task" / "other").mkdir()
    with pytest.raises(ContractError, match="has task/other"):
        check_config_package("sloppy")


def test_missing_task_config_is_refused(sloppy_plugin: Path) -> None:
    (sloppy_plugin / "configs" / "task" / "sloppy" / "fit.yaml").unlink()
    with pytest.raises(ContractError, match="lacks task/sloppy/fit.yaml"):
        check_config_package("sloppy")


def test_unimportable_target_is_refused(sloppy_plugin: Path) -> None:
    with pytest.raises(
        ContractError, match=r"data._target_ 'lepton_sloppy.missing.DataModule' does not import"
    ):
        check_task_config("sloppy", "fit")


def test_reloaded_outputs_compare_numbers_within_tolerance_but_not_durations() -> None:
    from lepton_core.testing.kit import _close

    recorded = [{"probability": 0.25, "label": 0, "kpis": {"cost": 10.0, "solve_time_s": 1.01}}]
    assert _close(
        [{"probability": 0.2500001, "label": 0, "kpis": {"cost": 10.0, "solve_time_s": 1.5}}], recorded
    )
    assert not _close(
        [{"probability": 0.26, "label": 0, "kpis": {"cost": 10.0, "solve_time_s": 1.01}}], recorded
    )
    assert not _close(
        [{"probability": 0.25, "label": 1, "kpis": {"cost": 10.0, "solve_time_s": 1.01}}], recorded
    )
    assert not _close([{"probability": 0.25, "label": 0}], recorded)


def test_config_package_check_can_be_limited_to_some_tasks(sloppy_plugin: Path) -> None:
    (sloppy_plugin / "configs" / "task" / "sloppy" / "fit.yaml").unlink()
    check_config_package("sloppy", tasks=[])
    with pytest.raises(ContractError, match="lacks task/sloppy/fit.yaml"):
        check_config_package("sloppy", tasks=["fit"])


def test_hparams_search_must_optimise_in_the_monitor_direction(sloppy_plugin: Path) -> None:
    from lepton_core.testing.kit import _check_hparams_search

    search = sloppy_plugin / "configs" / "hparams_search"
    search.mkdir()
    (search / "sloppy.yaml").write_text(
        textwrap.dedent(
            """\
            # @package _global_
            defaults:
              - override /hydra/sweeper: optuna
            hydra:
              sweeper:
                direction: minimize
                n_trials: 2
                params:
                  model.lr: interval(0.001, 0.01)
            """
        )
    )
    _check_hparams_search("sloppy", "fit", ["++task.monitor_mode=min"])
    with pytest.raises(ContractError, match=r"sets direction minimize, trials score .*mode max.*needs maximize"):
        _check_hparams_search("sloppy", "fit", ["++task.monitor_mode=max"])
