"""Windowed monitoring figures: drift per feature and on the predictions, volume, latency and live metrics.

Windows are by count (``size`` predictions each, in log order): a figure from 6 requests means nothing, and
count windows give every figure the same sample size whatever the traffic; their start and end times are
kept for the time axis. A window with fewer than ``min_samples`` predictions (or labels, for live metrics)
reports None ("not enough data") for that figure.

Numbers: PSI on the training profile's quantile bins and the one-sample Kolmogorov-Smirnov statistic and
p-value on its percentiles. Categories: PSI and the chi-square p-value on the training frequencies. Image
statistics (brightness, contrast, height, width), the predictions, and forecast residuals have no
training profile in the bundle: they are compared with the first full window of the log (the baseline).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton_core.deploy.drift import EPSILON, OTHER, numeric_profile, population_stability_index
from lepton_core.errors import ConfigError
from lepton_core.monitoring.profile import BINARY, FORECAST, MULTICLASS, REGRESSION, MonitorProfile

__all__ = ["WindowSpec", "analyze", "finite", "join_labels", "label_error"]


@dataclass(frozen=True)
class WindowSpec:
    """Count windows: ``size`` predictions each; figures need ``min_samples`` values (labels for live metrics)."""

    size: int = 200
    min_samples: int = 100

    def __post_init__(self) -> None:
        if not 0 < self.min_samples <= self.size:
            raise ConfigError(
                f"window min_samples {self.min_samples} is not between 1 and the window size {self.size}",
                "use 0 < min_samples <= size",
            )


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinity (at any depth) replaced by None: valid JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def ks_p_value(statistic: float, n: int) -> float:
    """Asymptotic p-value of a one-sample Kolmogorov-Smirnov statistic (Stephens' small-sample correction)."""
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * statistic
    if lam < 0.2:
        return 1.0
    total = sum((-1) ** (k - 1) * math.exp(-2.0 * k * k * lam * lam) for k in range(1, 101))
    return float(min(max(2.0 * total, 0.0), 1.0))


def roc_auc(truth: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties averaged); None unless both classes are present."""
    positives = truth == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if not n_pos or not n_neg:
        return None
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = ((ends - counts + 1 + ends) / 2.0)[inverse]
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _numeric_drift(values: Sequence[Any], profile: Mapping[str, Any]) -> dict[str, float]:
    data = np.asarray([v for v in map(_number, values) if v is not None], dtype=np.float64)
    edges = np.asarray(profile["edges"], dtype=np.float64)
    counts = np.bincount(np.searchsorted(edges, data, side="left"), minlength=edges.size + 1)
    psi = population_stability_index(counts / data.size, profile["proportions"])
    if "quantiles" in profile:
        grid = np.asarray(profile["quantiles"], dtype=np.float64)
        levels = np.linspace(0.0, 1.0, grid.size)
    else:  # an older bundle: the CDF is known at the bin edges only
        grid, levels = edges, np.cumsum(profile["proportions"])[:-1]
    ordered = np.sort(data)
    below = np.searchsorted(ordered, grid, side="left") / data.size
    at_or_below = np.searchsorted(ordered, grid, side="right") / data.size
    ks = float(max(np.abs(below - levels).max(initial=0.0), np.abs(at_or_below - levels).max(initial=0.0)))
    return {"psi": psi, "ks": ks, "ks_p": ks_p_value(ks, data.size)}


def _categorical_drift(values: Sequence[Any], profile: Mapping[str, Any]) -> dict[str, float]:
    from scipy.special import chdtrc

    reference = dict(profile["frequencies"])
    labels = list(reference)
    seen = [str(v) for v in values if v is not None]
    counts = {label: 0 for label in labels}
    for label in seen:
        key = label if label in reference else OTHER
        counts[key] = counts.get(key, 0) + 1
    observed = np.asarray([counts.get(label, 0) for label in labels], dtype=np.float64)
    expected = np.maximum(np.asarray([reference[label] for label in labels], dtype=np.float64), EPSILON)
    expected = expected / expected.sum() * observed.sum()
    psi = population_stability_index(observed / max(observed.sum(), 1), [reference[label] for label in labels])
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return {"psi": psi, "chi2_p": float(chdtrc(max(len(labels) - 1, 1), statistic))}


def _drift(values: Sequence[Any], profile: Mapping[str, Any] | None, min_samples: int) -> dict[str, float] | None:
    """Drift figures of one feature in one window, None without a profile or with too few values."""
    if profile is None:
        return None
    if profile.get("kind") == "categorical":
        present = [v for v in values if v is not None]
        return _categorical_drift(present, profile) if len(present) >= min_samples else None
    present = [v for v in values if _number(v) is not None]
    return _numeric_drift(present, profile) if len(present) >= min_samples else None


def label_error(kind: str, label: Any) -> str | None:
    """Why a label cannot score this prediction kind (None when it can)."""
    if kind in (BINARY, MULTICLASS):
        ok = isinstance(label, bool | str) or _number(label) is not None
        return None if ok else "send a class: 0/1, true/false or the class name"
    if kind == REGRESSION:
        return None if _number(label) is not None else "send the actual value, a finite number"
    if kind == FORECAST:
        ok = isinstance(label, list) and label and all(_number(v) is not None for v in label)
        return None if ok else "send the actual values of the forecast steps, a list of finite numbers"
    return "this bundle's predictions have no live metric, so labels are not used"


def _binary_target(label: Any, positive: Any) -> int | None:
    if isinstance(label, bool):
        return int(label)
    if _number(label) is not None:
        return int(label) if label in (0, 1) else None
    text = str(label).strip().lower()
    if text in ("1", "true", "yes"):
        return 1
    if text in ("0", "false", "no"):
        return 0
    return int(str(label) == str(positive))


def _live_metrics(rows: list[dict[str, Any]], profile: MonitorProfile, positive: Any) -> dict[str, float | None]:
    out: dict[str, float | None] = dict.fromkeys(profile.live_metrics)
    if profile.kind == BINARY:
        pairs = [(r["prediction"], _binary_target(r["label"], positive), r.get("predicted_label")) for r in rows]
        pairs = [p for p in pairs if p[0] is not None and p[1] is not None]
        scores = np.asarray([p[0] for p in pairs])
        truth = np.asarray([p[1] for p in pairs])
        decided = np.asarray([_binary_target(p[2], positive) if p[2] is not None else int(p[0] >= 0.5) for p in pairs])
        out["roc_auc"] = roc_auc(truth, scores) if pairs else None
        out["accuracy"] = float((decided == truth).mean()) if pairs else None
        out["brier"] = float(np.mean((np.clip(scores, 0, 1) - truth) ** 2)) if pairs else None
    elif profile.kind == MULTICLASS:
        usable = [r for r in rows if r.get("probabilities") and str(r["label"]) in r["probabilities"]]
        classes = sorted({c for r in usable for c in r["probabilities"]})
        if usable:
            matrix = np.asarray([[r["probabilities"].get(c, 0.0) for c in classes] for r in usable])
            truth = np.asarray([classes.index(str(r["label"])) for r in usable])
            out["accuracy"] = float((matrix.argmax(1) == truth).mean())
            if len(classes) == 2:
                out["roc_auc"] = roc_auc(truth, matrix[:, 1])
            elif len(set(truth.tolist())) == len(classes):  # one-vs-rest macro, every class present
                aucs = [roc_auc((truth == k).astype(int), matrix[:, k]) for k in range(len(classes))]
                out["roc_auc"] = float(np.mean(aucs))
    elif profile.kind == REGRESSION:
        errors = np.asarray([r["prediction"] - float(r["label"]) for r in rows if r["prediction"] is not None])
        if errors.size:
            out.update(mae=float(np.abs(errors).mean()), rmse=float(np.sqrt((errors**2).mean())), bias=float(errors.mean()))
    elif profile.kind == FORECAST:
        errors, scaled = [], []
        for r in rows:
            steps = list(zip(r.get("forecast") or [], r["label"], strict=False))
            residuals = [f - float(y) for f, y in steps]
            errors += residuals
            if residuals and r.get("naive_scale"):
                scaled.append(float(np.abs(residuals).mean()) / r["naive_scale"])
        if errors:
            out.update(mae=float(np.abs(errors).mean()), bias=float(np.mean(errors)))
            out["mase"] = float(np.mean(scaled)) if scaled else None
    return out


def _residuals(rows: list[dict[str, Any]], kind: str) -> list[float]:
    if kind == FORECAST:
        return [f - float(y) for r in rows for f, y in zip(r.get("forecast") or [], r["label"], strict=False)]
    if kind == REGRESSION:
        return [r["prediction"] - float(r["label"]) for r in rows if r["prediction"] is not None]
    return []


def join_labels(records: Sequence[Mapping[str, Any]], labels: Sequence[Mapping[str, Any]]) -> dict[tuple[str, int], Any]:
    """The latest label of each (request id, item) that a logged prediction has."""
    known = {(str(r.get("request_id")), int(r.get("item") or 0)) for r in records}
    joined: dict[tuple[str, int], Any] = {}
    for label in labels:
        key = (str(label.get("request_id")), int(label.get("item") or 0))
        if key in known:
            joined[key] = label.get("label")
    return joined


def _quantile(values: list[float], q: float) -> float | None:
    return float(np.quantile(values, q)) if values else None


def analyze(
    records: Sequence[Mapping[str, Any]],
    labels: Mapping[tuple[str, int], Any],
    profile: MonitorProfile,
    spec: WindowSpec,
    rows: Sequence[dict[str, Any]] | None = None,
    baseline: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Per window: times, volume, latency, drift per feature and on the predictions, live metrics.

    ``rows`` are ``profile.row`` of each record when already computed (the server keeps them); ``baseline``
    is the reference of the image statistics, predictions and residuals (default: the first full window).
    Returns ``{"windows": [...], "baseline": {...}, "unusable_labels": n}`` of plain JSON values.
    """
    if rows is None:
        rows = [profile.row(r.get("inputs"), r.get("outputs")) for r in records]
    rows = [
        {**row, "time": r.get("time"), "latency_s": r.get("latency_s"),
         "label": labels.get((str(r.get("request_id")), int(r.get("item") or 0)))}
        for r, row in zip(records, rows, strict=True)
    ]
    unusable = 0
    for row in rows:
        if row["label"] is not None and label_error(profile.kind, row["label"]) is not None:
            row["label"], unusable = None, unusable + 1
    positive = None
    if profile.kind == BINARY:
        scored = [r for r in rows if r.get("prediction") is not None and r.get("predicted_label") is not None]
        positive = max(scored, key=lambda r: r["prediction"])["predicted_label"] if scored else None
    chunks = [rows[i : i + spec.size] for i in range(0, len(rows), spec.size)]
    baseline = dict(baseline) if baseline else _baseline(chunks[0] if chunks else [], profile, spec)
    windows = []
    for index, chunk in enumerate(chunks):
        labelled = [r for r in chunk if r["label"] is not None]
        enough = len(chunk) >= spec.min_samples
        features = {
            name: _drift([r.get(name) for r in chunk], profile.reference.get(name) or baseline.get(name), spec.min_samples)
            for name in profile.features
        }
        prediction = _drift([r.get("prediction") for r in chunk], baseline.get("prediction"), spec.min_samples)
        residual = _drift(_residuals(labelled, profile.kind), baseline.get("residual"), spec.min_samples)
        times = [t for t in (r["time"] for r in chunk) if t is not None]
        latencies = [v for v in (r["latency_s"] for r in chunk) if v is not None]
        live = _live_metrics(labelled, profile, positive) if len(labelled) >= spec.min_samples else dict.fromkeys(profile.live_metrics)
        psis = [f["psi"] for f in features.values() if f]
        kss = [f["ks"] for f in features.values() if f and "ks" in f]
        windows.append({
            "index": index,
            "start": min(times, default=None),
            "end": max(times, default=None),
            "count": len(chunk),
            "labelled": len(labelled),
            "enough_data": enough,
            "rate_per_s": len(chunk) / (max(times) - min(times)) if len(times) > 1 and max(times) > min(times) else None,
            "latency_p50_s": _quantile(latencies, 0.5),
            "latency_p99_s": _quantile(latencies, 0.99),
            "features": features,
            "psi": max(psis) if psis else None,
            "ks": max(kss) if kss else None,
            "prediction_psi": prediction["psi"] if prediction else None,
            "prediction_ks": prediction["ks"] if prediction else None,
            "residual_ks": residual["ks"] if residual else None,
            "live": {k: (v if v is None or math.isfinite(v) else None) for k, v in live.items()},
        })
    return {"windows": windows, "baseline": baseline, "unusable_labels": unusable}


def _baseline(rows: Sequence[dict[str, Any]], profile: MonitorProfile, spec: WindowSpec) -> dict[str, Any]:
    """Numeric profiles of the image statistics, the predictions and the residuals of one full window."""
    baseline: dict[str, Any] = {}
    if len(rows) < spec.min_samples:
        return baseline
    for name in [f for f in profile.features if f not in profile.reference] + ["prediction"]:
        values = [v for v in (_number(r.get(name)) for r in rows) if v is not None]
        if len(values) >= spec.min_samples and (made := numeric_profile(values)) is not None:
            baseline[name] = made
    residuals = _residuals([r for r in rows if r["label"] is not None], profile.kind)
    if len(residuals) >= spec.min_samples and (made := numeric_profile(residuals)) is not None:
        baseline["residual"] = made
    return baseline
