"""Translate `lepton run` arguments into Hydra overrides: check plugin and task names, namespace tasks, resume."""

from __future__ import annotations

import os
from pathlib import Path

from lepton_core.errors import ConfigError
from lepton_core.hooks.manager import PluginManager

MULTIRUN_FLAGS = {"-m", "--multirun"}
HYDRA_FLAGS_WITHOUT_JOB = {"--help", "-h", "--hydra-help", "--version", "--shell-completion", "-sc"}
# Hydra flags whose value is the next argument (so that argument is not an override)
HYDRA_FLAGS_WITH_VALUE = {
    "--cfg", "-c", "--package", "-p", "--info", "-i", "--config-path", "-cp", "--config-name", "-cn",
    "--config-dir", "-cd", "--experimental-rerun",
}


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
    """Return Hydra arguments for ``args``; unknown plugins or tasks raise ConfigError with a did-you-mean.

    ``task=T`` becomes ``task=<plugin>/T`` (task configs are namespaced per plugin), the plugin's default
    task is added when none is given, and ``resume=...`` selects the run directory to continue. The other
    arguments keep their order (``-m`` moves first), so Hydra's own flags (--cfg, --info...) work as usual.
    """
    if any(a in HYDRA_FLAGS_WITHOUT_JOB for a in args):
        return args
    _check_positionals(args, manager)
    check_extras(args)
    plugin_value, _ = _split(args, "plugin")
    task_value, _ = _split(args, "task")
    resume_value, _ = _split(args, "resume")
    plugins = _choices(plugin_value or "")
    if not plugins:
        manager.resolve(None)
    tasks: list[str] = []
    for plugin in plugins:
        for task in _choices(task_value) if task_value is not None else [None]:
            if task is not None and task.startswith(f"{plugin}/"):
                task = task.split("/", 1)[1]
            _, resolved = manager.resolve(plugin, task)
            tasks.append(f"{plugin}/{resolved}")
    injected = [f"plugin={','.join(plugins)}", f"task={','.join(dict.fromkeys(tasks))}"]
    if resume_value is not None and resume_value.lower() not in ("false", "0", "no"):
        if any(a in MULTIRUN_FLAGS for a in args):
            raise ConfigError("resume cannot be combined with -m (a sweep)", "resume one run at a time: resume=RUN_DIR")
        # hydra.output_subdir=null: Hydra must not overwrite the run's .hydra/ files before the resume succeeded
        # (the pipeline publishes the new ones with metrics.json, report.html and bundle/ at the end).
        run_dir = _resume_dir(resume_value, plugins, tasks, args)
        injected += ["resume=true", f"hydra.run.dir={run_dir}", "hydra.output_subdir=null"]
    # -m may stand anywhere: argparse would refuse overrides that follow it, so it goes first.
    out: list[str] = [a for a in args if a in MULTIRUN_FLAGS]
    for arg in args:
        if arg.startswith("plugin="):
            out += injected
        elif not arg.startswith(("task=", "resume=")) and arg not in MULTIRUN_FLAGS:
            out.append(arg)
    return out


def _check_positionals(args: list[str], manager: PluginManager) -> None:
    """A bare word (``lepton run finance``) is not an override: say which ``key=value`` it probably meant."""
    for previous, arg in zip(["", *args], args):
        if "=" in arg or arg.startswith("-") or previous in HYDRA_FLAGS_WITH_VALUE:
            continue
        loaded = manager.loaded()
        tasks = {task: plugin for plugin, info in loaded.items() for task in info.task_names()}
        if arg in loaded:
            meant = f"plugin={arg}"
        elif arg in tasks:
            meant = f"plugin={tasks[arg]} task={arg}"
        else:
            raise ConfigError(
                f"unexpected argument '{arg}': `lepton run` takes key=value overrides",
                "pass plugin=NAME [task=TASK] [key=value ...] (`lepton tasks` lists them)",
            )
        raise ConfigError(f"unexpected argument '{arg}' (did you mean {meant}?)", f"pass {meant}")


#: argument prefix -> (module, extra, feature): Hydra plugins and loggers that an extra installs.
EXTRA_ARGUMENTS = {
    "hparams_search=": ("hydra_plugins.hydra_optuna_sweeper", "tune", "hparams_search"),
    "hydra/sweeper=optuna": ("hydra_plugins.hydra_optuna_sweeper", "tune", "hydra/sweeper=optuna"),
    "hydra/launcher=slurm": ("hydra_plugins.hydra_submitit_launcher", "slurm", "hydra/launcher=slurm"),
    "hydra/launcher=submitit": ("hydra_plugins.hydra_submitit_launcher", "slurm", "hydra/launcher=submitit_*"),
}


def check_extras(args: list[str]) -> None:
    """Refuse, in one line naming ``lepton-core[extra]``, a sweeper, launcher or logger whose extra is missing."""
    from lepton_core.extras import require

    for arg in args:
        for prefix, (module, extra, feature) in EXTRA_ARGUMENTS.items():
            if arg.startswith(prefix):
                require(module, extra, feature)
        if arg.startswith(("logger=", "+logger=")) and "tensorboard" in arg:
            require("tensorboard", "tensorboard", "logger=tensorboard")
        if arg.startswith(("logger=", "+logger=")) and "mlflow" in arg:
            require("mlflow", "mlflow", "logger=mlflow")


def _resume_dir(value: str, plugins: list[str], tasks: list[str], rest: list[str]) -> Path:
    """The run directory to resume: the given path, or the latest run of the plugin and task (refused when that
    one has no checkpoint: an older run is never resumed silently)."""
    if len(plugins) != 1 or len(tasks) != 1:
        raise ConfigError("resume needs exactly one plugin and one task", "pass one plugin=NAME and task=TASK")
    if value.lower() not in ("true", "1", "yes", "last"):
        path = Path(value).expanduser()
        if not (path / "checkpoints").is_dir():
            raise ConfigError(f"resume={value}: no checkpoints/ directory there", "pass a run directory of `lepton run`")
        if not (path / "checkpoints" / "last.ckpt").is_file():
            raise ConfigError(
                f"resume={value}: the run has no checkpoints/last.ckpt (it stopped before its first epoch ended)",
                "start a new run without resume",
            )
        _check_same_task(path, value, tasks[0])
        return path
    output_dir = Path(os.environ.get("LEPTON_OUTPUT_DIR", "outputs"))
    for arg in rest:
        if arg.startswith("paths.output_dir="):
            output_dir = Path(arg.split("=", 1)[1])
    runs = sorted(p for p in (output_dir / tasks[0]).glob("*") if p.is_dir())  # named by start time
    if not runs:
        raise ConfigError(
            f"resume=true: no run of {tasks[0]} with a checkpoint under {output_dir}",
            "start a run without resume, or pass resume=RUN_DIR",
        )
    latest = runs[-1]
    if not (latest / "checkpoints" / "last.ckpt").is_file():
        older = [p for p in runs[:-1] if (p / "checkpoints" / "last.ckpt").is_file()]
        fix = f"pass resume={older[-1]} to continue the latest run that has one" if older else "start a new run"
        raise ConfigError(
            f"resume=true: the latest run of {tasks[0]}, {latest}, has no checkpoint (it stopped before its first "
            "epoch ended) and an older run is not resumed in its place",
            f"{fix}, or run without resume",
        )
    return latest


def _check_same_task(path: Path, value: str, task: str) -> None:
    """Refuse to resume a run of another plugin or task (its saved config says which)."""
    import yaml

    saved = path / ".hydra" / "config.yaml"
    try:
        config = yaml.safe_load(saved.read_text("utf-8")) or {}
        ran = f"{config['plugin']['name']}/{config['task']['name']}"
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return  # no readable saved config: the checkpoint check in the pipeline still applies
    if ran != task:
        plugin, _, name = ran.partition("/")
        raise ConfigError(
            f"resume={value} is a run of {ran}, not of {task}", f"pass plugin={plugin} task={name} to resume it"
        )
