"""The wire format of image items: a file's bytes as standard base64 in one string field."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from lepton_core.errors import DataError

__all__ = ["IMAGE_SUFFIXES", "decode_base64", "encode_file"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".dcm", ".dicom"})


def encode_file(path: Path) -> str:
    """A file's bytes as the base64 string an image item carries."""
    return base64.b64encode(path.read_bytes()).decode("ascii")


def decode_base64(value: str) -> bytes:
    """Decode an image item's base64 field; bad base64 raises DataError."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise DataError(
            "image field is not valid base64", "send the file's bytes base64-encoded (standard alphabet, no data: prefix)"
        ) from None
