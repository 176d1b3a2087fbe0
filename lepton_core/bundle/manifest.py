"""The bundle manifest (lepton.json): hashes of every file, and verification that nothing was tampered with."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

from lepton_core.atomic import atomic_write_text
from lepton_core.bundle.plain import parse_json
from lepton_core.errors import BundleError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "REQUIRED_FILES",
    "file_sha256",
    "parse_manifest",
    "read_manifest",
    "read_manifest_bytes",
    "safe_member",
    "verify_files",
    "write_manifest",
]

FORMAT_NAME = "lepton-bundle"
FORMAT_VERSION = 1
MANIFEST_NAME = "lepton.json"
REQUIRED_FILES = ("config.yaml", "preprocess.json", "metrics.json", "model_card.md")
MAX_MANIFEST_BYTES = 16 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")
REBUILD = "rebuild the bundle with `lepton run`"


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def safe_member(bundle_dir: Path, name: str) -> Path:
    """The path of bundle member ``name``; refuse anything that could point outside the bundle."""
    pure = PurePosixPath(name)
    if not name or pure.is_absolute() or ".." in pure.parts or "\\" in name or name.startswith("~"):
        raise BundleError(f"bundle lists an unsafe file name '{name}'", "rebuild the bundle with `lepton run`")
    root = bundle_dir.resolve()
    path = (bundle_dir / pure).resolve()
    if root not in path.parents:
        raise BundleError(f"bundle file '{name}' points outside the bundle", "rebuild the bundle with `lepton run`")
    for depth in range(1, len(pure.parts) + 1):
        if (root / PurePosixPath(*pure.parts[:depth])).is_symlink():
            raise BundleError(f"bundle file '{name}' is a symbolic link", "copy the bundle with real files (cp -rL)")
    return path


def read_manifest_bytes(bundle_dir: Path) -> bytes:
    """The manifest's exact bytes (what a signature covers); a missing one raises BundleError."""
    if not bundle_dir.exists():
        raise BundleError(f"bundle not found: {bundle_dir}", "pass the bundle/ directory of a `lepton run`")
    if not bundle_dir.is_dir():
        raise BundleError(f"{bundle_dir} is not a directory", "pass the bundle/ directory of a `lepton run`")
    path = bundle_dir / MANIFEST_NAME
    if path.is_symlink():
        raise BundleError(f"{path} is a symbolic link", "copy the bundle with real files (cp -rL)")
    if not path.is_file():
        raise BundleError(f"{bundle_dir} has no {MANIFEST_NAME}", "pass the bundle/ directory of a `lepton run`")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise BundleError(f"{path} is larger than {MAX_MANIFEST_BYTES >> 20} MiB", REBUILD)
    return path.read_bytes()


def parse_manifest(data: bytes, bundle_dir: Path) -> dict[str, Any]:
    """Parse and check a manifest's format and fields; anything malformed raises BundleError."""
    path = bundle_dir / MANIFEST_NAME
    manifest = parse_json(data, str(path))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise BundleError(f"{path} is not a Lepton bundle manifest", "pass the bundle/ directory of a `lepton run`")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"bundle format version {manifest.get('format_version')} is not supported (this lepton reads {FORMAT_VERSION})",
            "rebuild the bundle with this version of lepton",
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise BundleError(f"{path}: 'files' is not a mapping of file names to sha256 hashes", REBUILD)
    for name, digest in files.items():
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise BundleError(f"{path}: the hash of '{name}' is not a sha256 hex digest", REBUILD)
    plugin = manifest.get("plugin")
    if not isinstance(plugin, dict) or not isinstance(plugin.get("name"), str) or not plugin["name"]:
        raise BundleError(f"{path}: 'plugin' does not name the plugin that built the bundle", REBUILD)
    if not isinstance(manifest.get("task"), str) or not manifest["task"]:
        raise BundleError(f"{path}: 'task' is not a task name", REBUILD)
    for key in ("model_kwargs", "onnx"):
        if manifest.get(key) is not None and not isinstance(manifest[key], dict):
            raise BundleError(f"{path}: '{key}' is not a mapping", REBUILD)
    for key in ("input_example", "output_example"):
        if manifest.get(key) is not None and not isinstance(manifest[key], list):
            raise BundleError(f"{path}: '{key}' is not a list", REBUILD)
    return manifest


def read_manifest(bundle_dir: Path) -> dict[str, Any]:
    """Read and check the manifest's format; a missing, foreign or malformed one raises BundleError."""
    return parse_manifest(read_manifest_bytes(bundle_dir), bundle_dir)


def verify_files(bundle_dir: Path, manifest: dict[str, Any]) -> None:
    """Check that every listed file exists, stays inside the bundle and has its recorded sha256."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise BundleError("bundle manifest lists no files", "rebuild the bundle with `lepton run`")
    if MANIFEST_NAME in files:
        raise BundleError(f"bundle manifest lists itself ({MANIFEST_NAME})", REBUILD)
    for required in REQUIRED_FILES:
        if required not in files:
            raise BundleError(f"bundle is incomplete: {required} is not listed", "rebuild the bundle with `lepton run`")
    for name, expected in files.items():
        path = safe_member(bundle_dir, name)
        if not path.is_file():
            raise BundleError(f"bundle is incomplete: {name} is missing", "rebuild the bundle with `lepton run`")
        if file_sha256(path) != expected:
            raise BundleError(
                f"bundle file {name} does not match its sha256 in {MANIFEST_NAME} (modified or corrupted)",
                "use an untouched bundle or rebuild it with `lepton run`",
            )


def write_manifest(bundle_dir: Path, manifest: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Hash ``names`` into ``manifest['files']`` and write lepton.json atomically."""
    manifest = {**manifest, "files": {n: file_sha256(bundle_dir / n) for n in sorted(names)}}
    atomic_write_text(bundle_dir / MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=False))
    return manifest
