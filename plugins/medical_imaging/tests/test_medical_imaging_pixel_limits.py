"""DICOM and image items over the pixel limit: refused from the header (deflated files included, in
bounded memory), a one-line DataError for `lepton predict` and training, 413 from the server."""

from __future__ import annotations

import base64
import io
import struct
import time
import tracemalloc
import zlib
from types import SimpleNamespace

import httpx
import numpy as np
import pytest
import torch
from lepton_medical_imaging.dicom import decode_dicom
from lepton_medical_imaging.models import ImageClassifier
from lepton_medical_imaging.predictor import MedicalImagePredictor
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import DeflatedExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from lepton_core.errors import DataError
from lepton_core.serve import ServerThread, create_app
from lepton_core.vision.images import ImageTooLarge


def deflated_dicom(rows: int, columns: int, frames: int = 1, pixel_bytes: int | None = None) -> bytes:
    """A deflated 16-bit DICOM of zeros, compressed as it is written (the pixels never sit in memory)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    dataset = Dataset()
    dataset.SOPClassUID, dataset.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    dataset.Modality, dataset.SamplesPerPixel, dataset.PhotometricInterpretation = "OT", 1, "MONOCHROME2"
    dataset.Rows, dataset.Columns = rows, columns
    if frames > 1:
        dataset.NumberOfFrames = frames
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 16, 16, 15, 0
    head, file_meta = DicomBytesIO(), DicomBytesIO()
    for buffer in (head, file_meta):
        buffer.is_little_endian, buffer.is_implicit_VR = True, False
    write_dataset(head, dataset)
    write_file_meta_info(file_meta, meta, enforce_standard=True)
    size = rows * columns * frames * 2 if pixel_bytes is None else pixel_bytes
    deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    parts = [b"\0" * 128 + b"DICM", file_meta.getvalue()]
    parts.append(deflate.compress(head.getvalue() + struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, size)))
    block = bytes(1 << 22)
    for start in range(0, size, len(block)):
        parts.append(deflate.compress(block[: min(len(block), size - start)]))
    return b"".join([*parts, deflate.flush()])


def test_a_small_deflated_dicom_decodes() -> None:
    assert decode_dicom(deflated_dicom(64, 48, frames=3), None, 1).shape == (64, 48, 1)


def test_a_deflated_dicom_bomb_is_refused_in_bounded_memory() -> None:
    """8192 x 8192 x 16 bits (128 MiB of pixels) in a ~130 KB file: refused after inflating its header only."""
    bomb = deflated_dicom(8192, 8192)
    assert len(bomb) < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooLarge, match=r"huge.dcm has 67108864 pixels \(8192 x 8192\), more than the limit"):
            decode_dicom(bomb, None, 1, name="huge.dcm")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"{peak / 1e6:.0f} MB allocated to refuse it"


def test_frames_count_and_inflating_beyond_the_header_is_refused() -> None:
    with pytest.raises(ImageTooLarge, match=r"4096 x 4096 x 4 frames"):
        decode_dicom(deflated_dicom(4096, 4096, frames=4, pixel_bytes=64), None, 1)
    with pytest.raises(DataError, match="inflates to more data than its header announces"):
        decode_dicom(deflated_dicom(64, 64, pixel_bytes=64 << 20), None, 1)


def test_the_server_answers_413_for_an_image_over_the_limit() -> None:
    torch.manual_seed(0)
    state = {"class_names": ["normal", "lesion"], "size": [16, 16], "channels": 1, "mean": [0.4], "std": [0.2]}
    predictor = MedicalImagePredictor(ImageClassifier(2, in_channels=1, arch="small_cnn", width=4).eval(), state)
    loaded = SimpleNamespace(
        predictor=predictor, path=None, manifest={"files": {}}, plugin="medical_imaging", task="classify", metrics={}
    )
    bomb = base64.b64encode(deflated_dicom(8192, 8192)).decode()
    small = base64.b64encode(deflated_dicom(20, 20)).decode()
    with ServerThread(create_app(loaded, "torch")) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        deadline = time.monotonic() + 30
        while http.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert http.post("/predict", json={"image": small}).status_code == 200
        refused = http.post("/predict", json={"image": bomb})
        assert refused.status_code == 413, refused.text
        assert "more than the limit" in refused.json()["detail"] and "\n" not in refused.json()["detail"]
        assert http.post("/predict", json=[{"image": small}]).status_code == 200, "other requests still work"


def test_a_png_bomb_is_a_data_error_for_predict() -> None:
    """What `lepton predict` meets: the predictor raises one DataError line naming the item."""
    state = {"class_names": ["a", "b"], "size": [16, 16], "channels": 1, "mean": [0.4], "std": [0.2]}
    predictor = MedicalImagePredictor(ImageClassifier(2, in_channels=1, arch="small_cnn", width=4).eval(), state)
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(buffer, "PNG")
    png = bytearray(buffer.getvalue())
    png[16:24] = struct.pack(">II", 20_000, 20_000)  # the IHDR size (the CRC no longer matches: Pillow checks it)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    with pytest.raises(ImageTooLarge, match=r"input item 0 \(image\) has more than .* pixels"):
        predictor.predict([{"image": base64.b64encode(bytes(png)).decode()}])
