"""Choose the score threshold above which a part is rejected, on calibration scores (normal and defective)."""

from __future__ import annotations

from typing import Any

import numpy as np

from lepton_core import ConfigError

__all__ = ["METHODS", "choose_threshold", "decision_metrics"]

METHODS = ("f1", "cost", "quantile")


def _candidates(scores: np.ndarray) -> np.ndarray:
    """Midpoints between consecutive distinct scores, plus one below and one above them all."""
    values = np.unique(scores)
    middle = (values[1:] + values[:-1]) / 2
    return np.concatenate([[values[0] - 1e-6], middle, [values[-1] + 1e-6]])


def choose_threshold(
    scores: np.ndarray,
    labels: np.ndarray,
    method: str = "f1",
    cost_missed_defect: float = 10.0,
    cost_false_reject: float = 1.0,
    normal_quantile: float = 0.99,
) -> dict[str, Any]:
    """Pick a threshold (reject when score >= threshold) and say how it was picked.

    ``f1``: the best F1 on the calibration images; ``cost``: the lowest total cost of missed defects and
    false rejects; ``quantile``: the ``normal_quantile`` of normal calibration scores (no defects needed).
    Without defective calibration images, every method falls back to ``quantile``.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown task.threshold.method '{method}'", f"use one of {', '.join(METHODS)}")
    scores, labels = np.asarray(scores, float), np.asarray(labels, int)
    if method == "quantile" or labels.sum() == 0:
        value = float(np.quantile(scores[labels == 0], normal_quantile))
        why = f"{normal_quantile:.0%} quantile of {int((labels == 0).sum())} normal calibration scores"
        return {"threshold": value, "method": "quantile", "rule": why}
    candidates = _candidates(scores)
    flagged = scores[None, :] >= candidates[:, None]
    true_pos = (flagged & (labels == 1)).sum(1)
    false_pos = (flagged & (labels == 0)).sum(1)
    missed = int(labels.sum()) - true_pos
    if method == "f1":
        f1 = 2 * true_pos / np.maximum(2 * true_pos + false_pos + missed, 1)
        best = int(np.argmax(f1))
        why = f"best F1 ({f1[best]:.3f}) on {len(labels)} calibration images"
    else:
        cost = cost_missed_defect * missed + cost_false_reject * false_pos
        best = int(np.argmin(cost))
        why = (f"lowest cost on {len(labels)} calibration images (missed defect = {cost_missed_defect:g}, "
               f"false reject = {cost_false_reject:g}; total {cost[best]:g})")
    return {"threshold": float(candidates[best]), "method": method, "rule": why}


def decision_metrics(scores: np.ndarray, labels: np.ndarray, threshold: float, costs: tuple[float, float]) -> dict[str, float]:
    """F1, precision, recall, false-reject rate and cost per part of rejecting at ``threshold``."""
    flagged = np.asarray(scores) >= threshold
    labels = np.asarray(labels).astype(bool)
    true_pos = int((flagged & labels).sum())
    false_pos = int((flagged & ~labels).sum())
    missed = int((~flagged & labels).sum())
    precision = true_pos / max(true_pos + false_pos, 1)
    recall = true_pos / max(int(labels.sum()), 1)
    return {
        "f1": 2 * true_pos / max(2 * true_pos + false_pos + missed, 1),
        "precision": precision,
        "recall": recall,
        "false_reject_rate": false_pos / max(int((~labels).sum()), 1),
        "cost_per_part": (costs[0] * missed + costs[1] * false_pos) / max(len(labels), 1),
        "threshold": float(threshold),
    }
