"""Add a file to an existing bundle (an ONNX export, say) so that the bundle verifies at every step."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lepton_core.atomic import atomic_path
from lepton_core.bundle.loader import verify_bundle
from lepton_core.bundle.manifest import MANIFEST_NAME, safe_member, write_manifest
from lepton_core.errors import BundleError

__all__ = ["add_bundle_file"]


def add_bundle_file(
    bundle_dir: str | Path, name: str, source: Path, manifest_updates: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Copy ``source`` into a verified bundle as ``name``, merge ``manifest_updates``, re-hash; return the manifest.

    Replacing a listed file first drops it (and the keys being updated) from the manifest, so a crash
    at any point leaves a bundle that still verifies. A signature no longer covers the new manifest and
    is removed (sign the bundle again with `lepton sign`).
    """
    from lepton_core.bundle.signing import SIGNATURE_NAME

    bundle_dir = Path(bundle_dir)
    manifest = verify_bundle(bundle_dir, trusted_keys=())
    if name == MANIFEST_NAME:
        raise BundleError(f"cannot add a file named {MANIFEST_NAME} to a bundle", "choose another name")
    if name == SIGNATURE_NAME:
        raise BundleError(f"cannot add a file named {SIGNATURE_NAME} to a bundle", "sign it with `lepton sign`")
    target = safe_member(bundle_dir, name)
    (bundle_dir / SIGNATURE_NAME).unlink(missing_ok=True)
    updates = dict(manifest_updates or {})
    names = [n for n in manifest["files"] if n != name]
    if name in manifest["files"]:
        manifest = write_manifest(bundle_dir, {k: v for k, v in manifest.items() if k not in updates}, names)
    with atomic_path(target) as staged:
        shutil.copyfile(source, staged)
    return write_manifest(bundle_dir, {**manifest, **updates}, [*names, name])
