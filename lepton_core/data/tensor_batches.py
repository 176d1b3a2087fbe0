"""Batches sliced from in-memory tensors: no per-row Dataset/collate overhead for tabular data."""

from __future__ import annotations

import math
from collections.abc import Iterator
from numbers import Real

import torch

from lepton_core.errors import ConfigError

__all__ = ["TensorBatchLoader"]


class TensorBatchLoader:
    """Iterate over aligned tensors in (optionally shuffled) batches of ``batch_size`` rows.

    Shuffling uses its own generator seeded from ``seed`` and the epoch number (set by Lightning through
    ``sampler.set_epoch``), so runs are deterministic and a resumed run sees the same order as an
    uninterrupted one.

    Under DDP (``torch.distributed`` initialised with several processes) a sharded loader gives each rank
    every ``world_size``-th row of the epoch's order, padded by wrapping so that every rank gets the same
    number of batches. ``shard=None`` shards the shuffled (training) loaders only, so validation and test
    loaders keep seeing every row on every rank; ``rank``/``world_size`` override what torch.distributed says.
    """

    def __init__(
        self,
        *tensors: torch.Tensor,
        batch_size: int = 512,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int = 0,
        shard: bool | None = None,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        if not tensors:
            raise ValueError("TensorBatchLoader needs at least one tensor")
        if isinstance(batch_size, bool) or not isinstance(batch_size, Real) or batch_size < 1 or batch_size % 1:
            raise ConfigError(f"batch size {batch_size!r} is not a positive integer", "set data.batch_size to 1 or more")
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            raise ValueError("all tensors must have the same number of rows")
        self.tensors = tensors
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.shard = shuffle if shard is None else shard
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0

    def _partition(self) -> tuple[int, int]:
        """(rank, world size) this loader shards for; (0, 1) when it does not shard."""
        if not self.shard:
            return 0, 1
        if self.world_size is not None:
            return int(self.rank or 0), int(self.world_size)
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
        return 0, 1

    def _rows(self) -> int:
        n = self.tensors[0].shape[0]
        _, world_size = self._partition()
        return math.ceil(n / world_size)

    def __len__(self) -> int:
        n = self._rows()
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Fix the shuffle order of the coming epoch."""
        self.epoch = epoch

    batch_sampler = None  # read by Lightning's loader inspection; there is none

    @property
    def sampler(self) -> TensorBatchLoader:
        """Lightning calls ``loader.sampler.set_epoch(epoch)`` at each epoch start; this is that sampler."""
        return self

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        n = self.tensors[0].shape[0]
        rank, world_size = self._partition()
        order: torch.Tensor | None = None
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            order = torch.randperm(n, generator=generator)
        if world_size > 1 and n > 0:
            order = torch.arange(n) if order is None else order
            total = self._rows() * world_size
            order = order.repeat(math.ceil(total / n))[:total][rank::world_size]
        data = self.tensors if order is None else tuple(t[order] for t in self.tensors)
        for i in range(len(self)):
            yield tuple(t[i * self.batch_size : (i + 1) * self.batch_size] for t in data)
