"""Checks of ``data.path`` that need no heavy import: a missing file or a table without its target column
fails in about a second, before torch, Lightning and the plugin's data code are imported."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from lepton_core.errors import ConfigError, DataError

__all__ = ["precheck_data", "precheck_loggers"]

#: logger group -> (module it needs, the extra that installs it)
LOGGER_EXTRAS = {"mlflow": ("mlflow", "lepton-core[mlflow]")}


def precheck_loggers(cfg: DictConfig) -> None:
    """A selected logger whose library is not installed is a one-line ConfigError naming what to install."""
    from importlib.util import find_spec

    for name in cfg.get("logger") or {}:
        module, extra = LOGGER_EXTRAS.get(str(name), (None, None))
        if module is not None and find_spec(module) is None:
            raise ConfigError(f"logger={name} needs the {module} package, which is not installed",
                              f"pip install '{extra}'")
    if "mlflow" in (cfg.get("logger") or {}):  # its store setup and "creating experiment" lines are noise here
        import logging
        import os

        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
        logging.getLogger("lightning.pytorch.loggers.mlflow").setLevel(logging.ERROR)


def precheck_data(cfg: DictConfig) -> None:
    """Raise the DataError the datamodule would raise later for a missing path or a table lacking ``data.target``."""
    data = cfg.get("data")
    if not isinstance(data, DictConfig):
        return
    path, target = data.get("path"), data.get("target")
    if not isinstance(path, str) or not path or "://" in path:
        return
    from lepton_core.tabular.io import SUPPORTED_SUFFIXES, check_unique_columns

    location = Path(path).expanduser()
    is_table = location.name.lower().endswith(tuple(SUPPORTED_SUFFIXES))
    if not location.exists():
        raise DataError(f"data {'file' if is_table else 'path'} not found: {location}", "check data.path")
    if not isinstance(target, str) or not location.is_file() or not is_table:
        return
    try:
        columns = [str(c).strip() for c in _header(location)]
    except Exception:  # noqa: BLE001 - an unreadable table gets its precise error from the datamodule's reader
        return
    if not columns:
        return
    check_unique_columns(columns, location)
    if target not in columns:
        shown = ", ".join(columns[:12]) + (", ..." if len(columns) > 12 else "")
        raise DataError(f"target column '{target}' not found (columns: {shown})", "set data.target")


def _header(path: Path) -> list[str]:
    """The column names of a CSV/TSV (csv module: no pandas import) or Parquet file (its schema)."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        return [str(column) for column in pq.read_schema(path).names]
    import csv
    import gzip

    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle, delimiter="\t" if name.endswith(".tsv") else ","), [])
