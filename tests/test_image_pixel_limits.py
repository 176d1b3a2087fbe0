"""The core's pixel limit: an image over it is refused from its header, before its pixels are decoded."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lepton_core.errors import DataError
from lepton_core.vision import images
from lepton_core.vision.images import ImageTooLarge, decode_image, max_image_pixels, set_max_image_pixels


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header announces ``width x height`` gray pixels, with one row of data (never decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(width + 1))) + chunk(b"IEND", b"")


@pytest.fixture
def limit() -> object:
    """Restore the process-wide limit after a test that changes it."""
    before = max_image_pixels()
    yield
    set_max_image_pixels(before)


@pytest.mark.parametrize(("width", "height"), [(20_000, 20_000), (8_000, 8_000)])
def test_an_image_over_the_limit_is_refused_from_its_header(width: int, height: int) -> None:
    """20000 x 20000 is over Pillow's own bomb limit too; 8000 x 8000 is only over ours."""
    with pytest.raises(ImageTooLarge, match=r"big.png has .*pixels.*more than the limit of 50000000") as caught:
        decode_image(png_header_only(width, height), name="big.png")
    assert isinstance(caught.value, DataError) and "\n" not in str(caught.value)


def test_the_limit_can_be_changed(limit: object, tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    Image.fromarray(np.zeros((40, 30), np.uint8)).save(path)
    assert decode_image(path, channels=1).shape == (40, 30, 1)
    set_max_image_pixels(1000)
    with pytest.raises(ImageTooLarge, match=r"small.png has 1200 pixels \(40 x 30\), more than the limit of 1000"):
        decode_image(path)
    set_max_image_pixels(100_000_000)
    assert Image.MAX_IMAGE_PIXELS == 100_000_000, "Pillow's bomb limit follows ours"
    with pytest.raises(ImageTooLarge):
        decode_image(io.BytesIO(png_header_only(11_000, 10_000)).getvalue())


def test_a_bad_limit_from_the_environment_is_a_config_error(monkeypatch: pytest.MonkeyPatch, limit: object) -> None:
    monkeypatch.setattr(images, "_max_pixels", None)
    monkeypatch.setenv("LEPTON_MAX_IMAGE_PIXELS", "-3")
    with pytest.raises(images.ConfigError, match="LEPTON_MAX_IMAGE_PIXELS"):
        max_image_pixels()
    monkeypatch.setenv("LEPTON_MAX_IMAGE_PIXELS", "5000")
    assert max_image_pixels() == 5000
