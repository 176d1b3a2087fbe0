"""`lepton export`: add an exported model to a bundle (ONNX today), checked against torch on held-out inputs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lepton_core.deploy.onnx import PARITY_TOLERANCE, OnnxExport, export_onnx
from lepton_core.errors import ConfigError

__all__ = ["FORMATS", "export_bundle"]

FORMATS = ("onnx",)
MAX_EXAMPLES = 256


def _held_out(bundle_dir: Path, examples_path: Path, trusted_keys: Sequence[Any] | None) -> list[dict[str, Any]]:
    from lepton_core.bundle import verify_bundle
    from lepton_core.deploy.files import read_chunks

    manifest = verify_bundle(bundle_dir, trusted_keys=trusted_keys)
    fields = list(manifest.get("input_schema", {}).get("properties", {})) or None
    chunks = read_chunks(examples_path, manifest.get("input_kind", "json"), MAX_EXAMPLES, fields)
    return next(iter(chunks)).records


def export_bundle(
    bundle_dir: str | Path,
    format: str = "onnx",
    examples_path: str | Path | None = None,
    tolerance: float = PARITY_TOLERANCE,
    trusted_keys: Sequence[Any] | None = None,
) -> OnnxExport:
    """Export the bundle's model in ``format``; ``examples_path`` adds held-out inputs (first 256) to the parity gate.

    ``trusted_keys``: public keys one of which must have signed the bundle (None: LEPTON_TRUSTED_KEYS).
    """
    if format not in FORMATS:
        raise ConfigError(f"unknown export format '{format}'", f"choose one of {', '.join(FORMATS)}")
    if not tolerance >= 0:  # also NaN
        raise ConfigError(f"--tolerance {tolerance} is not a difference (0 or more)", f"pass e.g. --tolerance {PARITY_TOLERANCE:g}")
    examples = _held_out(Path(bundle_dir), Path(examples_path), trusted_keys) if examples_path else []
    return export_onnx(bundle_dir, examples, tolerance, trusted_keys=trusted_keys)
