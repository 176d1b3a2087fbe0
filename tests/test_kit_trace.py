"""`--trace` prints the hook calls of a run: which plugins implement each hook, its arguments and result."""

from __future__ import annotations

from pathlib import Path

from lepton_core.hooks.manager import get_plugin_manager
from lepton_core.hooks.specs import RunContext
from lepton_core.hooks.tracing import trace_hook_calls
from lepton_core.testing.cli import run_lepton

RUN_HOOKS = (
    "lepton_build_datamodule",
    "lepton_build_baselines",
    "lepton_build_model",
    "lepton_evaluate",
    "lepton_export",
    "lepton_build_predictor",
)


def test_tracer_reports_calls_and_stops(tmp_path: Path) -> None:
    manager = get_plugin_manager()
    lines: list[str] = []
    undo = trace_hook_calls(manager, lines.append)
    try:
        assert trace_hook_calls(manager, lines.append) is undo  # installing twice traces once
        ctx = RunContext(cfg=None, plugin="example", task="classify", run_dir=tmp_path, seed=0)  # type: ignore[arg-type]
        manager.hook.lepton_before_stage(ctx=ctx, stage="load")
    finally:
        undo()
    manager.hook.lepton_before_stage(ctx=ctx, stage="train")
    calls = [line for line in lines if "lepton_before_stage" in line]
    assert len(calls) == 1
    assert "ctx=RunContext(example/classify), stage='load'" in calls[0] and "[example]" in calls[0]
    assert any(line.startswith("trace: plugin example (lepton-example") for line in lines)


def test_run_trace_shows_every_hook_of_a_run(tmp_path: Path) -> None:
    proc = run_lepton(["run", "--trace", "plugin=example", "debug=smoke"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    trace = [line for line in proc.stderr.splitlines() if line.startswith("trace:")]
    for hook in RUN_HOOKS:
        assert any(f"{hook}(" in line and "example" in line for line in trace), hook
    stages = [line.split("stage='")[1].split("'")[0] for line in trace if "lepton_before_stage(" in line]
    assert stages == ["load", "baseline", "train", "evaluate", "report", "bundle"]
    assert any("lepton_evaluate(" in line and "-> Evaluation" in line for line in trace)


def test_global_trace_option_traces_any_command(example_run: Path, tmp_path: Path) -> None:
    rows = tmp_path / "points.csv"
    rows.write_text("x1,x2\n0.5,0.2\n-1.0,0.8\n")
    proc = run_lepton(
        ["--trace", "predict", str(example_run / "bundle"), str(rows), "-o", str(tmp_path / "out.csv")],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (
        "trace: lepton_build_predictor(ctx=DeployContext(example/classify)) [lepton.defaults] -> MoonsPredictor"
        in proc.stderr
    )
