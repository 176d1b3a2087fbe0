"""Read DICOM pixel data with pydicom: rescale slope/intercept, windowing, MONOCHROME1 inversion, multi-frame.

``decode_dicom`` turns a DICOM file (path or bytes) into a uint8 ``(H, W, channels)`` array at a given size,
ready to stack with ``lepton_core.vision.images.decode_stack``. ``decode_any`` picks DICOM or Pillow by
looking at the bytes (the ``DICM`` marker at offset 128, or a ``.dcm`` suffix), so one decoder serves
image folders, DICOM directories and the predictor alike.

Before any pixel data is read, decoded or inflated, Rows x Columns x NumberOfFrames from the header is
checked against the core's pixel limit (``lepton_core.vision.images.check_image_pixels``): a file over it
raises ``ImageTooLarge``. A deflated file (the whole dataset zlib-compressed) is inflated only as far as
its header, then to the size its header announces, never further.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from lepton_core.errors import ConfigError, DataError
from lepton_core.vision.images import ImageSource, check_image_pixels, decode_image, fit_array, source_name

__all__ = ["DicomOptions", "decode_any", "decode_dicom", "is_dicom", "write_dicom"]

DICOM_SUFFIXES = (".dcm", ".dicom")
Frame = Literal["middle", "first", "mean", "max"]
HEADER_BYTES = 1 << 20
"""How much of a deflated dataset is inflated to read its header (everything before the pixel data)."""


@dataclass(frozen=True)
class DicomOptions:
    """How DICOM pixels become 8-bit images.

    ``window_center``/``window_width`` (in modality units, e.g. Hounsfield for CT) override the file's own
    VOI window; with neither given nor in the file, the full value range is scaled to 0..255. ``frame``
    chooses how a multi-frame file becomes one image: its middle or first frame, or the mean or maximum
    intensity projection over frames.
    """

    window_center: float | None = None
    window_width: float | None = None
    frame: Frame = "middle"

    def __post_init__(self) -> None:
        if self.frame not in ("middle", "first", "mean", "max"):
            raise ConfigError(f"data.dicom_frame={self.frame!r} is unknown", "use middle, first, mean or max")
        if (self.window_center is None) != (self.window_width is None):
            raise ConfigError(
                "set both data.window_center and data.window_width, or neither", "add the missing one"
            )
        if self.window_width is not None and self.window_width <= 0:
            raise ConfigError(
                f"data.window_width={self.window_width} must be positive", "set a positive width"
            )


def is_dicom(source: ImageSource) -> bool:
    """True when ``source`` has the DICOM ``DICM`` preamble marker or a ``.dcm``/``.dicom`` suffix."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source[128:132]) == b"DICM"
    path = Path(source)
    if path.suffix.lower() in DICOM_SUFFIXES:
        return True
    try:
        with path.open("rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def _window(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """Linear VOI window (DICOM PS3.3 C.11.2.1.2) onto 0..255."""
    low, high = center - width / 2.0, center + width / 2.0
    return np.clip((values - low) / (high - low), 0.0, 1.0) * 255.0


def _pixels(dataset: object, label: str, options: DicomOptions) -> np.ndarray:
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    if (
        "PixelData" not in dataset
        and "FloatPixelData" not in dataset
        and "DoubleFloatPixelData" not in dataset
    ):
        raise DataError(f"{label} is a DICOM file without pixel data", "remove it or export the image series")
    try:
        raw = dataset.pixel_array  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - pydicom raises many types for unsupported or broken pixel data
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise DataError(
            f"{label}: DICOM pixel data cannot be decoded ({reason})", "remove it or convert it"
        ) from None
    photometric = str(getattr(dataset, "PhotometricInterpretation", "MONOCHROME2")).upper()
    frames = int(getattr(dataset, "NumberOfFrames", 1) or 1)
    is_color = photometric not in ("MONOCHROME1", "MONOCHROME2")
    if frames > 1:
        raw = _select_frame(raw, options.frame)
    if is_color:
        if photometric.startswith("YBR"):
            from pydicom.pixels import convert_color_space

            raw = convert_color_space(raw, photometric, "RGB")
        return raw.astype(np.float32)
    values = np.asarray(apply_modality_lut(raw, dataset), dtype=np.float32)
    if options.window_center is not None and options.window_width is not None:
        scaled = _window(values, options.window_center, options.window_width)
    elif "WindowCenter" in dataset and "WindowWidth" in dataset:
        scaled = _window(values, _first(dataset.WindowCenter), max(_first(dataset.WindowWidth), 1.0))
    elif "VOILUTSequence" in dataset:
        scaled = _to_unit(np.asarray(apply_voi_lut(values, dataset), dtype=np.float32)) * 255.0
    else:
        scaled = _to_unit(values) * 255.0
    if photometric == "MONOCHROME1":
        scaled = 255.0 - scaled
    return np.round(scaled).clip(0, 255).astype(np.uint8)


def _first(value: object) -> float:
    """The first value of a possibly multi-valued DICOM element (WindowCenter may list several)."""
    return float(value[0]) if isinstance(value, Sequence) and not isinstance(value, str) else float(value)


def _to_unit(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def _select_frame(frames: np.ndarray, how: Frame) -> np.ndarray:
    if how == "first":
        return frames[0]
    if how == "middle":
        return frames[len(frames) // 2]
    return frames.astype(np.float32).mean(axis=0) if how == "mean" else frames.max(axis=0)


def decode_dicom(
    source: ImageSource,
    size: tuple[int, int] | int | None = None,
    channels: int = 1,
    name: str | None = None,
    options: DicomOptions | None = None,
) -> np.ndarray:
    """Decode a DICOM file or its bytes into uint8 ``(H, W, channels)``; a bad file raises DataError naming it."""
    from pydicom.errors import InvalidDicomError

    label = source_name(source, name)
    handle = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) else Path(source)
    if isinstance(handle, Path) and not handle.is_file():
        raise DataError(f"DICOM file not found: {label}", "check the path and the labels CSV")
    try:
        dataset = _read_checked(handle, label, force=isinstance(handle, Path) and handle.suffix.lower() in DICOM_SUFFIXES)
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError, TypeError, AttributeError, zlib.error) as exc:
        raise DataError(
            f"{label} is not a readable DICOM file ({type(exc).__name__})", "remove or re-export it"
        ) from None
    return fit_array(_pixels(dataset, label, options or DicomOptions()), size, channels)


def _check_header(header: object, label: str) -> int:
    """Refuse a dataset whose Rows x Columns x NumberOfFrames is over the pixel limit; its pixel data size in bytes."""
    rows, columns = int(getattr(header, "Rows", 0) or 0), int(getattr(header, "Columns", 0) or 0)
    frames = int(getattr(header, "NumberOfFrames", 1) or 1)
    check_image_pixels(rows, columns, frames, label)
    samples = int(getattr(header, "SamplesPerPixel", 1) or 1)
    bits = int(getattr(header, "BitsAllocated", 16) or 16)
    return rows * columns * frames * samples * max(1, (bits + 7) // 8)


def _read_checked(handle: io.BytesIO | Path, label: str, force: bool) -> object:
    """Read a DICOM dataset whose header passes the pixel limit, checked before the pixel data is touched."""
    import pydicom
    from pydicom.filereader import read_dataset, read_preamble
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    with handle.open("rb") if isinstance(handle, Path) else handle as fp:
        read_preamble(fp, force)
        meta = read_dataset(fp, is_implicit_VR=False, is_little_endian=True, stop_when=lambda tag, *_: tag.group != 2)
        if meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
            return _read_deflated(fp, meta, label)
        fp.seek(0)
        _check_header(pydicom.dcmread(fp, stop_before_pixels=True, force=force), label)
        fp.seek(0)
        return pydicom.dcmread(fp, force=force)


def _read_deflated(fp: object, meta: object, label: str) -> object:
    """A deflated dataset, inflated to its header, checked, then inflated to the pixel data its header announces."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.filereader import read_dataset

    def at_pixels(tag: object, *_: object) -> bool:
        return tag in (0x7FE00010, 0x7FE00008, 0x7FE00009)

    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    inflated = inflater.decompress(fp.read(), HEADER_BYTES)  # type: ignore[attr-defined]
    header = read_dataset(io.BytesIO(inflated), is_implicit_VR=False, is_little_endian=True, stop_when=at_pixels)
    budget = _check_header(header, label) + (1 << 16)
    inflated += inflater.decompress(inflater.unconsumed_tail, max(budget - len(inflated), 1))
    if inflater.unconsumed_tail or not inflater.eof:
        raise DataError(
            f"{label} inflates to more data than its header announces ({header.Rows} x {header.Columns} pixels)",
            "remove it or re-export it without deflate compression",
        )
    dataset = read_dataset(io.BytesIO(inflated), is_implicit_VR=False, is_little_endian=True)
    dataset.file_meta = FileMetaDataset(meta)
    return dataset


def decode_any(
    source: ImageSource,
    size: tuple[int, int] | int | None,
    channels: int,
    name: str | None = None,
    options: DicomOptions | None = None,
) -> np.ndarray:
    """Decode DICOM (by marker or suffix) with pydicom, anything else with Pillow."""
    if is_dicom(source):
        return decode_dicom(source, size, channels, name, options)
    return decode_image(source, size, channels, name)


def write_dicom(
    path: str | Path,
    pixels: np.ndarray,
    photometric: str = "MONOCHROME2",
    rescale_slope: float | None = None,
    rescale_intercept: float | None = None,
    window: tuple[float, float] | None = None,
    patient_id: str = "ANON",
    modality: str = "OT",
) -> Path:
    """Write a small uncompressed DICOM file (uint16/int16 ``(H, W)`` or ``(frames, H, W)``) with pydicom.

    For demos and tests: rescale slope/intercept, a VOI window ``(center, width)``, MONOCHROME1/2 and
    multi-frame are written as given, so the reader's handling of each can be checked.
    """
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    array = np.asarray(pixels)
    if array.dtype not in (np.uint16, np.int16):
        raise ValueError("write_dicom takes uint16 or int16 pixels")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    dataset.SOPClassUID = meta.MediaStorageSOPClassUID
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.PatientID = patient_id
    dataset.Modality = modality
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = photometric
    dataset.Rows, dataset.Columns = array.shape[-2:]
    if array.ndim == 3:
        dataset.NumberOfFrames = array.shape[0]
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 16, 15
    dataset.PixelRepresentation = 1 if array.dtype == np.int16 else 0
    if rescale_slope is not None or rescale_intercept is not None:
        dataset.RescaleSlope = rescale_slope if rescale_slope is not None else 1
        dataset.RescaleIntercept = rescale_intercept if rescale_intercept is not None else 0
    if window is not None:
        dataset.WindowCenter, dataset.WindowWidth = window
    dataset.PixelData = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
    dataset.save_as(path, enforce_file_format=True)
    return Path(path)
