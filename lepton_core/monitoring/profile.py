"""What to monitor for a bundle: its profiled input features, image fields, prediction kind and test metrics.

Everything comes from what the bundle already declares: the drift reference profile written at training
time, the input kind and schemas of the manifest, and the test metrics, primary metric and metric
directions of ``metrics.json``. The prediction kind is read from the output schema:

- ``probability`` (or ``anomaly_score`` / ``score``): a binary score; labels 0/1, true/false, or the class
  name the model outputs as ``label`` for its highest scores.
- ``probabilities`` (class -> probability): multiclass; labels are class names.
- ``forecast`` (a list): a forecast path; labels are the actual values of the forecast steps.
- another number (``prediction``, ``p50``, ``rul``, ``value``...): regression; labels are numbers.

Bundles of other outputs (route plans, recommendation lists) get drift and volume but no live metric.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MonitorProfile", "image_statistics", "load_profile"]

SCORE_FIELDS = ("probability", "anomaly_score", "score")
REGRESSION_FIELDS = ("prediction", "p50", "rul", "value", "estimate", "eta")
IMAGE_STATS = ("brightness", "contrast", "height", "width")
IMAGE_STAT_PIXELS = 64  # images are reduced to at most 64 x 64 before their statistics are taken
BINARY, MULTICLASS, FORECAST, REGRESSION, NONE = "binary", "multiclass", "forecast", "regression", "none"
LIVE_METRICS = {
    BINARY: ("roc_auc", "accuracy", "brier"),
    MULTICLASS: ("roc_auc", "accuracy"),
    FORECAST: ("mae", "mase", "bias"),
    REGRESSION: ("mae", "rmse", "bias"),
    NONE: (),
}
SYNONYMS = {"roc_auc": ("roc_auc", "image_auroc", "auroc", "auc"), "mae": ("mae", "mae_p50")}
"""Test metrics a live metric is compared with, first found wins (the bundle's name for the same figure)."""


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def image_statistics(value: Any) -> dict[str, float]:
    """Brightness (mean 0..1), contrast (std), height and width of a base64 image; empty when undecodable."""
    if not isinstance(value, str):
        return {}
    try:
        import numpy as np
        from PIL import Image

        with Image.open(io.BytesIO(base64.b64decode(value, validate=True))) as image:
            width, height = image.size
            image.draft("L", (IMAGE_STAT_PIXELS, IMAGE_STAT_PIXELS))
            small = image.convert("L")
            small.thumbnail((IMAGE_STAT_PIXELS, IMAGE_STAT_PIXELS))
            pixels = np.asarray(small, dtype=np.float32) / 255.0
    except Exception:  # noqa: BLE001 - a hostile or truncated image has no statistics
        return {}
    return {"brightness": float(pixels.mean()), "contrast": float(pixels.std()), "height": float(height), "width": float(width)}


@dataclass
class MonitorProfile:
    """The monitored features, the prediction kind, and the bundle's test metrics (domain-free)."""

    plugin: str
    task: str
    model_version: str
    reference: dict[str, Any]
    image_fields: tuple[str, ...] = ()
    kind: str = NONE
    output_field: str | None = None
    test_metrics: dict[str, float] = field(default_factory=dict)
    directions: dict[str, str] = field(default_factory=dict)
    primary_metric: str | None = None

    @classmethod
    def from_bundle(
        cls, manifest: Mapping[str, Any], reference: Mapping[str, Any], metrics: Mapping[str, Any], version: str
    ) -> MonitorProfile:
        """Build from a verified manifest, its drift reference and its metrics.json (all plain data)."""
        outputs = manifest.get("output_schema", {}).get("properties", {})
        kind, output_field = NONE, None
        if (score := next((f for f in SCORE_FIELDS if outputs.get(f, {}).get("type") == "number"), None)) is not None:
            kind, output_field = BINARY, score
        elif outputs.get("probabilities", {}).get("type") == "object":
            kind, output_field = MULTICLASS, "probabilities"
        elif outputs.get("forecast", {}).get("type") == "array":
            kind, output_field = FORECAST, "forecast"
        else:
            numbers = [f for f, s in outputs.items() if s.get("type") == "number"]
            chosen = next((f for f in REGRESSION_FIELDS if f in numbers), numbers[0] if len(numbers) == 1 else None)
            if chosen is not None:
                kind, output_field = REGRESSION, chosen
        image_fields: tuple[str, ...] = ()
        if manifest.get("input_kind") == "image":
            properties = manifest.get("input_schema", {}).get("properties", {})
            image_fields = tuple(f for f, s in properties.items() if s.get("type") == "string")
        model = metrics.get("metrics", {}).get("model", {})
        return cls(
            plugin=str(manifest.get("plugin", {}).get("name", "?")),
            task=str(manifest.get("task", "?")),
            model_version=version,
            reference=dict(reference.get("features", {})),
            image_fields=image_fields,
            kind=kind,
            output_field=output_field,
            test_metrics={k: float(v) for k, v in model.items() if _finite(v)},
            directions={k: str(v) for k, v in metrics.get("metric_directions", {}).items()},
            primary_metric=metrics.get("primary_metric"),
        )

    @property
    def features(self) -> list[str]:
        """Monitored input features: the profiled ones, then ``<image field>.<statistic>``."""
        return [*self.reference, *(f"{f}.{s}" for f in self.image_fields for s in IMAGE_STATS)]

    @property
    def live_metrics(self) -> tuple[str, ...]:
        """The live metrics this prediction kind gets once labels arrive."""
        return LIVE_METRICS[self.kind]

    def test_metric(self, live_name: str) -> float | None:
        """The bundle's test value of a live metric (under its name or a synonym), None if it has none."""
        for name in SYNONYMS.get(live_name, (live_name,)):
            if name in self.test_metrics:
                return self.test_metrics[name]
        return None

    def direction(self, live_name: str) -> str:
        """"higher" or "lower" is better for a live metric."""
        for name in SYNONYMS.get(live_name, (live_name,)):
            if name in self.directions:
                return self.directions[name]
        return "lower" if live_name in ("mae", "rmse", "mase", "brier") else "higher"

    def row(self, inputs: Any, outputs: Any) -> dict[str, Any]:
        """The monitored values of one logged prediction: features, the prediction summary, what labels need."""
        inputs = inputs if isinstance(inputs, Mapping) else {}
        outputs = outputs if isinstance(outputs, Mapping) else {}
        row: dict[str, Any] = {name: inputs.get(name) for name in self.reference}
        for name in self.image_fields:
            row.update({f"{name}.{k}": v for k, v in image_statistics(inputs.get(name)).items()})
        value = outputs.get(self.output_field) if self.output_field else None
        if self.kind in (BINARY, REGRESSION):
            row["prediction"] = float(value) if _finite(value) else None
            row["predicted_label"] = outputs.get("label", outputs.get("is_defect"))
        elif self.kind == MULTICLASS and isinstance(value, Mapping):
            row["probabilities"] = {str(k): float(v) for k, v in value.items() if _finite(v)}
            row["prediction"] = max(row["probabilities"].values(), default=None)
        elif self.kind == FORECAST and isinstance(value, list):
            row["forecast"] = [float(v) for v in value if _finite(v)]
            row["prediction"] = row["forecast"][0] if row["forecast"] else None
            history = [float(v) for v in inputs.get("y", []) if _finite(v)]
            steps = [abs(b - a) for a, b in itertools.pairwise(history)]
            row["naive_scale"] = sum(steps) / len(steps) if steps else None
        return row


def load_profile(bundle_dir: str | Path, trusted_keys: Any = None) -> tuple[MonitorProfile, dict[str, Any], Any]:
    """Verify a bundle (hashes, signature with keys) and read (profile, manifest, config) with the strict readers."""
    from lepton_core.bundle.loader import _read_json, read_bundle_config, verify_bundle
    from lepton_core.bundle.manifest import read_manifest_bytes
    from lepton_core.deploy.drift import DRIFT_REFERENCE_NAME

    bundle_dir = Path(bundle_dir)
    manifest = verify_bundle(bundle_dir, trusted_keys)
    files = manifest.get("files", {})
    reference = _read_json(bundle_dir, DRIFT_REFERENCE_NAME) if DRIFT_REFERENCE_NAME in files else {}
    metrics = _read_json(bundle_dir, "metrics.json") if "metrics.json" in files else {}
    version = model_version(read_manifest_bytes(bundle_dir))
    return MonitorProfile.from_bundle(manifest, reference, metrics, version), manifest, read_bundle_config(bundle_dir)


def model_version(manifest_bytes: bytes) -> str:
    """The model version logged with each prediction: the first 12 hex digits of the manifest's SHA-256."""
    return hashlib.sha256(manifest_bytes).hexdigest()[:12]
