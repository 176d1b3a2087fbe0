"""Input drift: the reference profile of the training inputs written into bundles, and the PSI.

The bundle stores only the profile (``drift_reference.json``): quantile bin edges and proportions and the
101 percentiles (format extension read by the Kolmogorov-Smirnov test of lepton_core.monitoring; older
bundles without them fall back to the bin edges) for a numeric feature, category frequencies for a
categorical one; never the rows. Windowed live statistics are in :mod:`lepton_core.monitoring.drift`. The population stability
index of a feature is ``sum((live - ref) * ln(live / ref))`` over its bins; a common reading is < 0.1
stable, 0.1-0.25 moderate shift, > 0.25 major shift.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["DRIFT_REFERENCE_NAME", "drift_reference", "numeric_profile", "population_stability_index"]

DRIFT_REFERENCE_NAME = "drift_reference.json"
N_BINS = 10
MAX_CATEGORIES = 20
MAX_CATEGORY_LENGTH = 100
OTHER = "__other__"
EPSILON = 1e-4
N_QUANTILES = 101


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def numeric_profile(values: Sequence[float], n_bins: int = N_BINS) -> dict[str, Any] | None:
    """Quantile bin edges and proportions, percentiles (for Kolmogorov-Smirnov), mean and std; None if no finite value."""
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
        "quantiles": np.quantile(data, np.linspace(0.0, 1.0, N_QUANTILES)).tolist(),
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
            profile = numeric_profile([float(v) for v in present], n_bins)
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
