"""From logits to decisions: Platt calibration fitted on validation data, a cost-matrix threshold, expected cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from lepton_core.errors import ConfigError
from lepton_core.metrics.inference import predict_loader

__all__ = ["DecisionPolicy", "expected_cost", "fit_policy", "net_logits"]


@dataclass(frozen=True)
class DecisionPolicy:
    """probability = sigmoid(slope * logit + intercept); flag the row when probability >= threshold."""

    slope: float
    intercept: float
    threshold: float
    cost_false_negative: float
    cost_false_positive: float
    threshold_source: str
    calibrated: bool

    def probability(self, logits: np.ndarray | torch.Tensor) -> np.ndarray:
        """Calibrated positive-class probabilities."""
        z = self.slope * np.asarray(logits, dtype=np.float64) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def to_state(self) -> dict[str, Any]:
        """JSON-ready form for the bundle."""
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> DecisionPolicy:
        """Rebuild from ``to_state()``."""
        return cls(**state)


def net_logits(model: torch.nn.Module, loader: Any) -> np.ndarray:
    """The model's logits over a loader of (x_num, x_cat, y) batches."""
    return predict_loader(model, loader, forward=lambda m, b: m(b[0], b[1]).reshape(-1)).numpy().astype(np.float64)


def expected_cost(y: np.ndarray, prob: np.ndarray, threshold: float, cost_fn: float, cost_fp: float) -> float:
    """Mean cost per row of flagging rows with ``prob >= threshold``."""
    flagged = np.asarray(prob) >= threshold
    positive = np.asarray(y).astype(bool)
    return float((cost_fn * (positive & ~flagged).sum() + cost_fp * (~positive & flagged).sum()) / len(positive))


def fit_policy(task_cfg: Any, model: torch.nn.Module, datamodule: Any) -> DecisionPolicy:
    """Fit Platt scaling on the validation split and pick the threshold (fixed, or from the cost matrix)."""
    from sklearn.linear_model import LogisticRegression

    cost = task_cfg.get("cost") or {}
    cost_fn = float(cost.get("false_negative", 1.0))
    cost_fp = float(cost.get("false_positive", 1.0))
    if cost_fn <= 0 or cost_fp <= 0:
        raise ConfigError(
            f"task.cost must be positive (false_negative={cost_fn}, false_positive={cost_fp})", "fix task.cost"
        )
    logits = net_logits(model, datamodule.loader("val"))
    y = datamodule.targets["val"].astype(int)
    platt = LogisticRegression(C=1e4, max_iter=1000).fit(logits.reshape(-1, 1), y)
    slope, intercept = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    calibrated = slope > 0
    if not calibrated:  # the network does not rank validation rows yet (e.g. a smoke run): leave logits as they are
        slope, intercept = 1.0, 0.0
    fixed = task_cfg.get("threshold")
    if fixed is not None:
        if not 0 < float(fixed) < 1:
            raise ConfigError(f"task.threshold={fixed} is not a probability in (0, 1)", "fix task.threshold")
        threshold, source = float(fixed), "task.threshold"
    else:
        threshold, source = cost_fp / (cost_fp + cost_fn), "cost matrix"
    return DecisionPolicy(slope, intercept, threshold, cost_fn, cost_fp, source, calibrated)
