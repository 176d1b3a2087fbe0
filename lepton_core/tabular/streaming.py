"""Out-of-core Parquet tables: record batches read with pyarrow (never the whole table), bounded memory.

Used by ``TabularDataModule(streaming=True)`` for tables larger than memory allows, and usable alone:

- ``ParquetStream(path)``: a Parquet file or a directory of them; ``num_rows``, ``columns`` and
  ``iter_range(start, stop)``, which yields ``(first_row, RecordBatch)`` for any global row range,
  reading only the row groups that overlap it.
- ``split_codes(rows, seed, val_fraction, test_fraction)``: the split of each global row index
  (0 train, 1 val, 2 test) from a seeded hash: stateless, so any process can tell the split of any row.
- ``collect_sample(stream, ...)``: one pass that keeps a seeded uniform sample of at most ``max_rows``
  rows per split (what baselines, calibration, evaluation and the preprocessor's fit use).
- ``StreamingBatchLoader``: the training rows in shuffled batches; under DDP each rank reads its own
  contiguous slice of the table and every rank yields the same number of batches.

Memory is bounded by the record batch size, the shuffle buffer and the sample sizes, never by the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lepton_core.errors import DataError
from lepton_core.tabular.io import check_unique_columns

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    import torch

__all__ = ["ParquetStream", "StreamSample", "StreamingBatchLoader", "collect_sample", "open_stream", "split_codes"]

SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
_SPLIT_SALT, _SAMPLE_SALT = 0x5EED_5B17, 0x5A4D_B1E5
_MASK64 = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


def _uniform(rows: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """A seeded, stateless uniform number in [0, 1) per row index (splitmix64 finaliser)."""
    z = rows.astype(np.uint64) + np.uint64((seed * 0x9E37_79B9_7F4A_7C15 + salt) & 0xFFFF_FFFF_FFFF_FFFF)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58_476D_1CE4_E5B9) & _MASK64
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D0_49BB_1331_11EB) & _MASK64
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def split_codes(rows: np.ndarray, seed: int, val_fraction: float, test_fraction: float) -> np.ndarray:
    """0 (train), 1 (val) or 2 (test) for each global row index, from a seeded hash of the index."""
    u = _uniform(rows, seed, _SPLIT_SALT)
    codes = np.zeros(len(u), dtype=np.int8)
    codes[u < val_fraction + test_fraction] = 1
    codes[u < test_fraction] = 2
    return codes


@dataclass(frozen=True)
class _RowGroup:
    file: int
    index: int
    start: int
    stop: int


class ParquetStream:
    """A Parquet file, or a directory of Parquet files with the same columns, read in record batches."""

    def __init__(self, path: str | Path, batch_rows: int = 65_536) -> None:
        import pyarrow.parquet as pq

        root = Path(path).expanduser()
        if not root.exists():
            raise DataError(f"data file not found: {root}", "check data.path")
        files = (
            sorted(p for p in root.rglob("*") if p.suffix in (".parquet", ".pq")) if root.is_dir() else [root]
        )
        if not files:
            raise DataError(
                f"no .parquet files in {root}", "point data.path at a Parquet file or a folder of them"
            )
        self.path = root
        self.files = files
        self.batch_rows = int(batch_rows)
        self._files = []
        for file in files:
            try:
                self._files.append(pq.ParquetFile(file))
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a file that is not Parquet
                first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise DataError(
                    f"cannot read Parquet file {file}: {first_line}", "give a valid Parquet file"
                ) from None
        self.columns = [str(c) for c in self._files[0].schema_arrow.names]
        check_unique_columns(self.columns, files[0])
        for file, handle in zip(files[1:], self._files[1:]):
            if [str(c) for c in handle.schema_arrow.names] != self.columns:
                raise DataError(
                    f"{file} has other columns than {files[0]}", "give files with the same columns"
                )
        self._groups: list[_RowGroup] = []
        offset = 0
        for f, handle in enumerate(self._files):
            for g in range(handle.metadata.num_row_groups):
                rows = handle.metadata.row_group(g).num_rows
                if rows:
                    self._groups.append(_RowGroup(f, g, offset, offset + rows))
                    offset += rows
        self.num_rows = offset
        if self.num_rows == 0:
            raise DataError(f"data file has no rows: {root}", "give a table with data rows")

    def empty_frame(self) -> pd.DataFrame:
        """A zero-row DataFrame with the table's columns and types."""
        return self._files[0].schema_arrow.empty_table().to_pandas()

    def iter_range(
        self, start: int, stop: int, columns: Sequence[str] | None = None, order: Sequence[int] | None = None
    ) -> Iterator[tuple[int, pa.RecordBatch]]:
        """``(first global row, record batch)`` for the rows in [start, stop), row groups in ``order`` if given."""
        groups = [g for g in self._groups if g.start < stop and g.stop > start]
        if order is not None:
            groups = [groups[i] for i in order]
        for group in groups:
            handle = self._files[group.file]
            offset = group.start
            for batch in handle.iter_batches(
                batch_size=self.batch_rows,
                row_groups=[group.index],
                columns=list(columns) if columns else None,
            ):
                lo, hi = max(start - offset, 0), min(stop - offset, batch.num_rows)
                if hi > lo:
                    yield offset + lo, batch.slice(lo, hi - lo)
                offset += batch.num_rows

    def file_offsets(self) -> dict[Path, int]:
        """The global index of each file's first row (files in table order)."""
        offsets, offset = {}, 0
        for file, handle in zip(self.files, self._files):
            offsets[file.resolve()] = offset
            offset += handle.metadata.num_rows
        return offsets

    def count_groups(self, start: int, stop: int) -> int:
        """Number of row groups overlapping [start, stop)."""
        return sum(1 for g in self._groups if g.start < stop and g.stop > start)


@dataclass
class StreamSample:
    """A bounded sample of a streamed table: its rows, the positions of each split, and what was skipped."""

    frame: pd.DataFrame
    splits: dict[str, np.ndarray]
    rows_per_split: dict[str, int]
    rows_without_target: int


def _missing(values: pd.Series) -> np.ndarray:
    missing = values.isna().to_numpy()
    if values.dtype == object or str(values.dtype) in ("str", "string"):
        missing |= (values.astype(str).str.strip() == "").to_numpy()
    return missing


def collect_sample(
    stream: ParquetStream,
    target: str,
    columns: Sequence[str] | None = None,
    seed: int = 0,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    max_rows: int = 100_000,
) -> StreamSample:
    """One pass over the table keeping a seeded uniform sample of about ``max_rows`` rows per split.

    Rows without a target value are skipped (and counted). Splits come from ``split_codes``, so the
    training stream and the sample agree on which row belongs where.
    """
    import pandas as pd

    fractions = {"train": 1 - val_fraction - test_fraction, "val": val_fraction, "test": test_fraction}
    keep = np.array([min(1.0, max_rows / max(1.0, stream.num_rows * fractions[s])) for s in SPLIT_CODES])
    parts: dict[str, list[pd.DataFrame]] = {s: [] for s in SPLIT_CODES}
    counts = dict.fromkeys(SPLIT_CODES, 0)
    without_target = 0
    for first, batch in stream.iter_range(0, stream.num_rows, columns):
        rows = np.arange(first, first + batch.num_rows, dtype=np.uint64)
        codes = split_codes(rows, seed, val_fraction, test_fraction)
        chosen = _uniform(rows, seed, _SAMPLE_SALT) < keep[codes]
        frame = batch.filter(chosen).to_pandas() if not chosen.all() else batch.to_pandas()
        missing = _missing(frame[target])
        without_target += int(missing.sum())
        frame, kept_codes = frame.loc[~missing], codes[chosen][~missing]
        for split, code in SPLIT_CODES.items():
            part = frame.loc[kept_codes == code]
            counts[split] += int((codes == code).sum())
            if len(part):
                parts[split].append(part)
    frames = [
        pd.concat(parts[s], ignore_index=True) if parts[s] else stream.empty_frame() for s in SPLIT_CODES
    ]
    sizes = np.cumsum([0, *(len(f) for f in frames)])
    splits = {s: np.arange(sizes[i], sizes[i + 1]) for i, s in enumerate(SPLIT_CODES)}
    return StreamSample(pd.concat(frames, ignore_index=True), splits, counts, without_target)


def _distributed_partition(rank: int | None, world_size: int | None) -> tuple[int, int]:
    if world_size is not None:
        return int(rank or 0), int(world_size)
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class StreamingBatchLoader:
    """Training batches streamed from the train rows of a ParquetStream, ``encode``d into tensors.

    Each DDP rank reads its own contiguous slice of rows; the order of row groups and a shuffle buffer
    of ``shuffle_batches`` batches are shuffled per epoch from ``seed`` (deterministic, resumable by
    epoch). ``len()`` is the same on every rank (the smallest shard's full batches); a rank whose shard
    runs short (rows dropped by ``encode``) starts its shard again, so DDP ranks never wait on each other.
    ``encode(frame)`` turns a pandas frame of raw rows into aligned tensors and may drop rows.
    """

    def __init__(
        self,
        stream: ParquetStream,
        encode: Callable[[pd.DataFrame], tuple[torch.Tensor, ...]],
        batch_size: int,
        columns: Sequence[str] | None = None,
        seed: int = 0,
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        shuffle: bool = True,
        shuffle_batches: int = 16,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        self.stream = stream
        self.encode = encode
        self.batch_size = int(batch_size)
        self.columns = list(columns) if columns else None
        self.seed = int(seed)
        self.val_fraction = float(val_fraction)
        self.test_fraction = float(test_fraction)
        self.shuffle = shuffle
        self.shuffle_batches = max(1, int(shuffle_batches))
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self._lengths: dict[int, int] = {}

    batch_sampler = None  # read by Lightning's loader inspection; there is none

    @property
    def sampler(self) -> StreamingBatchLoader:
        """Lightning calls ``loader.sampler.set_epoch(epoch)`` at each epoch start; this is that sampler."""
        return self

    def set_epoch(self, epoch: int) -> None:
        """Fix the shuffle order of the coming epoch."""
        self.epoch = epoch

    def _shard(self, rank: int, world_size: int) -> tuple[int, int]:
        n = self.stream.num_rows
        return rank * n // world_size, (rank + 1) * n // world_size

    def _train_rows(self, start: int, stop: int, chunk: int = 1 << 22) -> int:
        total = 0
        for lo in range(start, stop, chunk):
            rows = np.arange(lo, min(lo + chunk, stop), dtype=np.uint64)
            total += int((split_codes(rows, self.seed, self.val_fraction, self.test_fraction) == 0).sum())
        return total

    def __len__(self) -> int:
        _, world_size = _distributed_partition(self.rank, self.world_size)
        if world_size not in self._lengths:
            shards = [self._train_rows(*self._shard(r, world_size)) for r in range(world_size)]
            self._lengths[world_size] = min(shards) // self.batch_size
        return self._lengths[world_size]

    def _encoded_chunks(self, start: int, stop: int, epoch: int) -> Iterator[tuple[torch.Tensor, ...]]:
        """Encoded training rows of [start, stop), row groups in this epoch's order, forever."""
        groups = self.stream.count_groups(start, stop)
        while True:
            order = None
            if self.shuffle:
                order = np.random.default_rng([self.seed, epoch]).permutation(groups).tolist()
            produced = False
            for first, batch in self.stream.iter_range(start, stop, self.columns, order):
                rows = np.arange(first, first + batch.num_rows, dtype=np.uint64)
                train = split_codes(rows, self.seed, self.val_fraction, self.test_fraction) == 0
                if not train.any():
                    continue
                tensors = self.encode(batch.filter(train).to_pandas())
                if tensors[0].shape[0]:
                    produced = True
                    yield tensors
            if not produced:
                raise DataError(
                    "no training rows in this process's share of the table", "give a larger table"
                )
            epoch += 1_000_003  # a new order for the wrap-around pass

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        import torch

        rank, world_size = _distributed_partition(self.rank, self.world_size)
        n_batches = len(self)
        if n_batches == 0:
            return
        chunks = self._encoded_chunks(*self._shard(rank, world_size), self.epoch)
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        buffer_rows = self.batch_size * self.shuffle_batches
        pending: list[tuple[torch.Tensor, ...]] = []
        pending_rows, produced = 0, 0
        while produced < n_batches:
            while pending_rows < min(buffer_rows, (n_batches - produced) * self.batch_size):
                chunk = next(chunks)
                pending.append(chunk)
                pending_rows += chunk[0].shape[0]
            data = tuple(torch.cat([c[i] for c in pending]) for i in range(len(pending[0])))
            if self.shuffle:
                order = torch.randperm(pending_rows, generator=generator)
                data = tuple(t[order] for t in data)
            full = pending_rows // self.batch_size
            for i in range(min(full, n_batches - produced)):
                yield tuple(t[i * self.batch_size : (i + 1) * self.batch_size] for t in data)
                produced += 1
            rest = full * self.batch_size
            pending = [tuple(t[rest:] for t in data)]
            pending_rows -= rest


# ---------------------------------------------------------------------- TabularDataModule(streaming=True)

MAX_ANCHOR_VALUES = 1000


def open_stream(dm: Any) -> ParquetStream:
    """``dm.path`` as a stream, after the checks a streaming datamodule needs (Parquet, random split, target)."""
    from lepton_core.errors import ConfigError

    if not dm.path or Path(dm.path).suffix.lower() not in (".parquet", ".pq", ""):
        raise ConfigError(
            f"data.streaming=true reads Parquet, not {dm.path or 'the demo data'}",
            "convert the table to Parquet (pandas: df.to_parquet) or set data.streaming=false",
        )
    if dm.time_column:
        raise ConfigError("data.streaming=true splits rows at random, not by time", "unset data.time_column")
    stream = ParquetStream(dm.path)
    if dm.target and dm.target not in stream.columns:
        raise DataError(
            f"target column '{dm.target}' not found (columns: {', '.join(stream.columns[:12])})",
            "set data.target",
        )
    return stream


def open_sample(dm: Any) -> tuple[ParquetStream, StreamSample]:
    """Open ``dm.path`` as a stream and collect the bounded per-split sample a streaming datamodule keeps."""
    stream = open_stream(dm)
    sample = collect_sample(
        stream,
        dm.target or stream.columns[-1],
        seed=dm.seed,
        val_fraction=dm.val_fraction,
        test_fraction=dm.test_fraction,
        max_rows=dm.streaming_sample_rows,
    )
    return stream, sample


def train_loader(dm: Any) -> StreamingBatchLoader:
    """Training batches of a streaming datamodule: every training row of the table, encoded like the sample."""
    import pandas as pd
    import torch

    values = dm.stream_sample.frame[dm.target]
    anchor = values.loc[~_missing(values)].drop_duplicates()
    anchor = anchor.head(0) if len(anchor) > MAX_ANCHOR_VALUES else anchor.reset_index(drop=True)

    def encode(frame: pd.DataFrame) -> tuple[torch.Tensor, ...]:
        frame = frame.loc[~_missing(frame[dm.target])]
        # encoded beside the sample's distinct values: class-based encoders see the same classes as in setup
        y = dm.encode_target(pd.concat([anchor, frame[dm.target]], ignore_index=True))[len(anchor) :]
        x_num, x_cat = dm.preprocessor.transform(frame)
        return x_num, x_cat, torch.as_tensor(y, dtype=dm.target_dtype)

    return StreamingBatchLoader(
        dm.stream,
        encode,
        dm.train_batch_size,
        columns=[*dm.preprocessor.columns, dm.target],
        seed=dm.seed,
        val_fraction=dm.val_fraction,
        test_fraction=dm.test_fraction,
    )
