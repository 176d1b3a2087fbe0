"""Run the `lepton` CLI from tests, with outputs in a temporary directory.

``run_lepton`` forks the test process once its heavy imports (torch, Lightning, pandas) are warm, so that a
CLI run in a test costs its work, not five seconds of imports; the child runs ``lepton_core.cli.main`` with
its own arguments, environment, working directory and output files, and exits without returning into the
test. Where a fork would not be what a user gets (a ``PYTHONPATH`` in ``env``, a running Spark gateway, or
``fresh_process=True``, for example after a ``pip install``), it starts a new interpreter instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["fork_lepton", "latest_run", "run_lepton"]

#: the console script a real run starts from (DDP re-runs sys.argv: the child's argv[0] must be it)
LEPTON_SCRIPT = Path(sys.executable).with_name("lepton")
#: threads that hold no lock a forked child could need: tqdm's monitor sleeps between checks of its bars
IDLE_THREADS = frozenset({"tqdm_monitor"})
#: imported by the test process before its first fork, so every forked CLI run starts warm
WARM_IMPORTS = ("torch", "lightning", "pandas", "hydra", "lepton_core.cli", "lepton_core.pipeline.run")


def run_lepton(
    args: Sequence[str],
    output_dir: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    cwd: Path | None = None,
    fresh_process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``lepton ARGS`` with ``LEPTON_OUTPUT_DIR=output_dir``; return the finished process (text output)."""
    full_env = {**os.environ, "LEPTON_OUTPUT_DIR": str(output_dir), "COLUMNS": "160", **(env or {})}
    full_env.pop("PYTEST_CURRENT_TEST", None)
    directory = Path(cwd or output_dir)
    if fresh_process or not _can_fork(args, env):
        return subprocess.run(
            [sys.executable, "-m", "lepton_core.cli", *args],
            check=False,
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            cwd=directory,
        )
    return _run_forked(list(args), full_env, directory, timeout)


def _can_fork(args: Sequence[str], env: Mapping[str, str] | None) -> bool:
    """True where a forked child behaves like a new `lepton` process: POSIX, one thread, the same import path,
    and no Spark (neither in the command nor a Spark gateway this process started)."""
    spark = sys.modules.get("pyspark")
    gateway = spark is not None and getattr(getattr(spark, "SparkContext", None), "_gateway", None) is not None
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and t.name not in IDLE_THREADS]
    return (
        hasattr(os, "fork")
        and LEPTON_SCRIPT.is_file()
        and not others
        and not gateway
        and not any("spark" in arg for arg in args)
        and "PYTHONPATH" not in (env or {})
    )


def fork_lepton(
    args: Sequence[str], env: Mapping[str, str], cwd: Path, stdout_path: Path, stderr_path: Path
) -> int:
    """Start ``lepton ARGS`` in a forked child of this (warmed) process, its output to the two files; its pid."""
    import importlib

    for module in WARM_IMPORTS:
        importlib.import_module(module)
    pid = os.fork()
    if pid == 0:
        _child(list(args), dict(env), cwd, stdout_path, stderr_path)
    return pid


def _run_forked(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="lepton-cli-") as scratch:
        out_path, err_path = Path(scratch) / "stdout", Path(scratch) / "stderr"
        pid = fork_lepton(args, env, cwd, out_path, err_path)
        deadline = time.monotonic() + timeout
        while True:
            finished, status = os.waitpid(pid, os.WNOHANG)
            if finished:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise subprocess.TimeoutExpired(["lepton", *args], timeout)
            time.sleep(0.01)
        stdout, stderr = (p.read_text(errors="replace") for p in (out_path, err_path))
    return subprocess.CompletedProcess(["lepton", *args], os.waitstatus_to_exitcode(status), stdout, stderr)


def _child(args: list[str], env: dict[str, str], cwd: Path, out_path: Path, err_path: Path) -> None:
    """The forked child: run the CLI like a new process would, then exit; it never returns into the test."""
    code = 1
    try:
        for fd, path in ((1, out_path), (2, err_path)):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the child's whole life
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stdin = open(os.devnull)  # noqa: SIM115
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        import logging

        import torch
        from hydra.core.global_hydra import GlobalHydra

        from lepton_core.hooks.manager import get_plugin_manager

        torch.set_num_threads(1)  # OpenMP's pool does not survive a fork: one thread never needs it
        GlobalHydra.instance().clear()
        get_plugin_manager.cache_clear()
        root = logging.getLogger()
        for handler in list(root.handlers):  # the test runner's log capture
            root.removeHandler(handler)
        from lepton_core.cli import main

        sys.argv = [str(LEPTON_SCRIPT), *args]
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:  # noqa: BLE001 - what an uncaught exception would print
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def latest_run(output_dir: Path, plugin: str, task: str) -> Path:
    """The most recent run directory of ``plugin``/``task`` under ``output_dir`` (failed runs, marked FAILED, skipped)."""
    runs = sorted(p for p in (Path(output_dir) / plugin / task).glob("*") if not (p / "FAILED").exists())
    if not runs:
        raise FileNotFoundError(f"no run of {plugin}/{task} under {output_dir}")
    return runs[-1]
