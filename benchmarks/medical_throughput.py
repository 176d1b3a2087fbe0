"""Training throughput of the medical imaging plugin vs a plain torchvision training loop.

Both train the same network (``--arch``) on the same generated demo scans with the same torchvision v2
augmentation, batch size and optimiser:

- lepton: ``MedicalImageDataModule`` (decoded uint8 stack in memory, per-image v2 augmentation) and
  ``ImageClassifier`` through a Lightning ``Trainer`` (no validation, logging or checkpoints while timing);
- plain: a torch ``Dataset`` over the same uint8 tensors applying the v2 pipeline per item, a ``DataLoader``
  and a hand-written loop (``zero_grad / forward / loss / backward / step``).

The first epoch of each is a warm-up and is not timed; the two are run alternately ``--repeats`` times and
the best epoch rate of each is kept (the machine may be shared). Prints images/s and the ratio (goal >= 0.85),
and the rate of data loading alone (no model) for both.

    python benchmarks/medical_throughput.py            # 1200 images, 64 px, small CNN
    python benchmarks/medical_throughput.py --quick    # a fast look
    python benchmarks/medical_throughput.py --arch resnet18 --size 64
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from typing import Any

import lightning as L
import torch
from lepton_medical_imaging.data import MedicalImageDataModule, build_augmentation
from lepton_medical_imaging.models import ImageClassifier, build_backbone
from torch.utils.data import DataLoader, Dataset

AUGMENT = {
    "horizontal_flip": 0.5,
    "rotation_degrees": 10,
    "translate": 0.05,
    "scale": [0.9, 1.1],
    "brightness": 0.1,
    "contrast": 0.1,
}


class EpochTimer(L.Callback):
    """Wall time and image count of every training epoch."""

    def __init__(self) -> None:
        self.rates: list[float] = []

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.start, self.images = time.perf_counter(), 0

    def on_train_batch_end(
        self, trainer: L.Trainer, module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self.images += len(batch[1])

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.rates.append(self.images / (time.perf_counter() - self.start))


def lepton_rate(datamodule: MedicalImageDataModule, args: argparse.Namespace) -> float:
    """Best images/s over timed epochs through the datamodule and LightningModule."""
    model = ImageClassifier(num_classes=2, in_channels=1, arch=args.arch, width=args.width, lr=3e-3)
    timer = EpochTimer()
    trainer = L.Trainer(
        max_epochs=args.epochs + 1,
        accelerator="auto",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        callbacks=[timer],
    )
    trainer.fit(model, train_dataloaders=datamodule.train_dataloader())
    return max(timer.rates[1:])


class AugmentedImages(Dataset):
    """The textbook torchvision dataset: one uint8 image per item, augmented, scaled and normalised."""

    def __init__(
        self, images: torch.Tensor, labels: torch.Tensor, transform: Any, mean: list[float], std: list[float]
    ) -> None:
        self.images, self.labels, self.transform = images, labels, transform
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.transform(self.images[index]).float() / 255.0
        return (image - self.mean) / self.std, self.labels[index]


def plain_rate(datamodule: MedicalImageDataModule, args: argparse.Namespace) -> float:
    """Best images/s over timed epochs of a hand-written loop with a torch DataLoader."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    images, labels = datamodule.splits["train"]
    dataset = AugmentedImages(images, labels, build_augmentation(AUGMENT), datamodule.mean, datamodule.std)
    loader = DataLoader(
        dataset, batch_size=args.batch_size, shuffle=True, drop_last=True, num_workers=args.workers
    )
    model = build_backbone(args.arch, 2, 1, None, args.width).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    rates = []
    for _ in range(args.epochs + 1):
        model.train()
        start, count = time.perf_counter(), 0
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            optimizer.step()
            count += len(y)
        if device.type == "cuda":
            torch.cuda.synchronize()
        rates.append(count / (time.perf_counter() - start))
    return max(rates[1:])


def loading_rates(datamodule: MedicalImageDataModule, args: argparse.Namespace) -> tuple[float, float]:
    """Images/s of data loading alone (augmented, normalised batches, no model): lepton loader vs DataLoader."""
    images, labels = datamodule.splits["train"]
    dataset = AugmentedImages(images, labels, build_augmentation(AUGMENT), datamodule.mean, datamodule.std)
    plain = DataLoader(
        dataset, batch_size=args.batch_size, shuffle=True, drop_last=True, num_workers=args.workers
    )
    rates = []
    for loader in (datamodule.train_dataloader(), plain):
        start, count = time.perf_counter(), 0
        for _, y in loader:
            count += len(y)
        rates.append(count / (time.perf_counter() - start))
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1200)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--arch", default="small_cnn")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per run (plus one warm-up)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers of the plain loop")
    parser.add_argument("--quick", action="store_true", help="400 images, 1 timed epoch, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.images, args.epochs, args.repeats = 400, 1, 1
    warnings.filterwarnings("ignore")
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    L.seed_everything(0, verbose=False)
    datamodule = MedicalImageDataModule(
        size=args.size, demo_images=args.images, batch_size=args.batch_size, augment=AUGMENT, seed=0
    )
    datamodule.setup("fit")
    lepton, plain = [], []
    lepton_loading, plain_loading = loading_rates(datamodule, args)
    for _ in range(args.repeats):
        lepton.append(lepton_rate(datamodule, args))
        plain.append(plain_rate(datamodule, args))
    print(
        f"medical_imaging training throughput: {args.arch}, {args.size}px, batch {args.batch_size}, "
        f"{len(datamodule.splits['train'][1])} training images, {torch.get_num_threads()} threads, "
        f"{'cuda' if torch.cuda.is_available() else 'cpu'}"
    )
    print(
        f"  lepton (datamodule + LightningModule + Trainer): {max(lepton):8.1f} images/s   runs: {', '.join(f'{r:.1f}' for r in lepton)}"
    )
    print(
        f"  plain torchvision loop (Dataset + DataLoader):   {max(plain):8.1f} images/s   runs: {', '.join(f'{r:.1f}' for r in plain)}"
    )
    print(f"  ratio lepton / plain: {max(lepton) / max(plain):.2f}  (goal >= 0.85)")
    print(
        f"  data loading alone (augmented batches, no model): lepton {lepton_loading:.0f} images/s, "
        f"DataLoader {plain_loading:.0f} images/s ({lepton_loading / plain_loading:.1f}x)"
    )


if __name__ == "__main__":
    main()
