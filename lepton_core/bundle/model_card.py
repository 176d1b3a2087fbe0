"""model_card.md: what the model is for, how it was trained and how it scored, in plain words."""

from __future__ import annotations

from typing import Any

from lepton_core.hooks.specs import Evaluation, RunContext
from lepton_core.report.html import verdict


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def model_card(ctx: RunContext, evaluation: Evaluation, manifest: dict[str, Any]) -> str:
    """Render the model card of a bundle as Markdown."""
    contenders = list(evaluation.metrics)
    names = list(dict.fromkeys(k for m in evaluation.metrics.values() for k in m))
    lines = [
        f"# Model card — {ctx.plugin} / {ctx.task}",
        "",
        f"- Built by plugin `{ctx.plugin}` {manifest['plugin']['version']} with lepton-core "
        f"{manifest['versions']['lepton_core']}, torch {manifest['versions']['torch']}, "
        f"Python {manifest['versions']['python']}, on {manifest['created']}.",
        f"- Seed {ctx.seed}. Input kind: {manifest.get('input_kind', 'json')}.",
        "",
        "## Test results",
        "",
        "| metric | " + " | ".join(contenders) + " |",
        "|---|" + "---|" * len(contenders),
    ]
    for name in names:
        mark = " (primary)" if name == evaluation.primary_metric else ""
        cells = [_fmt(evaluation.metrics[c].get(name, "-")) for c in contenders]
        lines.append(f"| {name}{mark} | " + " | ".join(cells) + " |")
    lines += ["", verdict(evaluation), ""]
    if evaluation.champion.get("name"):
        where = evaluation.champion.get("selected_on", "validation")
        lines += [f"Deployed: `{evaluation.champion['name']}`, selected on the {where} split.", ""]
    if evaluation.data_summary:
        lines += ["## Data", ""] + [f"- {k}: {_fmt(v)}" for k, v in evaluation.data_summary.items()] + [""]
    if evaluation.notes:
        lines += ["## Notes and limitations", ""] + [f"- {n}" for n in evaluation.notes] + [""]
    fields = manifest.get("input_schema", {}).get("properties", {})
    if fields:
        lines += ["## Input fields", ""] + [f"- `{k}`: {v.get('type', v.get('anyOf', 'object'))}" for k, v in fields.items()]
        lines.append("")
    lines += [
        "## Intended use",
        "",
        "Decisions support within the domain and population the training data represents. Check the metrics",
        "above on your own recent data before use, monitor input drift (`/metrics` of `lepton serve`), and",
        "retrain when it moves.",
        "",
    ]
    return "\n".join(lines)
