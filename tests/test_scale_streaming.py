"""Out-of-core Parquet: record-batch reads, hash splits, bounded samples, DDP-rank shards, and a streamed finance run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lepton_core.errors import ConfigError, DataError
from lepton_core.tabular.streaming import (
    ParquetStream,
    StreamingBatchLoader,
    collect_sample,
    split_codes,
)
from lepton_core.testing.cli import latest_run, run_lepton


def _write(path: Path, n: int, row_group_size: int = 700) -> Path:
    frame = pd.DataFrame({"row": np.arange(n), "x": np.linspace(0, 1, n), "y": np.arange(n) % 3 == 0})
    frame.to_parquet(path, row_group_size=row_group_size)
    return path


def _rows(frame: pd.DataFrame) -> tuple[torch.Tensor, ...]:
    return (torch.as_tensor(frame["row"].to_numpy()),)


def test_iter_range_reads_only_the_rows_asked_for_across_row_groups(tmp_path: Path) -> None:
    stream = ParquetStream(_write(tmp_path / "t.parquet", 5000), batch_rows=300)
    assert (stream.num_rows, stream.columns) == (5000, ["row", "x", "y"])
    got = [(first, batch.column("row").to_pylist()) for first, batch in stream.iter_range(650, 2150, ["row"])]
    assert all(rows[0] == first for first, rows in got)
    assert [r for _, rows in got for r in rows] == list(range(650, 2150))
    assert max(len(rows) for _, rows in got) <= 300, "never more than one record batch at a time"


def test_a_directory_of_parquet_files_is_one_table(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    for i in range(3):
        frame = pd.DataFrame({"row": np.arange(i * 100, (i + 1) * 100), "x": 0.5, "y": True})
        frame.to_parquet(tmp_path / "parts" / f"part-{i}.parquet")
    stream = ParquetStream(tmp_path / "parts")
    rows = [r for _, b in stream.iter_range(0, stream.num_rows) for r in b.column("row").to_pylist()]
    assert rows == list(range(300))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "absent.parquet", "data file not found"),
        (
            lambda p: (p / "bad.parquet").write_text("not parquet") and p / "bad.parquet",
            "cannot read Parquet file",
        ),
        (lambda p: pd.DataFrame({"x": []}).to_parquet(p / "empty.parquet") or p / "empty.parquet", "no rows"),
        (lambda p: (p / "d").mkdir() or p / "d", "no .parquet files"),
    ],
)
def test_unusable_parquet_is_a_data_error(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(DataError, match=message):
        ParquetStream(make(tmp_path))


def test_split_codes_are_stateless_and_match_the_fractions() -> None:
    rows = np.arange(200_000, dtype=np.uint64)
    codes = split_codes(rows, seed=3, val_fraction=0.1, test_fraction=0.2)
    assert np.array_equal(codes[1000:2000], split_codes(rows[1000:2000], 3, 0.1, 0.2)), (
        "any slice, same split"
    )
    shares = np.bincount(codes, minlength=3) / len(rows)
    assert shares == pytest.approx([0.7, 0.1, 0.2], abs=0.005)
    assert not np.array_equal(codes, split_codes(rows, 4, 0.1, 0.2)), "the seed changes the split"


def test_sample_is_bounded_per_split_and_agrees_with_the_split_codes(tmp_path: Path) -> None:
    stream = ParquetStream(_write(tmp_path / "t.parquet", 20_000), batch_rows=1000)
    sample = collect_sample(stream, "y", seed=1, val_fraction=0.15, test_fraction=0.15, max_rows=1500)
    assert sum(sample.rows_per_split.values()) == 20_000
    for code, (split, positions) in enumerate(sample.splits.items()):
        assert 1200 <= len(positions) <= 1800, split
        rows = sample.frame["row"].to_numpy()[positions].astype(np.uint64)
        assert set(split_codes(rows, 1, 0.15, 0.15).tolist()) == {code}


def test_training_stream_shards_by_rank_with_equal_batch_counts(tmp_path: Path) -> None:
    stream = ParquetStream(_write(tmp_path / "t.parquet", 9_000), batch_rows=500)
    loaders = [StreamingBatchLoader(stream, _rows, 64, seed=2, rank=r, world_size=3) for r in range(3)]
    seen = [torch.cat([b[0] for b in loader]) for loader in loaders]
    assert len({len(loader) for loader in loaders}) == 1 and len(loaders[0]) > 0
    assert [len(s) for s in seen] == [len(loaders[0]) * 64] * 3, "every rank yields len() full batches"
    everything = torch.cat(seen)
    assert len(set(everything.tolist())) == len(everything), "ranks read disjoint rows"
    assert set(split_codes(everything.numpy().astype(np.uint64), 2, 0.15, 0.15).tolist()) == {0}, (
        "train rows only"
    )
    for rank, rows in enumerate(seen):
        assert rows.min() >= rank * 3000 and rows.max() < (rank + 1) * 3000, "each rank reads its own slice"


def test_training_stream_order_is_seeded_per_epoch(tmp_path: Path) -> None:
    stream = ParquetStream(_write(tmp_path / "t.parquet", 4_000), batch_rows=400)

    def epoch_rows(epoch: int) -> list[int]:
        loader = StreamingBatchLoader(stream, _rows, 50, seed=5)
        loader.sampler.set_epoch(epoch)
        return torch.cat([b[0] for b in loader]).tolist()

    assert epoch_rows(1) == epoch_rows(1), "a resumed epoch sees the same order"
    assert epoch_rows(1) != epoch_rows(2)


def test_rank_short_of_rows_starts_its_shard_again(tmp_path: Path) -> None:
    stream = ParquetStream(_write(tmp_path / "t.parquet", 3_000), batch_rows=250)
    drop_most = lambda frame: _rows(frame.loc[frame["row"] % 10 == 0])
    loader = StreamingBatchLoader(stream, drop_most, 32, seed=0, rank=0, world_size=2)
    assert len(list(loader)) == len(loader) > 0


def test_streaming_needs_parquet_and_a_random_split(tmp_path: Path) -> None:
    from lepton_core.tabular.streaming import open_sample

    class Options:
        path, target, seed, val_fraction, test_fraction, streaming_sample_rows = None, "y", 0, 0.15, 0.15, 100
        time_column = None

    options = Options()
    options.path = str(tmp_path / "t.csv")
    with pytest.raises(ConfigError, match="reads Parquet"):
        open_sample(options)
    options.path, options.time_column = str(_write(tmp_path / "t.parquet", 100)), "x"
    with pytest.raises(ConfigError, match="not by time"):
        open_sample(options)


@pytest.mark.slow
def test_finance_trains_on_a_streamed_table_with_two_ddp_processes(tmp_path: Path) -> None:
    from lepton_finance.demo import DEMOS

    make_credit = DEMOS["credit"][1]
    make_credit(n_rows=4000, seed=0).to_parquet(tmp_path / "credit.parquet", row_group_size=500)
    args = [
        "run",
        "plugin=finance",
        "task=credit_scoring",
        "data.path=credit.parquet",
        "data.target=default",
        "data.streaming=true",
        "data.streaming_sample_rows=400",
        "data.drop=[applicant_id,application_date]",
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "debug=smoke",
    ]
    proc = run_lepton(args, tmp_path, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    run_dir = latest_run(tmp_path, "finance", "credit_scoring")
    job_dirs = {p.parent for p in tmp_path.rglob("*.log")} | {p.parent for p in tmp_path.rglob(".hydra")}
    assert job_dirs == {run_dir}, "the other rank must not create an output directory of its own"
    assert (run_dir / "train_ddp_process_1.log").is_file(), "two processes trained"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    data = metrics["data"]
    assert data["split"] == "random by row hash (streamed)"
    assert sum(data[f"{s} rows in the table"] for s in ("train", "val", "test")) == 4000
    assert data["train rows"] < data["train rows in the table"], "only a bounded sample is held in memory"
    from lepton_core.bundle import load_bundle

    bundle = load_bundle(run_dir / "bundle")
    assert len(bundle.predictor.predict(bundle.manifest["input_example"])) == 2
