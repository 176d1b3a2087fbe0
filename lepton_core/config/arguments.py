"""Translate `lepton run` arguments into Hydra overrides: check plugin and task names, namespace tasks, resume."""

from __future__ import annotations

import os
from pathlib import Path

from lepton_core.errors import ConfigError
from lepton_core.hooks.manager import PluginManager

HYDRA_FLAGS_WITHOUT_JOB = {"--help", "-h", "--hydra-help", "--version", "--shell-completion", "-sc"}


def _split(args: list[str], key: str) -> tuple[str | None, list[str]]:
    value, rest = None, []
    for arg in args:
        if arg.startswith(f"{key}="):
            value = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return value, rest


def _choices(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def translate_run_args(args: list[str], manager: PluginManager) -> list[str]:
    """Return Hydra arguments for ``args``; unknown plugins or tasks raise ConfigError with a did-you-mean."""
    if any(a in HYDRA_FLAGS_WITHOUT_JOB for a in args):
        return args
    plugin_value, rest = _split(args, "plugin")
    task_value, rest = _split(rest, "task")
    resume_value, rest = _split(rest, "resume")
    plugins = _choices(plugin_value or "")
    if not plugins:
        manager.resolve(None)
    tasks: list[str] = []
    for plugin in plugins:
        if task_value is None:
            info, task = manager.resolve(plugin)
            tasks.append(f"{plugin}/{task}")
            continue
        for task in _choices(task_value):
            task = task.split("/", 1)[1] if task.startswith(f"{plugin}/") else task
            manager.resolve(plugin, task)
            tasks.append(f"{plugin}/{task}")
    out = [f"plugin={','.join(plugins)}", f"task={','.join(dict.fromkeys(tasks))}", *rest]
    if resume_value is not None and resume_value.lower() not in ("false", "0", "no"):
        run_dir = _resume_dir(resume_value, plugins, tasks, rest)
        out += ["resume=true", f"hydra.run.dir={run_dir}"]
    return out


def _resume_dir(value: str, plugins: list[str], tasks: list[str], rest: list[str]) -> Path:
    """The run directory to resume: the given path, or the latest run of the plugin and task."""
    if value.lower() not in ("true", "1", "yes", "last"):
        path = Path(value)
        if not (path / "checkpoints").is_dir():
            raise ConfigError(f"resume={value}: no checkpoints/ directory there", "pass a run directory of `lepton run`")
        return path
    if len(plugins) != 1 or len(tasks) != 1:
        raise ConfigError("resume=true needs exactly one plugin and one task", "pass resume=RUN_DIR instead")
    output_dir = Path(os.environ.get("LEPTON_OUTPUT_DIR", "outputs"))
    for arg in rest:
        if arg.startswith("paths.output_dir="):
            output_dir = Path(arg.split("=", 1)[1])
    runs = sorted(p for p in (output_dir / tasks[0]).glob("*") if (p / "checkpoints" / "last.ckpt").is_file())
    if not runs:
        raise ConfigError(
            f"resume=true: no run of {tasks[0]} with a checkpoint under {output_dir}",
            "start a run without resume, or pass resume=RUN_DIR",
        )
    return runs[-1]
