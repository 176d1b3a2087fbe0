"""DICOM decoding: rescale slope/intercept, windowing, MONOCHROME1, multi-frame, and bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from lepton_medical_imaging.dicom import DicomOptions, decode_any, decode_dicom, is_dicom, write_dicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from lepton_core.errors import ConfigError, DataError

RAMP = np.arange(16, dtype=np.uint16).reshape(4, 4) * 100  # 0..1500


def test_full_range_without_window(tmp_path: Path) -> None:
    pixels = decode_dicom(write_dicom(tmp_path / "a.dcm", RAMP), channels=1)[:, :, 0]
    assert pixels.dtype == np.uint8 and pixels[0, 0] == 0 and pixels[3, 3] == 255


def test_rescale_and_explicit_window(tmp_path: Path) -> None:
    # HU = 2 * stored - 1000 -> -1000..2000; window 0 +- 500 keeps HU in [-500, 500]
    path = write_dicom(tmp_path / "ct.dcm", RAMP, rescale_slope=2, rescale_intercept=-1000)
    pixels = decode_dicom(path, channels=1, options=DicomOptions(window_center=0, window_width=1000))[:, :, 0]
    hu = RAMP.astype(float) * 2 - 1000
    expected = np.round(np.clip((hu + 500) / 1000, 0, 1) * 255)
    np.testing.assert_array_equal(pixels, expected.astype(np.uint8))


def test_window_from_the_file(tmp_path: Path) -> None:
    path = write_dicom(tmp_path / "w.dcm", RAMP, window=(750, 500))
    pixels = decode_dicom(path, channels=1)[:, :, 0]
    assert pixels[0, 0] == 0 and pixels[3, 3] == 255 and 0 < pixels[1, 3] < 255  # 700 is inside 500..1000


def test_monochrome1_is_inverted(tmp_path: Path) -> None:
    normal = decode_dicom(write_dicom(tmp_path / "m2.dcm", RAMP), channels=1)
    inverted = decode_dicom(write_dicom(tmp_path / "m1.dcm", RAMP, photometric="MONOCHROME1"), channels=1)
    np.testing.assert_array_equal(inverted, 255 - normal)


def test_multi_frame_selection(tmp_path: Path) -> None:
    frames = np.stack([np.full((4, 4), v, np.uint16) for v in (0, 10, 30)])
    frames[:, 0, 0], frames[:, 0, 1] = 40, 0  # fixed bright and dark pixels: every frame has the range 0..40
    path = write_dicom(tmp_path / "mf.dcm", frames)
    middle = decode_dicom(path, channels=1, options=DicomOptions(frame="middle"))[1, 1, 0]
    first = decode_dicom(path, channels=1, options=DicomOptions(frame="first"))[1, 1, 0]
    largest = decode_dicom(path, channels=1, options=DicomOptions(frame="max"))[1, 1, 0]
    assert first == 0 and middle == round(10 / 40 * 255) and largest == round(30 / 40 * 255)
    assert decode_dicom(path, size=8, channels=3).shape == (8, 8, 3)


def test_dicom_bytes_are_sniffed(tmp_path: Path) -> None:
    data = write_dicom(tmp_path / "x.dcm", RAMP).read_bytes()
    assert is_dicom(data)
    assert decode_any(data, 4, 1).shape == (4, 4, 1)


def test_dicom_without_pixel_data(tmp_path: Path) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = FileDataset(str(tmp_path / "report.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
    dataset.PatientID = "P1"
    dataset.save_as(tmp_path / "report.dcm", enforce_file_format=True)
    with pytest.raises(DataError, match="report.dcm is a DICOM file without pixel data"):
        decode_dicom(tmp_path / "report.dcm")


def test_corrupt_and_truncated_dicom(tmp_path: Path) -> None:
    (tmp_path / "junk.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 7)
    with pytest.raises(DataError, match="junk.dcm"):
        decode_dicom(tmp_path / "junk.dcm")
    whole = write_dicom(tmp_path / "cut.dcm", RAMP).read_bytes()
    (tmp_path / "cut.dcm").write_bytes(whole[:-20])
    with pytest.raises(DataError, match="cut.dcm"):
        decode_dicom(tmp_path / "cut.dcm")


def test_dicom_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="dicom_frame"):
        DicomOptions(frame="all")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="window_width"):
        DicomOptions(window_center=40)
