"""Run the `lepton` CLI in a subprocess from tests, with outputs in a temporary directory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["latest_run", "run_lepton"]


def run_lepton(
    args: Sequence[str],
    output_dir: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``lepton ARGS`` with ``LEPTON_OUTPUT_DIR=output_dir``; return the finished process (text output)."""
    full_env = {**os.environ, "LEPTON_OUTPUT_DIR": str(output_dir), "COLUMNS": "160", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "lepton_core.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=cwd or output_dir,
    )


def latest_run(output_dir: Path, plugin: str, task: str) -> Path:
    """The most recent run directory of ``plugin``/``task`` under ``output_dir`` (failed runs, marked FAILED, skipped)."""
    runs = sorted(p for p in (Path(output_dir) / plugin / task).glob("*") if not (p / "FAILED").exists())
    if not runs:
        raise FileNotFoundError(f"no run of {plugin}/{task} under {output_dir}")
    return runs[-1]
