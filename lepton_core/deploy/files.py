"""Input readers and output writers of `lepton predict`: chunks of records in, rows of predictions out.

Inputs by the predictor's ``input_kind``: ``table`` reads CSV or Parquet (JSON lines too), keeping only the
input model's fields; ``image`` reads a folder of image files into ``{image_field: base64}`` items;
``json`` reads JSON lines (or a JSON array); ``frame`` reads a whole CSV or Parquet table as one item
``{"rows": [...]}``; ``groups`` reads a whole table and makes each value of its ``group_field`` column one item
``{group_field: value, "rows": [...]}`` (JSON inputs as for ``json``). Outputs by suffix: .csv, .parquet, .jsonl.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lepton_core.deploy.images import IMAGE_SUFFIXES, encode_file
from lepton_core.errors import DataError

__all__ = ["OUTPUT_SUFFIXES", "Chunk", "OutputWriter", "count_records", "read_chunks"]

TABLE_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}
JSON_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
OUTPUT_SUFFIXES = (".csv", ".parquet", ".jsonl")


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive input records; ``start`` is the index of the first one, ``keys`` name each (files)."""

    start: int
    records: list[dict[str, Any]]
    keys: list[str] | None = None


def _format(path: Path, input_kind: str) -> str:
    if input_kind == "image":
        if not path.is_dir():
            raise DataError(f"{path} is not a folder", "this bundle takes images: pass a folder of image files")
        return "images"
    if path.is_dir():
        raise DataError(f"{path} is a folder", f"this bundle takes {input_kind} input: pass a .csv, .parquet or .jsonl file")
    kind = TABLE_SUFFIXES.get(path.suffix.lower()) or JSON_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"cannot read {path.name}: unknown file type", "pass a .csv, .parquet, .jsonl or .json file")
    return kind


def _image_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{folder} holds no image files", f"add files ending in {', '.join(sorted(IMAGE_SUFFIXES))}")
    return files


def count_records(path: Path, input_kind: str) -> int | None:
    """How many records ``read_chunks`` will yield, when cheap to know (for the progress bar)."""
    if not path.exists():
        raise DataError(f"input not found: {path}", "check the INPUT path")
    kind = _format(path, input_kind)
    if kind == "images":
        return len(_image_files(path))
    if kind in ("csv", "parquet"):
        _check_header(path)
        if input_kind == "frame":
            return 1
        if input_kind == "groups":
            return None
    if kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path).metadata.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"cannot read {path.name}: {str(exc).splitlines()[0]}", "fix the file's format") from None
    if kind in ("csv", "jsonl"):
        with path.open("rb") as handle:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        return max(lines - (kind == "csv"), 0)
    return None


def _check_header(path: Path) -> None:
    """Repeated column names are a DataError (pandas would keep the first and rename the others ``x.1``)."""
    import pandas as pd

    from lepton_core.tabular.io import check_unique_columns, table_header

    try:
        header = table_header(path)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError, ValueError):
        return  # unreadable: read_chunks says so with the file's own error
    check_unique_columns(header, path)


def _frame_records(frame: Any, fields: list[str] | None) -> list[dict[str, Any]]:
    if fields is not None:
        frame = frame[[c for c in frame.columns if c in fields]]
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict(orient="records")


def _whole_table(path: Path, kind: str) -> Any:
    import pandas as pd

    return pd.read_parquet(path) if kind == "parquet" else pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")


def _group_records(frame: Any, group_field: str, path: Path) -> list[dict[str, Any]]:
    """One record per value of ``group_field`` (in order of first appearance): the value and its other columns' rows."""
    if group_field not in frame.columns:
        raise DataError(f"{path.name} has no '{group_field}' column", f"add a '{group_field}' column: its rows with one value form one item")
    groups = frame.groupby(group_field, sort=False, dropna=False)
    return [{group_field: key.item() if hasattr(key, "item") else key, "rows": _frame_records(rows.drop(columns=group_field), None)}
            for key, rows in groups]


def read_chunks(
    path: Path, input_kind: str, chunk_size: int, fields: list[str] | None, image_field: str = "image",
    group_field: str = "id",
) -> Iterator[Chunk]:
    """Yield the input as chunks of raw records; ``fields`` keeps only those columns of a table."""
    import pandas as pd

    kind = _format(path, input_kind)
    fields = fields if input_kind == "table" else None
    start = 0
    try:
        if kind == "images":
            files = _image_files(path)
            for offset in range(0, len(files), chunk_size):
                part = files[offset : offset + chunk_size]
                yield Chunk(offset, [{image_field: encode_file(p)} for p in part], [str(p.relative_to(path)) for p in part])
        elif input_kind == "frame" and kind in ("csv", "parquet"):
            yield Chunk(0, [{"rows": _frame_records(_whole_table(path, kind), None)}])
        elif input_kind == "groups" and kind in ("csv", "parquet"):
            groups = _group_records(_whole_table(path, kind), group_field, path)
            for offset in range(0, len(groups), chunk_size):
                yield Chunk(offset, groups[offset : offset + chunk_size])
        elif kind == "csv":
            sep = "\t" if path.suffix.lower() == ".tsv" else ","
            for frame in pd.read_csv(path, sep=sep, chunksize=chunk_size):
                yield Chunk(start, _frame_records(frame, fields))
                start += len(frame)
        elif kind == "parquet":
            import pyarrow.parquet as pq

            columns = None
            parquet = pq.ParquetFile(path)
            if fields is not None:
                columns = [c for c in parquet.schema_arrow.names if c in fields]
            for batch in parquet.iter_batches(batch_size=chunk_size, columns=columns):
                yield Chunk(start, _frame_records(batch.to_pandas(), None))
                start += batch.num_rows
        elif kind == "jsonl":
            records: list[dict[str, Any]] = []
            with path.open("r", encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    if line.strip():
                        records.append(_json_line(line, path, number))
                    if len(records) == chunk_size:
                        yield Chunk(start, records)
                        start, records = start + len(records), []
            if records:
                yield Chunk(start, records)
        else:
            data = json.loads(path.read_text("utf-8"))
            if not isinstance(data, list):
                raise DataError(f"{path.name} holds a JSON {type(data).__name__}", "give a JSON array of items or JSON lines")
            for offset in range(0, len(data), chunk_size):
                yield Chunk(offset, data[offset : offset + chunk_size])
    except (UnicodeDecodeError, json.JSONDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"cannot read {path.name}: {str(exc).splitlines()[0]}", "fix the file's format") from None
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise DataError(f"input not found: {path}", "check the INPUT path") from None
        if "parquet" in str(exc).lower() or "arrow" in type(exc).__module__:
            raise DataError(f"cannot read {path.name}: {str(exc).splitlines()[0]}", "fix the file's format") from None
        raise


def _json_line(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path.name} line {number} is not valid JSON ({exc.msg})", "write one JSON object per line") from None


def _flat(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


class OutputWriter:
    """Append prediction rows to a CSV, Parquet or JSON-lines file (open on a temporary path, then published)."""

    def __init__(self, path: Path, target_name: str) -> None:
        suffix = Path(target_name).suffix.lower()
        if suffix not in OUTPUT_SUFFIXES:
            raise DataError(f"cannot write {target_name}: unknown output type", "name the output .csv, .parquet or .jsonl")
        self.path, self.suffix = path, suffix
        self._parquet: Any = None
        self._started = False
        self.rows = 0

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Append rows (one dict per prediction)."""
        if self.suffix == ".jsonl":
            with self.path.open("a", encoding="utf-8") as handle:
                handle.writelines(json.dumps(row, allow_nan=False) + "\n" for row in rows)
        else:
            import pandas as pd

            frame = pd.DataFrame([{k: _flat(v) for k, v in row.items()} for row in rows])
            if self.suffix == ".csv":
                frame.to_csv(self.path, mode="a", header=not self._started, index=False)
            else:
                self._write_parquet(frame)
        self._started = True
        self.rows += len(rows)

    def _write_parquet(self, frame: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._parquet is None:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            self._parquet = pq.ParquetWriter(self.path, table.schema)
        else:
            table = pa.Table.from_pandas(frame, schema=self._parquet.schema, preserve_index=False)
        self._parquet.write_table(table)

    def close(self) -> None:
        """Finish the file (Parquet footer; an empty CSV/JSONL when nothing was written)."""
        if self._parquet is not None:
            self._parquet.close()
        elif not self._started:
            self.path.write_text("", "utf-8")
