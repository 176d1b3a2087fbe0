"""A cross-cutting Lepton plugin: appends each stage's start, end or error of every run to a JSON-lines log.

It declares no task (``PluginInfo`` without tasks), so ``lepton plugins`` lists it as a lifecycle plugin and
``lepton tasks`` does not offer it. The log is ``$LEPTON_AUDIT_LOG``, else ``audit.jsonl`` in the run directory.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from lepton_core import PluginInfo, RunContext, hookimpl

LOG_ENV = "LEPTON_AUDIT_LOG"


@hookimpl
def lepton_describe() -> PluginInfo:
    """A lifecycle plugin: a name, a version and a summary, no tasks."""
    return PluginInfo(name="audit", version="0.1.0", summary="Audit log of every run's stages (JSON lines).")


@hookimpl
def lepton_before_stage(ctx: RunContext, stage: str) -> None:
    """Log the stage's start."""
    _append(ctx, {"event": "start", "stage": stage})


@hookimpl
def lepton_after_stage(ctx: RunContext, stage: str, result: Any) -> None:
    """Log the stage's end and the type of what it produced."""
    _append(ctx, {"event": "end", "stage": stage, "result": type(result).__name__})


@hookimpl
def lepton_on_error(ctx: RunContext, stage: str, error: BaseException) -> None:
    """Log the failing stage and the error's kind."""
    _append(ctx, {"event": "error", "stage": stage, "error": type(error).__name__})


def _append(ctx: RunContext, event: dict[str, Any]) -> None:
    path = Path(os.environ.get(LOG_ENV) or ctx.run_dir / "audit.jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"time": round(time.time(), 3), "plugin": ctx.plugin, "task": ctx.task, "seed": ctx.seed, **event}
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
