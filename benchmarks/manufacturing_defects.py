"""Defect detection: convolutional VAE and plain autoencoder beside the pixel-Gaussian and PCA baselines.

On generated surfaces at several defect strengths, prints test image AUROC / pixel AUROC of each detector
and the networks' training time as a ratio of the pixel-Gaussian fit (the reference run of this script).

    .venv/bin/python benchmarks/manufacturing_defects.py [--quick] [--epochs 30] [--strengths 0.6 1.0]
"""

from __future__ import annotations

import argparse
import time

import lightning as L
from sklearn.metrics import roc_auc_score

from lepton_manufacturing.defects.baseline import PCABaseline, PixelGaussianBaseline
from lepton_manufacturing.defects.data import DefectDataModule
from lepton_manufacturing.defects.evaluation import model_scores
from lepton_manufacturing.defects.model import SurfaceAutoencoder


def _aurocs(dm: DefectDataModule, scores: object, maps: object) -> tuple[float, float]:
    test = dm.sets["test"]
    assert test.masks is not None
    return roc_auc_score(test.labels, scores), roc_auc_score(test.masks.ravel(), maps.ravel())  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="96 training images, 5 epochs, one strength")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.6, 1.0])
    args = parser.parse_args()
    n_train, epochs, strengths = (96, 5, [1.0]) if args.quick else (240, args.epochs, args.strengths)
    print(f"{'strength':<10}{'detector':<16}{'image_auroc':>12}{'pixel_auroc':>12}{'fit time / pixel_gaussian':>27}")
    for strength in strengths:
        dm = DefectDataModule(n_train=n_train, defect_strength=strength, seed=42, batch_size=16)
        dm.setup()
        start = time.perf_counter()
        reference = PixelGaussianBaseline().fit(dm)
        reference_time = max(time.perf_counter() - start, 1e-3)
        rows = [("pixel_gaussian", *_aurocs(dm, *reference.predict(dm.float_images("test"))), 1.0)]
        start = time.perf_counter()
        pca = PCABaseline(seed=42).fit(dm)
        rows.append(("pca", *_aurocs(dm, *pca.predict(dm.float_images("test"))), (time.perf_counter() - start) / reference_time))
        for name, variational in (("vae", True), ("autoencoder", False)):
            L.seed_everything(42, verbose=False)
            model = SurfaceAutoencoder(**dm.model_kwargs(), variational=variational)
            trainer = L.Trainer(max_epochs=epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                                enable_model_summary=False, accelerator="cpu")
            start = time.perf_counter()
            trainer.fit(model, datamodule=dm)
            ratio = (time.perf_counter() - start) / reference_time
            rows.append((name, *_aurocs(dm, *model_scores(model, dm.float_images("test"))), ratio))
        for name, image_auc, pixel_auc, ratio in rows:
            print(f"{strength:<10}{name:<16}{image_auc:>12.3f}{pixel_auc:>12.3f}{ratio:>27.0f}")


if __name__ == "__main__":
    main()
