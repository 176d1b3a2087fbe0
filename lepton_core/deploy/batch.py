"""`lepton predict`: a bundle over a file or folder of inputs, in chunks, through the server's predictor code path."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lepton_core.atomic import ACCESS_ERRNOS, NO_SPACE_ERRNOS, atomic_path
from lepton_core.deploy.files import OUTPUT_SUFFIXES, OutputWriter, count_records, read_chunks
from lepton_core.deploy.validation import InvalidItems, ItemValidator
from lepton_core.errors import ConfigError, DataError

__all__ = ["PredictSummary", "check_output_path", "predict_file"]


@dataclass(frozen=True)
class PredictSummary:
    """What a batch prediction wrote."""

    output: Path
    rows: int
    seconds: float
    runtime: str


def predict_file(
    bundle_dir: str | Path,
    input_path: str | Path,
    output_path: str | Path,
    chunk_size: int = 1024,
    runtime: str = "auto",
    progress: bool = True,
    device: str = "auto",
    trusted_keys: Sequence[Any] | None = None,
) -> PredictSummary:
    """Predict every record of ``input_path`` and write one output row each to ``output_path`` (atomically).

    ``trusted_keys``: public keys one of which must have signed the bundle (None: LEPTON_TRUSTED_KEYS).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from lepton_core.bundle import load_bundle
    from lepton_core.deploy.onnx import attach_runtime, resolve_device

    if chunk_size < 1:
        raise ConfigError(f"chunk size {chunk_size} is not positive", "pass --chunk-size 1 or more")
    input_path, output_path = Path(input_path), Path(output_path)
    check_output_path(input_path, output_path)
    start = time.perf_counter()
    loaded = load_bundle(bundle_dir, device=resolve_device(device), trusted_keys=trusted_keys)
    predictor = loaded.predictor
    used = attach_runtime(loaded.path, loaded.manifest, predictor, runtime)
    kind = predictor.input_kind
    total = count_records(input_path, kind)
    fields = list(predictor.input_schema().get("properties", {})) or None
    validate = ItemValidator(predictor.input_model)
    predict_items = predictor.items_predictor()
    bar = Progress(
        TextColumn("predict"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), disable=not progress
    )
    with output_errors(output_path), atomic_path(output_path) as staged, bar:
        task = bar.add_task("rows", total=total)
        writer = OutputWriter(staged, output_path.name)
        try:
            for chunk in read_chunks(input_path, kind, chunk_size, fields, predictor.image_field, predictor.group_field):
                try:
                    items = validate(chunk.records)
                except InvalidItems as exc:
                    index, field, message = exc.describe_first()
                    where = _where(chunk.keys, chunk.start, index, "row" if kind == "table" else "item")
                    raise DataError(
                        f"{input_path.name} {where}: field '{field}': {message}",
                        "fix that input (the bundle's input schema is in its lepton.json and model_card.md)",
                    ) from None
                outputs = predict_items(items)
                if chunk.keys is not None:
                    outputs = [{"file": key, **row} for key, row in zip(chunk.keys, outputs, strict=True)]
                writer.write(outputs)
                bar.advance(task, len(outputs))
        finally:
            writer.close()
    return PredictSummary(output_path, writer.rows, time.perf_counter() - start, used)


def check_output_path(input_path: Path, output_path: Path) -> None:
    """Refuse an output that would overwrite the input, is not a regular file, or has no known type (usage errors)."""
    fix = f"pass -o a new file name ending in {', '.join(OUTPUT_SUFFIXES)}"
    if output_path.exists() and not output_path.is_file():
        raise ConfigError(f"-o {output_path} exists and is not a regular file", fix)
    if output_path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ConfigError(f"-o {output_path}: unknown output type '{output_path.suffix or output_path.name}'", fix)
    if input_path.exists() and output_path.exists() and os.path.samefile(input_path, output_path):
        raise ConfigError(f"-o {output_path} is the input file: the predictions would overwrite it", fix)


@contextmanager
def output_errors(output_path: Path) -> Iterator[None]:
    """A predictions file that cannot be written (read-only, permission denied, disk full) -> one ConfigError."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in NO_SPACE_ERRNOS and not (exc.errno in ACCESS_ERRNOS and _is_output(exc, output_path)):
            raise
        raise ConfigError(
            f"cannot write the predictions to {output_path}: {exc.strerror or exc}",
            "pass -o a path in a writable directory with free space",
        ) from None


def _is_output(exc: OSError, output_path: Path) -> bool:
    """True when ``exc`` is about the output file, its temporary sibling or a folder above it."""
    if exc.filename is None:
        return False
    failed, target = Path(exc.filename).resolve(), output_path.resolve()
    staged = failed.parent == target.parent and failed.name.startswith(f".{target.name}.")
    return failed == target or staged or failed in target.parents


def _where(keys: list[str] | None, start: int, index: int | None, unit: str) -> str:
    if index is None:
        return f"{unit}s from {start + 1}"
    if keys is not None:
        return f"file {keys[index]}"
    return f"{unit} {start + index + 1}"
