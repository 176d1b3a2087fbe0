"""metrics.json: the model and its baselines side by side, machine-readable."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from lepton_core.atomic import atomic_write_text
from lepton_core.hooks.specs import Evaluation, RunContext


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def metrics_document(
    ctx: RunContext, evaluation: Evaluation, timings: dict[str, float], validation: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The content of metrics.json (``validation``: the monitored validation metric and its best value)."""
    best = evaluation.best_baseline()
    return _clean(
        {
            "plugin": ctx.plugin,
            "task": ctx.task,
            "seed": ctx.seed,
            "primary_metric": evaluation.primary_metric,
            "greater_is_better": evaluation.greater_is_better,
            "metrics": {k: dict(v) for k, v in evaluation.metrics.items()},
            "best_baseline": best[0] if best else None,
            "baseline_wins": evaluation.baseline_wins(),
            **({"champion": dict(evaluation.champion)} if evaluation.champion else {}),
            "baseline_wins_on": evaluation.baseline_wins_by_metric(),
            "metric_directions": {
                name: "higher" if greater else "lower"
                for name in dict.fromkeys(k for m in evaluation.metrics.values() for k in m)
                if (greater := evaluation.direction(name)) is not None
            },
            "notes": list(evaluation.notes),
            "data": dict(evaluation.data_summary),
            "validation": dict(validation or {}),
            "timings_s": {k: round(v, 3) for k, v in timings.items()},
        }
    )


def write_metrics(
    ctx: RunContext,
    evaluation: Evaluation,
    timings: dict[str, float],
    validation: dict[str, Any] | None = None,
    path: Path | None = None,
) -> Path:
    """Write ``metrics.json`` in the run directory (or to ``path``, e.g. a staging folder)."""
    path = path or ctx.run_dir / "metrics.json"
    atomic_write_text(path, json.dumps(metrics_document(ctx, evaluation, timings, validation), indent=2))
    return path
