"""Ed25519 signatures of bundles: ``lepton keygen``, ``lepton sign`` and the ``--trusted-key`` check.

A signature (``lepton.sig``, beside the manifest) covers the exact bytes of ``lepton.json``, which hold the
sha256 of every other file, so a valid signature by a trusted key vouches for every byte of the bundle.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from lepton_core.atomic import atomic_write_bytes
from lepton_core.bundle.manifest import MANIFEST_NAME, parse_manifest, read_manifest_bytes, verify_files
from lepton_core.bundle.plain import parse_json
from lepton_core.errors import BundleError, ConfigError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "PRIVATE_KEY_NAME",
    "PUBLIC_KEY_NAME",
    "SIGNATURE_NAME",
    "TRUSTED_KEYS_ENV",
    "TrustedKey",
    "generate_keypair",
    "key_id",
    "load_trusted_keys",
    "sign_bundle",
    "trusted_keys_from_env",
    "verify_signature",
]

SIGNATURE_NAME = "lepton.sig"
SIGNATURE_FORMAT = "lepton-signature"
SIGNATURE_VERSION = 1
PRIVATE_KEY_NAME = "lepton-signing.key"
PUBLIC_KEY_NAME = "lepton-signing.pub"
TRUSTED_KEYS_ENV = "LEPTON_TRUSTED_KEYS"
_DOMAIN = b"lepton-bundle-signature-v1\n"  # signed bytes: this prefix + lepton.json, never reusable elsewhere
MAX_SIGNATURE_BYTES = 64 << 10

KeySource = Union[str, Path, bytes, "Ed25519PublicKey"]


@dataclass(frozen=True)
class TrustedKey:
    """A public key trusted to sign bundles, with its id (first 16 hex digits of the sha256 of its raw bytes)."""

    key: Ed25519PublicKey
    key_id: str
    source: str


def key_id(public_key: Ed25519PublicKey) -> str:
    """Short id of a public key: the first 16 hex digits of the sha256 of its 32 raw bytes."""
    return hashlib.sha256(_raw(public_key)).hexdigest()[:16]


def _raw(public_key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _write_key_file(path: Path, data: bytes, mode: int) -> None:
    """Write a key file atomically with exactly ``mode`` (0600 private, 0644 public)."""
    tmp = path.parent / f".{path.name}.partial"
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)  # exact mode whatever the umask
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def generate_keypair(directory: str | Path, force: bool = False) -> tuple[Path, Path]:
    """Write a new ed25519 key pair to ``directory``: private key 0600, public key 0644; return both paths."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    directory = Path(directory)
    private_path, public_path = directory / PRIVATE_KEY_NAME, directory / PUBLIC_KEY_NAME
    if not force and (private_path.exists() or public_path.exists()):
        raise ConfigError(f"{private_path} or {public_path} already exists", "choose another -o DIR, or pass --force")
    directory.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    _write_key_file(
        private_path,
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        0o600,
    )
    _write_key_file(
        public_path,
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        0o644,
    )
    return private_path, public_path


def _load_private_key(path: str | Path) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ConfigError(f"cannot read the private key {path} ({exc.strerror})", "pass the key `lepton keygen` wrote") from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path} is not an unencrypted PEM private key ({exc})", "pass the key `lepton keygen` wrote") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an ed25519 private key", "create one with `lepton keygen`")
    return key


def _public_key(source: KeySource) -> TrustedKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    fix = "pass a public key written by `lepton keygen` (--trusted-key or LEPTON_TRUSTED_KEYS)"
    if isinstance(source, Ed25519PublicKey):
        return TrustedKey(source, key_id(source), "key object")
    if isinstance(source, bytes):
        data, name = source, "key bytes"
    elif isinstance(source, str) and source.lstrip().startswith("-----BEGIN"):
        data, name = source.encode("ascii", "replace"), "key text"
    else:
        name = str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the trusted key {name} ({exc.strerror})", fix) from None
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"trusted key {name} is not a PEM public key ({str(exc).splitlines()[0]})", fix) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"trusted key {name} is not an ed25519 public key", fix)
    return TrustedKey(key, key_id(key), name)


def trusted_keys_from_env() -> list[str]:
    """Public key files listed in LEPTON_TRUSTED_KEYS (separated by the OS path separator, ':' on Linux)."""
    return [part for part in os.environ.get(TRUSTED_KEYS_ENV, "").split(os.pathsep) if part.strip()]


def load_trusted_keys(sources: Iterable[KeySource]) -> list[TrustedKey]:
    """Load public keys (paths, PEM text or bytes, or key objects); a bad one raises ConfigError."""
    return [_public_key(source) for source in sources]


def _signature_document(bundle_dir: Path) -> dict[str, Any]:
    path = bundle_dir / SIGNATURE_NAME
    fix = "sign the bundle with `lepton sign BUNDLE --key PRIVATE`, or use a bundle signed by a trusted key"
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise BundleError(f"{path} is not a regular file", fix)
    if not path.is_file():
        raise BundleError(f"bundle {bundle_dir} is not signed (no {SIGNATURE_NAME}) and trusted keys are required", fix)
    if path.stat().st_size > MAX_SIGNATURE_BYTES:
        raise BundleError(f"{path} is too large to be a signature", fix)
    document = parse_json(path.read_bytes(), str(path))
    if (
        not isinstance(document, dict)
        or document.get("format") != SIGNATURE_FORMAT
        or document.get("format_version") != SIGNATURE_VERSION
        or document.get("algorithm") != "ed25519"
        or not isinstance(document.get("signature"), str)
    ):
        raise BundleError(f"{path} is not a Lepton ed25519 signature", fix)
    return document


def verify_signature(bundle_dir: Path, manifest_bytes: bytes, trusted: Sequence[TrustedKey]) -> TrustedKey:
    """The trusted key whose signature covers ``manifest_bytes``; raise BundleError when there is none."""
    from cryptography.exceptions import InvalidSignature

    document = _signature_document(bundle_dir)
    try:
        signature = base64.b64decode(document["signature"], validate=True)
    except ValueError:
        raise BundleError(f"{bundle_dir / SIGNATURE_NAME} holds no valid base64 signature", "sign the bundle again") from None
    for candidate in trusted:
        try:
            candidate.key.verify(signature, _DOMAIN + manifest_bytes)
            return candidate
        except InvalidSignature:
            continue
    signer = document.get("key_id") if isinstance(document.get("key_id"), str) else "unknown"
    trusted_ids = ", ".join(k.key_id for k in trusted)
    if any(k.key_id == signer for k in trusted):
        raise BundleError(
            f"bundle {bundle_dir}: the signature of trusted key {signer} does not match {MANIFEST_NAME} "
            "(the bundle was changed after signing)",
            "use the bundle as it was signed, or sign the new one again",
        )
    raise BundleError(
        f"bundle {bundle_dir} is signed by key {signer[:16]}, which is not trusted (trusted: {trusted_ids})",
        "use a bundle signed by a trusted key, or pass its public key with --trusted-key",
    )


def sign_bundle(bundle_dir: str | Path, private_key_path: str | Path) -> Path:
    """Verify a bundle's hashes, then write ``lepton.sig`` over its manifest (replacing an older signature)."""
    bundle_dir = Path(bundle_dir)
    private = _load_private_key(private_key_path)
    manifest_bytes = read_manifest_bytes(bundle_dir)
    verify_files(bundle_dir, parse_manifest(manifest_bytes, bundle_dir))
    import json

    document = {
        "format": SIGNATURE_FORMAT,
        "format_version": SIGNATURE_VERSION,
        "algorithm": "ed25519",
        "key_id": key_id(private.public_key()),
        "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
        "signature": base64.b64encode(private.sign(_DOMAIN + manifest_bytes)).decode("ascii"),
    }
    path = bundle_dir / SIGNATURE_NAME
    atomic_write_bytes(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    return path
