"""Read a CSV or Parquet table into a DataFrame, turning every failure into a one-line DataError."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lepton_core.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SUPPORTED_SUFFIXES", "check_unique_columns", "read_table", "table_header", "write_table"]

SUPPORTED_SUFFIXES: dict[str, str] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def _table_kind(path: Path) -> str:
    name = path.name.lower()
    for suffix, kind in sorted(SUPPORTED_SUFFIXES.items(), key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            return kind
    supported = ", ".join(SUPPORTED_SUFFIXES)
    raise DataError(
        f"unsupported file type '{path.suffix or path.name}' for {path}",
        f"give a table with one of the extensions {supported}",
    )


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV/TSV/Parquet file chosen by extension; missing, unsupported, unreadable or empty -> DataError."""
    import pandas as pd

    table_path = Path(path).expanduser()
    kind = _table_kind(table_path)
    if not table_path.exists():
        raise DataError(f"data file not found: {table_path}", "check data.path")
    if not table_path.is_file():
        raise DataError(f"data path is not a file: {table_path}", "point data.path at a CSV or Parquet file")
    try:
        check_unique_columns(table_header(table_path), table_path)
        if kind == "parquet":
            frame = pd.read_parquet(table_path)
        else:
            frame = pd.read_csv(table_path, sep="\t" if kind == "tsv" else ",", low_memory=False)
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"data file is empty: {table_path}", "give a table with a header row and data rows") from None
    except Exception as exc:  # noqa: BLE001 - parser, decoding, OS and pyarrow errors all mean "unreadable"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"cannot read {kind} file {table_path}: {first_line}",
            f"check that the file is a valid {kind} table",
        ) from None
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataError(f"data file has no rows: {table_path}", "give a table with a header row and data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def table_header(path: str | Path) -> list[str]:
    """The column names of a CSV/TSV/Parquet file as written (pandas would rename a repeated ``x`` to ``x.1``)."""
    import pandas as pd

    table_path = Path(path)
    kind = _table_kind(table_path)
    if kind == "parquet":
        import pyarrow.parquet as pq

        return [str(name) for name in pq.read_schema(table_path).names]
    first = pd.read_csv(
        table_path, sep="\t" if kind == "tsv" else ",", header=None, nrows=1, dtype=str, keep_default_na=False
    )
    return [str(name) for name in first.iloc[0].tolist()] if len(first) else []


def check_unique_columns(columns: list[str], path: str | Path) -> None:
    """Repeated column names are a DataError naming them (a second copy of the target would leak into features)."""
    names = [str(c).strip() for c in columns]
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        raise DataError(
            f"{Path(path).name} has repeated column names: {', '.join(repeated)}",
            "give every column its own name (rename or remove the copies)",
        )


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV/TSV/Parquet by the extension of ``path``, atomically; ``read_table`` reads it back."""
    from lepton_core.atomic import atomic_path

    table_path = Path(path)
    kind = _table_kind(table_path)
    with atomic_path(table_path) as tmp:
        if kind == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False, sep="\t" if kind == "tsv" else ",")
    return table_path
