"""Binary probability calibration chosen on validation data: Platt, isotonic or temperature, or none.

Each method is scored by the expected calibration error of cross-fitted validation probabilities (each
fold calibrated by a fit on the other folds: an in-sample isotonic fit always looks perfect), and the best
is kept only where it lowers the ECE of the raw scores; it is then refitted on the whole validation split.
The fitted calibrator is plain numbers (``to_state``), so a bundle carries it as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lepton_core.errors import BundleError, ConfigError
from lepton_core.metrics.classification import expected_calibration_error

__all__ = ["CALIBRATION_METHODS", "BinaryCalibrator", "fit_calibrator", "sigmoid"]

CALIBRATION_METHODS = ("platt", "isotonic", "temperature")


def sigmoid(logits: ArrayLike) -> np.ndarray:
    """The logistic function, computed stably."""
    z = np.asarray(logits, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


@dataclass(frozen=True)
class BinaryCalibrator:
    """Log-odds -> calibrated probability with one method (``none``: the sigmoid of the log-odds)."""

    method: str = "none"
    params: Mapping[str, Any] = field(default_factory=dict)
    ece_raw: float = float("nan")
    ece_by_method: Mapping[str, float] = field(default_factory=dict)  # cross-fitted validation ECE

    def probability(self, logits: ArrayLike) -> np.ndarray:
        """Calibrated probabilities of the positive class."""
        z = np.asarray(logits, dtype=np.float64)
        if self.method == "platt":
            return sigmoid(self.params["slope"] * z + self.params["intercept"])
        if self.method == "temperature":
            return sigmoid(z / self.params["temperature"])
        if self.method == "isotonic":
            return np.interp(z, self.params["x"], self.params["y"])
        return sigmoid(z)

    def to_state(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "method": self.method,
            "params": {k: (list(map(float, v)) if isinstance(v, (list, np.ndarray)) else float(v)) for k, v in self.params.items()},
            "ece_raw": float(self.ece_raw),
            "ece_by_method": {k: float(v) for k, v in self.ece_by_method.items()},
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> BinaryCalibrator:
        """Rebuild from ``to_state()``; a malformed state raises BundleError."""
        method = state.get("method", "none")
        params = dict(state.get("params") or {})
        needed = {"platt": ("slope", "intercept"), "temperature": ("temperature",), "isotonic": ("x", "y"), "none": ()}
        if method not in needed or any(k not in params for k in needed[method]):
            raise BundleError(f"calibration state {method!r} is malformed", "rebuild the bundle with `lepton run`")
        if method == "isotonic" and (len(params["x"]) != len(params["y"]) or not params["x"]):
            raise BundleError("isotonic calibration state has mismatched points", "rebuild the bundle with `lepton run`")
        return cls(method, params, float(state.get("ece_raw", float("nan"))), dict(state.get("ece_by_method") or {}))


def _fit(method: str, z: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    if method == "platt":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=1e4, max_iter=1000).fit(z.reshape(-1, 1), y)
        return {"slope": float(model.coef_[0, 0]), "intercept": float(model.intercept_[0])}
    if method == "temperature":
        from scipy.optimize import minimize_scalar

        def loss(log_t: float) -> float:
            p = np.clip(sigmoid(z / np.exp(log_t)), 1e-12, 1 - 1e-12)
            return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())

        log_t = minimize_scalar(loss, bounds=(np.log(0.05), np.log(20.0)), method="bounded").x
        return {"temperature": float(np.exp(log_t))}
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(z, y)
        return {"x": model.X_thresholds_.tolist(), "y": model.y_thresholds_.tolist()}
    raise ConfigError(f"unknown calibration method '{method}'", f"use {', '.join(CALIBRATION_METHODS)} or none")


def fit_calibrator(
    logits: ArrayLike, y_true: ArrayLike, methods: Sequence[str] = CALIBRATION_METHODS, folds: int = 2, seed: int = 0
) -> BinaryCalibrator:
    """The method with the lowest cross-fitted validation ECE, kept only where it beats the raw scores."""
    for method in methods:
        if method not in CALIBRATION_METHODS:
            raise ConfigError(f"unknown calibration method '{method}'", f"use {', '.join(CALIBRATION_METHODS)} or none")
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y_true).astype(int)
    raw = expected_calibration_error(y, sigmoid(z))
    if not methods or len(np.unique(y)) < 2 or np.bincount(y).min() < folds:
        return BinaryCalibrator("none", {}, raw, {})
    from sklearn.model_selection import StratifiedKFold

    scores: dict[str, float] = {}
    for method in methods:
        crossed = np.empty(len(y))
        for fit_rows, apply_rows in StratifiedKFold(folds, shuffle=True, random_state=seed).split(z, y):
            part = BinaryCalibrator(method, _fit(method, z[fit_rows], y[fit_rows]))
            crossed[apply_rows] = part.probability(z[apply_rows])
        scores[method] = expected_calibration_error(y, crossed)
    best = min(scores, key=scores.__getitem__)
    if scores[best] >= raw:
        return BinaryCalibrator("none", {}, raw, scores)
    return BinaryCalibrator(best, _fit(best, z, y), raw, scores)
