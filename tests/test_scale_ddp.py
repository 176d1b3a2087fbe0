"""DDP: inside `-m` sweeps each job's ranks share that job's directory; TensorBatchLoader shards by rank.

The single-run DDP test of a vertical (two gloo processes, one run directory, a valid bundle) is in
test_scale_streaming.py, on finance with a streamed Parquet table."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from lepton_core.bundle import load_bundle
from lepton_core.data.tensor_batches import TensorBatchLoader
from lepton_core.testing.cli import run_lepton

DDP_ARGS = ["trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", "debug=smoke"]


def _run_dirs(output_dir: Path) -> list[Path]:
    """Every directory holding a Hydra job (a `.hydra` folder or a job log) under ``output_dir``."""
    return sorted(
        {p.parent for p in output_dir.rglob("*.log")} | {p.parent for p in output_dir.rglob(".hydra")}
    )


@pytest.mark.slow
def test_ddp_inside_a_multirun_job_stays_in_that_jobs_directory(tmp_path: Path) -> None:
    proc = run_lepton(["run", "plugin=example", *DDP_ARGS, "model.hidden=8,16", "-m"], tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sweep = sorted((tmp_path / "multirun" / "example" / "classify").glob("*"))
    assert len(sweep) == 1
    assert sorted(p.name for p in sweep[0].iterdir() if p.is_dir()) == ["0", "1"]
    for job in ("0", "1"):
        assert (sweep[0] / job / "train_ddp_process_1.log").is_file()
        load_bundle(sweep[0] / job / "bundle")
    assert _run_dirs(tmp_path) == [sweep[0] / "0", sweep[0] / "1"]


def test_training_loader_shards_rows_evenly_between_ranks() -> None:
    x = torch.arange(101)
    shards = [
        TensorBatchLoader(x, batch_size=8, shuffle=True, seed=3, rank=r, world_size=4) for r in range(4)
    ]
    rows = [torch.cat([b[0] for b in loader]) for loader in shards]
    assert {len(loader) for loader in shards} == {4}, "every rank must see the same number of batches"
    assert {len(r) for r in rows} == {26}
    assert set(torch.cat(rows).tolist()) == set(range(101)), "together the ranks see every row"
    single = torch.cat([b[0] for b in TensorBatchLoader(x, batch_size=8, shuffle=True, seed=3)])
    assert sorted(single.tolist()) == list(range(101)), "without DDP nothing changes"


def test_evaluation_loaders_are_not_sharded_by_default() -> None:
    loader = TensorBatchLoader(torch.arange(10), batch_size=4, rank=1, world_size=2)
    assert torch.cat([b[0] for b in loader]).tolist() == list(range(10))


SHARD_SCRIPT = textwrap.dedent(
    """
    import sys, torch, torch.distributed as dist, torch.multiprocessing as mp
    from lepton_core.data.tensor_batches import TensorBatchLoader

    def work(rank, path):
        dist.init_process_group("gloo", init_method=f"file://{path}.store", rank=rank, world_size=2)
        loader = TensorBatchLoader(torch.arange(11), batch_size=4, shuffle=True, seed=5)
        rows = torch.cat([b[0] for b in loader])
        gathered = [None, None]
        dist.all_gather_object(gathered, (len(loader), rows.tolist()))
        if rank == 0:
            open(path, "w").write(repr(gathered))
        dist.destroy_process_group()

    if __name__ == "__main__":
        mp.spawn(work, args=(sys.argv[1],), nprocs=2)
    """
)


def test_training_loader_shards_by_torch_distributed_rank(tmp_path: Path) -> None:
    script = tmp_path / "shard.py"
    script.write_text(SHARD_SCRIPT)
    result = tmp_path / "result.txt"
    proc = subprocess.run(
        [sys.executable, str(script), str(result)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (len0, rows0), (len1, rows1) = eval(result.read_text())
    assert len0 == len1 == 2
    assert len(rows0) == len(rows1) == 6
    assert set(rows0) | set(rows1) == set(range(11))
