"""Load a bundle: verify every hash, rebuild the predictor through the plugin's deploy hook, load the weights."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lepton_core.bundle.manifest import read_manifest, safe_member, verify_files
from lepton_core.errors import BundleError, LeptonError, PluginError
from lepton_core.hooks.manager import PluginManager, get_plugin_manager
from lepton_core.hooks.specs import DeployContext

__all__ = ["LoadedBundle", "build_predictor", "load_bundle", "verify_bundle"]

WEIGHTS_NAME = "weights.safetensors"


@dataclass
class LoadedBundle:
    """A verified bundle with its predictor ready to use."""

    path: Path
    manifest: dict[str, Any]
    cfg: Any
    state: dict[str, Any]
    metrics: dict[str, Any]
    predictor: Any

    @property
    def plugin(self) -> str:
        """Name of the plugin that built the bundle."""
        return str(self.manifest["plugin"]["name"])

    @property
    def task(self) -> str:
        """Task the bundle was trained for."""
        return str(self.manifest["task"])


def verify_bundle(path: str | Path) -> dict[str, Any]:
    """Verify a bundle's manifest and every file hash; return the manifest."""
    bundle_dir = Path(path)
    manifest = read_manifest(bundle_dir)
    verify_files(bundle_dir, manifest)
    return manifest


def _read_json(bundle_dir: Path, name: str) -> dict[str, Any]:
    try:
        return json.loads(safe_member(bundle_dir, name).read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise BundleError(f"bundle file {name} is not valid JSON ({exc})", "rebuild the bundle") from None


def build_predictor(
    bundle_dir: Path, manifest: dict[str, Any], manager: PluginManager, device: str = "cpu"
) -> tuple[Any, Any, dict[str, Any]]:
    """Rebuild (cfg, predictor, state) from a bundle directory's files; weights loaded, eval mode."""
    from omegaconf import OmegaConf

    plugin = manifest.get("plugin", {}).get("name")
    task = manifest.get("task")
    try:
        manager.resolve(plugin, task)
    except LeptonError as exc:
        raise BundleError(
            f"bundle needs plugin '{plugin}' with task '{task}': {exc.problem}",
            f"install the plugin that built it ({manifest.get('plugin', {}).get('distribution', plugin)})",
        ) from None
    cfg = OmegaConf.create(safe_member(bundle_dir, "config.yaml").read_text("utf-8"))
    state = _read_json(bundle_dir, "preprocess.json")
    ctx = DeployContext(cfg=cfg, state=state, manifest=manifest, bundle_dir=bundle_dir)
    predictor = manager.call(plugin, "lepton_build_predictor", ctx=ctx)
    if predictor is None:
        raise PluginError(f"plugin '{plugin}' built no predictor for task '{task}'", "implement lepton_build_predictor")
    if WEIGHTS_NAME in manifest.get("files", {}):
        _load_weights(predictor, safe_member(bundle_dir, WEIGHTS_NAME), device)
    elif getattr(predictor, "module", None) is not None:
        predictor.module.to(device).eval()
    return cfg, predictor, state


def _load_weights(predictor: Any, path: Path, device: str) -> None:
    from safetensors.torch import load_model

    module = getattr(predictor, "module", None)
    if module is None:
        raise BundleError("bundle has weights but its predictor has no module", "rebuild the bundle")
    try:
        load_model(module, str(path), strict=True, device=device)
    except (RuntimeError, KeyError) as exc:
        raise BundleError(
            f"bundle weights do not fit the model built by the installed plugin ({str(exc).splitlines()[0]})",
            "install the plugin version that built the bundle, or rebuild it",
        ) from None
    module.to(device).eval()


def load_bundle(path: str | Path, device: str = "cpu", manager: PluginManager | None = None) -> LoadedBundle:
    """Verify and load a bundle; a tampered, incomplete or foreign one raises BundleError."""
    bundle_dir = Path(path)
    manifest = verify_bundle(bundle_dir)
    cfg, predictor, state = build_predictor(bundle_dir, manifest, manager or get_plugin_manager(), device)
    metrics = _read_json(bundle_dir, "metrics.json")
    return LoadedBundle(bundle_dir, manifest, cfg, state, metrics, predictor)
