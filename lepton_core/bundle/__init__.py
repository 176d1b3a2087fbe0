"""Bundles: the deployable directory a run writes (manifest, config, safetensors weights, state, card)."""

from lepton_core.bundle.loader import LoadedBundle, load_bundle, verify_bundle
from lepton_core.bundle.manifest import MANIFEST_NAME

__all__ = ["MANIFEST_NAME", "LoadedBundle", "load_bundle", "verify_bundle"]
