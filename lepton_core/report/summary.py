"""The end-of-run summary table on the terminal."""

from __future__ import annotations

from pathlib import Path

from lepton_core.hooks.specs import Evaluation, RunContext


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"


def print_summary(ctx: RunContext, evaluation: Evaluation, bundle_dir: Path | None, timings: dict[str, float]) -> None:
    """Print model and baselines side by side, the verdict and where the outputs are."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    contenders = list(evaluation.metrics)
    names = list(dict.fromkeys(k for m in evaluation.metrics.values() for k in m))
    table = Table(title=f"{ctx.plugin} / {ctx.task} — test split", title_justify="left")
    table.add_column("metric")
    for name in contenders:
        table.add_column(name, justify="right", style="bold" if name == "model" else None)
    wins = evaluation.baseline_wins_by_metric()
    for metric in names:
        label = f"{metric} *" if metric == evaluation.primary_metric else metric
        cells = [_fmt(evaluation.metrics[c].get(metric)) for c in contenders]
        cells = [f"[yellow]{v}[/]" if metric in wins.get(c, ()) else v for c, v in zip(contenders, cells)]
        table.add_row(label, *cells)
    console.print(table)
    direction = "higher" if evaluation.greater_is_better else "lower"
    console.print(f"* primary metric ({direction} is better)")
    best = evaluation.best_baseline()
    if best is not None:
        if evaluation.baseline_wins():
            console.print(
                f"[bold yellow]The baseline '{best[0]}' beats the model on {evaluation.primary_metric}"
                f" ({_fmt(best[1])} vs {_fmt(evaluation.metrics['model'].get(evaluation.primary_metric))}).[/]"
            )
        elif "model" in evaluation.metrics:
            console.print(f"[green]The model beats the best baseline '{best[0]}' on {evaluation.primary_metric}.[/]")
    for baseline, metrics in wins.items():
        console.print(f"[yellow]{baseline} beats the model on {', '.join(metrics)}.[/]")
    if best is not None and "model" in evaluation.metrics and not wins:
        console.print("[green]No baseline beats the model on any metric of known direction.[/]")
    for note in evaluation.notes:
        console.print(f"note: {note}")
    total = sum(timings.values())
    # paths and commands are never broken across lines by rich (soft_wrap): the terminal wraps whole lines
    lines = [f"run directory: {ctx.run_dir}  ({total:.1f} s)", f"report: {ctx.run_dir / 'report.html'}"]
    if bundle_dir is not None:
        lines += [f"bundle: {bundle_dir}", "serve it:", f"  lepton serve {bundle_dir}"]
    for line in lines:
        console.print(line, soft_wrap=True, markup=False, highlight=False)
