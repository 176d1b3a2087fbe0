"""report.html: one self-contained page (PNG plots inlined) that opens offline in any browser."""

from __future__ import annotations

import base64
import datetime as dt
import math
from pathlib import Path
from typing import Any

from lepton_core.atomic import atomic_write_text
from lepton_core.hooks.specs import Evaluation, RunContext


def _format(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-"
        return f"{value:.4g}"
    return str(value)


def _metric_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    contenders = list(evaluation.metrics)
    names = list(dict.fromkeys(k for m in evaluation.metrics.values() for k in m))
    rows = []
    for name in names:
        values = [evaluation.metrics[c].get(name) for c in contenders]
        best = None
        if name == evaluation.primary_metric:
            finite = [v for v in values if v is not None and math.isfinite(float(v))]
            if finite:
                best = max(finite) if evaluation.greater_is_better else min(finite)
        beaten = {b for b, won in evaluation.baseline_wins_by_metric().items() if name in won}
        cells = [
            {"text": "-" if v is None else _format(float(v)), "best": v is not None and v == best, "beats": c in beaten}
            for c, v in zip(contenders, values)
        ]
        greater = evaluation.direction(name)
        direction = "" if greater is None else ("higher is better" if greater else "lower is better")
        rows.append({"name": name, "primary": name == evaluation.primary_metric, "cells": cells, "direction": direction})
    return rows


def metric_losses(evaluation: Evaluation) -> list[str]:
    """One sentence per baseline that beats the model anywhere, naming every such metric."""
    return [
        f"{baseline} beats the model on {', '.join(metrics)}."
        for baseline, metrics in evaluation.baseline_wins_by_metric().items()
    ]


def verdict(evaluation: Evaluation) -> str:
    """Whether the model beats its best baseline on the primary metric, then every metric a baseline wins."""
    best = evaluation.best_baseline()
    model = evaluation.metrics.get("model", {}).get(evaluation.primary_metric)
    if best is None or model is None:
        return ""
    metric = evaluation.primary_metric
    if evaluation.baseline_wins():
        sentence = (
            f"The baseline '{best[0]}' beats the model on {metric} ({best[1]:.4g} vs {model:.4g}). "
            "Prefer the baseline, or give the model more data, epochs or capacity."
        )
    else:
        sentence = f"The model beats the best baseline '{best[0]}' on {metric} ({model:.4g} vs {best[1]:.4g})."
    losses = metric_losses(evaluation)
    return " ".join([sentence, *losses]) if losses else f"{sentence} No baseline beats it on any other metric."


def write_report(ctx: RunContext, evaluation: Evaluation, timings: dict[str, float], path: Path | None = None) -> Path:
    """Render ``report.html`` in the run directory (or to ``path``, e.g. a staging folder) and return its path."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("lepton_core.report", "templates"), autoescape=select_autoescape())
    figures = [
        {"title": f.title, "caption": f.caption, "data": base64.b64encode(Path(f.path).read_bytes()).decode("ascii")}
        for f in evaluation.figures
    ]
    tables = [
        {"title": t.title, "caption": t.caption, "columns": t.columns, "rows": [[_format(v) for v in r] for r in t.rows]}
        for t in evaluation.tables
    ]
    title = ctx.cfg.get("report", {}).get("title") or f"Lepton report — {ctx.plugin} / {ctx.task}"
    html = env.get_template("report.html").render(
        title=title,
        plugin=ctx.plugin,
        task=ctx.task,
        seed=ctx.seed,
        run_dir=str(ctx.run_dir),
        created=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        contenders=list(evaluation.metrics),
        metric_rows=_metric_rows(evaluation),
        direction="higher" if evaluation.greater_is_better else "lower",
        verdict=verdict(evaluation),
        baseline_wins=evaluation.baseline_wins(),
        losses=metric_losses(evaluation),
        notes=list(evaluation.notes),
        figures=figures,
        tables=tables,
        data_summary={k: _format(v) for k, v in dict(evaluation.data_summary).items()},
        timings=timings,
    )
    path = path or ctx.run_dir / "report.html"
    atomic_write_text(path, html)
    return path
