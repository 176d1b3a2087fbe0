"""`lepton predict`: a bundle over a file or folder of inputs, in chunks, through the server's predictor code path."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lepton_core.atomic import atomic_path
from lepton_core.deploy.files import OutputWriter, count_records, read_chunks
from lepton_core.deploy.validation import InvalidItems, ItemValidator
from lepton_core.errors import DataError

__all__ = ["PredictSummary", "predict_file"]


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
        raise DataError(f"chunk size {chunk_size} is not positive", "pass --chunk-size 1 or more")
    input_path, output_path = Path(input_path), Path(output_path)
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
    with atomic_path(output_path) as staged, bar:
        task = bar.add_task("rows", total=total)
        writer = OutputWriter(staged, output_path.name)
        try:
            for chunk in read_chunks(input_path, kind, chunk_size, fields, predictor.image_field):
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


def _where(keys: list[str] | None, start: int, index: int | None, unit: str) -> str:
    if index is None:
        return f"{unit}s from {start + 1}"
    if keys is not None:
        return f"file {keys[index]}"
    return f"{unit} {start + index + 1}"
