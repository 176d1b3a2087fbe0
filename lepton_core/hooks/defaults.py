"""The core's fallback hook implementations (trylast): build everything from the config's ``_target_`` keys.

With these, a plugin that needs no logic is YAML plus classes:

- ``cfg.data``       -> the LightningDataModule (``instantiate(cfg.data)``)
- ``cfg.model``      -> the LightningModule; extra keyword arguments come from ``datamodule.model_kwargs()``
                        when the datamodule has it (feature counts, class counts...)
- ``cfg.baselines``  -> a mapping of name -> baseline config, each instantiated
- export             -> the model itself, ``datamodule.export_state()``, ``datamodule.input_example()`` and
                        ``datamodule.reference_inputs()`` (training inputs for the drift profile) when present
- predictor          -> the ``TaskInfo.predictor`` class the plugin names in code (``package.module:Class``),
                        built by its ``from_context(ctx)``; never a class named by the bundle
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lepton_core.hooks.markers import hookimpl
from lepton_core.hooks.specs import Baseline, DeployContext, Export, RunContext


@hookimpl(trylast=True)
def lepton_build_datamodule(ctx: RunContext) -> Any:
    """Instantiate ``cfg.data``."""
    from hydra.utils import instantiate

    if ctx.cfg.get("data") is None:
        return None
    return instantiate(ctx.cfg.data, _convert_="all")


@hookimpl(trylast=True)
def lepton_build_model(ctx: RunContext, datamodule: Any) -> Any:
    """Instantiate ``cfg.model`` with the datamodule's ``model_kwargs()``."""
    from hydra.utils import instantiate

    if ctx.cfg.get("model") is None:
        return None
    extra = datamodule.model_kwargs() if hasattr(datamodule, "model_kwargs") else {}
    return instantiate(ctx.cfg.model, _convert_="all", **extra)


@hookimpl(trylast=True)
def lepton_build_baselines(ctx: RunContext, datamodule: Any) -> Sequence[Baseline]:
    """Instantiate each entry of ``cfg.baselines`` (a mapping of name -> config)."""
    from hydra.utils import instantiate

    configs = ctx.cfg.get("baselines") or {}
    return [instantiate(c, _convert_="all") for c in configs.values() if c is not None]


@hookimpl(trylast=True)
def lepton_export(ctx: RunContext, datamodule: Any, model: Any) -> Export:
    """Export the trained model with the datamodule's fitted state and input example."""
    state = datamodule.export_state() if hasattr(datamodule, "export_state") else {}
    example = datamodule.input_example() if hasattr(datamodule, "input_example") else []
    reference = datamodule.reference_inputs() if hasattr(datamodule, "reference_inputs") else ()
    return Export(module=model, state=state, input_example=example, reference_inputs=reference)


@hookimpl(trylast=True)
def lepton_build_predictor(ctx: DeployContext) -> Any:
    """Build the task's predictor class registered in the plugin's code (``TaskInfo.predictor``)."""
    import importlib

    from lepton_core.deploy.predictor import Predictor
    from lepton_core.errors import PluginError

    info = ctx.plugin_info
    task = next((t for t in info.tasks if t.name == ctx.task), None) if info is not None else None
    if task is None or not task.predictor:
        return None
    module_name, _, class_name = task.predictor.partition(":")
    fix = "set TaskInfo.predictor to 'package.module:Class' of an installed Predictor"
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise PluginError(f"plugin '{info.name}': predictor '{task.predictor}' of task '{task.name}' does not import ({exc})", fix) from None
    if not (isinstance(cls, type) and issubclass(cls, Predictor)):
        raise PluginError(f"plugin '{info.name}': '{task.predictor}' is not a Predictor class", fix)
    return cls.from_context(ctx)
