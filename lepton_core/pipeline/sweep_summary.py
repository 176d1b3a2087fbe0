"""The end of a `-m` sweep or Optuna search: one table of every job, the best run, its bundle and how to serve it.

A Hydra callback (``hydra.callbacks.sweep_summary`` in the core config), so it works with every sweeper and
launcher: it reads what the jobs wrote in the sweep directory (``<job>/metrics.json``, ``<job>/FAILED``,
``<job>/.hydra/overrides.yaml``) and writes ``sweep_summary.json`` beside them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

__all__ = ["SweepJob", "SweepSummary", "summarize_sweep"]

SUMMARY_FILE = "sweep_summary.json"


@dataclass(frozen=True)
class SweepJob:
    """One job of a sweep, as its run directory shows it."""

    job: str
    overrides: list[str]
    status: str  # ok | failed | unfinished
    validation: float | None
    test: float | None
    bundle: str | None


def _read_job(folder: Path) -> tuple[SweepJob, dict[str, Any]]:
    import yaml

    try:
        overrides = [str(o) for o in yaml.safe_load((folder / ".hydra" / "overrides.yaml").read_text("utf-8")) or []]
    except (OSError, yaml.YAMLError):
        overrides = []
    try:
        document = json.loads((folder / "metrics.json").read_text("utf-8"))
    except (OSError, ValueError):
        document = {}
    status = "ok" if document else "failed" if (folder / "FAILED").exists() else "unfinished"
    primary = document.get("primary_metric")
    test = (document.get("metrics") or {}).get("model", {}).get(primary) if primary else None
    bundle = folder / "bundle"
    job = SweepJob(
        folder.name, overrides, status, (document.get("validation") or {}).get("best"), test,
        str(bundle) if status == "ok" and bundle.is_dir() else None,
    )
    return job, document


def summarize_sweep(sweep_dir: Path) -> dict[str, Any]:
    """Every job of ``sweep_dir`` and the best finished one; written to ``sweep_summary.json`` there."""
    from lepton_core.atomic import atomic_write_text

    folders = sorted((p for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))
    read = [_read_job(folder) for folder in folders]
    jobs = [job for job, _ in read]
    documents = [document for job, document in read if job.status == "ok"]
    finished = [job for job in jobs if job.status == "ok"]
    # rank by what the sweep optimised (the best validation value of task.monitor); the test split stays unseen.
    # A task with nothing to train has no validation score: its test primary metric stands in.
    by_validation = bool(finished) and all(job.validation is not None for job in finished)
    if by_validation:
        validation = documents[0].get("validation") or {}
        criterion, greater = str(validation.get("monitor")), validation.get("mode") == "max"
    elif finished:
        criterion, greater = f"test {documents[0].get('primary_metric')}", bool(documents[0].get("greater_is_better"))
    else:
        criterion, greater = "-", True
    scored = [job for job in finished if (job.validation if by_validation else job.test) is not None]
    best = None
    if scored:
        best = (max if greater else min)(scored, key=lambda job: job.validation if by_validation else job.test)
    common = set.intersection(*(set(job.overrides) for job in jobs)) if jobs else set()
    summary = {
        "sweep_dir": str(sweep_dir),
        "ranked_by": criterion,
        "greater_is_better": greater,
        "primary_metric": documents[0].get("primary_metric") if documents else None,
        "common_overrides": sorted(common),
        "jobs": [asdict(job) for job in jobs],
        "best": asdict(best) if best else None,
    }
    atomic_write_text(sweep_dir / SUMMARY_FILE, json.dumps(summary, indent=2))
    return summary


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def print_sweep_summary(summary: dict[str, Any]) -> None:
    """The table of jobs, then the best run, its bundle and the command that serves it (never broken by rich)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    common = set(summary["common_overrides"])
    primary = summary["primary_metric"] or "primary"
    table = Table(title=f"sweep: {len(summary['jobs'])} job(s), best by {summary['ranked_by']}", title_justify="left")
    table.add_column("job", justify="right", no_wrap=True)
    table.add_column("overrides")
    by_test = summary["ranked_by"].startswith("test ")
    table.add_column("validation" if by_test else f"validation {summary['ranked_by']}", justify="right")
    table.add_column(f"test {primary}", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    best = summary["best"]
    for job in summary["jobs"]:
        varied = " ".join(o for o in job["overrides"] if o not in common) or "-"
        marker = " *" if best and job["job"] == best["job"] else ""
        status = {"ok": "[green]ok[/]", "failed": "[red]failed[/]"}.get(job["status"], f"[yellow]{job['status']}[/]")
        table.add_row(job["job"] + marker, varied, _fmt(job["validation"]), _fmt(job["test"]), status)
    console.print(table)
    lines = [f"summary: {Path(summary['sweep_dir']) / SUMMARY_FILE}"]
    if best is None:
        lines.append("no job finished: nothing to serve")
    else:
        lines += [f"* best run: job {best['job']}", f"bundle: {best['bundle']}", "serve it:",
                  f"  lepton serve {best['bundle']}"]
    for line in lines:
        console.print(line, soft_wrap=True, markup=False, highlight=False)


def _sweep_dir(config: DictConfig) -> Path | None:
    """The sweep directory of this multirun (Hydra's ``now`` resolver is cached, so this is the one it used)."""
    try:
        folder = Path(str(config.hydra.sweep.dir))
    except Exception:  # noqa: BLE001 - an unresolvable sweep dir: no summary, the jobs' outputs stay
        return None
    return folder.absolute() if folder.is_dir() else None


class SweepSummary(Callback):
    """Hydra callback: at the end of a multirun, print and write the summary of its jobs."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Summarise the sweep directory (when the sweep wrote one)."""
        folder = _sweep_dir(config)
        if folder is not None:
            print_sweep_summary(summarize_sweep(folder))
