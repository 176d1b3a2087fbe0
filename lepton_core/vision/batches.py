"""Training batches sliced from an in-memory uint8 image stack, augmented per sample and normalised on the fly."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch

from lepton_core.data.tensor_batches import TensorBatchLoader

__all__ = ["ImageBatchLoader", "normalize_batch"]


def normalize_batch(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 ``(N, C, H, W)`` -> float32 scaled to 0..1, minus ``mean``, divided by ``std`` (one value per channel)."""
    x = images.float().div_(255.0)
    m = torch.as_tensor(mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    s = torch.as_tensor(std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return x.sub_(m).div_(s)


class ImageBatchLoader(TensorBatchLoader):
    """Batches of ``(normalised float images, *targets)`` from a uint8 ``(N, C, H, W)`` stack held in memory.

    No files are opened and no per-item Dataset/collate runs: each batch is a slice of the stack (shuffled
    deterministically per epoch, as ``TensorBatchLoader``). ``transform`` (e.g. a torchvision ``v2.Compose``)
    is applied to each uint8 ``(C, H, W)`` image of a batch separately, so every image gets its own random
    augmentation (drawn from the loader's own random state, seeded by ``seed`` and the epoch: deterministic,
    and independent of the global torch RNG); then the batch is scaled to 0..1 and normalised.
    """

    def __init__(
        self,
        images: torch.Tensor,
        *targets: torch.Tensor,
        batch_size: int = 64,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int = 0,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        mean: Sequence[float] = (0.5,),
        std: Sequence[float] = (0.25,),
    ) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError("ImageBatchLoader needs a uint8 (N, C, H, W) tensor")
        super().__init__(
            images, *targets, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed
        )
        self.transform = transform
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)

    def _augment(self, images: torch.Tensor, rng_state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Apply ``transform`` to each image, on one thread (intra-op threads only add overhead on single
        images) and with the loader's own random state, so the global torch RNG is left untouched."""
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.random.fork_rng(devices=[]):
                torch.set_rng_state(rng_state)
                augmented = torch.stack([self.transform(image) for image in images])  # type: ignore[misc]
                return augmented, torch.get_rng_state()
        finally:
            torch.set_num_threads(threads)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        rng_state = torch.Generator().manual_seed(self.seed * 7_919 + self.epoch).get_state()
        for images, *targets in super().__iter__():
            if self.transform is not None:
                images, rng_state = self._augment(images, rng_state)
            yield (normalize_batch(images, self.mean, self.std), *targets)
