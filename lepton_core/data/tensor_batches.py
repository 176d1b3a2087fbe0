"""Batches sliced from in-memory tensors: no per-row Dataset/collate overhead for tabular data."""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

__all__ = ["TensorBatchLoader"]


class TensorBatchLoader:
    """Iterate over aligned tensors in (optionally shuffled) batches of ``batch_size`` rows.

    Shuffling uses its own generator seeded from ``seed`` and the epoch number (set by Lightning through
    ``sampler.set_epoch``), so runs are deterministic and a resumed run sees the same order as an
    uninterrupted one.
    """

    def __init__(
        self,
        *tensors: torch.Tensor,
        batch_size: int = 512,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int = 0,
    ) -> None:
        if not tensors:
            raise ValueError("TensorBatchLoader needs at least one tensor")
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            raise ValueError("all tensors must have the same number of rows")
        self.tensors = tensors
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        n = self.tensors[0].shape[0]
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
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            order = torch.randperm(n, generator=generator)
            data = tuple(t[order] for t in self.tensors)
        else:
            data = self.tensors
        for i in range(len(self)):
            yield tuple(t[i * self.batch_size : (i + 1) * self.batch_size] for t in data)
