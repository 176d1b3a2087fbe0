"""`lepton data export`: write a task's embedded demo data to a file (or folder) its own loader reads back.

A datamodule supports it by offering ``export_demo(path) -> Path`` (tables: ``lepton_core.tabular.io.write_table``); the
datamodule is built exactly as `lepton run` builds it, so ``data.*`` overrides (``data.n_rows=...``) apply.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from lepton_core.errors import ConfigError, PluginError

__all__ = ["export_demo_data"]

DEMO_COLUMN_ROLES = ("target", "id_column", "time_column")  # datamodule attributes the run command must repeat


def _compose(args: list[str]) -> tuple[object, str, str]:
    """The composed config of `lepton run ARGS` (no run directory is made), its plugin and its task."""
    from hydra import compose, initialize_config_module

    import lepton_core.config.entry  # noqa: F401 - registers the plugin config search path
    from lepton_core.config.arguments import translate_run_args
    from lepton_core.hooks.manager import get_plugin_manager

    overrides = translate_run_args(list(args), get_plugin_manager())
    if any(not arg.partition("=")[1] or arg.startswith("-") for arg in overrides):
        raise ConfigError(f"unexpected argument(s): {' '.join(args)}", "pass plugin=NAME [task=TASK] [key=value ...]")
    with initialize_config_module("lepton_core.configs", version_base="1.3"):
        cfg = compose("lepton", overrides=overrides)
    return cfg, str(cfg.plugin.name), str(cfg.task.name)


def export_demo_data(args: list[str], output: Path, force: bool = False) -> tuple[Path, str]:
    """Write the demo data of the task `lepton run ARGS` would run to ``output``; (path, the run command for it)."""
    from lepton_core.hooks.manager import get_plugin_manager
    from lepton_core.hooks.specs import RunContext

    output = output.expanduser()
    if output.exists() and not force:
        raise ConfigError(f"{output} already exists", "pass --force to replace it, or choose another -o")
    cfg, plugin, task = _compose(args)
    manager = get_plugin_manager()
    with tempfile.TemporaryDirectory(prefix="lepton-export-") as scratch:
        ctx = RunContext(cfg=cfg, plugin=plugin, task=task, run_dir=Path(scratch), seed=int(cfg.get("seed") or 0))
        datamodule = manager.call(plugin, "lepton_build_datamodule", ctx=ctx)
        exporter = getattr(datamodule, "export_demo", None)
        if exporter is None:
            raise PluginError(
                f"task '{task}' of plugin '{plugin}' cannot export its demo data (its datamodule has no export_demo)",
                "set data.path to a file of your own (the plugin's docs describe the format)",
            )
        if getattr(datamodule, "path", None):
            raise ConfigError("data.path is set: there is no demo data to export", "leave data.path unset")
        output.parent.mkdir(parents=True, exist_ok=True)
        written = Path(exporter(output))
    roles = {key: getattr(datamodule, key, None) for key in DEMO_COLUMN_ROLES}  # what the demo set by itself
    settings = "".join(f" data.{key}={value}" for key, value in roles.items() if isinstance(value, str))
    return written, f"lepton run plugin={plugin} task={task} data.path={written}{settings}"
