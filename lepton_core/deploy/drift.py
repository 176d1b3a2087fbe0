"""Input drift: a reference profile of the training inputs, and a running monitor that scores live inputs by PSI.

The bundle stores only the profile (``drift_reference.json``): quantile bin edges and proportions for a
numeric feature, category frequencies for a categorical one; never the rows. The population stability
index of a feature is ``sum((live - ref) * ln(live / ref))`` over its bins; a common reading is < 0.1
stable, 0.1-0.25 moderate shift, > 0.25 major shift.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["DRIFT_REFERENCE_NAME", "DriftMonitor", "drift_reference", "population_stability_index"]

DRIFT_REFERENCE_NAME = "drift_reference.json"
N_BINS = 10
MAX_CATEGORIES = 20
MAX_CATEGORY_LENGTH = 100
OTHER = "__other__"
EPSILON = 1e-4


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numeric_profile(values: list[float], n_bins: int) -> dict[str, Any] | None:
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return None
    edges = np.unique(np.quantile(data, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    counts = np.bincount(np.searchsorted(edges, data, side="left"), minlength=edges.size + 1)
    return {
        "kind": "numeric",
        "edges": edges.tolist(),
        "proportions": (counts / data.size).tolist(),
        "mean": float(data.mean()),
        "std": float(data.std()),
    }


def _categorical_profile(values: list[Any]) -> dict[str, Any] | None:
    labels = [str(v) for v in values]
    if any(len(label) > MAX_CATEGORY_LENGTH for label in labels):
        return None
    counts = Counter(labels)
    top = counts.most_common(MAX_CATEGORIES)
    covered = sum(n for _, n in top)
    if covered < 0.5 * len(labels):
        return None
    frequencies = {label: n / len(labels) for label, n in top}
    frequencies[OTHER] = 1.0 - covered / len(labels)
    return {"kind": "categorical", "frequencies": frequencies}


def drift_reference(rows: Sequence[Mapping[str, Any]], n_bins: int = N_BINS) -> dict[str, Any]:
    """Profile the scalar fields of training input rows (numeric: quantile bins; categorical: frequencies).

    Fields holding lists, objects, long strings (images) or identifiers are skipped.
    """
    names = dict.fromkeys(name for row in rows for name in row)
    features: dict[str, Any] = {}
    for name in names:
        values = [row.get(name) for row in rows]
        present = [v for v in values if v is not None]
        if not present:
            continue
        if all(_is_number(v) for v in present):
            profile = _numeric_profile([float(v) for v in present], n_bins)
        elif all(isinstance(v, str | bool | int) for v in present):
            profile = _categorical_profile(present)
        else:
            profile = None
        if profile is not None:
            profile["missing_rate"] = 1.0 - len(present) / len(values)
            features[str(name)] = profile
    return {"n_rows": len(rows), "n_bins": n_bins, "features": features}


def population_stability_index(observed: Sequence[float], expected: Sequence[float]) -> float:
    """PSI between two distributions over the same bins (proportions; smoothed so empty bins stay finite)."""
    live = np.maximum(np.asarray(observed, dtype=np.float64), EPSILON)
    ref = np.maximum(np.asarray(expected, dtype=np.float64), EPSILON)
    return float(np.sum((live - ref) * np.log(live / ref)))


class _NumericFeature:
    def __init__(self, profile: Mapping[str, Any]) -> None:
        self.edges = np.asarray(profile["edges"], dtype=np.float64)
        self.reference = list(profile["proportions"])
        self.counts = np.zeros(self.edges.size + 1, dtype=np.int64)
        self.n = 0
        self.missing = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.low = math.inf
        self.high = -math.inf

    def update(self, values: list[Any]) -> None:
        numbers = [v for v in values if _is_number(v) and math.isfinite(v)]
        self.missing += len(values) - len(numbers)
        if not numbers:
            return
        data = np.asarray(numbers, dtype=np.float64)
        self.counts += np.bincount(np.searchsorted(self.edges, data, side="left"), minlength=self.counts.size)
        batch_n, batch_mean = data.size, float(data.mean())
        batch_m2 = float(((data - batch_mean) ** 2).sum())
        total = self.n + batch_n
        delta = batch_mean - self.mean
        self.m2 += batch_m2 + delta * delta * self.n * batch_n / total
        self.mean += delta * batch_n / total
        self.n = total
        self.low = min(self.low, float(data.min()))
        self.high = max(self.high, float(data.max()))

    def snapshot(self) -> dict[str, Any]:
        stats: dict[str, Any] = {"kind": "numeric", "count": self.n, "missing": self.missing}
        if self.n:
            stats.update(
                mean=self.mean,
                std=math.sqrt(self.m2 / self.n),
                min=self.low,
                max=self.high,
                psi=population_stability_index(self.counts / self.n, self.reference),
            )
        return stats


class _CategoricalFeature:
    def __init__(self, profile: Mapping[str, Any]) -> None:
        self.reference = dict(profile["frequencies"])
        self.counts: Counter[str] = Counter()
        self.n = 0
        self.missing = 0

    def update(self, values: list[Any]) -> None:
        present = [str(v) for v in values if v is not None]
        self.missing += len(values) - len(present)
        self.counts.update(label if label in self.reference else OTHER for label in present)
        self.n += len(present)

    def snapshot(self) -> dict[str, Any]:
        stats: dict[str, Any] = {"kind": "categorical", "count": self.n, "missing": self.missing}
        if self.n:
            labels = list(self.reference)
            stats["psi"] = population_stability_index(
                [self.counts[label] / self.n for label in labels], [self.reference[label] for label in labels]
            )
            stats["top"] = dict(self.counts.most_common(5))
        return stats


class DriftMonitor:
    """Running statistics of live inputs per profiled feature, and their PSI against the training profile.

    Records are buffered and folded in vectorised blocks of ``block_size`` (and before every snapshot),
    so the per-request cost stays a list append.
    """

    def __init__(self, reference: Mapping[str, Any], block_size: int = 1024) -> None:
        self.features: dict[str, _NumericFeature | _CategoricalFeature] = {
            name: _NumericFeature(p) if p["kind"] == "numeric" else _CategoricalFeature(p)
            for name, p in reference.get("features", {}).items()
        }
        self.block_size = block_size
        self._buffer: list[Any] = []
        self._lock = threading.Lock()

    def update(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Add raw input records (dicts) to the running statistics."""
        if not self.features:
            return
        with self._lock:
            self._buffer.extend(records)
            if len(self._buffer) >= self.block_size:
                self._fold()

    def _fold(self) -> None:
        records, self._buffer = self._buffer, []
        if not records:
            return
        for name, feature in self.features.items():
            feature.update([r.get(name) if isinstance(r, Mapping) else None for r in records])

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Per feature: count, missing, running mean/std/min/max (numeric) and PSI once inputs were seen."""
        with self._lock:
            self._fold()
            return {name: feature.snapshot() for name, feature in self.features.items()}
