"""The contract's sharp edges: None means "no answer", NO_MODEL, task.evaluate / task.export routes, per-run
managers, misspelled hooks, and a real lifecycle-only plugin (tests/audit_plugin) installed by entry point."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from lepton_core import NO_MODEL, ConfigError, Evaluation, PluginError, PluginInfo, TaskInfo, hookimpl
from lepton_core.hooks.manager import PluginManager
from lepton_core.hooks.specs import STAGES, RunContext
from lepton_core.testing.cli import run_lepton

AUDIT_SOURCE = Path(__file__).parent / "audit_plugin"


def _ctx(**cfg: Any) -> RunContext:
    return RunContext(cfg=OmegaConf.create(cfg), plugin="alpha", task="fit", run_dir=Path("."), seed=0)


class _Alpha:
    """A task plugin whose model hook has no answer (None) and whose evaluation is routed by config."""

    @hookimpl
    def lepton_describe(self) -> PluginInfo:
        return PluginInfo("alpha", "1.0", (TaskInfo("fit", "Fit."),), "x.configs", "fit", "Alpha.")

    @hookimpl
    def lepton_build_model(self, ctx: RunContext, datamodule: Any) -> Any:
        return None  # no answer: the core's default decides


def _manager(*plugins: tuple[Any, str]) -> PluginManager:
    manager = PluginManager(disabled=set(), strict=False)
    for plugin, name in plugins:
        manager.register(plugin, name)
    return manager


def test_none_defers_to_the_default_and_model_null_is_no_model() -> None:
    manager = _manager((_Alpha(), "alpha"))
    assert manager.call("alpha", "lepton_build_model", ctx=_ctx(model=None), datamodule=None) is NO_MODEL
    assert repr(NO_MODEL) == "NO_MODEL"


def _routes_module(root: Path) -> None:
    (root / "lepton_routes_probe.py").write_text(
        textwrap.dedent(
            """\
            from lepton_core import Evaluation, Export

            def evaluate(ctx, baselines):  # a subset of the hook's arguments, by name
                return Evaluation(metrics={"model": {"auc": 0.9}}, primary_metric="auc", fitted={"t": len(baselines)})

            def export(evaluation):
                return Export(module=None, state={"t": evaluation.fitted["t"]}, input_example=[{}])

            def greedy(ctx, extra):
                return None
            """
        )
    )


def test_task_evaluate_and_export_route_to_functions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _routes_module(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    manager = _manager((_Alpha(), "alpha"))
    ctx = _ctx(task={"evaluate": "lepton_routes_probe:evaluate", "export": "lepton_routes_probe:export"})
    args = {"ctx": ctx, "datamodule": None, "model": None}
    evaluation = manager.call("alpha", "lepton_evaluate", baselines=[1, 2], **args)
    assert isinstance(evaluation, Evaluation) and evaluation.fitted == {"t": 2}
    export = manager.call("alpha", "lepton_export", evaluation=evaluation, **args)
    assert export.state == {"t": 2}
    assert manager.call("alpha", "lepton_evaluate", baselines=[], **{**args, "ctx": _ctx(task={})}) is None
    for spec, message in (
        ("lepton_routes_probe", "is not 'package.module:function'"),
        ("lepton_no_such_module:evaluate", "does not import"),
        ("lepton_routes_probe:missing", "has no 'missing'"),
        ("lepton_routes_probe:greedy", "needs extra, which the lepton_evaluate hook does not pass"),
    ):
        with pytest.raises(ConfigError, match=message):
            manager.call("alpha", "lepton_evaluate", baselines=[], **{**args, "ctx": _ctx(task={"evaluate": spec})})


class _Recorder:
    def __init__(self) -> None:
        self.stages: list[str] = []

    @hookimpl
    def lepton_before_stage(self, ctx: Any, stage: str) -> None:
        self.stages.append(stage)


def test_a_run_manager_leaves_the_shared_one_as_it_is() -> None:
    manager = _manager((_Alpha(), "alpha"))
    recorder = _Recorder()
    scoped = manager.for_run(disabled={"alpha"}, extra={"recorder": recorder})
    assert manager.has_plugin("alpha") and not manager.has_plugin("recorder")
    assert not scoped.has_plugin("alpha") and scoped.records["alpha"].disabled and scoped.has_plugin("recorder")
    scoped.hook.lepton_before_stage(ctx=None, stage="load")
    manager.hook.lepton_before_stage(ctx=None, stage="train")
    assert recorder.stages == ["load"]


class _Typo(_Alpha):
    @hookimpl
    def lepton_evalute(self, ctx: Any) -> None:
        """Misspelled: pluggy would keep it as a hook nobody calls."""


def test_a_misspelled_hook_is_refused_with_its_name() -> None:
    manager = PluginManager(disabled=set(), strict=False)
    expected = r"plugin 'alpha' implements unknown hook 'lepton_evalute' \(did you mean 'lepton_evaluate'\?\)"
    with pytest.raises(PluginError, match=expected):
        manager.register(_Typo(), "alpha")
    assert not manager.has_plugin("alpha") and not manager.loaded()
    with pytest.raises(PluginError, match="unknown hook 'lepton_evalute'"):
        manager.for_run(extra={"typo": _Typo()})


def _install(root: Path, distribution: str, entry_point: str, target: str) -> None:
    """A dist-info with one ``lepton.plugins`` entry point, importable from ``root`` (no pip needed)."""
    info = root / f"{distribution.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[lepton.plugins]\n{entry_point} = {target}\n")


def test_a_misspelled_hook_isolates_its_plugin_at_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "lepton_typo.py").write_text(
        textwrap.dedent(
            """\
            from lepton_core import PluginInfo, hookimpl

            @hookimpl
            def lepton_describe():
                return PluginInfo("typo", "0.1", summary="Typo.")

            @hookimpl
            def lepton_after_stag(ctx, stage, result):
                pass
            """
        )
    )
    _install(tmp_path, "lepton-typo", "typo", "lepton_typo")
    monkeypatch.syspath_prepend(str(tmp_path))
    manager = PluginManager(disabled=set(), strict=False)
    manager.load_entry_points()
    record = manager.records["typo"]
    assert record.status == "error" and "unknown hook 'lepton_after_stag'" in str(record.error)
    assert "did you mean 'lepton_after_stage'" in str(record.error) and manager.records["example"].status == "ok"
    with pytest.raises(PluginError, match=r"^plugin 'typo' \(lepton-typo\) failed to load: PluginError: plugin 'typo'"):
        PluginManager(disabled=set(), strict=True).load_entry_points()


def test_a_lifecycle_plugin_installs_and_audits_a_real_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lepton_core.pipeline.run import run_pipeline
    from lepton_core.testing.kit import composed_config

    _install(tmp_path, "lepton-audit", "audit", "lepton_audit.plugin")
    monkeypatch.syspath_prepend(str(AUDIT_SOURCE))
    monkeypatch.syspath_prepend(str(tmp_path))
    manager = PluginManager(disabled=set(), strict=True)
    manager.load_entry_points()
    assert "audit" in manager.lifecycle_plugins() and "audit" not in manager.loaded()
    with pytest.raises(ConfigError, match="'audit' is a lifecycle plugin"):
        manager.resolve("audit")
    run_dir = tmp_path / "run"
    overrides = ["debug=smoke", "trainer.accelerator=cpu", "trainer.devices=1", "data.n_samples=200"]
    with composed_config("example", "classify", overrides, run_dir) as cfg:
        run_pipeline(cfg, manager)
    events = [json.loads(line) for line in (run_dir / "audit.jsonl").read_text().splitlines()]
    assert [(e["event"], e["stage"]) for e in events] == [(kind, s) for s in STAGES for kind in ("start", "end")]
    assert {(e["plugin"], e["task"]) for e in events} == {("example", "classify")}
    assert events[1]["result"] == "MoonsDataModule" and events[7]["result"] == "Evaluation"

    env = {"PYTHONPATH": f"{tmp_path}:{AUDIT_SOURCE}"}
    listed = run_lepton(["plugins"], tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    line = next(row for row in listed.stdout.splitlines() if "audit" in row)
    assert "lifecycle plugin" in line and "ok" in line
    tasks = run_lepton(["tasks"], tmp_path, env=env)
    assert tasks.returncode == 0 and "audit" not in tasks.stdout and "example" in tasks.stdout


def test_a_feature_behind_a_missing_extra_fails_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lepton_core.config.arguments import check_extras
    from lepton_core.deploy.onnx import OnnxRunner, export_onnx
    from lepton_core.forecasting import ExponentialSmoothingBaseline, ThetaBaseline

    uninstalled = ("statsmodels", "onnx", "onnxruntime", "tensorboard", "hydra_plugins.hydra_optuna_sweeper",
                   "hydra_plugins.hydra_submitit_launcher")
    for module in uninstalled:
        monkeypatch.setitem(sys.modules, module, None)  # what an uninstalled module looks like to import
    cases = [
        (ThetaBaseline, "the theta baseline", "forecast", "statsmodels"),
        (ExponentialSmoothingBaseline, "the exponential_smoothing baseline", "forecast", "statsmodels"),
        (lambda: OnnxRunner(tmp_path / "model.onnx"), "the ONNX runtime", "onnx", "onnxruntime"),
        (lambda: export_onnx(tmp_path), "ONNX export", "onnx", "onnx"),
        (lambda: check_extras(["hparams_search=example"]), "hparams_search", "tune", "hydra_plugins.hydra_optuna_sweeper"),
        (lambda: check_extras(["hydra/launcher=slurm"]), "hydra/launcher=slurm", "slurm", "hydra_plugins.hydra_submitit_launcher"),
        (lambda: check_extras(["logger=tensorboard"]), "logger=tensorboard", "tensorboard", "tensorboard"),
    ]
    for build, feature, extra, module in cases:
        with pytest.raises(ConfigError) as caught:
            build()
        expected = f"{feature} needs the '{extra}' extra ({module} is not installed). Fix: pip install 'lepton-core[{extra}]'."
        assert str(caught.value) == expected
