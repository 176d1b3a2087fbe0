"""Predictive maintenance: GRU, LSTM and 1D CNN beside the gradient-boosting baseline on the generated fleet.

Prints test RMSE / PHM08 score and each model's training time as a ratio of the baseline's fit time (the
reference run of this script), so the figures compare across machines.

    .venv/bin/python benchmarks/manufacturing_maintenance.py [--quick] [--units 100] [--epochs 25]
"""

from __future__ import annotations

import argparse
import time

import lightning as L
import numpy as np
from lepton_manufacturing.maintenance.baseline import WindowBoostingBaseline
from lepton_manufacturing.maintenance.data import MaintenanceDataModule
from lepton_manufacturing.maintenance.evaluation import rul_metrics
from lepton_manufacturing.maintenance.model import RULNet

from lepton_core.data.inference import predict_loader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 units, 3 epochs")
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=25)
    args = parser.parse_args()
    units, epochs = (30, 3) if args.quick else (args.units, args.epochs)
    dm = MaintenanceDataModule(n_units=units, n_test_units=units, seed=42)
    dm.setup()
    truth = dm.tensors["test"][1].numpy()
    start = time.perf_counter()
    baseline = WindowBoostingBaseline(seed=42).fit(dm)
    reference = time.perf_counter() - start
    rows = [("gradient_boosting", rul_metrics(truth, baseline.predict(dm.tensors["test"][0].numpy())), 1.0)]
    for cell in ("gru", "lstm", "cnn"):
        L.seed_everything(42, verbose=False)
        model = RULNet(**dm.model_kwargs(), cell=cell, hidden_size=32, lr=0.01)
        trainer = L.Trainer(max_epochs=epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                            enable_model_summary=False, accelerator="cpu")
        start = time.perf_counter()
        trainer.fit(model, datamodule=dm)
        ratio = (time.perf_counter() - start) / reference
        rows.append((cell, rul_metrics(truth, predict_loader(model, dm.test_dataloader()).numpy()), ratio))
    print(f"generated fleet: {units} train units, {len(truth)} test units, window {dm.window}, {epochs} epochs")
    print(f"{'model':<18}{'rmse':>8}{'mae':>8}{'phm08':>10}{'train time / baseline fit':>28}")
    for name, metrics, ratio in rows:
        print(f"{name:<18}{metrics['rmse']:>8.2f}{metrics['mae']:>8.2f}{metrics['phm08_score']:>10.0f}{ratio:>28.1f}")
    best = min(rows, key=lambda r: r[1]["rmse"])
    print(f"lowest RMSE: {best[0]} (baseline fit took {reference:.1f}s here; spread {np.ptp([r[1]['rmse'] for r in rows]):.2f})")


if __name__ == "__main__":
    main()
