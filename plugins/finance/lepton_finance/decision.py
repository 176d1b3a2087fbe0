"""From logits to decisions: Platt calibration fitted on validation data (kept only where it lowers the
validation calibration error), a cost-matrix threshold, expected cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from lepton_core.data.inference import predict_loader
from lepton_core.errors import ConfigError

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
    ece_val_uncalibrated: float | None = None
    ece_val_calibrated: float | None = None

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


def calibration_errors(logits: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """Validation ECE of sigmoid(logits) and of Platt-scaled logits, the latter cross-fitted (2 folds).

    Each half is calibrated by a Platt fit on the other half, so the calibrated figure is not measured on
    the rows it was fitted to (an in-sample Platt fit always looks better than it is).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from lepton_core.metrics.classification import expected_calibration_error

    raw = expected_calibration_error(y, 1.0 / (1.0 + np.exp(-logits)))
    if min(int(y.sum()), int(len(y) - y.sum())) < 2:
        return raw, float("inf")
    calibrated = np.empty_like(logits)
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=seed)
    for fit_rows, apply_rows in folds.split(logits.reshape(-1, 1), y):
        platt = LogisticRegression(C=1e4, max_iter=1000).fit(logits[fit_rows].reshape(-1, 1), y[fit_rows])
        calibrated[apply_rows] = platt.predict_proba(logits[apply_rows].reshape(-1, 1))[:, 1]
    return raw, expected_calibration_error(y, calibrated)


def decision_threshold(task_cfg: Any) -> tuple[float, float, float, str]:
    """(cost of a miss, cost of a false alarm, threshold, where the threshold comes from) of a task config."""
    cost = task_cfg.get("cost") or {}
    cost_fn = float(cost.get("false_negative", 1.0))
    cost_fp = float(cost.get("false_positive", 1.0))
    if cost_fn <= 0 or cost_fp <= 0:
        raise ConfigError(
            f"task.cost must be positive (false_negative={cost_fn}, false_positive={cost_fp})", "fix task.cost"
        )
    fixed = task_cfg.get("threshold")
    if fixed is not None:
        if not 0 < float(fixed) < 1:
            raise ConfigError(f"task.threshold={fixed} is not a probability in (0, 1)", "fix task.threshold")
        return cost_fn, cost_fp, float(fixed), "task.threshold"
    return cost_fn, cost_fp, cost_fp / (cost_fp + cost_fn), "cost matrix"


def fit_policy(task_cfg: Any, logits: np.ndarray, y: np.ndarray, seed: int = 0) -> DecisionPolicy:
    """Decide on Platt scaling from validation ``logits`` and labels ``y``, and pick the threshold.

    The calibration is kept only when its cross-fitted validation ECE is lower than the uncalibrated one
    (and the scores rank the positives at all); both figures are recorded in the policy.
    """
    from sklearn.linear_model import LogisticRegression

    cost_fn, cost_fp, threshold, source = decision_threshold(task_cfg)
    logits = np.asarray(logits, dtype=np.float64).reshape(-1)
    y = np.asarray(y).astype(int).reshape(-1)
    ece_raw, ece_calibrated = calibration_errors(logits, y, seed)
    platt = LogisticRegression(C=1e4, max_iter=1000).fit(logits.reshape(-1, 1), y)
    slope, intercept = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    calibrated = slope > 0 and ece_calibrated < ece_raw
    if not calibrated:  # calibration would not help (or the scores do not rank yet): keep the raw scores
        slope, intercept = 1.0, 0.0
    finite = ece_calibrated if np.isfinite(ece_calibrated) else None
    return DecisionPolicy(slope, intercept, threshold, cost_fn, cost_fp, source, calibrated, ece_raw, finite)
