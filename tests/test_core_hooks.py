"""The plugin contract: typed payloads, scoped hook calls, lifecycle order, discovery and isolation."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from lepton_core import ConfigError, Evaluation, PluginError, PluginInfo, TaskInfo, hookimpl
from lepton_core.hooks.manager import PluginManager
from lepton_core.hooks.specs import STAGES
from lepton_core.testing.cli import run_lepton


def _info(name: str = "demo", **changes: object) -> PluginInfo:
    base = PluginInfo(
        name=name, version="1.0", tasks=(TaskInfo("fit", "Fit things."),), config_package="x.configs", default_task="fit"
    )
    return dataclasses.replace(base, **changes)


class _Plugin:
    def __init__(self, info: PluginInfo, marker: str) -> None:
        self.info, self.marker = info, marker

    @hookimpl
    def lepton_describe(self) -> PluginInfo:
        return self.info

    @hookimpl
    def lepton_build_datamodule(self, ctx: object) -> str:
        return self.marker


def test_payloads_are_frozen() -> None:
    info = _info()
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.name = "other"  # type: ignore[misc]
    assert info.task_names() == ["fit"]


def test_evaluation_verdict_follows_metric_direction() -> None:
    higher = Evaluation(metrics={"model": {"auc": 0.8}, "logit": {"auc": 0.85}, "gbm": {"auc": 0.7}}, primary_metric="auc")
    assert higher.best_baseline() == ("logit", 0.85)
    assert higher.baseline_wins()
    lower = Evaluation(metrics={"model": {"mae": 1.0}, "naive": {"mae": 2.0}}, primary_metric="mae", greater_is_better=False)
    assert lower.best_baseline() == ("naive", 2.0)
    assert not lower.baseline_wins()


def test_data_hooks_reach_only_the_selected_plugin() -> None:
    manager = PluginManager(disabled=set())
    manager.register(_Plugin(_info("alpha"), "from-alpha"), "alpha")
    manager.register(_Plugin(_info("beta"), "from-beta"), "beta")
    assert manager.call("alpha", "lepton_build_datamodule", ctx=None) == "from-alpha"
    assert manager.call("beta", "lepton_build_datamodule", ctx=None) == "from-beta"


def test_register_refuses_inconsistent_descriptions() -> None:
    manager = PluginManager(disabled=set())
    with pytest.raises(PluginError, match="describes itself as"):
        manager.register(_Plugin(_info("alpha"), "x"), "beta")
    with pytest.raises(PluginError, match="contract"):
        manager.register(_Plugin(_info("gamma", contract_version="2.0"), "x"), "gamma")
    with pytest.raises(PluginError, match="default task"):
        manager.register(_Plugin(_info("delta", default_task="nope"), "x"), "delta")
    assert not manager.loaded()


def test_resolve_suggests_close_names() -> None:
    manager = PluginManager(disabled=set())
    manager.register(_Plugin(_info("finance"), "x"), "finance")
    with pytest.raises(ConfigError, match=r"did you mean 'finance'"):
        manager.resolve("fnance")
    with pytest.raises(ConfigError, match=r"did you mean 'fit'"):
        manager.resolve("finance", "fot")
    assert manager.resolve("finance")[1] == "fit"


def _install_fake_distribution(root: Path, name: str, module_source: str) -> None:
    """A distribution with a lepton.plugins entry point, importable from ``root`` (no pip needed)."""
    (root / f"{name}.py").write_text(textwrap.dedent(module_source))
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[lepton.plugins]\n{name} = {name}\n")


def test_broken_plugin_is_listed_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_fake_distribution(tmp_path, "brokenplug", "raise ImportError('missing dependency: frobnicate')\n")
    env = {"PYTHONPATH": str(tmp_path)}
    listed = run_lepton(["plugins"], tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "brokenplug" in listed.stdout and "frobnicate" in listed.stdout
    assert "example" in listed.stdout  # the others still load
    strict = run_lepton(["plugins"], tmp_path, env={**env, "LEPTON_STRICT_PLUGINS": "1"})
    assert strict.returncode == PluginError.exit_code
    assert strict.stderr.startswith("error: plugin 'brokenplug'") and "Traceback" not in strict.stderr
    selected = run_lepton(["run", "plugin=brokenplug"], tmp_path, env=env)
    assert selected.returncode == PluginError.exit_code and "failed to load" in selected.stderr


def test_plugins_can_be_disabled_by_environment(tmp_path: Path) -> None:
    proc = run_lepton(["run", "plugin=example"], tmp_path, env={"LEPTON_DISABLE_PLUGINS": "example"})
    assert proc.returncode == ConfigError.exit_code
    assert "disabled" in proc.stderr
    listed = run_lepton(["plugins"], tmp_path, env={"LEPTON_DISABLE_PLUGINS": "example"})
    assert "disabled" in listed.stdout


def test_plugins_can_be_disabled_by_config(tmp_path: Path) -> None:
    proc = run_lepton(["run", "plugin=example", "disable_plugins=[example]"], tmp_path)
    assert proc.returncode == ConfigError.exit_code
    assert "is selected and disabled" in proc.stderr


def test_disabled_plugins_are_not_registered() -> None:
    manager = PluginManager(disabled={"alpha"})
    record = manager.register(_Plugin(_info("alpha"), "x"), "alpha")
    assert record.status == "disabled" and not manager.has_plugin("alpha")


def test_entry_point_discovery_finds_the_example_plugin() -> None:
    names = {ep.name for ep in metadata.entry_points(group="lepton.plugins")}
    assert "example" in names
    manager = PluginManager(disabled=set())
    manager.load_entry_points()
    assert manager.records["example"].status == "ok"
    assert manager.loaded()["example"].default_task == "classify"


def test_lifecycle_hooks_wrap_every_stage_in_order(example_run: Path) -> None:
    events = [json.loads(line) for line in (example_run / "example_events.jsonl").read_text().splitlines()]
    expected = [(kind, stage) for stage in STAGES for kind in ("before", "after")]
    assert [(e["event"], e["stage"]) for e in events] == expected
    results = {e["stage"]: e["result"] for e in events if e["event"] == "after"}
    assert results["load"] == "MoonsDataModule" and results["evaluate"] == "Evaluation"


def test_on_error_hook_sees_a_failing_stage(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n0.1,0.2,1\n0.3,0.1,1\n")
    proc = run_lepton(["run", "plugin=example", f"data.path={bad}"], tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: {bad}: the label has a single class. Fix: provide examples of both classes."
    ]
    events_file = next(tmp_path.rglob("example_events.jsonl"))
    last = json.loads(events_file.read_text().splitlines()[-1])
    assert last == {"event": "error", "stage": "load", "error": "DataError"}
