"""Bundles: the deployable directory a run writes (manifest, config, safetensors weights, state, card)."""

from lepton_core.bundle.loader import LoadedBundle, load_bundle, verify_bundle
from lepton_core.bundle.manifest import MANIFEST_NAME
from lepton_core.bundle.update import add_bundle_file

__all__ = ["MANIFEST_NAME", "LoadedBundle", "add_bundle_file", "load_bundle", "verify_bundle"]
