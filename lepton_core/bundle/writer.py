"""Write a bundle: stage every file, check the predictor on its own input example, then publish atomically."""

from __future__ import annotations

import datetime as dt
import json
import platform
import shutil
from pathlib import Path
from typing import Any

from lepton_core.atomic import apply_default_mode, publish_dir, staging_dir
from lepton_core.bundle.loader import WEIGHTS_NAME, build_predictor, load_bundle
from lepton_core.bundle.manifest import FORMAT_NAME, FORMAT_VERSION, safe_member, write_manifest
from lepton_core.bundle.model_card import model_card
from lepton_core.bundle.plain import check_plain, without_instantiation_keys
from lepton_core.errors import PluginError
from lepton_core.hooks.manager import PluginManager
from lepton_core.hooks.specs import CONTRACT_VERSION, Evaluation, Export, RunContext
from lepton_core.report.metrics_file import metrics_document

__all__ = ["write_bundle"]


def _versions() -> dict[str, str]:
    import torch

    import lepton_core

    return {
        "lepton_core": lepton_core.__version__,
        "contract": CONTRACT_VERSION,
        "torch": torch.__version__.split("+")[0],
        "python": platform.python_version(),
    }


def _json_ready(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def model_kwargs(export: Export, plugin: str) -> dict[str, Any] | None:
    """The exported module's plain constructor arguments: ``export.model_kwargs``, else its ``hparams``."""
    if export.module is None:
        return None
    kwargs = export.model_kwargs
    if kwargs is None:
        kwargs = getattr(export.module, "hparams", None)
    fix = "call self.save_hyperparameters() in the module's __init__, or pass Export(model_kwargs=...)"
    if kwargs is None or not hasattr(kwargs, "items"):
        raise PluginError(f"plugin '{plugin}' exports a {type(export.module).__name__} without constructor arguments", fix)

    def scalar(value: Any) -> Any:
        if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
            return value.item()
        raise PluginError(
            f"plugin '{plugin}': model constructor argument of type {type(value).__name__} is not plain JSON", fix
        )

    plain = json.loads(json.dumps(dict(kwargs.items()), default=scalar))
    return check_plain(plain, f"plugin '{plugin}' model_kwargs", PluginError, fix)


def write_bundle(
    target: Path,
    ctx: RunContext,
    export: Export,
    evaluation: Evaluation,
    resolved_config: dict[str, Any],
    manager: PluginManager,
) -> Path:
    """Write the bundle for a finished run to ``target`` and return it, verified by a full reload."""
    staged = staging_dir(target)
    try:
        _stage(staged, ctx, export, evaluation, resolved_config, manager)
        load_bundle(staged, manager=manager, trusted_keys=())  # verified before it is published: never a bundle that cannot load
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return publish_dir(staged, target)


def _stage(
    staged: Path,
    ctx: RunContext,
    export: Export,
    evaluation: Evaluation,
    resolved_config: dict[str, Any],
    manager: PluginManager,
) -> None:
    from omegaconf import OmegaConf

    record = manager.records[ctx.plugin]
    names = ["config.yaml", "preprocess.json", "metrics.json"]
    plain_config = without_instantiation_keys(resolved_config)  # resolved, and naming no code
    (staged / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(plain_config)), "utf-8")
    (staged / "preprocess.json").write_text(json.dumps(_json_ready(dict(export.state)), indent=1), "utf-8")
    (staged / "metrics.json").write_text(
        json.dumps(metrics_document(ctx, evaluation, {}), indent=2), "utf-8"
    )
    if export.reference_inputs:
        from lepton_core.deploy.drift import DRIFT_REFERENCE_NAME, drift_reference

        profile = drift_reference(_json_ready(list(export.reference_inputs)))
        (staged / DRIFT_REFERENCE_NAME).write_text(json.dumps(profile, indent=1), "utf-8")
        names.append(DRIFT_REFERENCE_NAME)
    for name, payload in export.files.items():
        if name in names or name in (WEIGHTS_NAME, "lepton.json", "model_card.md") or "/" in name:
            raise PluginError(f"plugin '{ctx.plugin}': Export.files may not use the name '{name}'", "use a plain file name of your own")
        safe_member(staged, name).write_bytes(payload)
        names.append(name)
    if export.module is not None:
        from safetensors.torch import save_model

        export.module.to("cpu")
        save_model(export.module, str(staged / WEIGHTS_NAME), metadata={"format": "pt"})
        apply_default_mode(staged / WEIGHTS_NAME)  # safetensors writes 0600: another user could not serve it
        names.append(WEIGHTS_NAME)
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "plugin": {"name": ctx.plugin, "version": record.info.version, "distribution": record.distribution},
        "task": ctx.task,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "files": {n: "" for n in names},
    }
    kwargs = model_kwargs(export, ctx.plugin)
    if kwargs is not None:
        manifest["model_kwargs"] = kwargs
    _, predictor, _ = build_predictor(staged, manifest, manager)
    example = _json_ready(list(export.input_example))
    try:
        output_example = _json_ready(predictor.predict(example)) if example else []
    except Exception as exc:
        raise PluginError(
            f"plugin '{ctx.plugin}': the predictor rejects its own input example ({type(exc).__name__}: {exc})",
            "make lepton_export's input_example match the predictor's input model",
        ) from exc
    manifest.update(
        input_kind=predictor.input_kind,
        input_schema=predictor.input_schema(),
        output_schema=predictor.output_schema(),
        input_example=example,
        output_example=output_example,
        primary_metric={
            "name": evaluation.primary_metric,
            "greater_is_better": evaluation.greater_is_better,
            "model": evaluation.metrics.get("model", {}).get(evaluation.primary_metric),
        },
    )
    (staged / "model_card.md").write_text(model_card(ctx, evaluation, manifest), "utf-8")
    names.append("model_card.md")
    write_manifest(staged, manifest, names)
