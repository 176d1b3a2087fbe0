"""Load a bundle: verify its signature and every hash, rebuild the predictor from installed code, load the weights.

Every file of a bundle is treated as hostile: nothing it names is imported or instantiated. The installed
plugin chooses the predictor class from the task, the model is rebuilt from plain constructor arguments
(``model_kwargs`` in the manifest), config and state are read as plain data (no YAML tags, no
interpolations), and the weights must match the model tensor for tensor.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lepton_core.bundle.manifest import parse_manifest, read_manifest_bytes, safe_member, verify_files
from lepton_core.bundle.plain import parse_json, parse_yaml
from lepton_core.errors import BundleError, LeptonError, PluginError
from lepton_core.hooks.manager import PluginManager, get_plugin_manager
from lepton_core.hooks.specs import DeployContext

if TYPE_CHECKING:
    from lepton_core.bundle.signing import KeySource

__all__ = ["LoadedBundle", "build_predictor", "load_bundle", "read_bundle_config", "verify_bundle"]

WEIGHTS_NAME = "weights.safetensors"
MAX_TEXT_BYTES = 64 << 20
REBUILD = "rebuild the bundle with `lepton run`"


@dataclass
class LoadedBundle:
    """A verified bundle with its predictor ready to use (``signed_by``: id of the trusted key that signed it)."""

    path: Path
    manifest: dict[str, Any]
    cfg: Any
    state: dict[str, Any]
    metrics: dict[str, Any]
    predictor: Any
    signed_by: str | None = None

    @property
    def plugin(self) -> str:
        """Name of the plugin that built the bundle."""
        return str(self.manifest["plugin"]["name"])

    @property
    def task(self) -> str:
        """Task the bundle was trained for."""
        return str(self.manifest["task"])


def _verify(bundle_dir: Path, trusted_keys: Sequence[KeySource] | None) -> tuple[dict[str, Any], str | None]:
    from lepton_core.bundle.signing import trusted_keys_from_env

    sources = trusted_keys_from_env() if trusted_keys is None else list(trusted_keys)
    data = read_manifest_bytes(bundle_dir)
    signer = None
    if sources:
        from lepton_core.bundle.signing import load_trusted_keys, verify_signature

        signer = verify_signature(bundle_dir, data, load_trusted_keys(sources)).key_id
    manifest = parse_manifest(data, bundle_dir)
    verify_files(bundle_dir, manifest)
    return manifest, signer


def verify_bundle(path: str | Path, trusted_keys: Sequence[KeySource] | None = None) -> dict[str, Any]:
    """Verify a bundle's manifest, every file hash and, with trusted keys, its signature; return the manifest.

    ``trusted_keys`` are public keys (paths, PEM text or bytes); None reads them from LEPTON_TRUSTED_KEYS,
    an empty sequence checks no signature. With keys, an unsigned bundle or one signed by another key, or
    changed after signing, raises BundleError.
    """
    return _verify(Path(path), trusted_keys)[0]


def _read_member(bundle_dir: Path, name: str) -> bytes:
    path = safe_member(bundle_dir, name)
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise BundleError(f"bundle file {name} is larger than {MAX_TEXT_BYTES >> 20} MiB", REBUILD)
    return path.read_bytes()


def _read_json(bundle_dir: Path, name: str) -> dict[str, Any]:
    value = parse_json(_read_member(bundle_dir, name), f"bundle file {name}")
    if not isinstance(value, dict):
        raise BundleError(f"bundle file {name} is not a JSON object", REBUILD)
    return value


def read_bundle_config(bundle_dir: Path) -> Any:
    """The bundle's config.yaml as a read-only DictConfig of plain values (no tags, no ``${...}``)."""
    from omegaconf import OmegaConf

    data = parse_yaml(_read_member(bundle_dir, "config.yaml"), "bundle file config.yaml")
    if not isinstance(data, dict):
        raise BundleError("bundle file config.yaml is not a mapping", REBUILD)
    cfg = OmegaConf.create(data)
    OmegaConf.set_readonly(cfg, True)
    return cfg


def build_predictor(
    bundle_dir: Path, manifest: dict[str, Any], manager: PluginManager, device: str = "cpu"
) -> tuple[Any, Any, dict[str, Any]]:
    """Rebuild (cfg, predictor, state) from a bundle directory's files; weights loaded, eval mode."""
    plugin = manifest.get("plugin", {}).get("name")
    task = manifest.get("task")
    try:
        info, _ = manager.resolve(plugin, task)
    except LeptonError as exc:
        raise BundleError(
            f"bundle needs plugin '{plugin}' with task '{task}': {exc.problem}",
            f"install the plugin that built it ({manifest.get('plugin', {}).get('distribution', plugin)})",
        ) from None
    cfg = read_bundle_config(bundle_dir)
    state = _read_json(bundle_dir, "preprocess.json")
    ctx = DeployContext(cfg=cfg, state=state, manifest=manifest, bundle_dir=bundle_dir, plugin_info=info)
    try:
        predictor = manager.call(plugin, "lepton_build_predictor", ctx=ctx)
    except LeptonError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise BundleError(
            f"bundle of plugin '{plugin}' task '{task}' does not hold what its predictor needs "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''})",
            "install the plugin version that built the bundle, or rebuild it",
        ) from None
    if predictor is None:
        raise PluginError(f"plugin '{plugin}' built no predictor for task '{task}'", "implement lepton_build_predictor")
    module = getattr(predictor, "module", None)
    if WEIGHTS_NAME in manifest.get("files", {}):
        if module is None:
            raise BundleError("bundle has weights but its predictor has no module", REBUILD)
        load_weights_strictly(module, safe_member(bundle_dir, WEIGHTS_NAME), device)
    elif module is not None:
        raise BundleError(
            f"bundle has no {WEIGHTS_NAME} for its model (it would serve a randomly initialised network)", REBUILD
        )
    return cfg, predictor, state


def _alias_groups(expected: dict[str, Any]) -> list[list[str]]:
    """Names of the module's state that share one tensor (safetensors stores each shared tensor once)."""
    groups: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for name, tensor in expected.items():
        if tensor.numel():
            key = (tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape), tensor.dtype)
            groups[key].append(name)
    return [names for names in groups.values() if len(names) > 1]


def load_weights_strictly(module: Any, path: Path, device: str = "cpu") -> None:
    """Load ``path`` into ``module``: every tensor present with its shape and dtype, none extra, or BundleError."""
    from safetensors.torch import load_file

    fix = "install the plugin version that built the bundle, or rebuild it"
    try:
        tensors = load_file(str(path), device=device)
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types for a bad file
        raise BundleError(
            f"bundle file {path.name} is not a valid safetensors file ({str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__})",
            REBUILD,
        ) from None
    expected = module.state_dict()
    for group in _alias_groups(expected):
        present = [n for n in group if n in tensors]
        if present:
            for name in group:
                tensors.setdefault(name, tensors[present[0]])
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        parts = [f"missing {', '.join(missing[:5])}" if missing else "", f"unexpected {', '.join(extra[:5])}" if extra else ""]
        raise BundleError(
            f"bundle weights do not fit the model built by the installed plugin ({'; '.join(p for p in parts if p)})", fix
        )
    for name, want in expected.items():
        got = tensors[name]
        if tuple(got.shape) != tuple(want.shape) or got.dtype != want.dtype:
            raise BundleError(
                f"bundle weight '{name}' is {got.dtype} {tuple(got.shape)}, the model expects {want.dtype} {tuple(want.shape)}",
                fix,
            )
    module.load_state_dict(tensors, strict=True)
    module.to(device).eval()


def load_bundle(
    path: str | Path,
    device: str = "cpu",
    manager: PluginManager | None = None,
    trusted_keys: Sequence[KeySource] | None = None,
) -> LoadedBundle:
    """Verify and load a bundle; a tampered, incomplete, foreign or (with trusted keys) unsigned one raises BundleError.

    ``trusted_keys`` as in ``verify_bundle``: None reads LEPTON_TRUSTED_KEYS, an empty sequence checks no signature.
    """
    bundle_dir = Path(path)
    manifest, signer = _verify(bundle_dir, trusted_keys)
    cfg, predictor, state = build_predictor(bundle_dir, manifest, manager or get_plugin_manager(), device)
    metrics = _read_json(bundle_dir, "metrics.json")
    return LoadedBundle(bundle_dir, manifest, cfg, state, metrics, predictor, signer)
