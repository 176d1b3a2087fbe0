"""The core's fallback hook implementations (trylast): build everything from the task's config.

With these, a plugin that needs no logic is YAML plus classes and functions:

- ``cfg.data``       -> the LightningDataModule (``instantiate(cfg.data)``)
- ``cfg.model``      -> the LightningModule; extra keyword arguments come from ``datamodule.model_kwargs()``
                        when the datamodule has it (feature counts, class counts...); ``model: null`` ->
                        ``NO_MODEL`` (nothing to train)
- ``cfg.baselines``  -> a mapping of name -> baseline config, each instantiated
- ``task.evaluate``  -> ``"package.module:function"`` called with the ``lepton_evaluate`` arguments it names
- ``task.export``    -> ``"package.module:function"`` called with the ``lepton_export`` arguments it names;
                        without it: the model itself, ``datamodule.export_state()``,
                        ``datamodule.input_example()`` and ``datamodule.reference_inputs()`` when present
- predictor          -> the ``TaskInfo.predictor`` class the plugin names in code (``package.module:Class``),
                        built by its ``from_context(ctx)``; never a class named by the bundle
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from lepton_core.errors import ConfigError
from lepton_core.hooks.markers import hookimpl
from lepton_core.hooks.specs import (
    NO_MODEL,
    Baseline,
    DeployContext,
    Evaluation,
    Export,
    RunContext,
    optional_call,
)

ROUTE_KEYS = ("evaluate", "export")  # task.<key>: "package.module:function"


@hookimpl(trylast=True)
def lepton_build_datamodule(ctx: RunContext) -> Any:
    """Instantiate ``cfg.data``."""
    from hydra.utils import instantiate

    if ctx.cfg.get("data") is None:
        return None
    return instantiate(ctx.cfg.data, _convert_="all")


@hookimpl(trylast=True)
def lepton_build_model(ctx: RunContext, datamodule: Any) -> Any:
    """Instantiate ``cfg.model`` with the datamodule's ``model_kwargs()``; ``model: null`` is ``NO_MODEL``."""
    from hydra.utils import instantiate

    if ctx.cfg.get("model") is None:
        return NO_MODEL
    return instantiate(ctx.cfg.model, _convert_="all", **optional_call(datamodule, "model_kwargs", {}))


@hookimpl(trylast=True)
def lepton_build_baselines(ctx: RunContext, datamodule: Any) -> Sequence[Baseline]:
    """Instantiate each entry of ``cfg.baselines`` (a mapping of name -> config)."""
    from hydra.utils import instantiate

    configs = ctx.cfg.get("baselines") or {}
    return [instantiate(c, _convert_="all") for c in configs.values() if c is not None]


@hookimpl(trylast=True)
def lepton_evaluate(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Baseline]) -> Any:
    """Call the function of ``task.evaluate``; None (no answer) when the task names none."""
    evaluate = task_function(ctx, "evaluate")
    if evaluate is None:
        return None
    return call_with_arguments(
        evaluate, "evaluate", ctx=ctx, datamodule=datamodule, model=model, baselines=baselines
    )


@hookimpl(trylast=True)
def lepton_export(ctx: RunContext, datamodule: Any, model: Any, evaluation: Evaluation) -> Export:
    """Call the function of ``task.export``; else export the model with the datamodule's state and examples."""
    export = task_function(ctx, "export")
    if export is not None:
        return call_with_arguments(
            export, "export", ctx=ctx, datamodule=datamodule, model=model, evaluation=evaluation
        )
    return Export(
        module=model,
        state=optional_call(datamodule, "export_state", {}),
        input_example=optional_call(datamodule, "input_example", []),
        reference_inputs=optional_call(datamodule, "reference_inputs", ()),
    )


def task_function(ctx: RunContext, key: str) -> Callable[..., Any] | None:
    """The function that ``task.<key>`` names (``"package.module:function"``), or None when it names none."""
    task = ctx.cfg.get("task") or {}
    spec = task.get(key) if hasattr(task, "get") else None
    if spec is None:
        return None
    fix = f"set task.{key} to 'package.module:function' of an installed function, or remove it"
    module_name, colon, attribute = str(spec).partition(":")
    if not isinstance(spec, str) or not colon or not module_name or not attribute:
        raise ConfigError(f"task.{key}={spec!r} is not 'package.module:function'", fix)
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except ImportError as exc:
        raise ConfigError(f"task.{key} '{spec}' does not import ({exc})", fix) from None
    except AttributeError:
        raise ConfigError(f"task.{key} '{spec}': module {module_name} has no '{attribute}'", fix) from None
    if not callable(found):
        raise ConfigError(f"task.{key} '{spec}' is not a function", fix)
    return found


def call_with_arguments(function: Callable[..., Any], key: str, **arguments: Any) -> Any:
    """Call ``function`` like a hook implementation: with the arguments it names (all with ``**kwargs``)."""
    parameters = inspect.signature(function).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return function(**arguments)
    required = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    unknown = [
        n for n, p in parameters.items()
        if n not in arguments and p.kind in required and p.default is inspect.Parameter.empty
    ]
    if unknown:
        name = f"{function.__module__}:{function.__qualname__}"
        raise ConfigError(
            f"task.{key} '{name}' needs {', '.join(unknown)}, which the lepton_{key} hook does not pass",
            f"take only some of: {', '.join(arguments)}",
        )
    return function(**{n: v for n, v in arguments.items() if n in parameters})


@hookimpl(trylast=True)
def lepton_build_predictor(ctx: DeployContext) -> Any:
    """Build the task's predictor class registered in the plugin's code (``TaskInfo.predictor``)."""
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
