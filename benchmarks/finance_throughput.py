"""Finance training speed: Lightning epoch throughput vs a plain PyTorch loop, and time to the logistic AUC.

On ``--rows`` generated credit applications (default 1M):

1. Epoch throughput (rows/s) of the finance RiskClassifier trained by Lightning from the datamodule's
   in-memory TensorBatchLoader, beside a plain PyTorch loop over the same tensors, model, optimizer
   and schedule, in the same process (best of ``--repeats`` alternating runs; goal: ratio >= 0.85).
2. Time to reach the logistic baseline's validation ROC-AUC: the network (Lightning, AUC checked every
   quarter epoch) beside scikit-learn's HistGradientBoosting (checked every 10 boosting iterations).

    .venv/bin/python benchmarks/finance_throughput.py [--rows 1000000] [--quick] [--threads 1]
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from typing import Any

import lightning as L
import numpy as np
import torch
from lepton_finance.data import FinanceDataModule
from sklearn.metrics import roc_auc_score

from lepton_core.tabular.baselines import LogisticBaseline
from lepton_core.tabular.classifier import RiskClassifier

MODEL_OPTIONS: dict[str, Any] = {"hidden": (128, 64), "dropout": 0.3, "lr": 0.003, "weight_decay": 0.05}


class EpochTimer(L.Callback):
    """Wall time of each training epoch."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.seconds.append(time.perf_counter() - self.start)


class TargetAUC(L.Callback):
    """Checks validation ROC-AUC every ``every`` training batches (time not counted); stops at ``target``."""

    def __init__(self, dm: FinanceDataModule, target: float, every: int) -> None:
        self.dm, self.target, self.every = dm, target, every
        self.reached: float | None = None
        self.best = 0.0

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.start, self.checking = time.perf_counter(), 0.0

    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, *args: Any) -> None:
        if (trainer.global_step % self.every) or self.reached is not None:
            return
        check_start = time.perf_counter()
        auc = validation_auc(module, self.dm)
        self.best = max(self.best, auc)
        if auc >= self.target:
            self.reached = check_start - self.start - self.checking
            trainer.should_stop = True
        self.checking += time.perf_counter() - check_start


def validation_auc(module: torch.nn.Module, dm: FinanceDataModule) -> float:
    """ROC-AUC of the network on the validation split."""
    y = dm.tensors["val"][2]
    was_training = module.training
    module.eval()
    with torch.inference_mode():
        scores = torch.cat([module(a, b) for a, b, _ in dm.loader("val")])
    module.train(was_training)
    return float(roc_auc_score(y.numpy(), scores.numpy()))


def trainer(max_epochs: int, callbacks: list[L.Callback]) -> L.Trainer:
    """A quiet CPU trainer without validation, checkpoints or logging."""
    return L.Trainer(
        accelerator="auto", devices=1, max_epochs=max_epochs, limit_val_batches=0, num_sanity_val_steps=0,
        enable_checkpointing=False, logger=False, enable_progress_bar=False, enable_model_summary=False,
        callbacks=callbacks,
    )


def lightning_epoch(dm: FinanceDataModule, seed: int) -> float:
    """Seconds of the second Lightning epoch (the first warms up)."""
    torch.manual_seed(seed)
    timer = EpochTimer()
    trainer(2, [timer]).fit(RiskClassifier(**dm.model_kwargs(), **MODEL_OPTIONS), datamodule=dm)
    return timer.seconds[-1]


def plain_epoch(dm: FinanceDataModule, seed: int) -> float:
    """Seconds of the second epoch of a hand-written loop: same model, loss, optimizer, schedule, batches."""
    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = RiskClassifier(**dm.model_kwargs(), **MODEL_OPTIONS).to(device)
    loader = dm.train_dataloader()
    groups = model.parameter_groups()
    optimizer = torch.optim.AdamW(groups, lr=MODEL_OPTIONS["lr"], weight_decay=MODEL_OPTIONS["weight_decay"])
    peaks = [group["lr"] for group in groups]
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peaks, total_steps=2 * len(loader))
    seconds = 0.0
    for epoch in range(2):
        loader.set_epoch(epoch)
        start = time.perf_counter()
        model.train()
        for x_num, x_cat, y in loader:
            x_num, x_cat, y = x_num.to(device), x_cat.to(device), y.to(device)
            loss = model._loss(model(x_num, x_cat), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    return seconds


def network_time_to(dm: FinanceDataModule, target: float, seed: int, max_epochs: int) -> tuple[float | None, float]:
    """Seconds of Lightning training until the validation AUC reaches ``target`` (None if never), best AUC."""
    torch.manual_seed(seed)
    every = max(1, len(dm.train_dataloader()) // 4)
    probe = TargetAUC(dm, target, every)
    trainer(max_epochs, [probe]).fit(RiskClassifier(**dm.model_kwargs(), **MODEL_OPTIONS), datamodule=dm)
    return probe.reached, probe.best


def boosting_time_to(dm: FinanceDataModule, target: float, seed: int, max_iter: int = 300) -> tuple[float | None, float]:
    """Seconds of HistGradientBoosting fitting (warm start, +10 trees a step) until the validation AUC reaches ``target``."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    x_num, x_cat, y = dm.tensors["train"]
    matrix = np.hstack([x_num.numpy(), x_cat.numpy().astype(np.float32)])
    v_num, v_cat, v_y = dm.tensors["val"]
    val_matrix = np.hstack([v_num.numpy(), v_cat.numpy().astype(np.float32)])
    categorical = list(range(x_num.shape[1], matrix.shape[1])) or None
    model = HistGradientBoostingClassifier(
        max_iter=10, learning_rate=0.1, warm_start=True, early_stopping=False, categorical_features=categorical,
        random_state=seed,
    )
    fitting, best = 0.0, 0.0
    for iterations in range(10, max_iter + 1, 10):
        model.set_params(max_iter=iterations)
        start = time.perf_counter()
        model.fit(matrix, y.numpy().astype(int))
        fitting += time.perf_counter() - start  # the AUC checks are not counted
        auc = float(roc_auc_score(v_y.numpy(), model.predict_proba(val_matrix)[:, 1]))
        best = max(best, auc)
        if auc >= target:
            return fitting, best
    return None, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="generated credit applications (default 1M)")
    parser.add_argument("--quick", action="store_true", help="200k rows, one repeat")
    parser.add_argument("--repeats", type=int, default=3, help="alternating throughput runs; the best of each counts")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads of both loops (1, as the task trains)")
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    rows, repeats = (200_000, 1) if options.quick else (options.rows, options.repeats)
    torch.set_num_threads(options.threads)
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)

    start = time.perf_counter()
    dm = FinanceDataModule(demo="credit", n_rows=rows, batch_size=options.batch_size, seed=options.seed)
    dm.setup()
    n_train = len(dm.frames["train"])
    print(f"data: {rows:,} generated rows ({n_train:,} train), read + split + preprocessed in "
          f"{time.perf_counter() - start:.1f} s; torch threads {torch.get_num_threads()}, batch {options.batch_size}")

    lightning_runs, plain_runs = [], []
    for _ in range(repeats):
        plain_runs.append(plain_epoch(dm, options.seed))
        lightning_runs.append(lightning_epoch(dm, options.seed))
    plain, lightning = min(plain_runs), min(lightning_runs)
    print(f"\nepoch throughput (best of {repeats} runs)")
    print(f"  plain PyTorch loop   {n_train / plain:>12,.0f} rows/s   ({plain:.2f} s/epoch)")
    print(f"  Lightning (lepton)   {n_train / lightning:>12,.0f} rows/s   ({lightning:.2f} s/epoch)")
    ratio = plain / lightning
    print(f"  ratio lepton / plain {ratio:>12.2f}        (goal >= 0.85: {'met' if ratio >= 0.85 else 'NOT met'})")

    logistic_start = time.perf_counter()
    logistic = LogisticBaseline().fit(dm)
    logistic_seconds = time.perf_counter() - logistic_start
    x_num, x_cat, y = dm.tensors["val"]
    target = float(roc_auc_score(y.numpy(), logistic.predict((x_num, x_cat))))
    print(f"\ntime to the logistic baseline's validation ROC-AUC ({target:.4f}; logistic fit {logistic_seconds:.1f} s)")
    net_seconds, net_best = network_time_to(dm, target, options.seed, max_epochs=5)
    gbm_seconds, gbm_best = boosting_time_to(dm, target, options.seed)

    def show(seconds: float | None, best: float) -> str:
        return f"{seconds:8.1f} s" if seconds is not None else f"not reached (best {best:.4f})"

    print(f"  network (Lightning)          {show(net_seconds, net_best)}")
    print(f"  sklearn HistGradientBoosting {show(gbm_seconds, gbm_best)}")
    if net_seconds and gbm_seconds:
        print(f"  ratio boosting / network     {gbm_seconds / net_seconds:8.2f}")


if __name__ == "__main__":
    main()
