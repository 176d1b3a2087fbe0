"""Two-moons data: generated, or read from a CSV with columns x1, x2, label."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch

from lepton_core import DataError
from lepton_core.data.tensor_batches import TensorBatchLoader

FEATURES = ("x1", "x2")


def make_moons(n_samples: int, noise: float, seed: int) -> pd.DataFrame:
    """Generate the two-moons table deterministically."""
    from sklearn.datasets import make_moons as sk_moons

    x, y = sk_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "label": y})


class MoonsDataModule(L.LightningDataModule):
    """Standardised two-moons features in a 60/20/20 train/val/test split."""

    def __init__(
        self, path: str | None = None, n_samples: int = 600, noise: float = 0.15, batch_size: int = 64, seed: int = 0
    ) -> None:
        super().__init__()
        self.path, self.n_samples, self.noise, self.batch_size, self.seed = path, n_samples, noise, batch_size, seed
        self.n_features = len(FEATURES)
        self.mean: np.ndarray | None = None

    def _load(self) -> pd.DataFrame:
        if self.path is None:
            return make_moons(self.n_samples, self.noise, self.seed)
        path = Path(self.path)
        if not path.is_file():
            raise DataError(f"data file not found: {path}", "check data.path")
        frame = pd.read_csv(path)
        missing = [c for c in (*FEATURES, "label") if c not in frame.columns]
        if missing:
            raise DataError(f"{path} lacks column(s) {', '.join(missing)}", "provide x1, x2 and label columns")
        if frame["label"].nunique() < 2:
            raise DataError(f"{path}: the label has a single class", "provide examples of both classes")
        return frame

    def setup(self, stage: str | None = None) -> None:
        """Load, split and standardise (statistics from the training split only)."""
        if self.mean is not None:
            return
        frame = self._load().sample(frac=1.0, random_state=self.seed).reset_index(drop=True)
        x = frame[list(FEATURES)].to_numpy(np.float32)
        y = frame["label"].to_numpy(np.float32)
        n_train, n_val = int(0.6 * len(x)), int(0.2 * len(x))
        self.mean, self.std = x[:n_train].mean(0), x[:n_train].std(0) + 1e-6
        z = (x - self.mean) / self.std
        parts = np.split(np.arange(len(x)), [n_train, n_train + n_val])
        self.splits = {name: (torch.from_numpy(z[i]), torch.from_numpy(y[i])) for name, i in zip(("train", "val", "test"), parts)}
        self.raw = {name: x[i] for name, i in zip(("train", "val", "test"), parts)}

    def train_dataloader(self) -> Any:
        return TensorBatchLoader(*self.splits["train"], batch_size=self.batch_size, shuffle=True, seed=self.seed)

    def val_dataloader(self) -> Any:
        return TensorBatchLoader(*self.splits["val"], batch_size=256)

    def test_dataloader(self) -> Any:
        return TensorBatchLoader(*self.splits["test"], batch_size=256)

    def summary(self) -> dict[str, Any]:
        """Split sizes for the report."""
        return {f"{k} rows": int(v[0].shape[0]) for k, v in self.splits.items()}

    def export_state(self) -> dict[str, Any]:
        """The fitted standardisation."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "features": list(FEATURES)}

    def input_example(self) -> list[dict[str, float]]:
        """Two made-up points from the fitted standardisation (the training mean, one std above): no data rows."""
        return [dict(zip(FEATURES, map(float, self.mean + shift * self.std))) for shift in (0.0, 1.0)]

    def reference_inputs(self) -> list[dict[str, float]]:
        """Raw training rows, profiled into the bundle's drift reference."""
        return [dict(zip(FEATURES, map(float, row))) for row in self.raw["train"]]
